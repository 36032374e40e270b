"""Output paths checked before a command starts its work (a bad ``--out`` fails in a second, not after an hour).

Not a command: the CLI skips modules whose name starts with ``_``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.errors import UserError


def _writable_folder(folder: Path, what: str) -> None:
    """Create ``folder`` (and parents) and prove a file can be written in it.

    Raises:
        UserError: a parent is a file, or the folder cannot be created or written (read-only, /proc, ...).
    """
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"{what}: {parent} is a file, not a folder")
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UserError(f"{what}: cannot write in {folder} ({exc.strerror or exc})") from exc


def output_file(path: str | Path, flag: str) -> Path:
    """Check that ``path`` can be written as a file (its folder is created).

    Raises:
        UserError: it is a folder, or its folder cannot be created or written.
    """
    path = Path(path)
    what = f"{flag} {path}"
    if path.is_dir():
        raise UserError(f"{what} is a folder; give a file name")
    _writable_folder(path.parent, what)
    if path.exists():
        try:
            with path.open("ab"):
                pass
        except OSError as exc:
            raise UserError(f"{what}: cannot write the file ({exc.strerror or exc})") from exc
    return path


def output_dir(path: str | Path, flag: str) -> Path:
    """Create folder ``path`` if needed and check that files can be written in it.

    Raises:
        UserError: it is a file, a parent is a file, or it cannot be created or written.
    """
    path = Path(path)
    what = f"{flag} {path}"
    if path.exists() and not path.is_dir():
        raise UserError(f"{what} is a file; give a folder")
    _writable_folder(path, what)
    return path
