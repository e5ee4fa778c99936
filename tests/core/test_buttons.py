"""Buttons: payloads fit Telegram's 64 bytes and anything forged is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.buttons import MAX_PAYLOAD_BYTES, Button, MalformedPayload, decode, encode, new_token


def test_longest_payload_we_build_fits_telegram() -> None:
    payload = encode("conf", new_token(), 5)
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    assert decode(payload).parts[1] == "5"


def test_encoder_refuses_oversized_payloads() -> None:
    with pytest.raises(ValueError):
        encode("ans", "x" * 32, "y" * 32)


def test_a_button_whose_payload_would_not_fit_telegram_is_refused_when_built() -> None:
    assert Button("ok", "a" * 64).payload == "a" * 64
    with pytest.raises(ValueError, match="64"):
        Button("too long", "é" * 33)


@pytest.mark.parametrize("payload", ["", "ans", "ans:../../etc", "ans:a b", "a" * 65, "ans::1"])
def test_malformed_payloads_are_refused(payload: str) -> None:
    if payload == "ans":
        assert decode(payload).parts == ()
        return
    with pytest.raises(MalformedPayload):
        decode(payload)


@given(st.text(max_size=80))
def test_decode_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        decoded = decode(text)
    except MalformedPayload:
        return
    assert encode(decoded.action, *decoded.parts) == text
