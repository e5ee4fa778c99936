"""The upload store: whole files or none, inside the data dir only, deletes are idempotent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage.files import FileStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_save_writes_the_bytes_under_the_data_dir_and_returns_a_relative_path(
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path)
    data = b"%PDF-1.4 hello"
    relative = store.save(7, sha(data), data)
    assert relative == f"uploads/7/{sha(data)}.pdf"
    assert (tmp_path / relative).read_bytes() == data
    assert store.exists(relative)
    assert [p.name for p in (tmp_path / "uploads" / "7").iterdir()] == [f"{sha(data)}.pdf"]


def test_saving_again_replaces_atomically_and_delete_is_idempotent(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    data = b"%PDF-1.4 again"
    relative = store.save(1, sha(data), data)
    assert store.save(1, sha(data), data) == relative
    assert store.all_files() == [tmp_path / relative]
    store.delete(relative)
    store.delete(relative)
    store.delete("")
    assert store.all_files() == []
    assert not (tmp_path / "uploads" / "1").exists()  # the empty scope folder goes too


@pytest.mark.parametrize("relative", ["../secrets.txt", "uploads/../../etc/passwd", "/etc/passwd"])
def test_paths_outside_the_store_are_refused(tmp_path: Path, relative: str) -> None:
    with pytest.raises(ValueError, match="outside the upload store"):
        FileStore(tmp_path).delete(relative)


def test_a_name_that_is_not_a_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha256"):
        FileStore(tmp_path).save(1, "../../evil", b"x")
