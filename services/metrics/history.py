"""A habit's day-by-day history: what charts draw, computed by the same rules as the metrics.

Pure, like :mod:`services.metrics.engine`, whose period letters it reuses, so that a chart and
``GET /v1/habits/{id}/metrics`` cannot disagree: the last day's ``rate`` is the metrics'
completion rate over the same window, the longest run in ``streaks`` is ``longest_streak``, an
ongoing last run is ``current_streak`` and the last day's ``strength`` is ``strength``.

Decisions:

- A day's ``status`` is its period letter when every period is one day (a daily interval, a
  weekdays schedule, a negative habit): ``completed``, ``missed``, ``skipped``, ``unscheduled``,
  or ``pending`` for a today not yet completed. In a multi-day period (three times a week, once a
  month) a single day is not due, so a day is ``completed`` (a ``done`` log), ``skipped`` or
  ``none``. For a negative habit ``completed`` means slip-free and ``missed`` a slip.
- ``rate``, the completion rate over the ``window`` days ending on a day, is defined where the
  metrics define their rates by days (one-day periods and negative habits); for multi-day
  periods it is ``None`` and a chart shows the strength instead.
- ``streaks`` lists the runs of satisfied periods that end on or after the range's first day;
  each runs from its first period's first day (``start_date`` at the earliest) to its last
  period's last day (the as-of date at the latest) and has ``length`` in ``streak_unit``.
- ``periods`` groups the range's days by ISO week or calendar month (the labels of
  :func:`services.metrics.engine.trend`): completed days and, for quantity habits, the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import Literal

from services.metrics.engine import (
    _M,
    _P,
    _S,
    Granularity,
    HabitSpec,
    LogEntry,
    _block_bounds,
    _block_states,
    _Days,
    _one_day_periods,
    _one_day_states,
    _streak_unit,
    _trend_periods,
    strength_series,
)

DayStatus = Literal["completed", "missed", "skipped", "unscheduled", "pending", "none"]
_SLIP_TO_STATE = bytes.maketrans(b"\x00\x01", b"SM")
_LETTER_STATUS: dict[int, DayStatus] = {
    ord("S"): "completed",
    ord("M"): "missed",
    ord("E"): "skipped",
    ord("U"): "unscheduled",
    ord("P"): "pending",
}


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One local date of a habit's history."""

    date: date
    status: DayStatus
    value: float | None
    rate: float | None
    strength: float


@dataclass(frozen=True, slots=True)
class StreakRun:
    """A run of satisfied periods: first and last day, and its length in the streak unit."""

    start: date
    end: date
    length: int


@dataclass(frozen=True, slots=True)
class PeriodCount:
    """Completed days (and a quantity habit's total) in one ISO week or calendar month."""

    period: str
    completed: int
    total: float | None


@dataclass(frozen=True, slots=True)
class History:
    """What :func:`history` returns."""

    streak_unit: str
    days: list[DayPoint]
    streaks: list[StreakRun]
    periods: list[PeriodCount]


def history(
    habit: HabitSpec,
    logs: list[LogEntry],
    start: date,
    end: date,
    window: int = 30,
    granularity: Granularity = "week",
) -> History:
    """Describe a habit day by day from ``start`` to ``end`` (its owner's today, or earlier).

    Args:
        habit: The habit.
        logs: Its logs, in any order; logs after ``end`` are ignored.
        start: The first day wanted; days before ``start_date`` are left out.
        end: The as-of date.
        window: Days in the rolling completion rate.
        granularity: How ``periods`` groups the days.

    Returns:
        The days, the streak runs and the per-period counts.
    """
    unit = _streak_unit(habit)
    n = end.toordinal() - habit.start_date.toordinal() + 1
    first = max(0, start.toordinal() - habit.start_date.toordinal())
    if n <= 0 or first >= n:
        return History(unit, [], [], [])
    days = _Days(habit, logs, n)
    one_day = habit.kind == "negative" or _one_day_periods(habit.schedule)
    if habit.kind == "negative":
        states = bytearray(days.done.translate(_SLIP_TO_STATE))
    elif one_day:
        states = _one_day_states(habit, days)
        if states[-1] == _M:
            states[-1] = _P
    else:
        bounds = _block_bounds(habit, n)
        states = _block_states(habit, days, bounds)
        if states[-1] == _M:
            states[-1] = _P
    if one_day:
        bounds = [(i, i) for i in range(n)]
        statuses = [_LETTER_STATUS[c] for c in states]
        rates = _rates(states, window, negative=habit.kind == "negative")
    else:
        statuses = [
            "completed" if done else "skipped" if skipped else "none"
            for done, skipped in zip(days.done, days.skipped, strict=True)
        ]
        rates = [None] * n
    values = days.values if habit.kind == "quantity" else None
    strengths = [v for _, v in strength_series(habit, logs, days.day(first), end)]
    points = [
        DayPoint(
            date=days.day(i),
            status=statuses[i],
            value=round(values[i], 6) if values is not None else None,
            rate=rates[i],
            strength=round(strengths[i - first], 6),
        )
        for i in range(first, n)
    ]
    runs = [r for r in _runs(days, states, bounds) if r.end >= days.day(first)]
    return History(unit, points, runs, _periods(points, granularity, habit.kind == "quantity"))


def _rates(states: bytearray, window: int, *, negative: bool) -> list[float | None]:
    """Each day's completion rate as the metrics compute it with that day as the as-of date."""
    satisfied = list(accumulate((c == _S for c in states), initial=0))
    if negative:
        out: list[float | None] = []
        for i in range(len(states)):
            lo = max(0, i + 1 - window)
            out.append((satisfied[i + 1] - satisfied[lo]) / (i + 1 - lo))
        return out
    missed = list(accumulate((c == _M for c in states), initial=0))
    rates: list[float | None] = []
    for i, letter in enumerate(states):
        lo = max(0, i + 1 - window)
        done = satisfied[i] - satisfied[lo] + (letter == _S)
        counted = done + missed[i] - missed[lo]
        rates.append(done / counted if counted else None)
    return rates


def _runs(days: _Days, states: bytearray, bounds: list[tuple[int, int]]) -> list[StreakRun]:
    """The runs of ``S`` periods; excused and unscheduled ones neither extend nor break a run."""
    runs: list[StreakRun] = []
    begin = last = length = 0
    for (a, b), letter in zip(bounds, states, strict=True):
        if letter == _S:
            if length == 0:
                begin = max(a, 0)
            last = min(b, days.n - 1)
            length += 1
        elif letter == _M and length:
            runs.append(StreakRun(days.day(begin), days.day(last), length))
            length = 0
    if length:
        runs.append(StreakRun(days.day(begin), days.day(last), length))
    return runs


def _periods(points: list[DayPoint], granularity: Granularity, quantity: bool) -> list[PeriodCount]:
    if not points:
        return []
    labels, key = _trend_periods(granularity, points[0].date, points[-1].date)
    completed = [0] * len(labels)
    totals: list[list[float]] = [[] for _ in labels]
    for p in points:
        j = key(p.date.toordinal())
        completed[j] += p.status == "completed"
        if p.value is not None:
            totals[j].append(p.value)
    return [
        PeriodCount(label, count, round(math.fsum(total), 6) if quantity else None)
        for label, count, total in zip(labels, completed, totals, strict=True)
    ]
