"""One Puente per DATA_DIR: `puente run` holds an exclusive lock on DATA_DIR/puente.lock for
as long as it runs, so a second one (or `puente restore`) is refused instead of writing
the same database and WhatsApp sessions at once. The operating system drops the lock when
the process ends, however it ends (`kill -9` included)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from core.data_dir import FILE_MODE

LOCK_FILE = "puente.lock"


class AlreadyRunning(Exception):
    """Another Puente holds this DATA_DIR."""


class InstanceLock:
    """The lock on a DATA_DIR; `acquire()` or AlreadyRunning, `release()` when done."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(
                f"another Puente is running on {self.path.parent} (stop it first)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
