"""Table tests for the metrics engine, one or more per rule of DESIGN section 5.

Dates are in February 2026 unless said otherwise: Monday 2 Feb, Monday 9, Monday 16, Monday 23.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

import pytest

from services.metrics.engine import (
    HabitMetrics,
    HabitSpec,
    LogEntry,
    Schedule,
    Target,
    TrendPoint,
    compute_metrics,
    strength_series,
    trend,
)

DAILY = Schedule()
MON_WED_FRI = Schedule(type="weekdays", days=(0, 2, 4))
THREE_A_WEEK = Schedule(unit="week", times=3)
START = date(2026, 2, 2)


def feb(day: int) -> date:
    return date(2026, 2, day)


def done(*days: date, value: float | None = None) -> list[LogEntry]:
    return [LogEntry(d, "done", value) for d in days]


def skip(*days: date) -> list[LogEntry]:
    return [LogEntry(d, "skip") for d in days]


def boolean(schedule: Schedule = DAILY, start: date = START, week_start: int = 0) -> HabitSpec:
    return HabitSpec("boolean", schedule, start, week_start=week_start)


def quantity(
    value: float, direction: str = "at_least", schedule: Schedule = DAILY, start: date = START
) -> HabitSpec:
    return HabitSpec("quantity", schedule, start, Target(value, "units", direction))  # type: ignore[arg-type]


def streaks(m: HabitMetrics) -> tuple[int, int]:
    return m.current_streak, m.longest_streak


# --- periods and streaks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logs", "as_of", "current", "longest"),
    [
        pytest.param(done(feb(2), feb(3), feb(4), feb(5), feb(6)), feb(6), 5, 5, id="perfect"),
        pytest.param(done(feb(2), feb(3), feb(5), feb(6)), feb(6), 2, 2, id="a missed day"),
        pytest.param(done(feb(2), feb(3), feb(4), feb(5)), feb(6), 4, 4, id="today pending"),
        pytest.param(done(feb(2), feb(3), feb(4), feb(5)), feb(7), 0, 4, id="yesterday missed"),
        pytest.param([], feb(2), 0, 0, id="nothing yet"),
    ],
)
def test_daily_streaks(logs: list[LogEntry], as_of: date, current: int, longest: int) -> None:
    assert streaks(compute_metrics(boolean(), logs, as_of)) == (current, longest)


@pytest.mark.parametrize(
    ("as_of", "current", "longest"),
    [
        # Periods: 2-3, 4-5, 6-7, 8-9, 10-11; done on 3, 4 and 7.
        (feb(7), 3, 3),
        (feb(9), 3, 3),  # 8-9 holds today and is still pending
        (feb(10), 0, 3),  # 8-9 ended without a log
    ],
)
def test_every_two_days(as_of: date, current: int, longest: int) -> None:
    habit = boolean(Schedule(every=2, unit="day"))
    got = compute_metrics(habit, done(feb(3), feb(4), feb(7)), as_of)
    assert streaks(got) == (current, longest)
    assert got.streak_unit == "day"


THREE_A_WEEK_LOGS = done(feb(3), feb(5), feb(8), feb(10), feb(12), feb(14))


@pytest.mark.parametrize(
    ("week_start", "current", "longest", "rate_month"),
    [
        # Weeks Mon 2-8 (3, 5, 8: satisfied), 9-15 (10, 12, 14: satisfied), 16-22 pending.
        pytest.param(0, 2, 2, 1.0, id="monday"),
        # Weeks Sun 1-7 (3, 5: missed), 8-14 (8, 10, 12, 14: satisfied), 15-21 pending.
        pytest.param(6, 1, 1, 0.5, id="sunday"),
    ],
)
def test_three_times_a_week_follows_week_start(
    week_start: int, current: int, longest: int, rate_month: float
) -> None:
    habit = boolean(THREE_A_WEEK, week_start=week_start)
    got = compute_metrics(habit, THREE_A_WEEK_LOGS, feb(16))
    assert streaks(got) == (current, longest)
    assert got.streak_unit == "week"
    assert got.completion_rate_week == 1.0  # only the week ending 14 or 15 Feb ends in 10-16
    assert got.completion_rate_month == rate_month
    assert got.total_completions == 6
    assert got.last_completed_on == feb(14)


def test_every_two_weeks_starts_at_the_block_holding_start_date() -> None:
    # Start Wednesday 4 Feb; blocks Mon 2-Sun 15, 16 Feb-1 Mar, 2-15 Mar; twice per block.
    habit = boolean(Schedule(every=2, unit="week", times=2), start=feb(4))
    logs = done(feb(14), feb(15), feb(20), date(2026, 3, 3), date(2026, 3, 4))
    got = compute_metrics(habit, logs, date(2026, 3, 5))
    assert streaks(got) == (1, 1)  # satisfied, missed, satisfied (the current block)
    assert got.completion_rate_week == 0.5  # the block ending 1 Mar (missed) and the current
    assert got.completion_rate_month == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("as_of", "current", "longest"),
    [
        (date(2024, 3, 10), 2, 2),  # January and February 2024 satisfied, March pending
        (date(2024, 4, 1), 0, 2),  # March ended without a log
    ],
)
def test_monthly_across_a_leap_february(as_of: date, current: int, longest: int) -> None:
    habit = boolean(Schedule(unit="month"), start=date(2024, 1, 31))
    got = compute_metrics(habit, done(date(2024, 1, 31), date(2024, 2, 29)), as_of)
    assert streaks(got) == (current, longest)
    assert got.streak_unit == "month"


def test_every_two_months_uses_calendar_months() -> None:
    # Blocks January-February 2025 (to 28 Feb) and March-April; twice per block.
    habit = boolean(Schedule(every=2, unit="month", times=2), start=date(2025, 1, 15))
    logs = done(date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 1))
    got = compute_metrics(habit, logs, date(2025, 3, 1))
    assert streaks(got) == (1, 1)  # 1 Mar opens the second block, which is pending
    assert got.completion_rate_week == 1.0


def test_yearly_blocks_are_calendar_years() -> None:
    habit = boolean(Schedule(unit="year"), start=date(2024, 7, 1))
    got = compute_metrics(habit, done(date(2024, 12, 31)), date(2025, 1, 1))
    assert streaks(got) == (1, 1)
    assert got.streak_unit == "year"
    got = compute_metrics(habit, done(date(2024, 12, 31)), date(2026, 1, 1))
    assert streaks(got) == (0, 1)


def test_weekdays_ignore_logs_on_unlisted_days() -> None:
    # Scheduled: Mon 2 (done), Wed 4 (done), Fri 6 (missed), Mon 9 (done, today).
    logs = done(feb(2), feb(3), feb(4), feb(5), feb(7), feb(8), feb(9))
    got = compute_metrics(boolean(MON_WED_FRI), logs, feb(9))
    assert streaks(got) == (1, 2)
    assert got.streak_unit == "day"
    assert got.total_completions == 3  # 3, 5, 7 and 8 Feb are kept but not counted
    assert got.completion_rate_week == pytest.approx(2 / 3)  # Wed 4, Fri 6 and today


def test_weekdays_on_an_unlisted_today_end_at_the_last_listed_day() -> None:
    logs = done(feb(4), feb(6), feb(9))
    got = compute_metrics(boolean(MON_WED_FRI), logs, feb(10))  # a Tuesday
    assert streaks(got) == (3, 3)
    assert got.completion_rate_week == 1.0


def test_a_skip_neither_counts_nor_breaks() -> None:
    logs = done(feb(2), feb(3), feb(5), feb(6)) + skip(feb(4))
    got = compute_metrics(boolean(), logs, feb(6))
    assert streaks(got) == (4, 4)
    assert got.completion_rate_week == 1.0
    assert got.total_completions == 4


def test_a_done_log_wins_over_a_skip_on_the_same_date() -> None:
    logs = done(feb(2), feb(3)) + skip(feb(3))
    assert streaks(compute_metrics(boolean(), logs, feb(3))) == (2, 2)


def test_skips_lower_what_a_week_requires() -> None:
    # Three a week; two skipped days leave one required completion.
    logs = skip(feb(2), feb(3)) + done(feb(4))
    got = compute_metrics(boolean(THREE_A_WEEK), logs, feb(9))
    assert streaks(got) == (1, 1)
    # A week skipped three times or more is excused.
    logs = skip(feb(2), feb(3), feb(4)) + done(feb(10), feb(11), feb(12))
    got = compute_metrics(boolean(THREE_A_WEEK), logs, feb(16))
    assert streaks(got) == (1, 1)
    assert got.completion_rate_month == 1.0


def test_a_late_start_still_asks_the_whole_week_of_a_boolean_habit() -> None:
    # Started Saturday 7 Feb: the week 2-8 still asks for three completions, so it is missed.
    habit = boolean(THREE_A_WEEK, start=feb(7))
    got = compute_metrics(habit, done(feb(7), feb(8)), feb(9))
    assert streaks(got) == (0, 0)
    assert got.completion_rate_week == 0.0


def test_several_logs_on_one_date_count_once() -> None:
    logs = done(feb(2), feb(2), feb(2), feb(3))
    got = compute_metrics(boolean(THREE_A_WEEK), logs, feb(8))
    assert streaks(got) == (0, 0)  # two distinct dates, not four
    assert got.total_completions == 2


def test_the_current_period_is_pending_until_satisfied() -> None:
    habit = boolean(THREE_A_WEEK)
    logs = done(feb(2), feb(3), feb(4), feb(10), feb(11))
    pending = compute_metrics(habit, logs, feb(12))
    assert streaks(pending) == (1, 1)
    assert pending.completion_rate_week == 1.0  # the pending week does not lower it
    satisfied = compute_metrics(habit, [*logs, *done(feb(12))], feb(12))
    assert streaks(satisfied) == (2, 2)
    missed = compute_metrics(habit, logs, feb(16))
    assert streaks(missed) == (0, 1)
    assert missed.completion_rate_week == 0.0


def test_logs_outside_start_date_and_as_of_are_ignored() -> None:
    logs = done(date(2026, 1, 30), feb(1), feb(2), feb(3), feb(4), feb(5))
    got = compute_metrics(boolean(), logs, feb(3))
    assert (got.current_streak, got.total_completions, got.last_completed_on) == (2, 2, feb(3))


def test_before_start_date_there_is_nothing_to_measure() -> None:
    got = compute_metrics(boolean(), done(feb(2)), feb(1))
    assert got == HabitMetrics(0, 0, "day", None, None, 0.0, 0, None)


def test_a_schedule_change_reads_the_same_logs_differently() -> None:
    logs = done(feb(2), feb(4), feb(6), feb(9), feb(11), feb(13))
    as_of = feb(13)
    daily = compute_metrics(boolean(DAILY), logs, as_of)
    weekdays = compute_metrics(boolean(MON_WED_FRI), logs, as_of)
    weekly = compute_metrics(boolean(THREE_A_WEEK), logs, as_of)
    assert (streaks(daily), daily.streak_unit) == ((1, 1), "day")
    assert (streaks(weekdays), weekdays.streak_unit) == ((6, 6), "day")
    assert (streaks(weekly), weekly.streak_unit) == ((2, 2), "week")
    assert daily.completion_rate_week == pytest.approx(3 / 7)
    assert weekdays.completion_rate_week == 1.0
    # Strength depends on the frequency (3/7 for both) and the done dates, not on the periods.
    assert weekdays.strength == pytest.approx(weekly.strength)
    assert daily.strength != pytest.approx(weekdays.strength)


# --- completion rates ------------------------------------------------------------------------


def test_rates_look_at_the_last_7_and_30_days() -> None:
    # Daily since 1 Jan; done every day except 10-19 Jan and 12 Feb; as of 14 Feb.
    start = date(2026, 1, 1)
    days = [start + timedelta(days=k) for k in range(45)]
    missing = {date(2026, 1, d) for d in range(10, 20)} | {feb(12)}
    logs = done(*(d for d in days if d not in missing))
    got = compute_metrics(boolean(start=start), logs, feb(14))
    assert got.completion_rate_week == pytest.approx(6 / 7)
    assert got.completion_rate_month == pytest.approx(25 / 30)  # 16-19 Jan and 12 Feb missed


def test_rates_are_null_when_no_period_counts() -> None:
    got = compute_metrics(boolean(), [], feb(2))
    assert (got.completion_rate_week, got.completion_rate_month) == (None, None)
    got = compute_metrics(boolean(), skip(feb(2), feb(3)), feb(3))
    assert (got.completion_rate_week, got.completion_rate_month) == (None, None)


# --- quantity habits -------------------------------------------------------------------------


def test_quantity_at_least_daily() -> None:
    habit = quantity(10000)
    logs = [
        *done(feb(2), value=12000),
        *done(feb(3), value=8000),
        *done(feb(4), value=6000),
        *done(feb(4), value=4000),  # two logs make 10000 that day
        *done(feb(5), value=10000),
    ]
    got = compute_metrics(habit, logs, feb(6))
    assert streaks(got) == (2, 2)  # 6 Feb is pending
    assert got.total_completions == 3  # satisfied days
    assert got.last_completed_on == feb(5)
    assert got.completion_rate_week == pytest.approx(3 / 4)


def test_quantity_at_least_weekly_is_pro_rated_by_unskipped_days() -> None:
    habit = quantity(70, schedule=Schedule(unit="week"))
    logs = [
        *done(feb(3), value=30),
        *done(feb(6), value=40),  # week 2-8: 70 of 70
        *skip(feb(9), feb(10), feb(11)),
        *done(feb(12), value=25),
        *done(feb(13), value=15),  # week 9-15: 40 of 70 x 4/7 = 40
        *done(feb(16), value=60),  # week 16-22: 60 of 70 so far
    ]
    got = compute_metrics(habit, logs, feb(18))
    assert streaks(got) == (2, 2)
    assert got.streak_unit == "week"
    assert got.total_completions == 2
    assert got.last_completed_on == feb(13)  # the day week 9-15 reached its 40
    logs.append(LogEntry(feb(18), "done", 10))
    got = compute_metrics(habit, logs, feb(18))
    assert (got.current_streak, got.last_completed_on) == (3, feb(18))


def test_quantity_at_least_first_partial_week_is_pro_rated() -> None:
    # Started Thursday 5 Feb; the week 2-8 has four days from the start: 70 x 4/7 = 40.
    habit = quantity(70, schedule=Schedule(unit="week"), start=feb(5))
    assert compute_metrics(habit, done(feb(8), value=40), feb(9)).longest_streak == 1
    assert compute_metrics(habit, done(feb(8), value=39), feb(9)).longest_streak == 0


def test_quantity_at_least_fully_skipped_period_is_excused() -> None:
    habit = quantity(5)
    logs = [*done(feb(2), value=5), *skip(feb(3)), *done(feb(4), value=5)]
    got = compute_metrics(habit, logs, feb(4))
    assert streaks(got) == (2, 2)
    assert got.completion_rate_week == 1.0


@pytest.mark.parametrize(
    ("today", "current", "longest", "total"),
    [
        pytest.param(1, 2, 2, 4, id="within the limit today"),
        pytest.param(3, 1, 2, 3, id="over the limit today: pending"),
    ],
)
def test_quantity_at_most_daily(today: float, current: int, longest: int, total: int) -> None:
    # At most 2: 2 Feb one, 3 Feb no log (satisfied), 4 Feb three (missed), 5 Feb two.
    habit = quantity(2, "at_most")
    logs = [
        *done(feb(2), value=1),
        *done(feb(4), value=3),
        *done(feb(5), value=2),
        *done(feb(6), value=today),
    ]
    got = compute_metrics(habit, logs, feb(6))
    assert streaks(got) == (current, longest)
    assert got.total_completions == total
    assert got.completion_rate_week == pytest.approx(total / (total + 1))  # 4 Feb missed


def test_quantity_at_most_weekly_without_logs_is_satisfied() -> None:
    habit = quantity(10, "at_most", schedule=Schedule(unit="week"))
    got = compute_metrics(habit, done(feb(11), value=11), feb(24))
    # 2-8 (no log), 9-15 missed, 16-22 (no log), 23 Feb-1 Mar within its limit so far.
    assert streaks(got) == (2, 2)
    assert got.last_completed_on == feb(24)


def test_quantity_at_most_fully_skipped_period_is_excused() -> None:
    habit = quantity(2, "at_most")
    logs = [*done(feb(2), value=1), *skip(feb(3)), *done(feb(4), value=1)]
    got = compute_metrics(habit, logs, feb(4))
    assert streaks(got) == (2, 2)
    assert got.total_completions == 2


def test_quantity_done_log_without_value_adds_nothing() -> None:
    got = compute_metrics(quantity(1), done(feb(2)), feb(3))
    assert streaks(got) == (0, 0)


# --- negative habits -------------------------------------------------------------------------


def negative(start: date = START) -> HabitSpec:
    return HabitSpec("negative", DAILY, start)


def test_negative_habit_counts_slip_free_days() -> None:
    got = compute_metrics(negative(), done(feb(4), feb(8), feb(8)), feb(10))
    assert streaks(got) == (2, 3)  # 9-10 now; 5-7 the longest
    assert got.streak_unit == "day"
    assert got.completion_rate_week == pytest.approx(5 / 7)
    assert got.completion_rate_month == pytest.approx(7 / 9)
    assert got.total_completions == 7
    assert got.last_completed_on == feb(10)


def test_negative_habit_slip_today_gives_zero() -> None:
    got = compute_metrics(negative(), done(feb(4), feb(8)), feb(8))
    assert streaks(got) == (0, 3)
    assert got.last_completed_on == feb(7)


def test_negative_habit_started_today_without_slip_gives_one() -> None:
    got = compute_metrics(negative(), [], feb(2))
    assert streaks(got) == (1, 1)
    assert got.completion_rate_week == 1.0
    assert got.strength == pytest.approx(0.051922, abs=1e-6)


def test_negative_habit_any_log_is_a_slip() -> None:
    got = compute_metrics(negative(), skip(feb(3)) + done(feb(1)), feb(4))
    assert streaks(got) == (1, 1)  # 1 Feb is before the start; the skip on 3 Feb is a slip


# --- strength --------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "expected"), [(1, 0.051922), (13, 0.5)])
def test_strength_of_perfect_days(days: int, expected: float) -> None:
    logs = done(*(feb(2) + timedelta(days=k) for k in range(days)))
    got = compute_metrics(boolean(), logs, feb(2) + timedelta(days=days - 1))
    assert got.strength == pytest.approx(expected, abs=1e-6)


def test_strength_stays_put_on_a_skipped_day() -> None:
    series = dict(strength_series(boolean(), done(feb(2)) + skip(feb(3)), feb(2), feb(4)))
    assert series[feb(3)] == series[feb(2)]
    assert series[feb(4)] == pytest.approx(series[feb(2)] * 0.5 ** (1 / 13))


def test_strength_of_a_less_than_daily_habit_uses_a_doubled_window() -> None:
    # 3 a week: num/den = 3/7, so the window is 14 days and 6 completions give full marks.
    m = 0.5 ** (math.sqrt(3 / 7) / 13)
    got = compute_metrics(boolean(THREE_A_WEEK), done(feb(2)), feb(2))
    assert got.strength == pytest.approx((1 - m) / 6)


def test_strength_of_quantity_habits() -> None:
    # At least 10 a day: half the target gives c = 0.5.
    got = compute_metrics(quantity(10), done(feb(2), value=5), feb(2))
    assert got.strength == pytest.approx(0.5 * (1 - 0.5 ** (1 / 13)))
    # At most 10 a day starts at 1; 15 gives c = 2 - 1.5 = 0.5.
    m = 0.5 ** (1 / 13)
    got = compute_metrics(quantity(10, "at_most"), done(feb(2), value=15), feb(2))
    assert got.strength == pytest.approx(m + 0.5 * (1 - m))


def test_strength_series_gives_one_point_a_day_from_start_date() -> None:
    logs = done(*(feb(2) + timedelta(days=k) for k in range(13)))
    series = strength_series(boolean(), logs, feb(1), feb(14))
    assert [d for d, _ in series] == [feb(2) + timedelta(days=k) for k in range(13)]
    assert series[0][1] == pytest.approx(0.051922, abs=1e-6)
    assert series[-1][1] == pytest.approx(0.5)
    assert all(a < b for (_, a), (_, b) in pairwise(series))


# --- trends ----------------------------------------------------------------------------------


def test_trend_by_iso_week() -> None:
    habit = quantity(10, start=date(2025, 12, 20))
    logs = [
        *done(date(2025, 12, 28), value=4),  # 2025-W52
        *done(date(2025, 12, 29), value=6),  # 2026-W01 begins on Monday 29 Dec
        *done(date(2025, 12, 29), value=1),
        *done(date(2026, 1, 2), value=3),
        *skip(date(2026, 1, 3)),
    ]
    got = trend(habit, logs, "week", date(2025, 12, 22), date(2026, 1, 11))
    assert got == [
        TrendPoint("2025-W52", 4.0, 4.0, 4.0, 4.0, 1),
        TrendPoint("2026-W01", 5.0, 3.0, 7.0, 10.0, 2),
        TrendPoint("2026-W02", None, None, None, 0.0, 0),
    ]


def test_trend_by_month() -> None:
    habit = quantity(10, start=date(2026, 1, 10))
    logs = [
        *done(date(2026, 1, 5), value=100),  # before start_date
        *done(date(2026, 1, 10), value=2),
        *done(date(2026, 1, 31), value=4),
        *done(date(2026, 3, 1), value=5),
    ]
    got = trend(habit, logs, "month", date(2026, 1, 1), date(2026, 3, 31))
    assert got == [
        TrendPoint("2026-01", 3.0, 2.0, 4.0, 6.0, 2),
        TrendPoint("2026-02", None, None, None, 0.0, 0),
        TrendPoint("2026-03", 5.0, 5.0, 5.0, 5.0, 1),
    ]


def test_trend_is_for_quantity_habits() -> None:
    with pytest.raises(ValueError, match="quantity"):
        trend(boolean(), [], "week", feb(2), feb(9))


# --- inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, DAILY),
        (
            {"type": "interval", "every": 2, "unit": "week", "times": 3},
            replace(THREE_A_WEEK, every=2),
        ),
        ({"type": "weekdays", "days": ["mon", "wed", "fri"]}, MON_WED_FRI),
    ],
)
def test_schedule_from_its_api_form(data: dict[str, object], expected: Schedule) -> None:
    assert Schedule.from_mapping(data) == expected


@pytest.mark.parametrize(
    "build",
    [
        lambda: Schedule(every=2, unit="day", times=3),
        lambda: Schedule(type="weekdays", days=()),
        lambda: Schedule(type="weekdays", days=(7,)),
        lambda: HabitSpec("quantity", DAILY, feb(2)),
        lambda: HabitSpec("boolean", DAILY, feb(2), week_start=7),
        lambda: Target(-1, "km"),
    ],
)
def test_invalid_inputs_are_refused(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


# --- the worked examples of docs/metrics.md ---------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "pattern", "days", "expected"),
    [
        (DAILY, (0,), 1, 0.0519),
        (DAILY, (0,), 7, 0.3115),
        (DAILY, (0,), 13, 0.5),
        (DAILY, (0,), 30, 0.7980),
        (DAILY, (0,), 66, 0.9704),
        (THREE_A_WEEK, (0, 2, 4), 7, 0.0794),
        (THREE_A_WEEK, (0, 2, 4), 28, 0.5399),
        (THREE_A_WEEK, (0, 2, 4), 84, 0.9348),
    ],
)
def test_docs_strength_of_perfect_records(
    schedule: Schedule, pattern: tuple[int, ...], days: int, expected: float
) -> None:
    every = 1 if schedule is DAILY else 7
    logs = done(*(START + timedelta(days=k) for k in range(days) if k % every in pattern))
    got = compute_metrics(boolean(schedule), logs, START + timedelta(days=days - 1))
    assert round(got.strength, 4) == expected


def test_docs_daily_habit_with_a_skip() -> None:
    logs = done(feb(2), feb(3), feb(5), feb(6)) + skip(feb(4))
    table = [compute_metrics(boolean(), logs, feb(d)) for d in (6, 7, 8)]
    assert [(m.current_streak, m.longest_streak, m.completion_rate_week) for m in table] == [
        (4, 4, 1.0),
        (4, 4, 1.0),
        (0, 4, 0.8),
    ]
    assert [round(m.strength, 4) for m in table] == [0.1921, 0.1821, 0.1726]
    series = strength_series(boolean(), logs, feb(2), feb(8))
    assert [round(v, 4) for _, v in series] == [
        0.0519,
        0.1011,
        0.1011,
        0.1478,
        0.1921,
        0.1821,
        0.1726,
    ]


def test_docs_quantity_examples() -> None:
    steps = [
        *done(feb(2), value=12000),
        *done(feb(3), value=8000),
        *done(feb(4), value=6000),
        *done(feb(4), value=4000),
        *done(feb(5), value=10500),
        *done(feb(6), value=3000),
    ]
    got = compute_metrics(quantity(10000), steps, feb(6))
    assert (streaks(got), got.completion_rate_week, round(got.strength, 4)) == (
        (2, 2),
        0.75,
        0.1888,
    )
    coffee = [
        *done(feb(2), value=1),
        *done(feb(4), value=3),
        *done(feb(5), value=1),
        *done(feb(5), value=1),
        *done(feb(6), value=1),
    ]
    got = compute_metrics(quantity(2, "at_most"), coffee, feb(6))
    assert (streaks(got), got.completion_rate_week, round(got.strength, 4)) == ((2, 2), 0.8, 0.9767)
    got = compute_metrics(quantity(2, "at_most"), [*coffee, *done(feb(6), value=2)], feb(6))
    assert (streaks(got), got.completion_rate_week) == ((1, 2), 0.75)
    km = [
        *done(feb(3), value=30),
        *done(feb(6), value=40),
        *done(feb(12), value=25),
        *done(feb(13), value=15),
        *done(feb(16), value=60),
    ]
    weekly = quantity(70, schedule=Schedule(unit="week"))
    assert trend(weekly, km, "week", feb(2), feb(22)) == [
        TrendPoint("2026-W06", 35.0, 30.0, 40.0, 70.0, 2),
        TrendPoint("2026-W07", 20.0, 15.0, 25.0, 40.0, 2),
        TrendPoint("2026-W08", 60.0, 60.0, 60.0, 60.0, 1),
    ]


def test_docs_three_a_week_strength_ignores_week_start() -> None:
    monday = compute_metrics(boolean(THREE_A_WEEK), THREE_A_WEEK_LOGS, feb(16))
    sunday = compute_metrics(boolean(THREE_A_WEEK, week_start=6), THREE_A_WEEK_LOGS, feb(16))
    assert round(monday.strength, 4) == round(sunday.strength, 4) == 0.2458
