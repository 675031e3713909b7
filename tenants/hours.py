"""Opening hours: a tenant's weekly schedule, closed dates and the owner's manual override.

Pure: no I/O, no clock of its own; every question takes `now` (aware). Times are the
tenant's local wall-clock times in its IANA time zone, turned into UTC moments day by day,
so a shift keeps its local hours across daylight-saving changes. A range whose end is not
after its start runs overnight (`vi 20:00-02:00` ends on Saturday). A closed date cancels
the shifts that start on that date.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

MODES = ("answer", "away")
DAY = 24 * 60
# How far the questions look: back for the closing that began a closed period, forward for
# the next opening (closed dates can push it weeks away).
LOOK_BACK_DAYS = 14
LOOK_AHEAD_DAYS = 400

_DAY_WORDS: dict[str, int] = {}
for _n, _words in enumerate((
    "lu lun lunes mo mon monday", "ma mar martes tu tue tues tuesday",
    "mi mie miercoles we wed wednesday", "ju jue jueves th thu thur thurs thursday",
    "vi vie viernes fr fri friday", "sa sab sabado sat saturday", "do dom domingo su sun sunday",
)):
    _DAY_WORDS.update(dict.fromkeys(_words.split(), _n))
SHORT = {"es": ("lu", "ma", "mi", "ju", "vi", "sa", "do"), "en": ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
_LONG = {"es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
         "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
_TIME = r"(\d{1,2}):(\d{2})"
_RANGE_RE = re.compile(rf"^{_TIME}[-–]{_TIME}$")
_DATE_RE = re.compile(r"^(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}))?$")

Span = tuple[int, int]  # minutes after local midnight: start, end (end <= start: overnight)


class HoursError(ValueError):
    """A schedule, time zone or date the parser cannot read; `field` says which."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .")


@functools.cache
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def zone_name(text: str) -> str:
    """The IANA name `text` spells (any case), or HoursError("timezone")."""
    name = _zone_names().get(text.strip().casefold())
    if name is None:
        raise HoursError("timezone", f"unknown time zone {text!r}")
    return name


def looks_like_days(word: str) -> bool:
    """Whether a word starts a schedule (a day or a range of days) rather than naming a zone."""
    return all(_plain(part) in _DAY_WORDS for part in re.split(r"[-–]", word) if part) and bool(word.strip())


def _days(word: str) -> list[int]:
    parts = [_plain(p) for p in re.split(r"[-–]", word)]
    if not 1 <= len(parts) <= 2 or any(p not in _DAY_WORDS for p in parts):
        raise HoursError("schedule", f"not a day: {word!r}")
    first, last = (_DAY_WORDS[p] for p in (parts[0], parts[-1]))
    return [(first + n) % 7 for n in range((last - first) % 7 + 1)]


