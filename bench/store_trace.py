"""Where the relay's store time goes: a PyMongo command listener for bench/relay.py --trace-store.

Counts every command by (name, collection, filter keys) and sums its duration as the
client sees it (request sent to reply parsed), so the expensive calls stand out.
"""

from __future__ import annotations

from collections import defaultdict

from pymongo import monitoring


def _shape(command: dict) -> str:
    """The query's top-level keys, e.g. `_id` or `_id,conversation_id`, for grouping."""
    for key in ("updates", "deletes"):
        if key in command and command[key]:
            first = command[key][0]
            query = first.get("q", {})
            upsert = " upsert" if first.get("upsert") else ""
            return ",".join(sorted(query)) + upsert + ("" if len(command[key]) == 1 else f" x{len(command[key])}")
    query = command.get("filter") or command.get("query") or {}
    if command.get("upsert"):
        return ",".join(sorted(query)) + " upsert"
    return ",".join(sorted(query)) if isinstance(query, dict) else "?"


class StoreTrace(monitoring.CommandListener):
    """Aggregates command durations; `report()` lists the most expensive groups."""

    def __init__(self) -> None:
        self._started: dict[int, str] = {}
        self.total_ms: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        collection = event.command.get(name) if isinstance(event.command.get(name), str) else ""
        self._started[event.request_id] = f"{name} {collection} [{_shape(event.command)}]"

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.request_id, event.duration_micros)

    def _done(self, request_id: int, micros: int) -> None:
        key = self._started.pop(request_id, None)
        if key is not None:
            self.total_ms[key] += micros / 1000
            self.count[key] += 1

    def report(self, top: int = 20) -> str:
        rows = sorted(self.total_ms.items(), key=lambda kv: -kv[1])[:top]
        lines = [f"{'total s':>8} {'calls':>7} {'mean ms':>8}  command collection [filter keys]"]
        for key, total in rows:
            n = self.count[key]
            lines.append(f"{total / 1000:8.1f} {n:7d} {total / n:8.2f}  {key}")
        return "\n".join(lines)


def install() -> StoreTrace:
    """Register a StoreTrace for every client created from now on."""
    trace = StoreTrace()
    monitoring.register(trace)
    return trace
