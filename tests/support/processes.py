"""Whether a process is gone, for tests that kill one and check what it took with it."""

from __future__ import annotations

from pathlib import Path

from tests.support.faults import wait_until


def ended(pid: int) -> bool:
    """Gone, or a zombie waiting for its parent to reap it."""
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" in status.read_text()
    except FileNotFoundError:
        return True


async def wait_ended(pid: int, timeout: float, what: str) -> None:
    await wait_until(lambda: ended(pid), timeout, what)


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
