import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import translation

from linli.core import workcal
from linli.core.models import WorkdayOverride
from linli.env import env_time_ranges

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_HOURS = [(time(8, 30), time(12)), (time(13, 30), time(17, 30))]


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def default_office_hours(settings):
    settings.LINLI_OFFICE_HOURS = DEFAULT_HOURS
    settings.TIME_ZONE = "Asia/Shanghai"


def override(day: date, working: bool, note: str = "") -> WorkdayOverride:
    return WorkdayOverride.objects.create(date=day, is_working_day=working, note=note)


# --- Which days are working days --------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2026, 10, d) for d in range(1, 8)])
def test_national_day_2026_is_a_week_off(day):
    assert not workcal.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 9, 28),  # Sunday, worked for National Day 2025
        date(2025, 10, 11),  # Saturday, likewise
        date(2026, 9, 20),  # Sunday, worked for National Day 2026
        date(2026, 10, 10),  # Saturday, likewise
        date(2024, 2, 4),  # Sunday, worked for Spring Festival 2024
        date(2026, 2, 28),  # Saturday, worked for Spring Festival 2026
    ],
)
def test_a_make_up_weekend_day_is_a_working_day(day):
    assert day.weekday() >= 5
    answer = workcal.explain_day(day)
    assert answer.working
    assert answer.source == "library"
    assert "调休" in answer.reason


def test_plain_weekdays_and_weekends_follow_the_week():
    assert workcal.is_working_day(date(2026, 6, 12))  # Friday
    assert not workcal.is_working_day(date(2026, 6, 13))  # Saturday
    reason = workcal.explain_day(date(2026, 10, 1)).reason
    with translation.override("en"):
        assert str(reason) == "public holiday (National Day)"
    with translation.override("zh-hans"):
        assert str(reason) == "法定节假日（国庆节）"


def test_an_override_day_off_wins_over_the_library():
    override(date(2026, 6, 15), False, "typhoon")
    answer = workcal.explain_day(date(2026, 6, 15))
    assert (answer.working, answer.source, answer.reason) == (False, "override", "typhoon")


def test_an_override_working_day_wins_over_the_library():
    override(date(2026, 10, 5), True)
    assert workcal.is_working_day(date(2026, 10, 5))


def test_a_saved_override_reaches_a_process_that_cached_the_calendar(settings):
    settings.LINLI_WORKCAL_TTL_SECONDS = 3600
    workcal.overrides_changed()
    assert workcal.is_working_day(date(2026, 6, 15))
    row = override(date(2026, 6, 15), False)
    assert not workcal.is_working_day(date(2026, 6, 15))
    row.delete()
    assert workcal.is_working_day(date(2026, 6, 15))
    workcal.overrides_changed()


def test_a_year_the_library_does_not_know_falls_back_to_monday_to_friday(monkeypatch, caplog):
    monkeypatch.setattr(workcal, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="linli.core.workcal"):
        assert workcal.is_working_day(date(2099, 1, 2))  # Friday
        assert not workcal.is_working_day(date(2099, 1, 3))  # Saturday
        assert workcal.explain_day(date(2099, 1, 5)).source == "fallback"
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1
    assert "overrides" in warnings[0].getMessage()


def test_an_override_fills_in_a_year_the_library_does_not_know():
    override(date(2099, 1, 1), False, "New Year's Day")
    assert not workcal.is_working_day(date(2099, 1, 1))


def test_one_calendar_call_reads_the_overrides_once(django_assert_num_queries):
    with django_assert_num_queries(1):
        workcal.add_working_days(at(2026, 9, 30, 16), 10)


def test_an_administrator_enters_an_override_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/core/workdayoverride/add/",
        {"date": "2026-06-15", "is_working_day": "", "note": "typhoon"},
    )
    assert response.status_code == 302
    row = WorkdayOverride.objects.get(date=date(2026, 6, 15))
    assert (row.is_working_day, row.created_by) == (False, admin_user)
    assert not workcal.is_working_day(date(2026, 6, 15))
    assert client.get("/admin/core/workdayoverride/").status_code == 200


# --- Working hours ---------------------------------------------------------------------------


def test_friday_afternoon_plus_four_hours_ends_on_monday_morning():
    # 16:00–17:30 on Friday is 1.5 h; the other 2.5 h run from 08:30 on Monday.
    assert workcal.add_working_hours(at(2026, 6, 12, 16), 4) == at(2026, 6, 15, 11)


def test_the_lunch_break_is_skipped():
    assert workcal.add_working_hours(at(2026, 6, 15, 11), 2) == at(2026, 6, 15, 14, 30)


