"""The engine against the brute-force oracle, over random habits, logs and as-of dates."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from services.metrics.engine import (
    HabitMetrics,
    HabitSpec,
    Kind,
    LogEntry,
    Schedule,
    Target,
    compute_metrics,
    strength_series,
    trend,
)
from shared.localtime import local_today
from tests.unit.metrics import oracle

# Sized to keep the whole metrics suite well under a minute on two shared cores.
AGAINST_ORACLE = settings(max_examples=400, deadline=None)
SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    shape = draw(st.sampled_from(["day", "day", "week", "week", "month", "year", "weekdays"]))
    if shape == "weekdays":
        days = draw(st.sets(st.integers(0, 6), min_size=1))
        return Schedule(type="weekdays", days=tuple(sorted(days)))
    if shape == "day":
        every = draw(st.integers(1, 4))
        return Schedule(every=every, unit="day", times=draw(st.integers(1, every)))
    if shape == "week":
        every = draw(st.integers(1, 3))
        return Schedule(every=every, unit="week", times=draw(st.integers(1, 7 * every)))
    if shape == "month":
        return Schedule(every=draw(st.integers(1, 3)), unit="month", times=draw(st.integers(1, 6)))
    return Schedule(every=draw(st.integers(1, 2)), unit="year", times=draw(st.integers(1, 4)))


@st.composite
def habits(draw: st.DrawFn) -> HabitSpec:
    kind: Kind = draw(st.sampled_from(["boolean", "quantity", "negative"]))
    target = None
    if kind == "quantity":
        target = Target(
            value=float(draw(st.integers(0, 30))),
            unit="units",
            direction=draw(st.sampled_from(["at_least", "at_most"])),
        )
    start = date(2023, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    return HabitSpec(
        kind=kind,
        schedule=draw(schedules()),
        start_date=start,
        target=target,
        week_start=draw(st.integers(0, 6)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[HabitSpec, list[LogEntry], date]:
    habit = draw(habits())
    # A short span gives dense logs and long streaks; a long one crosses month and year periods.
    span = draw(st.sampled_from([10, 40, 120, 500]))
    offsets = st.integers(-5, span + 5)
    log = st.builds(
        LogEntry,
        date=offsets.map(lambda k: habit.start_date + timedelta(days=k)),
        status=st.sampled_from(["done", "done", "done", "skip"]),
        value=st.one_of(st.none(), st.integers(0, 12).map(float)),
    )
    logs = draw(st.lists(log, max_size=80))
    as_of = habit.start_date + timedelta(days=draw(st.integers(-3, span)))
    return habit, logs, as_of


def assert_same(got: HabitMetrics, want: HabitMetrics) -> None:
    assert got.current_streak == want.current_streak
    assert got.longest_streak == want.longest_streak
    assert got.streak_unit == want.streak_unit
    assert got.total_completions == want.total_completions
    assert got.last_completed_on == want.last_completed_on
    for rate, expected in (
        (got.completion_rate_week, want.completion_rate_week),
        (got.completion_rate_month, want.completion_rate_month),
    ):
        if expected is None:
            assert rate is None
        else:
            assert rate is not None
            assert math.isclose(rate, expected, rel_tol=1e-12)
    assert math.isclose(got.strength, want.strength, rel_tol=1e-9, abs_tol=1e-12)


@AGAINST_ORACLE
@given(cases())
def test_metrics_agree_with_the_oracle(case: tuple[HabitSpec, list[LogEntry], date]) -> None:
    habit, logs, as_of = case
    assert_same(compute_metrics(habit, logs, as_of), oracle.metrics(habit, logs, as_of))


@SETTINGS
@given(cases(), st.integers(0, 2**32 - 1))
def test_metrics_ignore_log_order_and_later_logs(
    case: tuple[HabitSpec, list[LogEntry], date], seed: int
) -> None:
    habit, logs, as_of = case
    expected = compute_metrics(habit, logs, as_of)
    shuffled = list(logs)
    random.Random(seed).shuffle(shuffled)
    later = [LogEntry(as_of + timedelta(days=k)) for k in (1, 2, 9)]
    assert compute_metrics(habit, shuffled + later, as_of) == expected


@SETTINGS
@given(cases())
def test_metric_bounds(case: tuple[HabitSpec, list[LogEntry], date]) -> None:
    habit, logs, as_of = case
    got = compute_metrics(habit, logs, as_of)
    assert 0 <= got.current_streak <= got.longest_streak
    assert 0.0 <= got.strength <= 1.0
    for rate in (got.completion_rate_week, got.completion_rate_month):
        assert rate is None or 0.0 <= rate <= 1.0
    if got.last_completed_on is not None:
        assert habit.start_date <= got.last_completed_on <= as_of
        assert got.total_completions >= 1


@SETTINGS
@given(cases(), st.integers(-10, 60))
def test_strength_series_agrees_with_the_oracle(
    case: tuple[HabitSpec, list[LogEntry], date], back: int
) -> None:
    habit, logs, end = case
    start = end - timedelta(days=back)
    series = strength_series(habit, logs, start, end)
    want = oracle.strength_by_day(habit, logs, end)
    expected = [(d, v) for d, v in sorted(want.items()) if d >= start]
    assert [d for d, _ in series] == [d for d, _ in expected]
    for (_, got), (_, value) in zip(series, expected, strict=True):
        assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12)
    if series:
        assert math.isclose(
            series[-1][1], compute_metrics(habit, logs, end).strength, rel_tol=1e-12, abs_tol=1e-15
        )


@SETTINGS
@given(
    cases(),
    st.sampled_from(["week", "month"]),
    st.integers(-20, 200),
    st.integers(0, 200),
)
def test_trend_agrees_with_the_oracle(
    case: tuple[HabitSpec, list[LogEntry], date], granularity: str, offset: int, length: int
) -> None:
    habit, logs, _ = case
    quantity = HabitSpec(
        kind="quantity",
        schedule=habit.schedule,
        start_date=habit.start_date,
        target=Target(10.0, "units"),
    )
    start = habit.start_date + timedelta(days=offset)
    end = start + timedelta(days=length)
    got = trend(quantity, logs, granularity, start, end)  # type: ignore[arg-type]
    assert got == oracle.trend(quantity, logs, granularity, start, end)


# --- the user's today, in zones far from UTC and across DST changes ---------------------------

# UTC+14, UTC-5/-4, a half-hour DST (UTC+10:30/+11), UTC, a half-hour offset without DST.
ZONES = ["Pacific/Kiritimati", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]
# The 2026 DST changes of those zones; drawn often, since a uniform instant would rarely hit one.
DST_DAYS = [date(2026, 3, 8), date(2026, 11, 1), date(2026, 4, 5), date(2026, 10, 4)]
# Starts inside New York's and Lord Howe's repeated or skipped hours, and late ones.
DAY_STARTS = st.one_of(
    st.sampled_from([time(0, 0), time(1, 30), time(1, 45), time(2, 15), time(4, 0), time(23, 30)]),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    near_dst = st.sampled_from(DST_DAYS).flatmap(
        lambda day: st.integers(-36 * 60, 36 * 60).map(
            lambda minutes: datetime.combine(day, time(12), UTC) + timedelta(minutes=minutes)
        )
    )
    anywhere = st.datetimes(
        min_value=datetime(2023, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    )
    return draw(st.one_of(near_dst, anywhere))


@st.composite
def local_cases(draw: st.DrawFn) -> tuple[HabitSpec, list[LogEntry], date]:
    """A habit, logs tapped at earlier instants and dated by the user's clock, and their today."""
    zone = draw(st.sampled_from(ZONES))
    day_start = draw(DAY_STARTS)
    now = draw(instants())
    today = local_today(now, zone, day_start)
    # (now on the wall clock − day_start) is at most 14 h ahead of UTC and 12 h + 24 h behind.
    assert now.date() - timedelta(days=2) <= today <= now.date() + timedelta(days=1)
    span = draw(st.sampled_from([3, 10, 40, 120]))
    habit = dataclasses.replace(
        draw(habits()), start_date=today - timedelta(days=draw(st.integers(-2, span)))
    )
    tap = st.builds(
        lambda minutes, status, value: LogEntry(
            local_today(now - timedelta(minutes=minutes), zone, day_start), status, value
        ),
        st.integers(0, (span + 3) * 24 * 60),
        st.sampled_from(["done", "done", "done", "skip"]),
        st.one_of(st.none(), st.integers(0, 12).map(float)),
    )
    return habit, draw(st.lists(tap, max_size=60)), today


