"""The history charts draw agrees with the metrics: rates, streaks, strength, totals."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from services.metrics.engine import HabitSpec, LogEntry, Schedule, Target, compute_metrics
from services.metrics.history import history

START = date(2026, 1, 1)
SCHEDULES = [
    Schedule(),
    Schedule(type="weekdays", days=(0, 2, 4)),
    Schedule(unit="week", times=3),
    Schedule(unit="month", times=2),
    Schedule(every=2, unit="day"),
]


def _random_habit(rng: random.Random) -> tuple[HabitSpec, list[LogEntry], date]:
    kind = rng.choice(["boolean", "quantity", "negative"])
    target = None
    if kind == "quantity":
        target = Target(value=5, unit="km", direction=rng.choice(["at_least", "at_most"]))
    habit = HabitSpec(kind=kind, schedule=rng.choice(SCHEDULES), start_date=START, target=target)
    logs = []
    for i in range(120):
        r = rng.random()
        if r < 0.55:
            logs.append(LogEntry(START + timedelta(i), "done", rng.choice([2.0, 5.0, 7.0])))
        elif r < 0.6:
            logs.append(LogEntry(START + timedelta(i), "skip"))
    return habit, logs, START + timedelta(rng.randint(0, 130))


@pytest.mark.parametrize("seed", range(6))
def test_history_agrees_with_the_metrics_as_of_its_last_day(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        habit, logs, end = _random_habit(rng)
        m = compute_metrics(habit, logs, end)
        month = history(habit, logs, START - timedelta(days=5), end, window=30)
        week = history(habit, logs, START, end, window=7)
        assert max((r.length for r in month.streaks), default=0) == m.longest_streak
        assert month.days[-1].strength == pytest.approx(m.strength, abs=1e-6)
        assert month.streak_unit == m.streak_unit
        daily = habit.kind == "negative" or habit.schedule.type == "weekdays"
        if daily or (habit.schedule.unit == "day" and habit.schedule.every == 1):
            assert month.days[-1].rate == m.completion_rate_month
            assert week.days[-1].rate == m.completion_rate_week
        else:
            assert all(d.rate is None for d in month.days)


def test_daily_boolean_history_day_by_day() -> None:
    habit = HabitSpec(kind="boolean", schedule=Schedule(), start_date=START)
    done = {0, 1, 2, 4, 5, 9}
    logs = [LogEntry(START + timedelta(i)) for i in done] + [LogEntry(START + timedelta(7), "skip")]
    end = START + timedelta(10)
    h = history(habit, logs, START + timedelta(3), end, window=7, granularity="week")
    assert [d.date for d in h.days] == [START + timedelta(i) for i in range(3, 11)]
    assert [d.status for d in h.days] == [
        "missed", "completed", "completed", "missed", "skipped", "missed", "completed", "pending"
    ]  # fmt: skip
    # The run before the range ends inside it? No: days 0-2 end on day 2, before the range.
    assert [(r.start, r.end, r.length) for r in h.streaks] == [
        (START + timedelta(4), START + timedelta(5), 2),
        (START + timedelta(9), START + timedelta(9), 1),
    ]
    assert h.days[-1].rate == compute_metrics(habit, logs, end).completion_rate_week
    assert sum(p.completed for p in h.periods) == 3
    assert all(p.total is None for p in h.periods)


def test_a_run_bridging_a_skipped_day_is_one_streak() -> None:
    habit = HabitSpec(kind="boolean", schedule=Schedule(), start_date=START)
    logs = [LogEntry(START), LogEntry(START + timedelta(1), "skip"), LogEntry(START + timedelta(2))]
    h = history(habit, logs, START, START + timedelta(2))
    assert [(r.start, r.end, r.length) for r in h.streaks] == [(START, START + timedelta(2), 2)]
    assert compute_metrics(habit, logs, START + timedelta(2)).current_streak == 2


def test_weekly_habit_streaks_span_whole_weeks_and_days_have_no_rate() -> None:
    monday = date(2026, 1, 5)
    habit = HabitSpec(kind="boolean", schedule=Schedule(unit="week", times=2), start_date=monday)
    logs = [LogEntry(monday + timedelta(i)) for i in (0, 2, 7, 9, 21)]
    h = history(habit, logs, monday, monday + timedelta(days=24))
    assert [(r.start, r.end, r.length) for r in h.streaks] == [
        (monday, monday + timedelta(days=13), 2)
    ]
    assert all(d.rate is None for d in h.days)
    assert {d.status for d in h.days} == {"completed", "none"}


def test_quantity_periods_total_the_daily_sums() -> None:
    habit = HabitSpec(
        kind="quantity", schedule=Schedule(), start_date=START, target=Target(5, "km")
    )
    logs = [
        LogEntry(START, "done", 3),
        LogEntry(START, "done", 4),
        LogEntry(date(2026, 2, 2), "done", 6),
    ]
    h = history(habit, logs, START, date(2026, 2, 3), granularity="month")
    assert [(p.period, p.completed, p.total) for p in h.periods] == [
        ("2026-01", 1, 7.0),
        ("2026-02", 1, 6.0),
    ]
    assert h.days[0].value == 7.0 and h.days[0].status == "completed"


def test_negative_habit_days_and_empty_ranges() -> None:
    habit = HabitSpec(kind="negative", schedule=Schedule(), start_date=START)
    logs = [LogEntry(START + timedelta(2))]
    h = history(habit, logs, START, START + timedelta(4))
    assert [d.status for d in h.days] == [
        "completed",
        "completed",
        "missed",
        "completed",
        "completed",
    ]
    assert [r.length for r in h.streaks] == [2, 2]
    assert history(habit, logs, START, START - timedelta(1)).days == []
    assert history(habit, logs, START + timedelta(9), START + timedelta(4)).days == []