def _span(word: str) -> Span:
    match = _RANGE_RE.match(word)
    if match is None:
        raise HoursError("schedule", f"not a time range: {word!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise HoursError("schedule", f"not a time: {word!r}")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise HoursError("schedule", f"an empty range: {word!r}")
    return start, end


def parse_week(text: str) -> tuple[tuple[Span, ...], ...]:
    """`lu-vi 09:00-18:00, sa 10:00-14:00` (or `mon-fri …`): seven tuples of spans, Monday first.

    Groups are separated by commas or semicolons; a group is days (a day or a range of days,
    Spanish or English, accents and case ignored) followed by one or more time ranges."""
    week: list[list[Span]] = [[] for _ in range(7)]
    groups = [g.split() for g in re.split(r"[,;]", text) if g.strip()]
    if not groups:
        raise HoursError("schedule", "no schedule")
    for words in groups:
        count = next((n for n, word in enumerate(words) if not looks_like_days(word)), len(words))
        days = [day for word in words[:count] for day in _days(word)]
        spans = [_span(word) for word in words[count:]]
        if not days or not spans:
            raise HoursError("schedule", f"a group needs days, then hours: {' '.join(words)!r}")
        for day in days:
            week[day].extend(spans)
    return tuple(tuple(sorted(set(spans))) for spans in week)


def parse_date(word: str, today: date) -> date:
    """`24/12` (the next 24 December from `today` on) or `24/12/2027`."""
    match = _DATE_RE.match(word.strip())
    if match is None:
        raise HoursError("date", f"not a date: {word!r}")
    day, month, year = int(match[1]), int(match[2]), match[3]
    try:
        if year:
            return date(int(year), month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        raise HoursError("date", f"not a date: {word!r}") from None


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A weekly schedule in a time zone, closed dates, and what happens outside hours."""

    timezone: str
    week: tuple[tuple[Span, ...], ...]
    closed: tuple[date, ...] = ()
    mode: str = "answer"  # outside hours: "answer" (told it is closed) or "away" (the away message)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local(self, now: datetime) -> datetime:
        """`now` on the tenant's wall clock."""
        return now.astimezone(self.zone)

    def _at(self, day: date, minutes: int) -> datetime:
        day, minutes = (day + timedelta(days=1), minutes - DAY) if minutes >= DAY else (day, minutes)
        wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return wall.astimezone(UTC)  # compared in UTC: same-zone aware datetimes compare by wall time

    def intervals(self, start: date, days: int) -> Iterator[tuple[datetime, datetime]]:
        """Open periods (UTC) of the shifts starting on `days` local dates from `start`, with
        touching or overlapping periods merged (Monday 00:00-24:00 and Tuesday 00:00-… are one)."""
        closed = set(self.closed)
        current: tuple[datetime, datetime] | None = None
        for n in range(days):
            day = start + timedelta(days=n)
            if day in closed:
                continue
            for begin, end in self.week[day.weekday()]:
                opens = self._at(day, begin)
                closes = self._at(day, end if end > begin else end + DAY)
                if closes <= opens:  # a range inside a daylight-saving gap
                    continue
                if current is not None and opens <= current[1]:
                    current = (current[0], max(current[1], closes))
                    continue
                if current is not None:
                    yield current
                current = (opens, closes)
        if current is not None:
            yield current

    def _from(self, now: datetime, back: int, ahead: int) -> Iterator[tuple[datetime, datetime]]:
        return self.intervals(self.local(now).date() - timedelta(days=back), back + ahead)

    def is_open(self, now: datetime) -> bool:
        """Inside a scheduled period at `now`."""
        return any(a <= now < b for a, b in self._from(now, 2, 2))

    def next_open(self, now: datetime) -> datetime | None:
        """The next scheduled opening after `now` (UTC); None if none within the look-ahead."""
        return self._ahead(now, (a for a, _ in self._from(now, 2, LOOK_AHEAD_DAYS) if a > now))

    def next_close(self, now: datetime) -> datetime | None:
        """The next scheduled closing after `now`: the end of the current period, or of the
        next one; None if it stays open through the look-ahead (open every day, all day)."""
        return self._ahead(now, (b for _, b in self._from(now, 2, LOOK_AHEAD_DAYS) if b > now))

    @staticmethod
    def _ahead(now: datetime, moments: Iterator[datetime]) -> datetime | None:
        # The last period is cut at the end of the window: a "closing" there is no closing.
        found = next(moments, None)
        return found if found is not None and found < now + timedelta(days=LOOK_AHEAD_DAYS - 3) else None

    def last_close(self, now: datetime) -> datetime | None:
        """The latest scheduled closing at or before `now`, within LOOK_BACK_DAYS."""
        ends = [b for _, b in self._from(now, LOOK_BACK_DAYS, LOOK_BACK_DAYS + 2) if b <= now]
        return max(ends, default=None)

    def describe(self, lang: str = "es") -> str:
        """The schedule as the operator writes it: `lu-vi 09:00-18:00, sa 10:00-14:00`."""
        names, groups, day = SHORT[lang], [], 0
        while day < 7:
            last = day
            while last + 1 < 7 and self.week[last + 1] == self.week[day]:
                last += 1
            if self.week[day]:
                days = names[day] if last == day else f"{names[day]}-{names[last]}"
                groups.append(f"{days} " + " ".join(f"{_clock(a)}-{_clock(b)}" for a, b in self.week[day]))
            day = last + 1
        return ", ".join(groups)

    def to_doc(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "week": [[list(s) for s in spans] for spans in self.week],
                "closed": [d.isoformat() for d in self.closed], "mode": self.mode}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> OpeningHours | None:
        if not doc:
            return None
        return cls(timezone=doc["timezone"], week=tuple(tuple((a, b) for a, b in spans) for spans in doc["week"]),
                   closed=tuple(date.fromisoformat(d) for d in doc.get("closed", ())), mode=doc.get("mode", "answer"))


def parse_hours(zone: str, schedule: str, mode: str = "answer") -> OpeningHours:
    """Opening hours from the operator's words; HoursError saying what is wrong."""
    if mode not in MODES:
        raise HoursError("mode", f"mode is answer or away, not {mode!r}")
    return OpeningHours(timezone=zone_name(zone), week=parse_week(schedule), mode=mode)


@dataclass(frozen=True, slots=True)
class Override:
    """The owner's `cerrado` / `abierto`: closed or open from `since` until `until` (None:
    until the owner says otherwise)."""

    closed: bool
    since: datetime
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def to_doc(self) -> dict[str, Any]:
        return {"closed": self.closed, "since": self.since, "until": self.until}

    @classmethod
    def from_doc(cls, doc: dict[str, Any] | None) -> Override | None:
        if not doc:
            return None
        until = doc.get("until")
        return cls(closed=doc["closed"], since=_utc(doc["since"]), until=_utc(until) if until else None)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Status:
    """Open or closed at one moment, and until when (None: no change in sight)."""

    open: bool
    until: datetime | None = None  # closed: the next opening; open: the next closing
    since: datetime | None = None  # closed: when this closed period began
    manual: bool = False  # the owner's override decides it


def status(hours: OpeningHours | None, override: Override | None, now: datetime) -> Status:
    """Whether the tenant is open at `now`: the owner's override while it lasts, then the
    schedule; without a schedule, always open."""
    if override is not None and override.active(now):
        if override.closed:
            return Status(False, override.until, override.since, manual=True)
        return Status(True, override.until, manual=True)
    if hours is None:
        return Status(True)
    if hours.is_open(now):
        return Status(True, hours.next_close(now))
    since = hours.last_close(now) or now - timedelta(days=LOOK_BACK_DAYS)
    if override is not None and override.until is not None and override.until <= now:
        since = max(since, override.until)  # an `abierto` that ran out began this closed period
    return Status(False, hours.next_open(now), since)


def close_now(hours: OpeningHours | None, now: datetime) -> Override:
    """The owner's `cerrado`: closed until the next scheduled opening (or until `abierto`)."""
    return Override(True, now, hours.next_open(now) if hours is not None else None)


def open_now(hours: OpeningHours | None, now: datetime) -> Override | None:
    """The owner's `abierto`: open until the next scheduled closing; None (no override)
    without a schedule or when it never closes."""
    until = hours.next_close(now) if hours is not None else None
    return Override(False, now, until) if until is not None else None


def when(moment: datetime, now: datetime, zone: str, lang: str = "es") -> str:
    """A coming moment as a person says it: `hoy a las 18:00`, `mañana a las 09:00`, `el
    lunes a las 09:00`, `el lunes 28/12 a las 09:00` (a week or more away); in English `today
    at 18:00`, `on Monday at 09:00`."""
    tz = zoneinfo.ZoneInfo(zone)
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    at = f"{local:%H:%M}"
    if lang == "en":
        day = {0: "today", 1: "tomorrow"}.get(days) or f"on {_LONG['en'][local.weekday()]}"
        return f"{day}{f' {local:%d/%m}' if days >= 7 else ''} at {at}"
    day = {0: "hoy", 1: "mañana"}.get(days) or f"el {_LONG['es'][local.weekday()]}"
    return f"{day}{f' {local:%d/%m}' if days >= 7 else ''} {'a la' if local.hour == 1 else 'a las'} {at}"
