"""Telegram answers 429 (retry_after) and 500 while WhatsApp connections of several tenants
come and go: every alert still reaches every admin exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from core.events import Alert, AlertKind
from tests.support.faults import ADMIN, SECOND_ADMIN, FaultWorld, wait_until

TENANTS = {"alerta-uno": "Panadería Uno", "alerta-dos": "Ferretería Dos", "alerta-tres": "Botillería Tres"}


async def test_each_alert_reaches_each_admin_once_through_429s_and_500s(tmp_path):
    async with FaultWorld(tmp_path, with_admin_bot=True) as world:
        telegram = world.telegram
        alerts: list[Alert] = []

        async def record(alert: Alert) -> None:
            alerts.append(alert)

        world.puente.bus.subscribe("test-alerts", record, Alert)
        bridges = {}
        for t, (slug, name) in enumerate(TENANTS.items()):
            await world.add_tenant(slug, name=name)
            bridges[slug] = await world.connect(slug, phone=f"5691000000{t}")  # alert: connected
        await wait_until(lambda: len(alerts) == 3, 5, "three connected alerts")

        telegram.fail_next("sendMessage", 2, status=429, retry_after=1)
        telegram.fail_next("sendMessage", 3, status=500)
        for t, slug in enumerate(TENANTS):
            bridge = bridges[slug]
            await bridge.send_status("logged_out", reason="unlinked_from_phone")
            await bridge.send_status("waiting_qr")
            telegram.fail_next("sendMessage", 1, status=500)
            telegram.fail_next("sendMessage", 1, status=429, retry_after=1)
            await bridge.send_status("connected", phone=f"5692000000{t}", name="Otro teléfono")
            await bridge.send_status("banned", reason="forbidden")
            await bridge.send_status("banned", reason="forbidden")  # no change: no second alert
        await wait_until(lambda: len(alerts) == 12, 10, lambda: f"12 alerts, have {alerts}")
        kinds = Counter(a.kind for a in alerts)
        assert kinds == {AlertKind.CONNECTED: 6, AlertKind.LOGGED_OUT: 3, AlertKind.BANNED: 3}

        def delivered(admin: int) -> list[str]:
            return [m.body for m in telegram.messages_in(admin) if any(n in (m.body or "") for n in TENANTS.values())]

        for admin in (ADMIN, SECOND_ADMIN):
            await telegram.wait_for_message(admin, lambda m: len(delivered(admin)) >= 12, timeout=30)
        await world.puente.bus.drain()
        await asyncio.sleep(0.5)  # a late duplicate retry would land now
        failures = [c.status for c in telegram.calls("sendMessage") if c.status != 200]
        assert failures.count(429) >= 3 and failures.count(500) >= 3  # the faults really happened
        for admin in (ADMIN, SECOND_ADMIN):
            bodies = delivered(admin)
            assert len(bodies) == 12, bodies
            assert len(set(bodies)) == 12, bodies  # none twice
            for slug, name in TENANTS.items():
                assert sum(name in b for b in bodies) == 4, (name, bodies)
