"""Opening hours (tenants/hours.py): the operator's words, open or closed at a moment, the
next opening and closing, across time zones, daylight-saving changes and closed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tenants.hours import (
    HoursError,
    OpeningHours,
    Override,
    Status,
    close_now,
    open_now,
    parse_date,
    parse_hours,
    parse_week,
    status,
    when,
    zone_name,
)

SANTIAGO = "America/Santiago"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def shop(schedule: str = "lu-vi 09:00-18:00, sa 10:00-14:00", zone: str = SANTIAGO, **changes) -> OpeningHours:
    hours = parse_hours(zone, schedule)
    return OpeningHours(hours.timezone, hours.week, **changes)


@pytest.mark.parametrize("text", [
    "lu-vi 09:00-18:00, sa 10:00-14:00", "mon-fri 09:00-18:00, sat 10:00-14:00",
    "Lunes-Viernes 9:00-18:00; Sábado 10:00-14:00", "MON-FRI 09:00-18:00,  SAT 10:00-14:00",
    "lu ma mi ju vi 09:00-18:00, sáb 10:00-14:00", "monday-friday 09:00-18:00, saturday 10:00-14:00",
])
def test_spanish_and_english_schedules_read_the_same(text):
    week = parse_week(text)
    assert week == (((540, 1080),),) * 5 + (((600, 840),), ())
    assert OpeningHours(SANTIAGO, week).describe() == "lu-vi 09:00-18:00, sa 10:00-14:00"
    assert OpeningHours(SANTIAGO, week).describe("en") == "mon-fri 09:00-18:00, sat 10:00-14:00"


def test_a_day_can_have_two_ranges_and_a_day_range_can_wrap_the_week():
    week = parse_week("vi-lu 09:00-13:00 15:00-19:00")
    assert [bool(spans) for spans in week] == [True, False, False, False, True, True, True]
    assert week[0] == ((540, 780), (900, 1140))
    assert OpeningHours(SANTIAGO, week).describe() == "lu 09:00-13:00 15:00-19:00, vi-do 09:00-13:00 15:00-19:00"


@pytest.mark.parametrize("text", [
    "", "lu-vi", "09:00-18:00", "lu-vi 9-18", "lu-vi 09:00-25:00", "lu-vi 09:60-18:00", "xx 09:00-18:00",
    "lu-vi 09:00-09:00", "lu-vi 09:00-18:00 sa", "lu-ma-mi 09:00-18:00",
])
def test_malformed_schedules_are_refused(text):
    with pytest.raises(HoursError) as raised:
        parse_week(text)
    assert raised.value.field == "schedule"


def test_time_zones_are_iana_names_in_any_case_and_unknown_ones_are_refused():
    assert zone_name("america/santiago") == SANTIAGO
    assert zone_name("UTC") == "UTC"
    for bad in ("America/Santago", "Chile", "../etc/passwd", ""):
        with pytest.raises(HoursError) as raised:
            zone_name(bad)
        assert raised.value.field == "timezone"
    with pytest.raises(HoursError):
        parse_hours(SANTIAGO, "lu-vi 09:00-18:00", "sometimes")


def test_open_and_closed_follow_the_local_clock_of_the_time_zone():
    # Thursday 26 November 2026, 12:00 UTC: 09:00 in Santiago (UTC-3), 13:00 in Madrid, 07:00 in Bogotá.
    now = utc(2026, 11, 26, 12, 0)
    assert shop().is_open(now)
    assert shop(zone="Europe/Madrid").is_open(now)
    assert not shop(zone="America/Bogota").is_open(now)
    assert shop(zone="America/Bogota").next_open(now) == utc(2026, 11, 26, 14, 0)
    assert not shop().is_open(utc(2026, 11, 26, 11, 59))
    assert not shop().is_open(utc(2026, 11, 26, 21, 0))  # 18:00 sharp: closed
    assert shop().next_close(now) == utc(2026, 11, 26, 21, 0)


def test_after_saturday_the_next_opening_is_monday_and_the_period_began_on_saturday():
    hours = shop()
    saturday_night = utc(2026, 11, 28, 23, 0)  # 20:00 in Santiago
    assert not hours.is_open(saturday_night)
    assert hours.next_open(saturday_night) == utc(2026, 11, 30, 12, 0)
    assert hours.last_close(saturday_night) == utc(2026, 11, 28, 17, 0)
    assert when(hours.next_open(saturday_night), saturday_night, SANTIAGO) == "el lunes a las 09:00"
    assert when(hours.next_open(saturday_night), saturday_night, SANTIAGO, "en") == "on Monday at 09:00"
    # abierto on Saturday night: open until the next scheduled closing, Monday 18:00
    assert hours.next_close(saturday_night) == utc(2026, 11, 30, 21, 0)


def test_a_shift_keeps_its_local_hours_across_the_april_change_in_santiago():
    # Chile goes from UTC-3 to UTC-4 at midnight between Saturday 4 and Sunday 5 April 2026.
    hours = shop()
    assert hours.next_open(utc(2026, 4, 3, 22, 0)) == utc(2026, 4, 4, 13, 0)  # Saturday 10:00, UTC-3
    assert hours.next_open(utc(2026, 4, 4, 18, 0)) == utc(2026, 4, 6, 13, 0)  # Monday 09:00, now UTC-4
    assert hours.is_open(utc(2026, 4, 6, 13, 0)) and not hours.is_open(utc(2026, 4, 6, 12, 30))
    assert hours.next_close(utc(2026, 4, 6, 13, 0)) == utc(2026, 4, 6, 22, 0)


def test_a_shift_keeps_its_local_hours_across_the_september_change_in_santiago():
    # Chile goes from UTC-4 to UTC-3 at midnight between Saturday 5 and Sunday 6 September 2026.
    hours = shop()
    assert hours.next_open(utc(2026, 9, 4, 23, 0)) == utc(2026, 9, 5, 14, 0)  # Saturday 10:00, UTC-4
    assert hours.next_open(utc(2026, 9, 5, 19, 0)) == utc(2026, 9, 7, 12, 0)  # Monday 09:00, now UTC-3
    assert when(utc(2026, 9, 7, 12, 0), utc(2026, 9, 5, 19, 0), SANTIAGO) == "el lunes a las 09:00"


def test_a_range_inside_the_skipped_hour_of_september_opens_at_the_jump():
    hours = shop("do 00:00-00:30, do 10:00-12:00")  # 00:00-01:00 on 6 September 2026 does not exist
    opens = hours.next_open(utc(2026, 9, 5, 12, 0))
    assert opens == utc(2026, 9, 6, 4, 0)  # 01:00 local, UTC-3: when the clock jumped
    assert hours.is_open(opens)


def test_overnight_ranges_run_past_midnight_into_the_next_day():
    hours = shop("vi-sa 20:00-02:00")
    assert hours.is_open(utc(2026, 11, 28, 4, 30))  # Saturday 01:30 in Santiago: Friday's shift
    assert not hours.is_open(utc(2026, 11, 28, 5, 0))  # Saturday 02:00
    assert hours.next_close(utc(2026, 11, 27, 23, 0)) == utc(2026, 11, 28, 5, 0)
    assert hours.describe() == "vi-sa 20:00-02:00"


def test_whole_days_run_together_and_a_business_open_all_week_never_closes():
    hours = shop("lu-do 00:00-24:00")
    now = utc(2026, 11, 26, 12, 0)
    assert hours.is_open(now) and hours.next_close(now) is None and hours.next_open(now) is None
    two_days = shop("lu-ma 00:00-24:00")
    assert two_days.next_close(utc(2026, 11, 30, 12, 0)) == utc(2026, 12, 2, 3, 0)  # Wednesday 00:00


def test_closed_dates_cancel_that_days_shifts_and_push_the_next_opening():
    hours = shop(closed=(date(2026, 12, 24), date(2026, 12, 25)))
    thursday = utc(2026, 12, 24, 15, 0)  # 12:00 in Santiago on the 24th
    assert shop().is_open(thursday) and not hours.is_open(thursday)
    assert hours.next_open(thursday) == utc(2026, 12, 26, 13, 0)  # Saturday 26th 10:00
    assert hours.last_close(thursday) == utc(2026, 12, 23, 21, 0)
    assert when(utc(2026, 12, 26, 13, 0), utc(2026, 12, 18, 12, 0), SANTIAGO) == "el sábado 26/12 a las 10:00"


def test_dates_are_day_and_month_the_next_time_they_come_or_a_full_date():
    today = date(2026, 12, 2)
    assert parse_date("24/12", today) == date(2026, 12, 24)
    assert parse_date("1/3", today) == date(2027, 3, 1)
    assert parse_date("2/12", today) == date(2026, 12, 2)
    assert parse_date("24/12/2027", today) == date(2027, 12, 24)
    for bad in ("31/2", "24.12", "mañana", "12/24"):
        with pytest.raises(HoursError):
            parse_date(bad, today)


def test_when_says_today_tomorrow_and_one_oclock_in_spanish():
    now = utc(2026, 11, 26, 12, 0)
    assert when(utc(2026, 11, 26, 21, 0), now, SANTIAGO) == "hoy a las 18:00"
    assert when(utc(2026, 11, 27, 4, 0), now, SANTIAGO) == "mañana a la 01:00"
    assert when(utc(2026, 11, 27, 12, 0), now, SANTIAGO, "en") == "tomorrow at 09:00"


def test_the_owners_closed_lasts_until_the_next_scheduled_opening():
    hours = shop()
    now = utc(2026, 11, 26, 15, 0)  # Thursday 12:00, open
    override = close_now(hours, now)
    assert override == Override(True, now, utc(2026, 11, 27, 12, 0))
    assert status(hours, override, now) == Status(False, utc(2026, 11, 27, 12, 0), now, manual=True)
    assert status(hours, override, utc(2026, 11, 27, 12, 0)).open  # Friday 09:00: open again by itself


def test_the_owners_open_lasts_until_the_next_scheduled_closing():
    hours = shop()
    saturday_night = utc(2026, 11, 28, 23, 0)
    override = open_now(hours, saturday_night)
    assert override.until == utc(2026, 11, 30, 21, 0)
    assert status(hours, override, utc(2026, 11, 29, 15, 0)).open  # Sunday: open by the owner's word
    after = status(hours, override, utc(2026, 11, 30, 22, 0))
    assert not after.open and after.since == utc(2026, 11, 30, 21, 0)


def test_without_a_schedule_a_tenant_is_open_unless_the_owner_closed_it():
    now = utc(2026, 11, 26, 15, 0)
    assert status(None, None, now).open
    closed = close_now(None, now)
    assert closed.until is None and not status(None, closed, utc(2027, 1, 1)).open
    assert open_now(None, now) is None


def test_hours_and_overrides_survive_their_documents():
    hours = OpeningHours(SANTIAGO, parse_week("vi 20:00-02:00, sa 10:00-14:00"), (date(2026, 12, 24),), "away")
    assert OpeningHours.from_doc(hours.to_doc()) == hours
    assert OpeningHours.from_doc(None) is None
    override = Override(True, utc(2026, 11, 26, 15, 0), None)
    assert Override.from_doc(override.to_doc()) == override
    naive = {"closed": False, "since": datetime(2026, 11, 26, 15), "until": datetime(2026, 11, 26, 21)}
    assert Override.from_doc(naive) == Override(False, utc(2026, 11, 26, 15), utc(2026, 11, 26, 21))