@SETTINGS
@given(local_cases())
def test_metrics_as_of_the_users_today_agree_with_the_oracle(
    case: tuple[HabitSpec, list[LogEntry], date],
) -> None:
    habit, logs, today = case
    assert_same(compute_metrics(habit, logs, today), oracle.metrics(habit, logs, today))


@SETTINGS
@given(
    st.sampled_from(ZONES),
    st.one_of(st.sampled_from(DST_DAYS), st.dates(date(2023, 1, 1), date(2026, 12, 31))),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    DAY_STARTS,
    st.sampled_from([0, 1]),
)
def test_a_log_date_never_moves_with_dst(
    zone: str, wall_date: date, wall_time: time, day_start: time, fold: int
) -> None:
    """A tap at any wall-clock time of the user's day is logged on that day, whatever the UTC
    offset is then: before or after a DST change, either pass of a repeated hour, the day a
    half-hour shift happens. A date worked out with another moment's offset would move."""
    wall = datetime.combine(wall_date, wall_time)
    instant = wall.replace(tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)
    # A time inside the hour a spring-forward skips never shows on the clock.
    assume(instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall)
    day = wall_date if wall_time >= day_start else wall_date - timedelta(days=1)
    logged = local_today(instant, zone, day_start)
    assert logged == day
    # And the engine counts the tap on that day, as of that day and as of any later one.
    habit = HabitSpec("boolean", Schedule(), day - timedelta(days=3))
    for as_of in (day, day + timedelta(days=1), day + timedelta(days=40)):
        assert compute_metrics(habit, [LogEntry(logged)], as_of).last_completed_on == day
