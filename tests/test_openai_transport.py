"""The relay's OpenAI clients send through aiohttp (relay/assistant/clients.py), and every
turn's Responses call goes past the SDK (relay/assistant/responses_api.py). What the
operator reads when OpenAI cannot be reached, hangs up, does not answer in time or refuses
is the same as with the SDK's own `responses.create` on its default httpx2 transport, the
errors are the SDK's own, and answers still arrive."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import openai
import pytest
from aiohttp import web

from relay.assistant import Assistant, AssistantError, OpenAIClients, RetryPolicy, TurnInput
from relay.assistant.errors import classify
from tests.fakes import FakeOpenAI

KEY = "sk-test-transport"


def _default_client(base_url: str, timeout: float) -> openai.AsyncOpenAI:
    """The SDK's own httpx2 transport: the behaviour to match."""
    return openai.AsyncOpenAI(api_key=KEY, base_url=base_url, max_retries=0,
                              timeout=openai.Timeout(timeout, connect=timeout))


async def _reason(clients: OpenAIClients, client: openai.AsyncOpenAI) -> str:
    assistant = Assistant("whisper-1", clients.responses, RetryPolicy(attempts=1))
    with pytest.raises(AssistantError) as caught:
        await assistant.reply(client, model="gpt-4.1-mini", instructions="", conversation="conv_x",
                              safety_id="s", turn=TurnInput("hola"))
    return caught.value.reason


async def _sdk_error(client: openai.AsyncOpenAI, conversation: str = "conv_x") -> openai.OpenAIError:
    """What the SDK's own responses.create raises for the same turn."""
    with pytest.raises(openai.OpenAIError) as caught:
        await client.responses.create(model="gpt-4.1-mini", instructions="", conversation=conversation,
                                      input=[{"role": "user", "content": TurnInput("hola").content()}],
                                      safety_identifier="s")
    return caught.value