def test_a_deadline_on_the_end_of_a_period_is_that_end_not_the_next_start():
    assert workcal.add_working_hours(at(2026, 6, 15, 11), 1) == at(2026, 6, 15, 12)
    assert workcal.add_working_hours(at(2026, 6, 12, 16), 1.5) == at(2026, 6, 12, 17, 30)


def test_a_start_at_night_rolls_to_the_next_morning():
    assert workcal.add_working_hours(at(2026, 6, 15, 22), 1) == at(2026, 6, 16, 9, 30)
    assert workcal.add_working_hours(at(2026, 6, 15, 12, 30), 1) == at(2026, 6, 15, 14, 30)
    assert workcal.add_working_hours(at(2026, 6, 13, 10), 0) == at(2026, 6, 15, 8, 30)


def test_national_day_2026_is_skipped():
    assert workcal.add_working_hours(at(2026, 9, 30, 16), 4) == at(2026, 10, 8, 11)


def test_a_make_up_saturday_counts():
    assert workcal.add_working_hours(at(2026, 10, 9, 16), 4) == at(2026, 10, 10, 11)


def test_override_days_are_honoured_in_deadlines():
    override(date(2026, 6, 15), False, "typhoon")
    assert workcal.add_working_hours(at(2026, 6, 12, 16), 4) == at(2026, 6, 16, 11)
    override(date(2026, 6, 13), True)
    assert workcal.add_working_hours(at(2026, 6, 12, 16), 4) == at(2026, 6, 13, 11)


def test_utc_input_gives_an_aware_answer_in_the_local_zone():
    start = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
    due = workcal.add_working_hours(start, 4)
    assert due.tzinfo is not None
    assert due == datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
    assert due.utcoffset() == timedelta(hours=8)


