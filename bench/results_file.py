"""bench/results/*.json: every run kept, newest last, so earlier figures stay beside new ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def append_run(path: Path, run: dict[str, Any], *, key: str | None = None) -> list[dict[str, Any]]:
    """Add `run` to the file (replacing an earlier run with the same `key` value); return all runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    if key is not None:
        runs = [r for r in runs if r.get(key) != run.get(key)]
    runs.append(run)
    path.write_text(json.dumps({"runs": runs}, indent=1))
    print(f"wrote {path}")
    return runs
