"""DATA_DIR holds the database, the secret key and the WhatsApp sessions: they are for
Puente's user alone (directories 0700, files 0600), whatever the umask, and a directory
an older Puente left readable by others is closed at start-up."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("core.data_dir")

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create `path` and any missing parents as 0700; tighten `path` itself if it is open wider."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(directory, DIR_MODE)  # mkdir's mode is cut by the umask, never widened
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        try:
            os.chmod(path, DIR_MODE)
        except PermissionError:  # a mount point owned by someone else: say so, and carry on
            log.warning("%s is readable by other users and cannot be changed (not its owner)", path)
    return path


def make_private_files(*paths: Path) -> None:
    """Make the files among `paths` that exist readable and writable by their owner only."""
    for path in paths:
        try:
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, FILE_MODE)
        except FileNotFoundError:
            pass


def sqlite_files(path: Path) -> list[Path]:
    """A SQLite database and the journal files beside it."""
    return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]
