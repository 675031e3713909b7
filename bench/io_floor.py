"""The CPU floor of a message's socket events: `PYTHONPATH=. python bench/io_floor.py`.

What the relay's CPU per message would be if Puente did nothing but the I/O that
docs/PROTOCOL.md and the one OpenAI call fix for a message, on the same libraries:
a bare aiohttp server (no store, no pipeline, no frame validation) that, for each `message`
frame, sends `ack`, then `read` and `typing`, POSTs a small JSON body to an HTTP server and
sends `send` with its answer; and acks the echo the bridge sends back. Three processes, as
bench/relay.py: this one offers the load over 50 WebSocket connections (answering each
`send` with a `result` and an echo), a child runs the server (`--role server`), another the
HTTP answerer (`--role http`). Prints the server process's CPU time per message per rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

import aiohttp
from aiohttp import web

CONNECTIONS = 50


async def serve(app: web.Application) -> web.AppRunner:
    """Serve `app` on a free loopback port and tell the parent which (first line of stdout)."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    return runner


async def http_role() -> None:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"output": [{"type": "message", "content": [{"type": "output_text", "text": "ok"}]}]})

    app = web.Application()
    app.router.add_post("/v1/responses", answer)
    runner = await serve(app)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it


async def server_role(http_url: str) -> None:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    body = json.dumps({"model": "gpt-4.1-mini", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "hola"}]}]})

    async def turn(ws: web.WebSocketResponse, frame: dict) -> None:
        await ws.send_str(json.dumps({"type": "read", "chat": frame["chat"], "ids": [frame["id"]]}))
        await ws.send_str(json.dumps({"type": "typing", "chat": frame["chat"], "state": "composing"}))
        async with session.post(http_url, data=body, headers={"Authorization": "Bearer sk-test-floor",
                                                              "Content-Type": "application/json"}) as response:
            answer = json.loads(await response.read())
        text = answer["output"][0]["content"][0]["text"]
        await ws.send_str(json.dumps({"type": "send", "ref": frame["id"], "chat": frame["chat"], "text": text}))

    async def bridge(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        async for message in ws:
            frame = json.loads(message.data)
            if frame.get("type") == "message":
                await ws.send_str(json.dumps({"type": "ack", "id": frame["id"]}))
                if not frame.get("sent_by_bridge"):
                    asyncio.get_running_loop().create_task(turn(ws, frame))
        return ws

    app = web.Application()
    app.router.add_get("/ws", bridge)
    runner = await serve(app)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):  # each line asks for the CPU used so far
        print(time.process_time(), flush=True)
    await session.close()
    await runner.cleanup()


def child(role: str, *args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, __file__, "--role", role, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


async def load(rates: list[float], seconds: float) -> None:
    http, http_port = child("http")
    server, port = child("server", f"http://127.0.0.1:{http_port}/v1/responses")
    answered = 0

    def cpu() -> float:
        server.stdin.write("cpu\n")
        server.stdin.flush()
        return float(server.stdout.readline())

    async with aiohttp.ClientSession() as session:
        sockets = [await session.ws_connect(f"http://127.0.0.1:{port}/ws") for _ in range(CONNECTIONS)]

        async def bridge(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal answered
            async for message in ws:
                frame = json.loads(message.data)
                if frame["type"] == "send":
                    await ws.send_str(json.dumps({"type": "result", "ref": frame["ref"], "ok": True, "id": "x"}))
                    await ws.send_str(json.dumps({"type": "message", "id": "echo-" + frame["ref"], "chat": frame["chat"],
                                                  "text": frame["text"], "from_me": True, "sent_by_bridge": True}))
                    answered += 1

        readers = [asyncio.create_task(bridge(ws)) for ws in sockets]

        async def offer(rate: float, count: int) -> None:
            start = time.monotonic()
            for n in range(count):
                await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
                await sockets[n % CONNECTIONS].send_str(json.dumps(
                    {"type": "message", "id": f"m{time.time_ns()}", "chat": f"{n % 1000}@s.whatsapp.net", "text": "hola"}))
            await asyncio.sleep(1.0)

        await offer(50, 150)  # warm-up
        for rate in rates:
            before, done = cpu(), answered
            await offer(rate, int(rate * seconds))
            used, count = cpu() - before, answered - done
            print(f"{rate:6.1f}/s  {count} answered  server CPU {used / count * 1000:.2f} ms per message")
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
    for proc in (server, http):
        proc.stdin.close()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="25,50,150", help="messages per second, one step each")
    parser.add_argument("--step-seconds", type=float, default=15.0)
    parser.add_argument("--role", choices=("load", "server", "http"), default="load", help=argparse.SUPPRESS)
    parser.add_argument("url", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "http":
        asyncio.run(http_role())
    elif args.role == "server":
        asyncio.run(server_role(args.url))
    else:
        asyncio.run(load([float(rate) for rate in args.rates.split(",")], args.step_seconds))


if __name__ == "__main__":
    main()
