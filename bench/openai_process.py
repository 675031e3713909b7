"""The fake OpenAI API (tests.fakes.FakeOpenAI) in a process of its own, for the benchmarks.

`python -m bench.openai_process LATENCY_SECONDS` prints its base URL on stdout and serves
until its stdin closes (the parent exits or closes the pipe).
"""

from __future__ import annotations

import asyncio
import sys

from tests.fakes import FakeOpenAI


async def serve(latency: float) -> None:
    """Serve until stdin reaches end of file."""
    fake = FakeOpenAI(latency=latency)
    await fake.start()
    print(fake.url, flush=True)
    loop = asyncio.get_running_loop()
    eof = loop.run_in_executor(None, sys.stdin.read)
    while not eof.done():
        # Drop what the fake records: a long run must not grow without bound.
        fake.response_requests.clear()
        fake.requests.clear()
        await asyncio.wait([eof], timeout=5)
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0))
