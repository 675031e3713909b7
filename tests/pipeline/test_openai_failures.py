"""OpenAI failures: customers get the fallback at most hourly, the operator one alert per
change, and turns kept for a broken key or quota are answered once it works again."""

from __future__ import annotations

from core.events import AlertKind
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, KEY

OTHER = "5491144445555"
OTHER_CHAT = f"{OTHER}@s.whatsapp.net"
BAD_KEY = "sk-fake-revoked-key-000000001"


def texts(bridge, chat=CUSTOMER_CHAT):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


async def customer_says(rig, bridge, chat, text):
    mid = await bridge.send_message(chat, text)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    return mid


def alerts(rig, kind):
    return [a for a in rig.alerts if a.kind is kind]


async def test_invalid_key_sends_fallback_once_alerts_once_and_answers_after_key_change(rig):
    await rig.add_tenant(key=BAD_KEY)
    bridge = await rig.connect()
    fallback = (await rig.tenants.get("panaderia")).settings.fallback_text
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await customer_says(rig, bridge, CUSTOMER, "¿hay alguien?")
    await customer_says(rig, bridge, OTHER, "buenas")
    await rig.settle()
    assert texts(bridge) == [fallback]
    assert texts(bridge, OTHER_CHAT) == [fallback]
    assert len(alerts(rig, AlertKind.OPENAI_KEY_INVALID)) == 1
    tenant = await rig.tenants.get("panaderia")
    assert tenant.attention == "invalid_key" and "401" in tenant.last_error
    assert BAD_KEY not in str(rig.alerts)

    await rig.tenants.set_openai_key("panaderia", KEY, "telegram:1")
    await bridge.wait_for_sent(lambda s: s["text"].startswith("Respuesta"), count=2)
    await rig.idle()
    assert texts(bridge) == [fallback, "Respuesta a: hola\n¿hay alguien?"]
    assert texts(bridge, OTHER_CHAT) == [fallback, "Respuesta a: buenas"]


async def test_exhausted_quota_is_not_retried_and_kept_turns_are_answered_on_recovery(rig, clock):
    await rig.add_tenant()
    rig.openai.set_quota_exhausted(KEY)
    bridge = await rig.connect()
    fallback = (await rig.tenants.get("panaderia")).settings.fallback_text
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await customer_says(rig, bridge, OTHER, "buenas")
    await customer_says(rig, bridge, OTHER, "¿me leen?")
    assert texts(bridge) == [fallback] and texts(bridge, OTHER_CHAT) == [fallback]
    assert rig.openai.failures.count(("responses", "429_quota")) == 3  # one call per turn, no retries
    assert len(alerts(rig, AlertKind.OPENAI_QUOTA)) == 1
    assert (await rig.tenants.get("panaderia")).attention == "quota"

    clock.advance(hours=1, minutes=1)
    await customer_says(rig, bridge, OTHER, "¿nada?")
    assert texts(bridge, OTHER_CHAT) == [fallback, fallback]  # again after an hour
    assert len(alerts(rig, AlertKind.OPENAI_QUOTA)) == 1

    rig.openai.set_quota_exhausted(KEY, False)
    await customer_says(rig, bridge, OTHER, "¿ahora?")
    await bridge.wait_for_sent(lambda s: s["chat"] == CUSTOMER_CHAT and s["text"].startswith("Respuesta"))
    await rig.idle()
    assert texts(bridge, OTHER_CHAT)[-1] == "Respuesta a: buenas\n¿me leen?\n¿nada?\n¿ahora?"
    assert texts(bridge) == [fallback, "Respuesta a: hola"]
    assert len(alerts(rig, AlertKind.OPENAI_RECOVERED)) == 1
    assert (await rig.tenants.get("panaderia")).attention is None
    assert (await rig.stats.totals()).openai_errors_7d == 4


async def test_server_errors_after_retries_send_fallback_and_next_message_is_answered(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    fallback = (await rig.tenants.get("panaderia")).settings.fallback_text
    rig.openai.fail_next("500", 2)
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge) == [fallback]
    await customer_says(rig, bridge, CUSTOMER, "¿hola?")
    assert texts(bridge) == [fallback, "Respuesta a: ¿hola?"]
    assert [a.kind for a in rig.alerts] == [AlertKind.CONNECTED]  # no OpenAI alert for a blip


async def test_one_transient_error_is_retried_without_the_customer_noticing(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    rig.openai.fail_next("500", 1)
    rig.openai.fail_next("429_rate", 1, endpoint="conversations")
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge) == ["Respuesta a: hola"]


async def test_openai_timeout_sends_fallback_and_nothing_crashes(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    fallback = (await rig.tenants.get("panaderia")).settings.fallback_text
    await customer_says(rig, bridge, CUSTOMER, "hola")
    rig.openai.fail_next("timeout", 2)
    await customer_says(rig, bridge, CUSTOMER, "¿abren?")
    assert texts(bridge) == ["Respuesta a: hola", fallback]
    await customer_says(rig, bridge, CUSTOMER, "¿abren hoy?")
    assert texts(bridge)[-1] == "Respuesta a: ¿abren hoy?"
