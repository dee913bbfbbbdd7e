"""Where every imported row came from: file, sheet, row number and content hashes; atomic file writes.

Row numbers follow what a person sees in a spreadsheet: in a CSV or sheet with a header on row 1 the first data
row is row 2 (a quoted value spanning several lines still counts as one row); in a Parquet file, where there is no
header, the first record is row 1.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "PROVENANCE_COLUMNS",
    "atomic_path",
    "file_sha256",
]

#: Columns every imported table carries, in this order, before its own columns.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source_file", "source_sheet", "source_row", "source_sha256", "row_hash")

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, hex. Two files with the same bytes are the same import."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success it is fsynced and renamed onto ``dest`` in one step.

    If the body raises (or the process dies), ``dest`` is untouched and the temporary file is removed (or left with
    a ``.tmp`` suffix that :meth:`detainers.ingest.Store.repair` deletes).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
