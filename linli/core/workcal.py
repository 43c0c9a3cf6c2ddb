"""The working-time calendar: the one place case deadlines and lateness are computed.

A day is a working day by, in order: an administrator's WorkdayOverride for that date; the
chinese-calendar package (public holidays and the State Council's 调休 make-up working
days, for the years it ships); otherwise Monday–Friday, with a warning logged once per
year per process. Working time is settings.LINLI_OFFICE_HOURS on working days, in
settings.TIME_ZONE. Every function takes and returns aware datetimes; results are in
TIME_ZONE (Django stores them as UTC). docs/calendar.md has the rules with examples.

Definitions:
- add_working_hours(start, h): the moment when h hours of office time have passed since
  start. A start outside office time counts from the next office period; a deadline that
  falls exactly on the end of a period is that end (12:00, not 13:30).
- add_working_days(start, n), n ≥ 1: the end of office time on the n-th working day after
  the start's date; the start's own day never counts, whatever the time. n = 0: the end of
  office time on the first working day whose office time has not yet ended at start.
- working_hours_between(start, end): office time in [start, end], in hours; negative when
  end < start.
- working_days_between(start, end): working days D with start's date < D ≤ end's date;
  negative when end < start. It inverts add_working_days for n ≥ 1.
"""

import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

UNIT_HOURS = "hours"
UNIT_DAYS = "days"
UNITS = (UNIT_HOURS, UNIT_DAYS)

# No real calendar has this many days off in a row; more means the overrides are wrong,
# and a loud error beats an endless loop.
MAX_DAYS_OFF_IN_A_ROW = 366


@dataclass(frozen=True)
class DayAnswer:
    working: bool
    source: str  # "override", "library" or "fallback"
    reason: str  # lazily translated: str() it in the reader's language


# --- Which days are working days ------------------------------------------------------------


@functools.cache
def _library_year(year: int) -> dict[date, DayAnswer] | None:
    """The package's answer for every day of a year, or None when it does not know the year
    (it raises rather than guess, which is why it was chosen: docs/calendar.md)."""
    answers = {}
    day = date(year, 1, 1)
    while day.year == year:
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        answers[day] = DayAnswer(not is_holiday, "library", _library_reason(day, is_holiday, name))
        day += timedelta(days=1)
    return answers


# The package names holidays in English; reasons are lazy so that each reader gets them in
# their own language although the answers are cached per process.
HOLIDAY_NAMES = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _("70th anniversary of the victory over fascism"),
}
WEEKDAY = _("weekday")
WEEKEND = _("weekend")


def _library_reason(day: date, is_holiday: bool, name) -> str:
    weekend = day.weekday() >= 5
    if name is None:
        return WEEKEND if weekend else WEEKDAY
    name = getattr(name, "value", name)
    name = HOLIDAY_NAMES.get(name, name)
    if is_holiday:
        return format_lazy(_("public holiday ({name})"), name=name)
    return format_lazy(_("make-up working day (调休) for {name}"), name=name)


_warned_years: set[int] = set()


def _fallback(day: date) -> DayAnswer:
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        logger.warning(
            "chinese-calendar %s does not know the holidays of %s; counting Monday to Friday "
            "as working days. Upgrade the package or enter working-day overrides "
            "(docs/calendar.md).",
            chinese_calendar.__version__,
            day.year,
        )
    weekend = day.weekday() >= 5
    return DayAnswer(not weekend, "fallback", WEEKEND if weekend else WEEKDAY)


_overrides_lock = threading.Lock()
_overrides_state: dict = {"rows": None, "loaded": 0.0}


def _load_overrides() -> dict[date, DayAnswer]:
    from linli.core.models import WorkdayOverride

    rows = WorkdayOverride.objects.values_list("date", "is_working_day", "note")
    return {
        day: DayAnswer(working, "override", note or (_("working day") if working else _("day off")))
        for day, working, note in rows
    }


def _overrides() -> dict[date, DayAnswer]:
    """This process's copy of the overrides, re-read when older than
    LINLI_WORKCAL_TTL_SECONDS (0 in tests: one query per public call, always current)."""
    now = time.monotonic()
    ttl = settings.LINLI_WORKCAL_TTL_SECONDS
    state = _overrides_state
    if state["rows"] is not None and ttl and now - state["loaded"] < ttl:
        return state["rows"]
    rows = _load_overrides()
    with _overrides_lock:
        state["rows"], state["loaded"] = rows, now
    return rows


def overrides_changed() -> None:
    """Drop this process's copy of the overrides (core/models.py signals)."""
    with _overrides_lock:
        _overrides_state["rows"] = None


