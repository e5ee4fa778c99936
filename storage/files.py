"""The upload store: original files under `<data dir>/uploads/<scope>/<sha256>.pdf`.

Writes are atomic (temp file in the same directory, fsync, rename), so a crash leaves the
old file or the new one, never half of one. Paths in the database are relative to the
data dir and are checked to stay inside the store.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

UPLOADS_DIR_NAME = "uploads"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FileStore:
    """Stores and deletes uploaded files; blocking I/O (call from a worker thread)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / UPLOADS_DIR_NAME

    def relative_path(self, scope_id: int, sha256: str, suffix: str = ".pdf") -> str:
        if not _SHA256.match(sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        return f"{UPLOADS_DIR_NAME}/{int(scope_id)}/{sha256}{suffix}"

    def path(self, relative: str) -> Path:
        """The absolute path of a stored file; refuses anything outside the store."""
        candidate = (self.data_dir / relative).resolve()
        if not candidate.is_relative_to(self.root.resolve()):
            raise ValueError(f"{relative!r} is outside the upload store")
        return candidate

    def save(self, scope_id: int, sha256: str, data: bytes, suffix: str = ".pdf") -> str:
        """Writes the bytes atomically and returns the data-dir-relative path."""
        relative = self.relative_path(scope_id, sha256, suffix)
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_directory(target.parent)
        return relative

    def exists(self, relative: str) -> bool:
        return bool(relative) and self.path(relative).is_file()

    def delete(self, relative: str) -> None:
        """Removes a stored file (and its scope folder once empty). Idempotent."""
        if not relative:
            return
        target = self.path(relative)
        target.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # other uploads of the scope are still there
            target.parent.rmdir()

    def all_files(self) -> list[Path]:
        """Every stored file (tests and housekeeping)."""
        if not self.root.exists():
            return []
        return sorted(path for path in self.root.rglob("*") if path.is_file())


def fsync_directory(directory: Path) -> None:
    """Makes a rename inside `directory` durable; a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
