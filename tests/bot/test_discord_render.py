"""Replies as Discord message parts: embeds within Discord's limits, buttons as payloads."""

from __future__ import annotations

import re
from pathlib import Path

import discord
import pytest

from bot.discord_render import (
    EMBED_DESCRIPTION_LIMIT,
    PAYLOAD_TEMPLATE,
    TONE_COLOUR,
    PayloadButton,
    render,
)
from core.buttons import MAX_PAYLOAD_BYTES, Button, encode, new_token
from handlers.types import Reply, Tone


def test_a_reply_is_an_embed_coloured_by_tone() -> None:
    rendered = render(Reply("Right! The key is B.", title="Question 1", tone=Tone.GOOD))
    assert rendered.content is None
    assert rendered.embed is not None
    assert rendered.embed.title == "Question 1"
    assert rendered.embed.description == "Right! The key is B."
    assert rendered.embed.colour == TONE_COLOUR[Tone.GOOD]
    assert rendered.view is None


def test_an_alert_is_a_short_plain_line() -> None:
    rendered = render(Reply("You already answered this one.", is_alert=True))
    assert rendered.content == "You already answered this one."
    assert rendered.embed is None and rendered.view is None


def test_long_text_is_clipped_to_discords_limits_not_refused() -> None:
    rendered = render(Reply("x" * 10_000, title="t" * 300))
    assert rendered.embed is not None
    assert len(rendered.embed.description or "") == EMBED_DESCRIPTION_LIMIT
    assert (rendered.embed.description or "").endswith("…")
    assert len(rendered.embed.title or "") == 256


def test_buttons_keep_their_rows_and_payloads_and_wide_rows_wrap() -> None:
    options = tuple(Button(f"{letter}. option", encode("ans", "tok", i)) for i, letter in
                    enumerate("ABCDEFG"))  # fmt: skip
    confidence = (Button("Sure", encode("conf", "tok", 4)),)
    rendered = render(Reply("Pick one", buttons=(options, confidence)))
    assert rendered.view is not None
    rows = rendered.view.to_components()
    assert [len(row["components"]) for row in rows] == [5, 2, 1]
    custom_ids = [button["custom_id"] for row in rows for button in row["components"]]
    assert custom_ids == [b.payload for b in (*options, *confidence)]


def test_more_rows_than_discord_allows_is_a_programming_error() -> None:
    rows = tuple((Button(str(i), encode("x", i)),) for i in range(6))
    with pytest.raises(ValueError, match="at most 5 rows"):
        render(Reply("too many", buttons=rows))


def test_the_longest_payload_fits_the_button_template() -> None:
    longest = encode("a" * 15, *(new_token() for _ in range(2)), "9" * 14)
    assert len(longest.encode()) <= MAX_PAYLOAD_BYTES
    assert re.fullmatch(PAYLOAD_TEMPLATE, longest)
    assert PayloadButton("A. option", longest).custom_id == longest
    assert not re.fullmatch(PAYLOAD_TEMPLATE, "x" * (MAX_PAYLOAD_BYTES + 1))


async def test_a_clicked_custom_id_rebuilds_the_same_button() -> None:
    payload = encode("ans", new_token(), 2)
    base = discord.ui.Button(label="C. Endocardium", custom_id=payload)
    match = re.fullmatch(PAYLOAD_TEMPLATE, payload)
    assert match is not None
    rebuilt = await PayloadButton.from_custom_id(None, base, match)  # type: ignore[arg-type]
    assert rebuilt.custom_id == payload
    assert rebuilt.item.label == "C. Endocardium"


def test_an_image_is_attached_and_shown_in_the_embed(tmp_path: Path) -> None:
    chart = tmp_path / "progress.png"
    chart.write_bytes(b"\x89PNG fake")
    rendered = render(Reply("Your week", image=chart))
    assert rendered.embed is not None
    assert rendered.embed.image.url == "attachment://progress.png"
    [file] = rendered.new_message()["files"]
    assert file.filename == "progress.png"
    # Edits replace attachments too, so an updated chart does not stack on the old one.
    assert [f.filename for f in rendered.edit()["attachments"]] == ["progress.png"]
