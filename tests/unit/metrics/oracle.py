"""A slow, literal reading of DESIGN section 5, used to check the metrics engine.

Everything walks calendar days one at a time with ``date`` objects; periods are found by walking
the calendar and noticing where a new one begins, not by arithmetic. Comparisons with pro-rated
targets use exact fractions. The decisions the design leaves open are those written in the
engine's module docstring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from services.metrics.engine import HabitMetrics, HabitSpec, LogEntry, TrendPoint

ONE_DAY = timedelta(days=1)


@dataclass
class Period:
    first: date
    last: date
    state: str = ""


def _days(first: date, last: date) -> list[date]:
    out = []
    d = first
    while d <= last:
        out.append(d)
        d += ONE_DAY
    return out


def _is_scheduled(habit: HabitSpec, d: date) -> bool:
    if habit.schedule.type == "weekdays":
        return d.weekday() in habit.schedule.days
    return True


def _starts_new_period(habit: HabitSpec, d: date, counter: list[int]) -> bool:
    """Tell whether ``d`` opens a new interval period, walking forward from the first one.

    ``counter`` holds how many unit boundaries were crossed since the last period began.
    """
    s = habit.schedule
    if s.unit == "day":
        boundary = True
    elif s.unit == "week":
        boundary = d.weekday() == habit.week_start
    elif s.unit == "month":
        boundary = d.day == 1
    else:
        boundary = d.day == 1 and d.month == 1
    if not boundary:
        return False
    counter[0] += 1
    if counter[0] == s.every:
        counter[0] = 0
        return True
    return False


def periods(habit: HabitSpec, as_of: date) -> list[Period]:
    """Every period that starts on or before ``as_of``, with its full calendar extent."""
    start = habit.start_date
    if as_of < start:
        return []
    if habit.schedule.type == "weekdays":
        return [Period(d, d) for d in _days(start, as_of) if _is_scheduled(habit, d)]
    unit = habit.schedule.unit
    first = start
    if unit == "week":
        while first.weekday() != habit.week_start:
            first -= ONE_DAY
    elif unit == "month":
        first = start.replace(day=1)
    elif unit == "year":
        first = start.replace(month=1, day=1)
    found: list[Period] = [Period(first, first)]
    counter = [0]
    d = first + ONE_DAY
    while True:
        if _starts_new_period(habit, d, counter):
            if d > as_of:
                break
            found.append(Period(d, d))
        else:
            found[-1].last = d
        d += ONE_DAY
    return found


class Logs:
    """The logs that count as of a date, looked up the slow way."""

    def __init__(self, habit: HabitSpec, logs: Sequence[LogEntry], as_of: date) -> None:
        self.habit = habit
        counted = [
            log
            for log in logs
            if habit.start_date <= log.date <= as_of and _is_scheduled(habit, log.date)
        ]
        self.done_dates = {log.date for log in counted if log.status == "done"}
        self.skipped_dates = {log.date for log in counted if log.status == "skip"} - self.done_dates
        self.sum_by_date: dict[date, float] = {}
        for log in counted:
            if log.status == "done":
                value = log.value if log.value is not None else 0.0
                self.sum_by_date[log.date] = self.sum_by_date.get(log.date, 0.0) + value


def _state(habit: HabitSpec, lg: Logs, p: Period, as_of: date) -> str:
    counted_days = [d for d in _days(p.first, p.last) if habit.start_date <= d <= as_of]
    is_current = p.first <= as_of <= p.last
    if habit.kind == "boolean":
        done = sum(1 for d in counted_days if d in lg.done_dates)
        skipped = sum(1 for d in counted_days if d in lg.skipped_dates)
        required = max(0, habit.schedule.times - skipped)
        if required == 0:
            return "excused"
        satisfied = done >= required
    else:
        assert habit.target is not None
        days_from_start = [d for d in _days(p.first, p.last) if d >= habit.start_date]
        unskipped = sum(1 for d in days_from_start if d not in lg.skipped_dates)
        if unskipped == 0:
            return "excused"
        total = math.fsum(lg.sum_by_date.get(d, 0.0) for d in counted_days)
        length = (p.last - p.first).days + 1
        if habit.target.direction == "at_least":
            needed = Fraction(habit.target.value) * unskipped / length
            satisfied = Fraction(total) >= needed
        else:
            satisfied = total <= habit.target.value
    if satisfied:
        return "satisfied"
    return "pending" if is_current else "missed"


def _strength_by_day(
    habit: HabitSpec, lg: Logs, slips: set[date], as_of: date
) -> dict[date, float]:
    if habit.kind == "negative":
        num, den = 1, 1
    elif habit.schedule.type == "weekdays":
        num, den = len(set(habit.schedule.days)), 7
    else:
        per_unit = {"day": 1, "week": 7, "month": 30, "year": 365}[habit.schedule.unit]
        num, den = habit.schedule.times, habit.schedule.every * per_unit
    m = 0.5 ** (math.sqrt(num / den) / 13)
    at_most = habit.target is not None and habit.target.direction == "at_most"
    score = 1.0 if habit.kind == "quantity" and at_most else 0.0
    out: dict[date, float] = {}
    for d in _days(habit.start_date, as_of):
        if habit.kind == "negative":
            c: float | None = 0.0 if d in slips else 1.0
        elif d in lg.skipped_dates:
            c = None
        elif habit.kind == "boolean":
            if num / den < 1:
                window, required = 2 * den, 2 * num
            else:
                window, required = 1, 1
            in_window = [x for x in lg.done_dates if d - timedelta(days=window - 1) <= x <= d]
            c = min(1.0, len(in_window) / required)
        else:
            assert habit.target is not None
            window_sum = sum(
                v for x, v in lg.sum_by_date.items() if d - timedelta(days=den - 1) <= x <= d
            )
            t = habit.target.value
            if not at_most:
                c = 1.0 if t == 0 else min(1.0, max(0.0, window_sum / t))
            elif t == 0:
                c = 1.0 if window_sum <= 0 else 0.0
            else:
                c = min(1.0, max(0.0, 2 - window_sum / t))
        if c is not None:
            score = score * m + c * (1 - m)
        out[d] = score
    return out


def strength_by_day(habit: HabitSpec, logs: Sequence[LogEntry], end: date) -> dict[date, float]:
    slips = {x.date for x in logs if habit.start_date <= x.date <= end}
    return _strength_by_day(habit, Logs(habit, logs, end), slips, end)


def _negative(habit: HabitSpec, logs: Sequence[LogEntry], as_of: date) -> HabitMetrics:
    slips = {x.date for x in logs if habit.start_date <= x.date <= as_of}
    all_days = _days(habit.start_date, as_of)
    current = 0
    d = as_of
    while d >= habit.start_date and d not in slips:
        current += 1
        d -= ONE_DAY
    longest = run = 0
    for d in all_days:
        run = 0 if d in slips else run + 1
        longest = max(longest, run)
    rates = []
    for width in (7, 30):
        window = [d for d in all_days if d > as_of - timedelta(days=width)]
        rates.append(sum(1 for d in window if d not in slips) / len(window))
    free = [d for d in all_days if d not in slips]
    return HabitMetrics(
        current_streak=current,
        longest_streak=longest,
        streak_unit="day",
        completion_rate_week=rates[0],
        completion_rate_month=rates[1],
        strength=strength_by_day(habit, logs, as_of)[as_of],
        total_completions=len(free),
        last_completed_on=free[-1] if free else None,
    )


def metrics(habit: HabitSpec, logs: Sequence[LogEntry], as_of: date) -> HabitMetrics:
    """The metrics of section 5, computed the slow way."""
    unit = "day" if habit.schedule.type == "weekdays" else habit.schedule.unit
    if habit.kind == "negative":
        unit = "day"
    if as_of < habit.start_date:
        return HabitMetrics(0, 0, unit, None, None, 0.0, 0, None)
    if habit.kind == "negative":
        return _negative(habit, logs, as_of)
    lg = Logs(habit, logs, as_of)
    ps = periods(habit, as_of)
    for p in ps:
        p.state = _state(habit, lg, p, as_of)

    # Longest: walk forward; excused and pending periods are passed over.
    longest = run = 0
    for p in ps:
        if p.state == "satisfied":
            run += 1
        elif p.state == "missed":
            run = 0
        longest = max(longest, run)
    # Current: walk back from the current period.
    current = 0
    for p in reversed(ps):
        if p.state == "missed":
            break
        if p.state == "satisfied":
            current += 1

    rates: list[float | None] = []
    for width in (7, 30):
        window_first = as_of - timedelta(days=width - 1)
        satisfied = missed = 0
        for p in ps:
            is_current = p.first <= as_of <= p.last
            if is_current:
                satisfied += p.state == "satisfied"
            elif window_first <= p.last <= as_of:
                satisfied += p.state == "satisfied"
                missed += p.state == "missed"
        rates.append(satisfied / (satisfied + missed) if satisfied + missed else None)

    if habit.kind == "boolean":
        total = len(lg.done_dates)
        last = max(lg.done_dates) if lg.done_dates else None
    else:
        won = [p for p in ps if p.state == "satisfied"]
        total = len(won)
        last = _quantity_last(habit, lg, won[-1], as_of) if won else None

    return HabitMetrics(
        current_streak=current,
        longest_streak=longest,
        streak_unit=unit,
        completion_rate_week=rates[0],
        completion_rate_month=rates[1],
        strength=_strength_by_day(habit, lg, set(), as_of)[as_of],
        total_completions=total,
        last_completed_on=last,
    )


def _quantity_last(habit: HabitSpec, lg: Logs, p: Period, as_of: date) -> date:
    assert habit.target is not None
    counted = [d for d in _days(p.first, p.last) if habit.start_date <= d <= as_of]
    if habit.target.direction == "at_most":
        return counted[-1]
    days_from_start = [d for d in _days(p.first, p.last) if d >= habit.start_date]
    unskipped = sum(1 for d in days_from_start if d not in lg.skipped_dates)
    length = (p.last - p.first).days + 1
    needed = Fraction(habit.target.value) * unskipped / length
    running = Fraction(0)
    for d in counted:
        running += Fraction(lg.sum_by_date.get(d, 0.0))
        if running >= needed:
            return d
    raise AssertionError("a satisfied at_least period must reach its requirement")


def trend(
    habit: HabitSpec, logs: Sequence[LogEntry], granularity: str, start: date, end: date
) -> list[TrendPoint]:
    """Trends the slow way: label every day, then gather daily sums under each label."""
    first = max(start, habit.start_date)
    if first > end:
        return []
    labels: list[str] = []
    sums: dict[str, list[float]] = {}
    for d in _days(first, end):
        if granularity == "week":
            iso = d.isocalendar()
            label = f"{iso.year}-W{iso.week:02d}"
        else:
            label = f"{d.year:04d}-{d.month:02d}"
        if label not in sums:
            labels.append(label)
            sums[label] = []
        todays = [x for x in logs if x.date == d and x.status == "done"]
        if todays:
            sums[label].append(sum(x.value if x.value is not None else 0.0 for x in todays))
    out = []
    for label in labels:
        values = sums[label]
        if values:
            out.append(
                TrendPoint(
                    label,
                    sum(values) / len(values),
                    min(values),
                    max(values),
                    sum(values),
                    len(values),
                )
            )
        else:
            out.append(TrendPoint(label, None, None, None, 0.0, 0))
    return out
