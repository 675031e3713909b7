"""Failed /bridge logins, counted per client address: a limit, and a log that stays short.

After `limit` failures from one address within a window, that address is answered 429
until the window passes, without its token being checked (a flood never reaches the
store). The first failure from an address gets a log line of its own; after that, at
most one summary line per address per window. Successful logins are never counted.

Client addresses come from core/client_address.py, as for the landing pages' limits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.clock import Clock

log = logging.getLogger("relay.bridge")


@dataclass
class _Tally:
    """One address's window: when it opened, what happened in it."""

    opened: float
    failures: int = 0  # checked and refused (401); these count against the limit
    refused: int = 0  # answered 429 without a check
    detailed: bool = False  # the window's first failure had a line of its own


class FailedLogins:
    """Failed bridge logins per client address: the 429 limit and the summarised log."""

    def __init__(self, clock: Clock, *, limit: int = 10, window: float = 60.0, max_addresses: int = 10_000) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self._max_addresses = max_addresses
        self._tallies: dict[str, _Tally] = {}

    def limited(self, address: str) -> bool:
        """Whether `address` has used up its failures in this window; a True answer counts
        as one more refused attempt (the caller answers 429)."""
        tally = self._current(address)
        if tally is None or tally.failures < self.limit:
            return False
        tally.refused += 1
        return True

    def failed(self, address: str, why: str) -> None:
        """Count one failed login from `address`; log it only if it is the first in a while."""
        tally = self._current(address)
        if tally is None:
            if len(self._tallies) >= self._max_addresses:
                self._make_room()
            self._tallies[address] = _Tally(self._clock.monotonic(), failures=1, detailed=True)
            log.warning("bridge login refused from %s: %s (further failures from this address are "
                        "summarised every %.0f s)", address, why, self.window)
            return
        tally.failures += 1

    def sweep(self, *, final: bool = False) -> None:
        """Log the summaries of windows that have passed (every open one when `final`)."""
        for address in list(self._tallies):
            self._current(address, final=final)

    def __len__(self) -> int:
        """How many addresses are remembered."""
        return len(self._tallies)

    def _current(self, address: str, *, final: bool = False) -> _Tally | None:
        """The address's open window, after summing up and closing one that has passed."""
        tally = self._tallies.get(address)
        if tally is None:
            return None
        now = self._clock.monotonic()
        if now - tally.opened < self.window and not final:
            return tally
        attempts = tally.failures + tally.refused
        if attempts > (1 if tally.detailed else 0):
            log.warning("%d failed bridge logins from %s in the last %.0f s (%d of them answered 429 unchecked)",
                        attempts, address, now - tally.opened, tally.refused)
            self._tallies[address] = tally = _Tally(now)
            return tally
        del self._tallies[address]  # a quiet window: the next failure gets a line of its own
        return None

    def _make_room(self) -> None:
        self.sweep()
        while len(self._tallies) >= self._max_addresses:  # still full: the oldest address goes first
            del self._tallies[next(iter(self._tallies))]
