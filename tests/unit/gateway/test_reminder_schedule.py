"""The reminder clock: fire times across DST, catch-up and drop rules, the habit's due days."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.gateway.reminders.schedule import (
    MAX_LATENESS,
    FireRule,
    LogFact,
    due_on,
    next_fire_time,
    period_met,
    period_of,
    plan_fire,
)

LONDON = "Europe/London"
NEW_YORK = "America/New_York"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _wall(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def test_a_0730_reminder_stays_at_0730_across_spring_forward_in_london() -> None:
    rule = FireRule(time(7, 30))
    # 2026-03-29 01:00 UTC London moves from GMT to BST.
    before = next_fire_time(rule, LONDON, _utc(2026, 3, 28, 0, 0))
    after = next_fire_time(rule, LONDON, _utc(2026, 3, 28, 12, 0))
    assert before == _utc(2026, 3, 28, 7, 30)
    assert after == _utc(2026, 3, 29, 6, 30)
    assert _wall(after, LONDON).time() == time(7, 30)


def test_a_0730_reminder_stays_at_0730_across_fall_back_in_new_york() -> None:
    rule = FireRule(time(7, 30))
    # 2026-11-01 02:00 EDT New York falls back to 01:00 EST.
    before = next_fire_time(rule, NEW_YORK, _utc(2026, 10, 31, 12, 0))
    after = next_fire_time(rule, NEW_YORK, _utc(2026, 11, 1, 0, 0))
    assert before == _utc(2026, 11, 1, 12, 30)
    assert _wall(before, NEW_YORK).time() == time(7, 30)
    nxt = next_fire_time(rule, NEW_YORK, before)
    assert nxt == _utc(2026, 11, 2, 12, 30)
    assert after == before


def test_a_time_in_the_spring_gap_fires_at_the_next_valid_minute() -> None:
    rule = FireRule(time(2, 30))
    # New York 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
    fire = next_fire_time(rule, NEW_YORK, _utc(2026, 3, 8, 0, 0))
    assert fire is not None
    assert _wall(fire, NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 0)
    # London 2026-03-29: 01:00 GMT jumps to 02:00 BST.
    fire = next_fire_time(FireRule(time(1, 15)), LONDON, _utc(2026, 3, 28, 12, 0))
    assert fire is not None
    assert _wall(fire, LONDON).replace(tzinfo=None) == datetime(2026, 3, 29, 2, 0)
    # The day after, the wall time exists again.
    later = next_fire_time(rule, NEW_YORK, fire)
    assert later is not None and _wall(later, NEW_YORK).time() == time(2, 30)


def test_a_time_that_occurs_twice_fires_once() -> None:
    rule = FireRule(time(1, 30))
    # New York 2026-11-01: 01:30 happens at 05:30 UTC (EDT) and at 06:30 UTC (EST).
    first = next_fire_time(rule, NEW_YORK, _utc(2026, 10, 31, 12, 0))
    assert first == _utc(2026, 11, 1, 5, 30)
    second = next_fire_time(rule, NEW_YORK, first)
    assert second == _utc(2026, 11, 2, 6, 30)
    # London 2026-10-25: 01:30 happens at 00:30 UTC (BST) and 01:30 UTC (GMT).
    first = next_fire_time(rule, LONDON, _utc(2026, 10, 24, 12, 0))
    assert first == _utc(2026, 10, 25, 0, 30)
    assert next_fire_time(rule, LONDON, first) == _utc(2026, 10, 26, 1, 30)


def test_weekdays_limit_the_days_and_an_empty_intersection_never_fires() -> None:
    rule = FireRule(time(9, 0), frozenset({0, 2}))  # Monday, Wednesday
    fire = next_fire_time(rule, "UTC", _utc(2026, 12, 8, 10, 0))  # a Tuesday
    assert fire == _utc(2026, 12, 9, 9, 0)
    assert next_fire_time(rule, "UTC", fire) == _utc(2026, 12, 14, 9, 0)


_ZONES = st.sampled_from([LONDON, NEW_YORK, "Australia/Sydney", "Asia/Kolkata", "UTC"])
_INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
_TIMES = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=300, deadline=None)
@given(zone=_ZONES, now=_INSTANTS, at=_TIMES, days=st.frozensets(st.integers(0, 6)))
def test_fire_times_are_after_now_on_an_allowed_day_at_the_wall_time_or_after_a_gap(
    zone: str, now: datetime, at: time, days: frozenset[int]
) -> None:
    rule = FireRule(at, days)
    fire = next_fire_time(rule, zone, now)
    assert fire is not None
    assert now < fire <= now + timedelta(days=8)
    wall = _wall(fire, zone)
    assert rule.allows(wall.date())
    if wall.time() != at:
        # Only a DST gap moves it, and then forward by less than the gap.
        assert wall.replace(tzinfo=None) > datetime.combine(wall.date(), at)
        assert wall.replace(tzinfo=None) - datetime.combine(wall.date(), at) <= timedelta(hours=2)
    # Nothing is skipped: no allowed day between now and fire had its wall time pass unfired.
    assert next_fire_time(rule, zone, fire - timedelta(microseconds=1)) == fire


@settings(max_examples=200, deadline=None)
@given(zone=_ZONES, now=_INSTANTS, at=_TIMES)
def test_a_daily_reminder_fires_once_per_local_date(zone: str, now: datetime, at: time) -> None:
    rule = FireRule(at)
    fires = [next_fire_time(rule, zone, now)]
    for _ in range(5):
        last = fires[-1]
        assert last is not None
        fires.append(next_fire_time(rule, zone, last))
    dates = [_wall(f, zone).date() for f in fires if f is not None]
    assert len(set(dates)) == len(dates) == 6
    assert all((b - a).days == 1 for a, b in itertools.pairwise(dates))


def test_a_missed_window_is_caught_up_once() -> None:
    rule = FireRule(time(8, 0))
    due = _utc(2026, 12, 5, 8, 0)
    now = _utc(2026, 12, 7, 8, 20)  # down for two days; today's 08:00 is 20 minutes late
    plan = plan_fire(rule, "UTC", due, now)
    assert plan.fire_at == _utc(2026, 12, 7, 8, 0)
    assert plan.skipped == 2
    assert plan.dropped is None
    assert plan.next_at == _utc(2026, 12, 8, 8, 0)


def test_a_fire_time_older_than_an_hour_is_dropped() -> None:
    rule = FireRule(time(8, 0))
    due = _utc(2026, 12, 7, 8, 0)
    plan = plan_fire(rule, "UTC", due, due + MAX_LATENESS + timedelta(minutes=1))
    assert plan.fire_at is None
    assert plan.dropped == due
    assert plan.next_at == _utc(2026, 12, 8, 8, 0)
    on_time = plan_fire(rule, "UTC", due, due + MAX_LATENESS)
    assert on_time.fire_at == due


def test_a_very_long_outage_drops_and_moves_on() -> None:
    rule = FireRule(time(8, 0))
    plan = plan_fire(rule, "UTC", _utc(2024, 1, 1, 8, 0), _utc(2026, 12, 7, 9, 0))
    assert plan.fire_at is None and plan.dropped is not None
    assert plan.next_at == _utc(2026, 12, 8, 8, 0)


DAILY = {"type": "interval", "every": 1, "unit": "day", "times": 1}


@pytest.mark.parametrize(
    ("schedule", "day", "expected"),
    [
        (DAILY, date(2026, 12, 9), (date(2026, 12, 9), date(2026, 12, 9))),
        (
            {"type": "interval", "every": 3, "unit": "day", "times": 1},
            date(2026, 12, 6),
            (date(2026, 12, 4), date(2026, 12, 6)),
        ),
        (
            {"type": "interval", "every": 1, "unit": "week", "times": 3},
            date(2026, 12, 9),  # a Wednesday; weeks start on Monday
            (date(2026, 12, 7), date(2026, 12, 13)),
        ),
        (
            {"type": "interval", "every": 2, "unit": "month", "times": 1},
            date(2027, 1, 15),
            (date(2026, 12, 1), date(2027, 1, 31)),
        ),
        (
            {"type": "interval", "every": 1, "unit": "year", "times": 1},
            date(2027, 3, 1),
            (date(2027, 1, 1), date(2027, 12, 31)),
        ),
        ({"type": "weekdays", "days": ["mon"]}, date(2026, 12, 7), (date(2026, 12, 7),) * 2),
    ],
)
def test_period_of(schedule: dict[str, object], day: date, expected: tuple[date, date]) -> None:
    assert period_of(schedule, date(2026, 12, 1), 0, day) == expected


def test_due_days_follow_the_weekdays_schedule_and_the_start_date() -> None:
    weekdays = {"type": "weekdays", "days": ["mon", "wed"]}
    start = date(2026, 12, 1)
    assert due_on(weekdays, start, date(2026, 12, 7))
    assert not due_on(weekdays, start, date(2026, 12, 8))
    assert not due_on(DAILY, start, date(2026, 11, 30))
    assert due_on(DAILY, start, date(2026, 12, 1))


def test_a_met_target_stops_the_reminder_until_the_next_period() -> None:
    three_a_week = {"type": "interval", "every": 1, "unit": "week", "times": 3}
    done = [LogFact(date(2026, 12, d), "done") for d in (7, 8)]
    assert not period_met("boolean", three_a_week, None, done)
    assert period_met("boolean", three_a_week, None, [*done, LogFact(date(2026, 12, 9), "done")])
    # One skipped day lowers what the week asks for.
    assert period_met("boolean", three_a_week, None, [*done, LogFact(date(2026, 12, 9), "skip")])
    steps = {"value": 8000, "unit": "steps", "direction": "at_least"}
    assert not period_met("quantity", DAILY, steps, [LogFact(date(2026, 12, 7), "done", 7999)])
    assert period_met("quantity", DAILY, steps, [LogFact(date(2026, 12, 7), "done", 8000)])
    at_most = {"value": 2, "unit": "coffees", "direction": "at_most"}
    assert not period_met("quantity", DAILY, at_most, [LogFact(date(2026, 12, 7), "done", 1)])
    assert not period_met("negative", DAILY, None, [LogFact(date(2026, 12, 7), "done")])
