"""Opening hours: what customers get outside hours (`answer` and `away` modes), and the
owner's `cerrado` / `abierto` / `estado` from their phone.

The rig's clock starts on Thursday 26 November 2026 at 12:00 UTC: 09:00 in Santiago (UTC-3).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tenants.model import DEFAULT_INSTRUCTIONS
from tests.pipeline.test_owner_commands import customer_says, owner_says, texts
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT

OTHER = "5491144445555"
OTHER_CHAT = f"{OTHER}@s.whatsapp.net"
WEEKDAYS = ["America/Santiago", "lu-vi", "09:00-18:00,", "sa", "10:00-14:00"]


async def shop(rig, *words: str, closed: tuple[str, ...] = ()):
    """A connected tenant with these /hours words (and closed dates)."""
    await rig.add_tenant()
    if words:
        await rig.tenants.set_hours("panaderia", list(words), "test")
    if closed:
        await rig.tenants.add_closed_dates("panaderia", list(closed), "test")
    bridge = await rig.connect()
    await rig.settle()
    return bridge


def move_to(rig, moment: datetime) -> None:
    rig.clock.advance(seconds=(moment - rig.clock.now()).total_seconds())


async def test_within_hours_the_assistant_gets_the_tenants_instructions_untouched(rig):
    bridge = await shop(rig, *WEEKDAYS)
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola"]
    assert rig.openai.last_request.instructions == DEFAULT_INSTRUCTIONS


async def test_outside_hours_the_assistant_still_answers_told_it_is_closed_and_when_it_opens(rig):
    bridge = await shop(rig, *WEEKDAYS)
    move_to(rig, datetime(2026, 11, 26, 22, 30, tzinfo=UTC))  # 19:30 in Santiago
    await customer_says(rig, bridge, CUSTOMER, "¿atienden?")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: ¿atienden?"]
    instructions = rig.openai.last_request.instructions
    assert instructions.startswith(DEFAULT_INSTRUCTIONS)
    assert ("En este momento el negocio está cerrado. Abre mañana a las 09:00 (hora de America/Santiago)."
            in instructions)
    assert "dile que una persona del equipo le responderá cuando abra, mañana a las 09:00" in instructions


async def test_the_same_moment_is_open_in_one_time_zone_and_closed_in_another(rig):
    bridge = await shop(rig, "America/Bogota", "lu-vi", "09:00-18:00", "away")  # 07:00 in Bogotá
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == [
        "Hola, ahora estamos cerrados. Abrimos hoy a las 09:00. Te responderemos entonces."]
    await rig.tenants.set_hours("panaderia", ["Europe/Madrid", "lu-vi", "09:00-18:00"], "test")  # 13:00 there
    await rig.settle()
    await customer_says(rig, bridge, CUSTOMER, "¿y ahora?")
    assert texts(bridge, CUSTOMER_CHAT)[-1] == "Respuesta a: ¿y ahora?"


async def test_away_mode_sends_the_away_message_once_per_closed_period_and_never_calls_openai(rig):
    bridge = await shop(rig, *WEEKDAYS, "away")
    move_to(rig, datetime(2026, 11, 28, 23, 0, tzinfo=UTC))  # Saturday 20:00 in Santiago
    await customer_says(rig, bridge, CUSTOMER, "hola")
    await customer_says(rig, bridge, CUSTOMER, "¿hay alguien?")
    rig.clock.advance(hours=20)  # Sunday: the same closed period
    await customer_says(rig, bridge, CUSTOMER, "¿y hoy?")
    await customer_says(rig, bridge, OTHER, "hola")
    away = "Hola, ahora estamos cerrados. Abrimos el lunes a las 09:00. Te responderemos entonces."
    assert texts(bridge, CUSTOMER_CHAT) == [away]
    assert texts(bridge, OTHER_CHAT) == [  # written on Sunday
        "Hola, ahora estamos cerrados. Abrimos mañana a las 09:00. Te responderemos entonces."]
    assert rig.openai.responses_created == 0
    move_to(rig, datetime(2026, 11, 30, 12, 30, tzinfo=UTC))  # Monday 09:30: open
    await customer_says(rig, bridge, CUSTOMER, "buenos días")
    # What was written while away is held, not answered now: only the new message is.
    assert texts(bridge, CUSTOMER_CHAT) == [away, "Respuesta a: buenos días"]
    assert rig.openai.last_request.user_text == "buenos días"
    move_to(rig, datetime(2026, 11, 30, 22, 0, tzinfo=UTC))  # Monday 19:00: a new closed period
    await customer_says(rig, bridge, CUSTOMER, "¿mañana?")
    assert texts(bridge, CUSTOMER_CHAT)[-1] == (
        "Hola, ahora estamos cerrados. Abrimos mañana a las 09:00. Te responderemos entonces.")


async def test_the_away_message_says_the_local_opening_time_across_the_april_change(rig):
    bridge = await shop(rig, *WEEKDAYS, "away")
    move_to(rig, datetime(2026, 4, 4, 18, 0, tzinfo=UTC))  # Saturday 15:00 (UTC-3); Monday is UTC-4
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == [
        "Hola, ahora estamos cerrados. Abrimos el lunes a las 09:00. Te responderemos entonces."]
    move_to(rig, datetime(2026, 4, 6, 12, 30, tzinfo=UTC))  # Monday 08:30 local: still closed
    await customer_says(rig, bridge, OTHER, "hola")
    assert texts(bridge, OTHER_CHAT) == [
        "Hola, ahora estamos cerrados. Abrimos hoy a las 09:00. Te responderemos entonces."]
    move_to(rig, datetime(2026, 4, 6, 13, 0, tzinfo=UTC))  # Monday 09:00 local
    await customer_says(rig, bridge, OTHER, "¿ya?")
    assert texts(bridge, OTHER_CHAT)[-1] == "Respuesta a: ¿ya?"


async def test_a_closed_date_closes_the_day_and_the_away_message_names_the_next_opening(rig):
    bridge = await shop(rig, *WEEKDAYS, "away", closed=("26/11",))
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == [
        "Hola, ahora estamos cerrados. Abrimos mañana a las 09:00. Te responderemos entonces."]


async def test_the_tenants_own_away_message_is_sent_with_the_opening_filled_in(rig):
    bridge = await shop(rig, *WEEKDAYS, "away")
    await rig.tenants.update_settings("panaderia", "test", away_message="Volvemos {next_open} 🙌")
    await rig.settle()
    move_to(rig, datetime(2026, 11, 27, 22, 0, tzinfo=UTC))  # Friday 19:00
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == ["Volvemos mañana a las 10:00 🙌"]


@pytest.mark.parametrize(("close", "open_"), [("cerrado", "abierto"), ("Closed", "OPEN")])
async def test_the_owner_closes_until_the_next_opening_and_opens_again(rig, close, open_):
    bridge = await shop(rig, *WEEKDAYS, "away")
    rig.clock.advance(hours=3)  # Thursday 12:00 in Santiago: open
    await owner_says(rig, bridge, OWNER_CHAT, close)
    assert texts(bridge, OWNER_CHAT) == [
        "🌙 Cerrado desde ahora hasta mañana a las 09:00, cuando abre según tu horario. Los clientes reciben tu "
        "mensaje de ausencia. Escribe «abierto» para abrir antes."]
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == [
        "Hola, ahora estamos cerrados. Abrimos mañana a las 09:00. Te responderemos entonces."]
    await owner_says(rig, bridge, OWNER_CHAT, open_)
    assert texts(bridge, OWNER_CHAT)[-1] == (
        "☀️ Abierto desde ahora hasta hoy a las 18:00, cuando cierra según tu horario.")
    await customer_says(rig, bridge, CUSTOMER, "¿ahora sí?")
    assert texts(bridge, CUSTOMER_CHAT)[-1] == "Respuesta a: ¿ahora sí?"
    assert bridge.deletes == []  # typed in the owner's own chat


async def test_the_owners_open_answers_outside_hours_until_the_next_closing(rig):
    bridge = await shop(rig, *WEEKDAYS, "away")
    move_to(rig, datetime(2026, 11, 28, 23, 0, tzinfo=UTC))  # Saturday 20:00
    await owner_says(rig, bridge, OWNER_CHAT, "abierto")
    assert texts(bridge, OWNER_CHAT) == [
        "☀️ Abierto desde ahora hasta el lunes a las 18:00, cuando cierra según tu horario."]
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola"]
    assert rig.openai.last_request.instructions == DEFAULT_INSTRUCTIONS


async def test_without_a_schedule_closed_holds_until_open_and_survives_a_restart(rig):
    bridge = await shop(rig)
    await owner_says(rig, bridge, OWNER_CHAT, "cerrado")
    assert texts(bridge, OWNER_CHAT) == [
        "🌙 Cerrado desde ahora, hasta que escribas «abierto». El asistente sigue respondiendo y avisa que están "
        "cerrados. Escribe «abierto» para abrir antes."]
    await rig.restart()
    await rig.reconnect(bridge)
    rig.clock.advance(days=3)
    await customer_says(rig, bridge, CUSTOMER, "hola")
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola"]
    instructions = rig.openai.last_request.instructions
    assert "En este momento el negocio está cerrado. No hay hora de apertura definida." in instructions
    await owner_says(rig, bridge, OWNER_CHAT, "abierto")
    assert texts(bridge, OWNER_CHAT)[-1] == "☀️ Abierto: el bot responde como siempre."
    await customer_says(rig, bridge, CUSTOMER, "¿y ahora?")
    assert rig.openai.last_request.instructions == DEFAULT_INSTRUCTIONS


async def test_status_shows_open_or_closed_the_schedule_and_the_owners_override(rig):
    bridge = await shop(rig, *WEEKDAYS)
    await owner_says(rig, bridge, OWNER_CHAT, "estado")
    assert texts(bridge, OWNER_CHAT)[-1].endswith(
        "☀️ Abierto, cierra hoy a las 18:00. Horario: lu-vi 09:00-18:00, sa 10:00-14:00 (America/Santiago).")
    await owner_says(rig, bridge, OWNER_CHAT, "cerrado")
    await owner_says(rig, bridge, OWNER_CHAT, "estado")
    assert texts(bridge, OWNER_CHAT)[-1].endswith(
        "🌙 Cerrado (lo decidiste tú), abre mañana a las 09:00. Horario: lu-vi 09:00-18:00, sa 10:00-14:00 "
        "(America/Santiago).")


async def test_status_without_hours_says_nothing_about_them(rig):
    bridge = await shop(rig)
    await owner_says(rig, bridge, OWNER_CHAT, "estado")
    assert "Abierto" not in texts(bridge, OWNER_CHAT)[-1] and "Cerrado" not in texts(bridge, OWNER_CHAT)[-1]
