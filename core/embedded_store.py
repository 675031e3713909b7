"""The embedded store's own process: mongoeco's wire server over the SQLite file, on loopback.

`core.store.Store` starts it as `python -m core.embedded_store PATH`. It prints the URI
to connect to as the first line of its stdout, then serves until its stdin closes, which
happens when the relay stops the store or dies (even by SIGKILL), and then closes the
database cleanly. Ctrl-C and SIGTERM sent to the whole process group are left to the
relay, which still needs the store while it shuts down.

A process of its own gives the engine, which is pure Python, a core of its own instead
of a share of the relay's (bench/README.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from core.data_dir import make_private_files, sqlite_files

log = logging.getLogger("core.embedded_store")


async def _stdin_closed() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


def _orphaned_request(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # A request whose connection died with the relay finishes with nobody to answer;
    # mongoeco leaves its outcome unretrieved. One line, not a traceback.
    log.info("a request of a closed connection ended: %s", _reason(context.get("exception") or Exception(
        context.get("message", "?"))))


def proxy_server(path: Path) -> AsyncMongoEcoProxyServer:
    """mongoeco's wire server over the SQLite file at `path`, on a free loopback port."""
    return AsyncMongoEcoProxyServer(engine=SQLiteEngine(path=str(path)), host="127.0.0.1", port=0)


async def close_server(server: AsyncMongoEcoProxyServer) -> None:
    """Close the wire server and its engine, even when a request was cut short.

    A request whose client went away (a relay that died, a task cancelled while stopping)
    can end with its session already closed by the server; mongoeco 4.x then leaves that
    request's SQLite transaction open (`SQLite write scope cleanup failed`), and its own
    close fails with `database is locked` after SQLite's 5 s busy timeout. Every
    acknowledged write is committed by then; the abandoned one is rolled back when its
    connection goes. So a failed close is a warning, never a failure of Puente's stop.
    """
    try:
        await server.close()
    except Exception as exc:
        log.warning("the embedded store closed uncleanly (%s); a write its client had given up on "
                    "was rolled back, everything acknowledged is kept", _reason(exc))


async def serve(path: Path) -> None:
    asyncio.get_running_loop().set_exception_handler(_orphaned_request)
    server = proxy_server(path)
    address = await server.start()
    sys.stdout.write(address.uri + "\n")
    sys.stdout.flush()
    try:
        await _stdin_closed()
    finally:
        await close_server(server)


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def main() -> None:
    os.umask(0o077)  # the database and its journals: Puente's user's alone
    make_private_files(*sqlite_files(Path(sys.argv[1])))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
