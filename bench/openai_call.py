"""CPU of one OpenAI call as the relay makes it: `PYTHONPATH=. python bench/openai_call.py`.

The fake OpenAI runs in a process of its own (bench/openai_process.py); this process makes
N sequential `responses.create` calls of a turn's shape (instructions, a conversation, one
user input, the handoff tool) in several ways and prints the CPU time of this process per
call: the SDK's default httpx2 transport, the SDK over aiohttp (`DefaultAioHttpClient`),
the same with `input` and `tools` as `extra_body` (no SDK transform), a bare `client.post`
whose JSON is read by hand (the floor of the official SDK), and the relay's own call since
it goes past the SDK (relay/assistant/responses_api.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2
import openai

from bench.relay import KEY, start_fake_openai
from relay.assistant.clients import OpenAIClients
from relay.assistant.tools import output_text
from relay.pipeline.handoff import HANDOFF_TOOL


async def measure(url: str, calls: int) -> None:
    clients = OpenAIClients(url)
    relay_client = clients.get("bench", KEY)  # the SDK on its default transport, as the relay keeps it
    default_client = openai.AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0)
    aiohttp_client = openai.AsyncOpenAI(api_key=KEY, base_url=url, max_retries=0,
                                        http_client=openai.DefaultAioHttpClient())
    conversation = (await relay_client.conversations.create()).id
    plain = {"model": "gpt-4.1-mini", "instructions": "Eres el asistente de una tienda. Responde breve.",
             "conversation": conversation, "safety_identifier": "0123456789abcdef0123456789abcdef"}
    extra = {"input": [{"role": "user", "content": [{"type": "input_text", "text": "Hola, ¿qué precio tiene?"}]}],
             "tools": [HANDOFF_TOOL]}

    async def create(client: openai.AsyncOpenAI) -> str:
        return (await client.responses.create(**plain, **extra)).output_text

    async def extra_body() -> str:
        return (await aiohttp_client.responses.create(**plain, extra_body=extra)).output_text

    async def raw_post() -> str:
        body = (await aiohttp_client.post("/responses", body={**plain, **extra}, cast_to=httpx2.Response)).json()
        return "".join(part["text"] for item in body["output"] if item["type"] == "message"
                       for part in item["content"] if part["type"] == "output_text")

    async def responses_api() -> str:
        return output_text(await clients.responses.create(relay_client, {**plain, **extra}))

    ways = {
        "responses.create, SDK default transport (httpx2)": lambda: create(default_client),
        "responses.create, SDK over aiohttp": lambda: create(aiohttp_client),
        "  + input and tools as extra_body": extra_body,
        "  client.post, JSON read by hand": raw_post,
        "ResponsesApi, past the SDK (the relay's call)": responses_api,
    }
    try:
        for name, call in ways.items():
            for _ in range(50):  # warm: connections, caches
                await call()
            cpu = time.process_time()
            for _ in range(calls):
                await call()
            print(f"{name:52} {(time.process_time() - cpu) / calls * 1e6:6.0f} µs CPU per call")
    finally:
        await clients.close()
        await default_client.close()
        await aiohttp_client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=600)
    args = parser.parse_args()
    proc, url = start_fake_openai(0.0)
    try:
        asyncio.run(measure(f"{url}/v1", args.calls))
    finally:
        proc.stdin.close()
        proc.wait(10)


if __name__ == "__main__":
    main()
