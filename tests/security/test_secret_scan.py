"""A whole operator-to-customer scenario, then a scan of everything Puente wrote or said:
every database collection, every log line (root logger at DEBUG through setup_logging's
own handler, bridge output included), every HTTP response and every Telegram message or
API call. The OpenAI key, the bridge token, SECRET_KEY, the bot token and the SMTP password
appear nowhere; the landing link only where it belongs (the operator's Telegram message at
creation, the client's own page), never in the database or a log line."""

from __future__ import annotations

import io
import logging
import re

import aiohttp
import pytest

from core.logs import setup_logging
from tests.fakes import FakeBridge
from tests.support.faults import ADMIN, SECRET_KEY, FaultWorld, free_port
from tests.support.stores import everything_stored

KEY = "sk-test-SCAN" + "Zq9" * 12
SMTP_PASSWORD = "smtp-scan-Pa55word-never-shown"
NAME = 'Café <b>"Sol"</b> & Co\x07'


class RawRecords(logging.Handler):
    """The messages as logged, before any scrubbing."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + (self.format(record) if record.exc_info else ""))


@pytest.fixture
def captured_logs():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    noisy = {name: logging.getLogger(name).level
             for name in ("httpx", "httpcore", "telegram.ext", "apscheduler", "aiohttp.access", "openai", "pymongo")}
    setup_logging("debug")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)
    raw = RawRecords()
    root.addHandler(raw)
    yield stream, raw
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


async def test_no_key_or_bridge_token_anywhere_after_a_full_scenario(tmp_path, captured_logs):
    stream, raw = captured_logs
    responses: list[str] = []
    smtp = dict(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_from="puente@example.com", smtp_security="none",
                smtp_username="puente", smtp_password=SMTP_PASSWORD)  # nobody listens: the invite fails
    async with FaultWorld(tmp_path, with_admin_bot=True, **smtp) as world:
        telegram, puente = world.telegram, world.puente
        base = f"http://127.0.0.1:{puente.http.port}"
        telegram.push_message(ADMIN, f"/newtenant tienda-sol ana@sol.cl {KEY}")
        created = await telegram.wait_for_message(ADMIN, lambda m: "tienda-sol" in (m.body or ""), timeout=15)
        landing = re.search(r"/c/([\w-]+)", created.body).group(1)
        await puente.tenants.update_settings("tienda-sol", "test", debounce_seconds=0)
        await puente.tenants.set_description("tienda-sol", NAME, "test")
        token = await puente.tenants.issue_bridge_token("tienda-sol")
        bridge = FakeBridge(world.bridge_url, "tienda-sol", token, state="waiting_qr", phone="56911112222")
        await bridge.start()
        world.bridges["tienda-sol"] = bridge
        telegram.push_message(ADMIN, "/qr tienda-sol")
        await bridge.send_qr("2@scan-qr-payload")
        await telegram.wait_for_message(ADMIN, lambda m: m.kind == "photo", timeout=10)
        await bridge.send_status("connected", phone="56911112222", name=NAME)
        for n, text in enumerate(["hola", "¿precio del pan?", f"mi clave es {KEY[:6]}"]):
            await bridge.send_message(f"5697777000{n}", text, push_name=NAME)
        await bridge.wait_for_sent(count=3, timeout=10)
        for command in ("/tenant tienda-sol", "/stats", "/tenants", "/settings tienda-sol"):
            before = len(telegram.messages_in(ADMIN))
            telegram.push_message(ADMIN, command)
            await telegram.wait_for_message(ADMIN, lambda m, b=before: m in telegram.messages_in(ADMIN)[b:], timeout=10)
        ops = f"http://127.0.0.1:{puente.ops_http.port}"
        async with aiohttp.ClientSession() as http:
            for path in (f"{ops}/metrics", f"{ops}/readyz"):
                async with http.get(path) as response:
                    responses.append(f"{response.status} {dict(response.headers)}\n{await response.text()}")
            for path in (f"/c/{landing}", "/healthz", "/readyz", "/metrics", "/c/nope",
                         f"/c/{landing}/qr", "/bridge"):
                method = http.post if path.endswith("/qr") else http.get
                async with method(base + path, headers={"Origin": base}) as response:
                    responses.append(f"{response.status} {dict(response.headers)}\n{await response.text()}")
            async with http.get(f"{base}/c/{landing}/events", timeout=aiohttp.ClientTimeout(total=2)) as sse:
                try:
                    responses.append((await sse.content.read(4096)).decode(errors="replace"))
                except TimeoutError:
                    pass
        await world.quiet()

        dump = (await everything_stored(puente.store)).splitlines()
        assert any("tienda-sol" in line for line in dump)
    telegram_out = [repr((m.text, m.caption, m.reply_markup)) for m in telegram.messages_in(ADMIN)]
    telegram_out += [repr(c.params) for c in telegram.all_calls]
    logs = stream.getvalue()
    # The capture really saw the run, from the bot's creation to the relay's bridge (a line
    # count would depend on how chatty the HTTP libraries are at DEBUG).
    assert "tenant tienda-sol created" in logs
    assert any("bridge of tenant tienda-sol connected" in line for line in raw.lines)

    bot_token = telegram.token
    everywhere = (("database", dump), ("HTTP", responses), ("Telegram", telegram_out),
                  ("log output", [logs]), ("log records before scrubbing", raw.lines))
    for secret, what in ((KEY, "OpenAI key"), (token, "bridge token"), (SECRET_KEY, "SECRET_KEY"),
                         (SMTP_PASSWORD, "SMTP password")):
        for place, texts in everywhere:
            leaks = [t for t in texts if secret in t]
            assert not leaks, f"the {what} is in the {place}: {leaks[0][:300]}"
    for secret, what, places in ((landing, "landing token", ("database", "log output", "log records before scrubbing")),
                                 (bot_token, "bot token", ("database", "HTTP", "log output"))):
        for place, texts in everywhere:
            leaks = [t for t in texts if place in places and secret in t]
            assert not leaks, f"the {what} is in the {place}: {leaks[0][:300]}"
    assert any(landing in t for t in responses)  # the client's own page does carry it
    assert KEY[-4:] in str(telegram_out)  # the hint (sk-…abcd) is how operators tell keys apart


async def test_tenant_name_with_html_and_control_characters_is_escaped_in_the_card(tmp_path):
    async with FaultWorld(tmp_path, with_admin_bot=True) as world:
        telegram = world.telegram
        await world.add_tenant("tienda-sol", name="<i>Sol</i> & <script>x()</script>\x1b[31m")
        telegram.push_message(ADMIN, "/tenant tienda-sol")
        await telegram.wait_for_message(ADMIN, lambda m: "tienda-sol" in (m.body or ""), timeout=10)
        call = [c for c in telegram.calls("sendMessage") if "tienda-sol" in str(c.params.get("text"))][-1]
        sent = call.params["text"]
        assert "<script>" not in sent and "<i>Sol</i>" not in sent
        assert "&lt;script&gt;" in sent and "&amp;" in sent
        async with aiohttp.ClientSession() as http:
            tenant = await world.puente.tenants.rotate_landing_token("tienda-sol", "test")
            async with http.get(f"http://127.0.0.1:{world.puente.http.port}/c/{tenant.landing_token}") as page:
                body = await page.text()
        assert "<script>x()</script>" not in body and "<i>Sol</i>" not in body
