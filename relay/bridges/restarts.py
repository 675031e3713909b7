"""When to restart a crashed bridge, and when its crashes become a crash loop."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Backoff 1 s doubling to 60 s, reset after 5 minutes up; 5 crashes in 5 minutes is a loop."""

    first_delay: float = 1.0
    max_delay: float = 60.0
    reset_after: float = 300.0
    loop_crashes: int = 5
    loop_window: float = 300.0


class CrashHistory:
    """One tenant's recent crashes: the next delay and whether to alert a crash loop."""

    def __init__(self, policy: RestartPolicy) -> None:
        self._policy = policy
        self._delay: float | None = None
        self._crashes: deque[float] = deque()
        self._alerted = False

    def crashed(self, up_seconds: float, now: float) -> tuple[float, bool]:
        """Record a crash after `up_seconds` up; (delay before restarting, alert a crash loop now)."""
        policy = self._policy
        if up_seconds >= policy.reset_after:
            self._delay, self._alerted = None, False
            self._crashes.clear()
        self._delay = policy.first_delay if self._delay is None else min(self._delay * 2, policy.max_delay)
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > policy.loop_window:
            self._crashes.popleft()
        alert = len(self._crashes) >= policy.loop_crashes and not self._alerted
        self._alerted = self._alerted or alert
        return self._delay, alert