def test_naive_times_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="aware"):
        workcal.add_working_hours(datetime(2026, 6, 12, 16), 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        workcal.add_working_hours(at(2026, 6, 12, 16), -1)
    with pytest.raises(ValueError, match="negative"):
        workcal.add_working_days(at(2026, 6, 12, 16), -1)


def test_other_office_hours_come_from_the_settings(settings):
    settings.LINLI_OFFICE_HOURS = [(time(9), time(17))]
    assert workcal.add_working_hours(at(2026, 6, 12, 16), 4) == at(2026, 6, 15, 12)
    assert workcal.add_working_days(at(2026, 6, 12, 16), 1) == at(2026, 6, 15, 17)


def test_working_hours_between_counts_only_office_time():
    assert workcal.working_hours_between(at(2026, 6, 12, 16), at(2026, 6, 15, 11)) == 4
    assert workcal.working_hours_between(at(2026, 6, 15, 11), at(2026, 6, 12, 16)) == -4
    assert workcal.working_hours_between(at(2026, 6, 13), at(2026, 6, 14, 23)) == 0
    # Seven days of National Day count nothing: Sep 30 1.5 h + Oct 8 2.5 h.
    assert workcal.working_hours_between(at(2026, 9, 30, 16), at(2026, 10, 8, 11)) == 4


# --- Working days -----------------------------------------------------------------------------


def test_friday_plus_one_working_day_ends_on_monday_evening():
    assert workcal.add_working_days(at(2026, 6, 12, 16), 1) == at(2026, 6, 15, 17, 30)


def test_the_start_day_never_counts_whatever_the_time():
    assert workcal.add_working_days(at(2026, 6, 15, 7), 1) == at(2026, 6, 16, 17, 30)
    assert workcal.add_working_days(at(2026, 6, 13, 10), 1) == at(2026, 6, 15, 17, 30)


def test_working_days_skip_holidays_and_count_make_up_days():
    assert workcal.add_working_days(at(2026, 9, 30, 16), 1) == at(2026, 10, 8, 17, 30)
    assert workcal.add_working_days(at(2026, 9, 30, 16), 3) == at(2026, 10, 10, 17, 30)


def test_zero_working_days_is_the_end_of_the_current_or_next_working_day():
    assert workcal.add_working_days(at(2026, 6, 12, 16), 0) == at(2026, 6, 12, 17, 30)
    assert workcal.add_working_days(at(2026, 6, 12, 18), 0) == at(2026, 6, 15, 17, 30)


def test_working_days_between_counts_days_after_the_start_day():
    due = at(2026, 6, 15, 17, 30)  # Monday
    assert workcal.working_days_between(due, at(2026, 6, 15, 20)) == 0
    assert workcal.working_days_between(due, at(2026, 6, 17, 10)) == 2
    assert workcal.working_days_between(at(2026, 6, 17, 10), due) == -2
    assert workcal.working_days_between(at(2026, 9, 30, 9), at(2026, 10, 10, 9)) == 3


def test_deadline_takes_an_amount_and_a_unit():
    start = at(2026, 6, 12, 16)
    assert workcal.deadline(start, 4, "hours") == at(2026, 6, 15, 11)
    assert workcal.deadline(start, 1, "days") == at(2026, 6, 15, 17, 30)
    assert workcal.deadline(start, 1.0, "days") == at(2026, 6, 15, 17, 30)
    with pytest.raises(ValueError, match="unit"):
        workcal.deadline(start, 1, "weeks")
    with pytest.raises(ValueError, match="whole number"):
        workcal.deadline(start, 1.5, "days")


# --- Cross-check against a minute-by-minute walk -----------------------------------------------


def _walk(start: datetime, minutes: int, working: set[date]) -> datetime:
    """The end of the `minutes`-th office minute at or after start, one minute at a time."""
    moment = start
    counted = 0
    while True:
        local = moment.astimezone(SHANGHAI)
        if local.date() in working and any(s <= local.time() < e for s, e in DEFAULT_HOURS):
            counted += 1
            if counted == minutes:
                return moment + timedelta(minutes=1)
        moment += timedelta(minutes=1)


def test_working_hours_agree_with_a_minute_by_minute_walk():
    rng = random.Random(20261001)
    first, last = date(2025, 9, 1), date(2026, 11, 30)
    working = set()
    day = first
    while day <= last:
        if workcal.is_working_day(day):
            working.add(day)
        day += timedelta(days=1)
    span_minutes = (last - first).days * 24 * 60 - 30 * 24 * 60
    for _ in range(150):
        start = at(first.year, first.month, first.day) + timedelta(
            minutes=rng.randrange(span_minutes)
        )
        minutes = rng.randint(1, 20 * 60)
        hours = minutes / 60
        due = workcal.add_working_hours(start.astimezone(UTC), hours)
        assert due == _walk(start, minutes, working), (start, hours)
        assert workcal.working_hours_between(start, due) == hours
        assert workcal.working_hours_between(due, start) == -hours
        days = rng.randint(1, 12)
        assert workcal.working_days_between(start, workcal.add_working_days(start, days)) == days


# --- Office hours setting ---------------------------------------------------------------------


def test_office_hours_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LINLI_X", " 09:00-12:00 , 14:00-18:00")
    assert env_time_ranges("LINLI_X", "") == [(time(9), time(12)), (time(14), time(18))]
    monkeypatch.delenv("LINLI_X")
    assert env_time_ranges("LINLI_X", "08:30-12:00,13:30-17:30") == DEFAULT_HOURS


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "ranges like"),
        ("8.30-12", "ranges like"),
        ("08:30", "ranges like"),
        ("12:00-08:30", "must end after it starts"),
        ("08:30-12:00,11:00-17:30", "must start after the range before it ends"),
    ],
)
def test_bad_office_hours_stop_the_start(monkeypatch, raw, problem):
    monkeypatch.setenv("LINLI_X", raw)
    with pytest.raises(ImproperlyConfigured, match=problem):
        env_time_ranges("LINLI_X", "08:30-12:00")


# --- The command ------------------------------------------------------------------------------


def run(*args, language: str = "en") -> str:
    out = StringIO()
    with translation.override(language):
        call_command("workcal", *args, stdout=out)
    return out.getvalue()


def test_the_command_explains_a_day():
    assert "2026-10-01 is not a working day: public holiday (National Day)" in run("2026-10-01")
    assert "is a working day: make-up working day (调休) for National Day" in run("2026-10-10")


def test_the_command_speaks_chinese_by_default():
    assert "国庆节" in run("2026-10-01", language="zh-hans")
    assert "2026-10-08 11:00" in run(
        "--deadline", "2026-09-30 16:00", "--hours", "4", language="zh-hans"
    )


def test_the_command_prints_deadlines():
    assert "+ 4 working hours → 2026-10-08 11:00" in run(
        "--deadline", "2026-09-30 16:00", "--hours", "4"
    )
    assert "+ 3 working days → 2026-10-10 17:30" in run(
        "--deadline", "2026-09-30 16:00", "--days", "3"
    )


def test_the_command_refuses_bad_input():
    with pytest.raises(CommandError, match="not a date"):
        run("2026-13-01")
    with pytest.raises(CommandError, match="--hours or --days"):
        run("--deadline", "2026-09-30 16:00")