class _Calendar:
    """One snapshot of the overrides for one computation, so that a deadline is computed
    against one consistent calendar with one query at most."""

    def __init__(self):
        self.overrides = _overrides()

    def explain(self, day: date) -> DayAnswer:
        override = self.overrides.get(day)
        if override is not None:
            return override
        library = _library_year(day.year)
        if library is None:
            return _fallback(day)
        return library[day]

    def is_working_day(self, day: date) -> bool:
        return self.explain(day).working

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The office periods of `day` as UTC instants (UTC so that differences are real
        elapsed time even in a zone with daylight saving); empty on a day off."""
        if not self.is_working_day(day):
            return []
        zone = _zone()
        return [
            (
                datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
                datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
            )
            for start, end in settings.LINLI_OFFICE_HOURS
        ]

    def working_days_from(self, day: date):
        """Working days from `day` onwards (inclusive)."""
        days_off = 0
        while True:
            if self.is_working_day(day):
                days_off = 0
                yield day
            else:
                days_off += 1
                if days_off > MAX_DAYS_OFF_IN_A_ROW:
                    raise ValueError(f"no working day in the {MAX_DAYS_OFF_IN_A_ROW} days to {day}")
            day += timedelta(days=1)


def explain_day(day: date) -> DayAnswer:
    """Whether `day` is a working day, which source said so, and why."""
    return _Calendar().explain(day)


def is_working_day(day: date) -> bool:
    return _Calendar().is_working_day(day)


# --- Office time ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local_date(moment: datetime) -> date:
    return _require_aware(moment).astimezone(_zone()).date()


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, not the naive {moment!r}")
    return moment


def _end_of_office(day: date) -> datetime:
    last_end = settings.LINLI_OFFICE_HOURS[-1][1]
    return datetime.combine(day, last_end, tzinfo=_zone())


def _as_local(moment: datetime) -> datetime:
    return moment.astimezone(_zone())


# --- Deadlines ---------------------------------------------------------------------------------


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` of office time after `start` (see the module docstring)."""
    start = _require_aware(start).astimezone(UTC)
    if hours < 0:
        raise ValueError(f"hours must not be negative, not {hours}")
    remaining = timedelta(hours=hours)
    calendar = _Calendar()
    for day in calendar.working_days_from(_local_date(start)):
        for period_start, period_end in calendar.periods(day):
            if period_end <= start:
                continue
            begin = max(period_start, start)
            available = period_end - begin
            if remaining <= available:
                return _as_local(begin + remaining)
            remaining -= available
    raise AssertionError("unreachable: working_days_from never ends")


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of office time on the `days`-th working day after the start's date (see the
    module docstring for 0)."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError(f"days must be a whole number, not {days!r}")
    if days < 0:
        raise ValueError(f"days must not be negative, not {days}")
    start = _require_aware(start)
    first = _local_date(start)
    calendar = _Calendar()
    if days == 0:
        for day in calendar.working_days_from(first):
            if _end_of_office(day) >= start:
                return _end_of_office(day)
    counted = 0
    for day in calendar.working_days_from(first + timedelta(days=1)):
        counted += 1
        if counted == days:
            return _end_of_office(day)
    raise AssertionError("unreachable: working_days_from never ends")


def working_hours_between(start: datetime, end: datetime) -> float:
    """Hours of office time in [start, end]; negative when end is before start."""
    start = _require_aware(start).astimezone(UTC)
    end = _require_aware(end).astimezone(UTC)
    if end < start:
        return -working_hours_between(end, start)
    total = timedelta()
    calendar = _Calendar()
    day, last = _local_date(start), _local_date(end)
    while day <= last:
        for period_start, period_end in calendar.periods(day):
            overlap = min(period_end, end) - max(period_start, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total / timedelta(hours=1)


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days after start's date up to and including end's date; negative when end is
    before start. A case due Monday and closed Wednesday is 2 working days late."""
    first, last = _local_date(start), _local_date(end)
    if last < first:
        return -working_days_between(end, start)
    count = 0
    calendar = _Calendar()
    day = first + timedelta(days=1)
    while day <= last:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return count


def deadline(start: datetime, amount: float, unit: str) -> datetime:
    """The deadline for a limit stored as an amount and a unit ("hours" or "days")."""
    if unit == UNIT_HOURS:
        return add_working_hours(start, amount)
    if unit == UNIT_DAYS:
        if isinstance(amount, float) and amount.is_integer():
            amount = int(amount)
        return add_working_days(start, amount)
    raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
