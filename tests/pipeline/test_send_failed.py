"""A reply WhatsApp refuses after accepting it (`send_failed`): acked, one alert and one log
line, never resent, and a repeat of it (the bridge resends until acked) tells nobody twice,
also after the relay restarts."""

from __future__ import annotations

import logging

from core.events import AlertKind
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT


def refusals(rig):
    return [a for a in rig.alerts if a.kind == AlertKind.SEND_FAILED]


def warnings(caplog):
    return [r for r in caplog.records if r.levelno == logging.WARNING and "WhatsApp refused" in r.getMessage()]


async def test_a_refused_reply_is_acked_alerted_once_and_not_resent_even_when_repeated_across_a_restart(
        rig, caplog):
    await rig.add_tenant()
    bridge = await rig.connect()
    await bridge.send_message(CUSTOMER, "¿Abren hoy?")
    [reply] = await bridge.wait_for_sent()
    await rig.idle()

    event_id = await bridge.send_failed(reply["message_id"], CUSTOMER_CHAT, "463", ref=reply["ref"])
    await bridge.wait_for_ack(event_id)
    await rig.idle()
    [alert] = refusals(rig)
    assert alert.tenant == "panaderia"
    assert alert.detail == {"chat": CUSTOMER_CHAT, "error": "463"}
    [line] = warnings(caplog)
    assert "panaderia" in line.getMessage() and reply["message_id"] in line.getMessage()
    assert rig.metrics.errors.labels("bridge_send_rejected")._value.get() == 1

    await bridge.send_failed(reply["message_id"], CUSTOMER_CHAT, "463", ref=reply["ref"])  # resent, not acked yet
    await rig.wait_for(lambda: bridge.acks.count(event_id) == 2)
    await rig.restart()
    await rig.reconnect(bridge)
    await bridge.send_failed(reply["message_id"], CUSTOMER_CHAT, "463", ref=reply["ref"])
    await rig.wait_for(lambda: bridge.acks.count(event_id) == 3)
    await rig.idle()
    assert len(refusals(rig)) == 1 and len(warnings(caplog)) == 1
    assert [s["text"] for s in bridge.sent] == [reply["text"]]  # never sent again
    assert rig.openai.responses_created == 1
