"""/hours: the operator shows, sets, removes a tenant's opening hours and adds closed dates.

The clock is Thursday 26 November 2026, 12:00 UTC: 09:00 in Santiago."""

from __future__ import annotations

import pytest

from tenants.hours import close_now
from tests.support.bot import BotRig
from tests.support.clock import FakeClock


@pytest.fixture
async def rig(store, tmp_path):
    rig = BotRig(store, tmp_path / "data", clock=FakeClock())
    await rig.start()
    yield rig
    await rig.stop()


async def test_a_tenant_without_hours_is_always_open_and_the_answer_shows_how_to_set_them(rig):
    await rig.add_tenant("tienda-sol")
    answer = await rig.say("/hours tienda-sol")
    assert answer.body == (
        "🕘 Tienda Sol no tiene horario: siempre abierto. Zona horaria por defecto: UTC.\n"
        "Para definirlo: <code>/hours tienda-sol America/Santiago lu-vi 09:00-18:00, sa 10:00-14:00</code>")


async def test_setting_hours_in_spanish_stores_them_and_says_whether_it_is_open_now(rig):
    await rig.add_tenant("tienda-sol")
    answer = await rig.say("/hours tienda-sol America/Santiago lu-vi 09:00-18:00, sa 10:00-14:00 away")
    assert answer.body == (
        "🕘 Horario de Tienda Sol guardado (America/Santiago)\n"
        "<code>lu-vi 09:00-18:00, sa 10:00-14:00</code>\n"
        "Fuera de horario: mensaje de ausencia, sin asistente (away).\n"
        "Ahora: ☀️ abierto, cierra hoy a las 18:00.")
    hours = (await rig.tenants.get("tienda-sol")).hours
    assert (hours.timezone, hours.mode, hours.describe()) == (
        "America/Santiago", "away", "lu-vi 09:00-18:00, sa 10:00-14:00")
    shown = await rig.say("/hours tienda-sol")
    assert shown.body.startswith("🕘 Horario de Tienda Sol (America/Santiago)\n")


async def test_english_schedule_and_answer_for_an_english_admin(rig):
    await rig.add_tenant("tienda-sol")
    answer = await rig.say("/hours tienda-sol america/bogota mon-fri 09:00-18:00, sat 10:00-14:00", lang="en")
    assert answer.body == (
        "🕘 Tienda Sol's opening hours saved (America/Bogota)\n"
        "<code>mon-fri 09:00-18:00, sat 10:00-14:00</code>\n"
        "Outside hours: the assistant answers and says it is closed (answer).\n"
        "Now: 🌙 closed, opens today at 09:00.")


async def test_without_a_time_zone_the_default_one_is_used(rig):
    await rig.add_tenant("tienda-sol")
    answer = await rig.say("/hours tienda-sol lu-do 08:00-20:00")
    assert answer.body.startswith("🕘 Horario de Tienda Sol guardado (UTC)\n")
    assert "Ahora: ☀️ abierto, cierra hoy a las 20:00." in answer.body


@pytest.mark.parametrize(("words", "line"), [
    ("America/Santiago lu-vi 9-18", "❌ No entiendo ese horario; no cambié nada. Ejemplo: "),
    ("America/Santiago lunes 09:00", "❌ No entiendo ese horario; no cambié nada. Ejemplo: "),
    ("America/Santiago lu-vi 09:00-18:00 sometimes", "❌ No entiendo ese horario; no cambié nada. Ejemplo: "),
    ("America/Santago lu-vi 09:00-18:00", "❌ No conozco la zona horaria «America/Santago»; no cambié nada. Ejemplo: "),
])
async def test_a_malformed_schedule_or_zone_gets_one_line_with_an_example_and_changes_nothing(rig, words, line):
    await rig.add_tenant("tienda-sol")
    await rig.say("/hours tienda-sol America/Santiago lu-vi 09:00-18:00")
    answer = await rig.say(f"/hours tienda-sol {words}")
    assert answer.body == line + (
        "<code>/hours tienda-sol America/Santiago lu-vi 09:00-18:00, sa 10:00-14:00 away</code>")
    hours = (await rig.tenants.get("tienda-sol")).hours
    assert (hours.timezone, hours.describe(), hours.mode) == ("America/Santiago", "lu-vi 09:00-18:00", "answer")


async def test_closed_dates_are_added_shown_and_make_today_closed(rig):
    await rig.add_tenant("tienda-sol")
    await rig.say("/hours tienda-sol America/Santiago lu-vi 09:00-18:00")
    answer = await rig.say("/hours tienda-sol closed 24/12 26/11")
    assert "Días cerrados: 26/11/2026, 24/12/2026" in answer.body
    assert answer.body.endswith("Ahora: 🌙 cerrado, abre mañana a las 09:00.")
    again = await rig.say("/hours tienda-sol cerrado 25/12")
    assert "Días cerrados: 26/11/2026, 24/12/2026, 25/12/2026" in again.body


async def test_closed_dates_need_a_schedule_and_a_bad_date_changes_nothing(rig):
    await rig.add_tenant("tienda-sol")
    answer = await rig.say("/hours tienda-sol closed 24/12")
    assert answer.body == ("❌ Primero define el horario; no cambié nada. Ejemplo: "
                           "<code>/hours tienda-sol America/Santiago lu-vi 09:00-18:00, sa 10:00-14:00</code>")
    await rig.say("/hours tienda-sol America/Santiago lu-vi 09:00-18:00")
    answer = await rig.say("/hours tienda-sol closed 24/12 31/02")
    assert answer.body == ("❌ Las fechas se escriben 24/12 o 24/12/2027; no cambié nada. Ejemplo: "
                           "<code>/hours tienda-sol closed 24/12 25/12</code>")
    assert (await rig.tenants.get("tienda-sol")).hours.closed == ()


async def test_off_removes_the_hours(rig):
    await rig.add_tenant("tienda-sol")
    await rig.say("/hours tienda-sol America/Santiago lu-vi 09:00-18:00")
    answer = await rig.say("/hours tienda-sol off")
    assert answer.body.startswith("🕘 Tienda Sol no tiene horario: siempre abierto.")
    assert (await rig.tenants.get("tienda-sol")).hours is None


async def test_a_wrong_or_missing_slug_gets_the_same_answer_as_other_commands(rig):
    answer = await rig.say("/hours nadie America/Santiago lu-vi 09:00-18:00")
    assert "No hay un cliente «nadie»" in answer.body and "/hours &lt;slug&gt;" in answer.body
    answer = await rig.say("/hours", lang="en")
    assert "The tenant is missing" in answer.body and "/hours &lt;slug&gt;" in answer.body


async def test_the_owners_override_shows_on_hours(rig):
    await rig.add_tenant("tienda-sol")
    await rig.say("/hours tienda-sol America/Santiago lu-vi 09:00-18:00")
    tenant = await rig.tenants.get("tienda-sol")
    await rig.tenants.set_hours_override("tienda-sol", close_now(tenant.hours, rig.clock.now()))
    answer = await rig.say("/hours tienda-sol")
    assert answer.body.endswith("Ahora: 🌙 cerrado (lo decidió el dueño), abre mañana a las 09:00.")