@contextlib.asynccontextmanager
async def _server(behaviour: str):
    """A loopback server that hangs up on every request, or never answers one."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if behaviour == "hang_up":
            writer.close()
            return
        await asyncio.sleep(30)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        server.close()


def _refusing_url() -> str:
    with socket.socket() as sock:  # a port that was just free: connecting is refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


async def _both_reasons(base_url: str, timeout: float) -> tuple[str, str]:
    clients = OpenAIClients(base_url, timeout=timeout, connect_timeout=timeout)
    default = _default_client(base_url, timeout)
    try:
        return await _reason(clients, clients.get("t", KEY)), classify(await _sdk_error(default)).reason
    finally:
        await clients.close()
        await default.close()


async def test_refused_connection_reads_could_not_be_reached_as_with_the_default_transport() -> None:
    ours, default = await _both_reasons(_refusing_url(), 2.0)
    assert ours == default == "OpenAI could not be reached."


async def test_server_hanging_up_reads_could_not_be_reached_as_with_the_default_transport() -> None:
    async with _server("hang_up") as url:
        ours, default = await _both_reasons(url, 2.0)
    assert ours == default == "OpenAI could not be reached."


async def test_silent_server_reads_did_not_answer_in_time_as_with_the_default_transport() -> None:
    async with _server("silent") as url:
        ours, default = await _both_reasons(url, 0.3)
    assert ours == default == "OpenAI did not answer in time."


async def test_clients_answer_and_a_replaced_key_gets_a_new_client() -> None:
    fake = FakeOpenAI()
    await fake.start()
    clients = OpenAIClients(f"{fake.url}/v1")
    try:
        first = clients.get("t", KEY)
        assert clients.get("t", KEY) is first
        assistant = Assistant("whisper-1", clients.responses)
        conversation = await assistant.start_conversation(first)
        answer = await assistant.reply(first, model="gpt-4.1-mini", instructions="", conversation=conversation,
                                       safety_id="s", turn=TurnInput("hola"))
        assert answer == "Respuesta a: hola"
        second = clients.get("t", KEY + "-new")
        assert second is not first
        assert await assistant.reply(second, model="gpt-4.1-mini", instructions="", conversation=conversation,
                                     safety_id="s", turn=TurnInput("otra")) == "Respuesta a: otra"
    finally:
        await clients.close()
        await fake.stop()
    assert first.is_closed() and second.is_closed()  # the retired one too, on close


async def _turns_of_tenants_a_b_a(middleware, host: str = "127.0.0.1") -> None:
    """Tenant a, then b, then a again, against a fake OpenAI that runs `middleware` on every
    request: each starts a conversation and is answered once."""
    fake = FakeOpenAI(valid_keys={KEY + "-a", KEY + "-b"})
    fake.app.middlewares.append(web.middleware(middleware))
    await fake.start()
    clients = OpenAIClients(f"{fake.url.replace('127.0.0.1', host)}/v1")
    try:
        assistant = Assistant("whisper-1", clients.responses)
        for slug in ("a", "b", "a"):
            client = clients.get(slug, f"{KEY}-{slug}")
            conversation = await assistant.start_conversation(client)
            assert await assistant.reply(client, model="gpt-4.1-mini", instructions="", conversation=conversation,
                                         safety_id="s", turn=TurnInput("hola")) == "Respuesta a: hola"
    finally:
        await clients.close()
        await fake.stop()


async def test_tenants_share_warm_connections_and_each_request_carries_its_own_key() -> None:
    # A quiet tenant's message rides a connection another tenant kept open (no new TCP/TLS
    # handshake), and the key is per request (the Authorization header), never mixed up.
    seen: list[tuple[str, int, str]] = []

    async def note_connection(request: web.Request, handler):
        seen.append((request.headers["Authorization"], request.transport.get_extra_info("peername")[1], request.path))
        return await handler(request)

    await _turns_of_tenants_a_b_a(note_connection)
    # Conversations go through the SDK's pool, turns through the Responses call's own pool:
    # each keeps one connection for every tenant, and each request carries its own key.
    for path in ("/v1/conversations", "/v1/responses"):
        assert [key for key, _, at in seen if at == path] == [f"Bearer {KEY}-a", f"Bearer {KEY}-b", f"Bearer {KEY}-a"]
        assert len({port for _, port, at in seen if at == path}) == 1


async def test_a_turn_sends_its_input_and_tools_to_openai_unchanged() -> None:
    # POST /v1/responses as the OpenAPI spec names its fields (/tmp/openapi.json, CreateResponse:
    # model, instructions, conversation, input, safety_identifier, tools): the turn's content
    # parts and the tools arrive exactly as built, whichever way the SDK is called (this pins
    # a leaner call path, bench/README.md section 0).
    fake = FakeOpenAI()
    await fake.start()
    clients = OpenAIClients(f"{fake.url}/v1")
    tool = {"type": "function", "name": "pasar_a_persona", "description": "Pasa el chat a una persona.",
            "parameters": {"type": "object", "properties": {"motivo": {"type": "string"}}, "required": ["motivo"],
                           "additionalProperties": False}, "strict": True}
    turn = TurnInput("hola", [("image/png", b"\x89PNG")])
    try:
        client = clients.get("t", KEY)
        assistant = Assistant("whisper-1", clients.responses)
        conversation = await assistant.start_conversation(client)
        await assistant.respond(client, model="gpt-4.1-mini", instructions="Sé breve.", conversation=conversation,
                                safety_id="s1", turn=turn, tools=[tool])
    finally:
        await clients.close()
        await fake.stop()
    assert fake.response_requests[-1].body == {
        "model": "gpt-4.1-mini", "instructions": "Sé breve.", "conversation": conversation,
        "input": [{"role": "user", "content": turn.content()}], "safety_identifier": "s1", "tools": [tool],
    }
    assert [part["type"] for part in turn.content()] == ["input_image", "input_text"]


@pytest.mark.parametrize("kind", ["401", "429_quota", "429_rate", "500", "unknown_conversation"])
async def test_a_turns_errors_are_the_sdks_own(kind: str) -> None:
    # The Responses call skips the SDK, but not its errors: each is the exception the SDK's
    # responses.create raises for the same answer (built by the SDK: its class, status,
    # code, param, message and body, and the Retry-After headers the retry loop reads).
    fake = FakeOpenAI(rate_retry_after_ms=1500)
    await fake.start()
    clients = OpenAIClients(f"{fake.url}/v1")
    sdk = openai.AsyncOpenAI(api_key=KEY, base_url=f"{fake.url}/v1", max_retries=0)
    body = {"model": "gpt-4.1-mini", "instructions": "", "conversation": "conv_x",
            "input": [{"role": "user", "content": TurnInput("hola").content()}], "safety_identifier": "s"}
    try:
        client = clients.get("t", KEY)
        if kind != "unknown_conversation":
            body["conversation"] = (await client.conversations.create()).id
        errors = []
        for call in (lambda: clients.responses.create(client, body), lambda: _sdk_error(sdk, body["conversation"])):
            if kind != "unknown_conversation":
                fake.fail_next(kind)
            try:
                errors.append(await call())
            except openai.OpenAIError as exc:
                errors.append(exc)
    finally:
        await clients.close()
        await sdk.close()
        await fake.stop()
    ours, theirs = errors
    assert isinstance(ours, openai.APIStatusError) and type(ours) is type(theirs)
    assert (ours.status_code, ours.code, ours.param, ours.message, ours.body) == (
        theirs.status_code, theirs.code, theirs.param, theirs.message, theirs.body)
    assert ours.response.headers.get("retry-after-ms") == theirs.response.headers.get("retry-after-ms")
    assert classify(ours).reason == classify(theirs).reason
    assert KEY not in str(ours) and KEY not in repr(ours.body)


@pytest.mark.parametrize("answer", [
    "<html>Bad gateway, maybe</html>",
    json.dumps({"id": "resp_1", "output": "nope"}),
    json.dumps({"id": "resp_1", "output": [{"type": "message", "id": "msg_1", "content": "hola"}]}),
    json.dumps({"id": "resp_1", "output": [{"type": "function_call", "id": "fc_1", "name": "handoff_to_human"}]}),
])
async def test_an_answer_that_is_not_a_response_object_is_a_clear_failure(answer: str) -> None:
    # Not JSON, or JSON whose `output` does not have the OpenAPI document's shape (a list of
    # items; a message's content a list of parts; a function call with its call_id).
    async def handle(request: web.Request) -> web.Response:
        return web.Response(text=answer, content_type="text/html" if answer.startswith("<") else "application/json")

    app = web.Application()
    app.router.add_post("/v1/responses", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    clients = OpenAIClients(f"http://127.0.0.1:{port}/v1")
    try:
        reason = await _reason(clients, clients.get("t", KEY))
    finally:
        await clients.close()
        await runner.cleanup()
    assert reason == "OpenAI call failed (APIResponseValidationError)."


async def test_a_turn_goes_through_the_proxy_named_in_the_environment(monkeypatch) -> None:
    # The SDK's client honours HTTP(S)_PROXY (httpx2's trust_env, the aiohttp transport's
    # proxy mounts); so does the Responses call that skips it. The host below does not
    # resolve: only the proxy can answer.
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.url}")
        return web.json_response({"id": "resp_1", "object": "response", "status": "completed", "output": [
            {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": "Hola desde el proxy", "annotations": []}]}]})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{runner.addresses[0][1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    clients = OpenAIClients("http://api.openai.invalid/v1")
    try:
        assistant = Assistant("whisper-1", clients.responses, RetryPolicy(attempts=1))
        answer = await assistant.reply(clients.get("t", KEY), model="gpt-4.1-mini", instructions="",
                                       conversation="conv_1", safety_id="s", turn=TurnInput("hola"))
    finally:
        await clients.close()
        await runner.cleanup()
    assert answer == "Hola desde el proxy"
    assert seen == ["POST http://api.openai.invalid/v1/responses"]


async def test_a_cookie_set_on_one_tenants_answer_never_rides_another_tenants_request() -> None:
    # One HTTP client serves every tenant's SDK calls, one session every tenant's Responses
    # call. OpenAI's edge may set cookies (Cloudflare's __cf_bm); with a cookie jar, tenant
    # a's would be sent with tenant b's requests. Neither keeps any (the shared SDK client
    # did, in aiohttp's jar under the SDK's aiohttp transport: tenant b's conversation
    # request carried tenant a's cookie).
    cookies: list[tuple[str, str | None]] = []

    async def set_cookie(request: web.Request, handler):
        cookies.append((request.headers["Authorization"], request.headers.get("Cookie")))
        response = await handler(request)
        response.set_cookie("__cf_bm", "edge-" + request.headers["Authorization"][-1])
        return response

    # A host name, not 127.0.0.1: aiohttp's cookie jar ignores cookies of IP addresses.
    await _turns_of_tenants_a_b_a(set_cookie, host="localhost")
    sent = [cookie for _, cookie in cookies]
    assert len(sent) == 6 and sent == [None] * 6
