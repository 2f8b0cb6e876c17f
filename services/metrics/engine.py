"""The metrics engine: streaks, completion rates, strength and trends of one habit.

Everything here follows section 5 of the design ("Metric semantics"); this docstring records only
what the design leaves open, and ``docs/metrics.md`` explains the whole for API users. The module
is pure: it takes a habit, its logs and the as-of date (the user's today, computed by
``shared.localtime.local_today``) and does no I/O.

Decisions where the design is silent:

- A date is *skipped* when it has a ``skip`` log and no ``done`` log; a ``done`` log on the same
  date wins. This is the boolean rule of the design, applied to quantity habits and to strength.
- Logs on days a ``weekdays`` schedule does not list are kept by the gateway but ignored here by
  every metric: streaks, rates, strength, ``total_completions`` and ``last_completed_on``. Trends
  describe what was logged rather than what was scheduled, so they include them.
- Quantity ``at_least``: the days that can be skipped are the period's days from ``start_date``
  on; days after the as-of date count as unskipped (they cannot have been skipped yet). So the
  first, partial block of a habit gets a pro-rated target, and the current period is judged
  against its whole target, not against the part of it that has elapsed.
- Quantity ``at_most``: a period whose every day (from ``start_date``) is skipped is excused, as
  for ``at_least``, so that a skipped period never lengthens a streak.
- Quantity: a ``done`` log without a value adds 0. Boolean: ``value`` is ignored.
- Boolean: the first block of a week, month or year schedule still asks for ``times`` completions
  even when ``start_date`` falls late in it (the design pro-rates only quantity targets).
- ``total_completions``: boolean, the number of distinct scheduled dates with a ``done`` log;
  quantity, the number of satisfied periods, the current one included when satisfied; negative,
  the number of slip-free days from ``start_date`` through the as-of date.
- ``last_completed_on``: boolean, the latest scheduled date with a ``done`` log; quantity
  ``at_least``, the date on which the latest satisfied period's total first reached its
  requirement; quantity ``at_most``, the last day of the latest satisfied period (the as-of date
  when that is the current period); negative, the latest slip-free day.
- Negative habits ignore the schedule and the log status (every log is a slip, one per date at
  most). Their strength uses a daily frequency with ``c`` = 1 on a slip-free day, 0 on a slip.
- As of a date before ``start_date`` there is nothing to measure: streaks and totals are 0, rates
  ``None`` and strength 0.
- ``strength_series`` gives one point per day from ``max(start, start_date)`` to ``end``.
- ``trend`` covers quantity habits only and lists every ISO week or calendar month that overlaps
  ``max(start, start_date)``..``end``; one without logged days has ``count`` 0, ``total`` 0 and no
  average, minimum or maximum.

How it stays fast (ten years of daily logs in well under 2 ms, see ``bench/metrics_engine.py``):
logs are bucketed once into per-day byte flags indexed from ``start_date``; periods are walked
arithmetically with prefix sums; period states are letters in a byte string (``S`` satisfied,
``E`` excused, ``M`` missed, ``P`` pending, ``U`` unscheduled day), so that streaks and rates are
a few C-level ``bytes`` operations; and the strength recurrence, unrolled, is one NumPy dot
product. The one Python loop over every log is the bucketing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

Kind = Literal["boolean", "quantity", "negative"]
Unit = Literal["day", "week", "month", "year"]
Direction = Literal["at_least", "at_most"]
Granularity = Literal["week", "month"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_Array = TypeVar("_Array", FloatArray, IntArray)

WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Loop Habit Tracker's day counts for a frequency's denominator (a month is 30 days there too).
_UNIT_DAYS: dict[str, int] = {"day": 1, "week": 7, "month": 30, "year": 365}

_S, _E, _M, _P = b"SEMP"
_DONE_TO_STATE = bytes.maketrans(b"\x00\x01", b"MS")
# bytes.translate deletes excused periods and unscheduled days before streaks are counted.
_NOT_IN_A_RUN = b"EU"


@dataclass(frozen=True, slots=True)
class Schedule:
    """How often a habit is due.

    Attributes:
        type: ``interval`` (``times`` per ``every`` ``unit``) or ``weekdays`` (listed days).
        every: The length of an interval period, in ``unit``.
        unit: The unit of an interval period.
        times: Completions a boolean period asks for; at most ``every`` for unit ``day``.
        days: For ``weekdays``: the listed days, 0 = Monday … 6 = Sunday.
    """

    type: Literal["interval", "weekdays"] = "interval"
    every: int = 1
    unit: Unit = "day"
    times: int = 1
    days: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.type == "weekdays":
            if not self.days or any(not 0 <= d <= 6 for d in self.days):
                raise ValueError("a weekdays schedule lists one or more days in 0..6")
            return
        if self.type != "interval":
            raise ValueError(f"unknown schedule type {self.type!r}")
        if self.unit not in _UNIT_DAYS:
            raise ValueError(f"unknown schedule unit {self.unit!r}")
        if self.every < 1 or self.times < 1:
            raise ValueError("every and times must be at least 1")
        if self.unit == "day" and self.times > self.every:
            raise ValueError("a schedule in days cannot ask for more times than it has days")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Schedule:
        """Build a schedule from its API form, e.g. ``{"type": "weekdays", "days": ["mon"]}``.

        Args:
            data: The ``schedule`` object of the public API (section 4 of the design).

        Returns:
            The schedule; an empty mapping gives the daily default.
        """
        if data.get("type", "interval") == "weekdays":
            names = [str(name).lower()[:3] for name in data.get("days", ())]
            unknown = [name for name in names if name not in WEEKDAY_NAMES]
            if unknown:
                raise ValueError(f"unknown weekday {unknown[0]!r}")
            return cls(type="weekdays", days=tuple(WEEKDAY_NAMES.index(n) for n in names))
        return cls(
            type="interval",
            every=int(data.get("every", 1)),
            unit=data.get("unit", "day"),
            times=int(data.get("times", 1)),
        )

    @property
    def frequency(self) -> tuple[int, int]:
        """The schedule as ``(num, den)``: ``num`` completions every ``den`` days."""
        if self.type == "weekdays":
            return len(set(self.days)), 7
        return self.times, self.every * _UNIT_DAYS[self.unit]


@dataclass(frozen=True, slots=True)
class Target:
    """A quantity habit's goal for each period, e.g. at least 10000 steps."""

    value: float
    unit: str
    direction: Direction = "at_least"

    def __post_init__(self) -> None:
        if not self.value >= 0:
            raise ValueError("a target value cannot be negative")
        if self.direction not in ("at_least", "at_most"):
            raise ValueError(f"unknown target direction {self.direction!r}")


@dataclass(frozen=True, slots=True)
class HabitSpec:
    """What the engine needs to know about a habit.

    Attributes:
        kind: ``boolean``, ``quantity`` (needs ``target``) or ``negative``.
        schedule: When the habit is due.
        start_date: The first local date that counts.
        target: A quantity habit's goal per period.
        week_start: The user's first day of the week, 0 = Monday … 6 = Sunday.
    """

    kind: Kind
    schedule: Schedule
    start_date: date
    target: Target | None = None
    week_start: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("boolean", "quantity", "negative"):
            raise ValueError(f"unknown habit kind {self.kind!r}")
        if self.kind == "quantity" and self.target is None:
            raise ValueError("a quantity habit needs a target")
        if not 0 <= self.week_start <= 6:
            raise ValueError("week_start must be in 0..6")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log on a local calendar date; only ``date``, ``status`` and ``value`` matter here."""

    date: date
    status: Literal["done", "skip"] = "done"
    value: float | None = None


@dataclass(frozen=True, slots=True)
class HabitMetrics:
    """The metrics of one habit as of one date (the fields of ``GET /v1/habits/{id}/metrics``)."""

    current_streak: int
    longest_streak: int
    streak_unit: str
    completion_rate_week: float | None
    completion_rate_month: float | None
    strength: float
    total_completions: int
    last_completed_on: date | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Daily sums of a quantity habit gathered over one ISO week or calendar month."""

    period: str
    average: float | None
    minimum: float | None
    maximum: float | None
    total: float
    count: int


class _Days:
    """Logs bucketed by day: index ``i`` is ``start_date + i``, for ``n`` days through as-of.

    Attributes:
        done: 1 on each counted day with a ``done`` log (for a negative habit: any log).
        skipped: 1 on each counted day with a ``skip`` log and no ``done`` log.
        skips: The indices where ``skipped`` is 1.
        values: For a quantity habit, each day's sum of ``done`` values; otherwise empty.
        amounts: ``values`` as a NumPy array.
    """

    __slots__ = ("amounts", "base", "done", "n", "skipped", "skips", "values")

    def __init__(self, habit: HabitSpec, logs: Sequence[LogEntry], n: int) -> None:
        base = habit.start_date.toordinal()
        done = bytearray(n)
        skips: list[int] = []
        values: list[float] = []
        if habit.kind == "quantity":
            values = [0.0] * n
            for log in logs:
                i = log.date.toordinal() - base
                if 0 <= i < n:
                    if log.status == "skip":
                        skips.append(i)
                    else:
                        done[i] = 1
                        value = log.value
                        if value is not None:
                            values[i] += value
        else:
            for log in logs:
                i = log.date.toordinal() - base
                if 0 <= i < n:
                    if log.status == "skip":
                        skips.append(i)
                    else:
                        done[i] = 1
        if habit.kind == "negative":
            for i in skips:
                done[i] = 1
            skips = []
        elif habit.schedule.type == "weekdays":
            first = habit.start_date.weekday()
            for offset in _unscheduled_offsets(habit.schedule, first):
                count = len(range(offset, n, 7))
                done[offset::7] = bytes(count)
                if values:
                    values[offset::7] = [0.0] * count
            listed = set(habit.schedule.days)
            skips = [i for i in skips if (first + i) % 7 in listed]
        skipped = bytearray(n)
        for i in skips:
            if not done[i]:
                skipped[i] = 1
        self.base = base
        self.n = n
        self.done = done
        self.skipped = skipped
        self.skips = [i for i in skips if skipped[i]] if skips else skips
        self.values = values
        self.amounts: FloatArray = np.array(values, dtype=np.float64) if values else _NO_AMOUNTS

    def day(self, index: int) -> date:
        return date.fromordinal(self.base + index)


_NO_AMOUNTS: FloatArray = np.zeros(0, dtype=np.float64)


def _unscheduled_offsets(schedule: Schedule, first_weekday: int) -> list[int]:
    """Return the day indices (mod 7) a weekdays schedule leaves out, for a given first weekday."""
    return [(w - first_weekday) % 7 for w in range(7) if w not in schedule.days]


def compute_metrics(habit: HabitSpec, logs: Sequence[LogEntry], as_of: date) -> HabitMetrics:
    """Compute a habit's metrics as of a local date.

    Args:
        habit: The habit.
        logs: Its logs, in any order; logs after ``as_of`` or before ``start_date`` are ignored.
        as_of: The user's today (or an earlier date to look back).

    Returns:
        Streaks, completion rates, strength, total completions and the last completion date.
    """
    unit = _streak_unit(habit)
    n = as_of.toordinal() - habit.start_date.toordinal() + 1
    if n <= 0:
        return HabitMetrics(0, 0, unit, None, None, 0.0, 0, None)
    days = _Days(habit, logs, n)
    if habit.kind == "negative":
        return _negative_metrics(days, unit)
    if _one_day_periods(habit.schedule):
        return _one_day_metrics(habit, days, unit)
    return _block_metrics(habit, days, unit)


def strength_series(
    habit: HabitSpec, logs: Sequence[LogEntry], start: date, end: date
) -> list[tuple[date, float]]:
    """Return the strength of each day from ``start`` to ``end``, each day being its own as-of.

    Args:
        habit: The habit.
        logs: Its logs, in any order.
        start: The first day wanted; days before ``start_date`` are left out.
        end: The last day wanted; logs after it are ignored.

    Returns:
        ``(day, strength)`` pairs in date order.
    """
    n = end.toordinal() - habit.start_date.toordinal() + 1
    if n <= 0:
        return []
    days = _Days(habit, logs, n)
    first = max(0, start.toordinal() - days.base)
    score, m, terms, skipped = _strength_walk(habit, days)
    k = 1.0 - m
    points: list[tuple[date, float]] = []
    for i, (c, skip) in enumerate(zip(terms.tolist(), skipped, strict=True)):
        if not skip:
            score = score * m + c * k
        if i >= first:
            points.append((days.day(i), score))
    return points


def trend(
    habit: HabitSpec,
    logs: Sequence[LogEntry],
    granularity: Granularity,
    start: date,
    end: date,
) -> list[TrendPoint]:
    """Gather a quantity habit's daily sums per ISO week or calendar month.

    Args:
        habit: A quantity habit.
        logs: Its logs, in any order; only ``done`` logs from ``start_date`` on count.
        granularity: ``week`` (labels like ``2026-W07``) or ``month`` (``2026-02``).
        start: The first day looked at.
        end: The last day looked at.

    Returns:
        One point per period overlapping the range, in order.

    Raises:
        ValueError: For a habit that is not a quantity habit, or an unknown granularity.
    """
    if habit.kind != "quantity":
        raise ValueError("trends are defined for quantity habits only")
    if granularity not in ("week", "month"):
        raise ValueError(f"unknown granularity {granularity!r}")
    first_day = max(start, habit.start_date)
    if first_day > end:
        return []
    lo, hi = first_day.toordinal(), end.toordinal()
    sums: dict[int, float] = {}
    for log in logs:
        if log.status != "skip":
            o = log.date.toordinal()
            if lo <= o <= hi:
                sums[o] = sums.get(o, 0.0) + (log.value or 0.0)
    labels, key = _trend_periods(granularity, first_day, end)
    grouped: list[list[float]] = [[] for _ in labels]
    for o in sorted(sums):
        grouped[key(o)].append(sums[o])
    points = []
    for label, values in zip(labels, grouped, strict=True):
        if values:
            total = math.fsum(values)
            points.append(
                TrendPoint(label, total / len(values), min(values), max(values), total, len(values))
            )
        else:
            points.append(TrendPoint(label, None, None, None, 0.0, 0))
    return points


def _trend_periods(
    granularity: Granularity, first_day: date, end: date
) -> tuple[list[str], Callable[[int], int]]:
    """Return the labels of the periods from ``first_day`` to ``end`` and a day-to-period map."""
    if granularity == "week":
        monday = first_day.toordinal() - first_day.weekday()
        labels = []
        for o in range(monday, end.toordinal() + 1, 7):
            year, week, _ = date.fromordinal(o).isocalendar()
            labels.append(f"{year}-W{week:02d}")
        return labels, lambda o: (o - monday) // 7
    first_month = first_day.year * 12 + first_day.month - 1
    last_month = end.year * 12 + end.month - 1
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first_month, last_month + 1)]

    def month_of(o: int) -> int:
        d = date.fromordinal(o)
        return d.year * 12 + d.month - 1 - first_month

    return labels, month_of


def _streak_unit(habit: HabitSpec) -> str:
    if habit.kind == "negative" or habit.schedule.type == "weekdays":
        return "day"
    return habit.schedule.unit


def _one_day_periods(schedule: Schedule) -> bool:
    return schedule.type == "weekdays" or (schedule.unit == "day" and schedule.every == 1)


def _streaks(states: bytes | bytearray) -> tuple[int, int]:
    """Return (current, longest) runs of ``S`` over period letters, the current period last."""
    seq = states.translate(None, _NOT_IN_A_RUN)
    if seq.endswith(b"P"):
        seq = seq[:-1]
    runs = seq.split(b"M")
    return len(runs[-1]), max(map(len, runs))


def _ratio(satisfied: int, missed: int) -> float | None:
    counted = satisfied + missed
    return satisfied / counted if counted else None


def _one_day_states(habit: HabitSpec, days: _Days) -> bytearray:
    """Return the letter of each day (``S``, ``M``, ``E`` or ``U``) when every period is a day."""
    if habit.kind == "boolean":
        states = bytearray(days.done.translate(_DONE_TO_STATE))
    else:
        target = _target(habit)
        at_most = target.direction == "at_most"
        met = days.amounts <= target.value if at_most else days.amounts >= target.value
        states = bytearray(np.where(met, _S, _M).astype(np.uint8).tobytes())
    for i in days.skips:
        states[i] = _E
    if habit.schedule.type == "weekdays":
        for offset in _unscheduled_offsets(habit.schedule, habit.start_date.weekday()):
            states[offset::7] = b"U" * len(range(offset, days.n, 7))
    return states


def _one_day_metrics(habit: HabitSpec, days: _Days, unit: str) -> HabitMetrics:
    """Metrics when every period is one day: a daily interval or a weekdays schedule."""
    n = days.n
    states = _one_day_states(habit, days)
    if states[-1] == _M:
        states[-1] = _P
    current, longest = _streaks(states)
    today_satisfied = int(states[-1] == _S)
    rates = []
    for width in (7, 30):
        past = states[max(0, n - width) : n - 1]
        rates.append(_ratio(past.count(b"S") + today_satisfied, past.count(b"M")))
    if habit.kind == "boolean":
        total = days.done.count(1)
        last = days.done.rfind(1)
    else:
        total = states.count(b"S")
        last = states.rfind(b"S")
    return HabitMetrics(
        current_streak=current,
        longest_streak=longest,
        streak_unit=unit,
        completion_rate_week=rates[0],
        completion_rate_month=rates[1],
        strength=_strength(_strength_walk(habit, days)),
        total_completions=total,
        last_completed_on=days.day(last) if last >= 0 else None,
    )


def _block_bounds(habit: HabitSpec, n: int) -> list[tuple[int, int]]:
    """Return the first and last day index of every multi-day period that starts by as-of.

    The first period may start before ``start_date`` (a negative index) and the last may end after
    the as-of date (an index of ``n`` or more).
    """
    schedule = habit.schedule
    every = schedule.every
    if schedule.unit in ("day", "week"):
        length = every if schedule.unit == "day" else 7 * every
        first = (
            0 if schedule.unit == "day" else -((habit.start_date.weekday() - habit.week_start) % 7)
        )
        return [(a, a + length - 1) for a in range(first, n, length)]
    base = habit.start_date.toordinal()
    step = every if schedule.unit == "month" else 12 * every
    month = habit.start_date.year * 12 + habit.start_date.month - 1
    if schedule.unit == "year":
        month -= habit.start_date.month - 1
    bounds = []
    a = _month_start(month) - base
    while a < n:
        month += step
        b = _month_start(month) - base - 1
        bounds.append((a, b))
        a = b + 1
    return bounds


def _month_start(month: int) -> int:
    """Return the ordinal of the first day of a month counted as ``year * 12 + month - 1``."""
    year = month // 12
    if year > date.max.year:
        return date.max.toordinal() + 1
    return date(year, month % 12 + 1, 1).toordinal()


def _block_states(habit: HabitSpec, days: _Days, bounds: list[tuple[int, int]]) -> bytearray:
    """Return the letter (``S``, ``M`` or ``E``) of each multi-day period in ``bounds``."""
    n = days.n
    skipped_before = list(accumulate(days.skipped, initial=0))
    states = bytearray(len(bounds))
    if habit.kind == "boolean":
        done_before = list(accumulate(days.done, initial=0))
        times = habit.schedule.times
        for j, (a, b) in enumerate(bounds):
            lo = a if a > 0 else 0
            hi = b + 1 if b < n else n
            required = times - (skipped_before[hi] - skipped_before[lo])
            if required <= 0:
                states[j] = _E
            elif done_before[hi] - done_before[lo] >= required:
                states[j] = _S
            else:
                states[j] = _M
        return states
    target = _target(habit)
    values = days.values
    for j, (a, b) in enumerate(bounds):
        lo = a if a > 0 else 0
        hi = b + 1 if b < n else n
        unskipped = b + 1 - lo - (skipped_before[hi] - skipped_before[lo])
        if unskipped == 0:
            states[j] = _E
        elif _quantity_met(target, math.fsum(values[lo:hi]), unskipped, b - a + 1):
            states[j] = _S
        else:
            states[j] = _M
    return states


def _block_metrics(habit: HabitSpec, days: _Days, unit: str) -> HabitMetrics:
    """Metrics for periods longer than a day (weeks, months, years, or ``every`` > 1 days)."""
    n = days.n
    bounds = _block_bounds(habit, n)
    states = _block_states(habit, days, bounds)
    if habit.kind == "boolean":
        total = days.done.count(1)
        last_index = days.done.rfind(1)
        last = days.day(last_index) if last_index >= 0 else None
    else:
        total = states.count(b"S")
        last = _last_quantity_completion(_target(habit), days, days.values, bounds, states)
    if states[-1] == _M:
        states[-1] = _P
    current, longest = _streaks(states)
    rates = []
    for width in (7, 30):
        satisfied = int(states[-1] == _S)
        missed = 0
        for j in range(len(bounds) - 2, -1, -1):
            if bounds[j][1] < n - width:
                break
            satisfied += states[j] == _S
            missed += states[j] == _M
        rates.append(_ratio(satisfied, missed))
    return HabitMetrics(
        current_streak=current,
        longest_streak=longest,
        streak_unit=unit,
        completion_rate_week=rates[0],
        completion_rate_month=rates[1],
        strength=_strength(_strength_walk(habit, days)),
        total_completions=total,
        last_completed_on=last,
    )


def _target(habit: HabitSpec) -> Target:
    if habit.target is None:
        raise ValueError("a quantity habit needs a target")
    return habit.target


def _quantity_met(target: Target, total: float, unskipped: int, length: int) -> bool:
    """Tell whether a period's total meets the target, pro-rated for ``at_least``.

    The pro-rating compares ``total * length`` with ``target * unskipped`` so that a period with
    nothing skipped is judged against the target itself, free of a division's rounding.
    """
    if target.direction == "at_most":
        return total <= target.value
    if unskipped == length:
        return total >= target.value
    return total * length >= target.value * unskipped


def _last_quantity_completion(
    target: Target,
    days: _Days,
    values: list[float],
    bounds: list[tuple[int, int]],
    states: bytearray,
) -> date | None:
    j = states.rfind(b"S")
    if j < 0:
        return None
    a, b = bounds[j]
    lo = max(a, 0)
    hi = min(b, days.n - 1)
    if target.direction == "at_most":
        return days.day(hi)
    unskipped = b + 1 - lo - days.skipped[lo : hi + 1].count(1)
    running = 0.0
    for i in range(lo, hi + 1):
        running += values[i]
        if _quantity_met(target, running, unskipped, b - a + 1):
            return days.day(i)
    # Only reached when summing day by day rounds below the period's fsum total.
    return days.day(hi)


def _negative_metrics(days: _Days, unit: str) -> HabitMetrics:
    """Metrics of a negative habit, where any log on a date makes it a slip day."""
    n = days.n
    slips = days.done
    last_slip = slips.rfind(1)
    rates = []
    for width in (7, 30):
        window = slips[max(0, n - width) :]
        rates.append((len(window) - window.count(1)) / len(window))
    last_free = slips.rfind(0)
    return HabitMetrics(
        current_streak=n - 1 - last_slip,
        longest_streak=max(map(len, slips.split(b"\x01"))),
        streak_unit=unit,
        completion_rate_week=rates[0],
        completion_rate_month=rates[1],
        strength=_strength(_negative_walk(days)),
        total_completions=n - slips.count(1),
        last_completed_on=days.day(last_free) if last_free >= 0 else None,
    )


class _Walk(NamedTuple):
    """The strength walk of one habit: its first score, daily multiplier and each day's ``c``."""

    score: float
    m: float
    terms: FloatArray
    skipped: bytearray


def _strength(walk: _Walk) -> float:
    """Return the score after the last day of the walk.

    The recurrence ``score = score * m + c * (1 - m)`` unrolls to
    ``score_0 * m**K + (1 - m) * sum(c_j * m**(K - 1 - j))`` over the ``K`` days that are not
    skipped (a skipped day leaves the score alone), which NumPy evaluates as one dot product.
    """
    score, m, terms, skipped = walk
    if 1 in skipped:
        terms = terms[np.frombuffer(skipped, dtype=np.uint8) == 0]
    kept = len(terms)
    powers = np.power(m, np.arange(kept - 1, -1, -1, dtype=np.float64))
    value = score * m**kept + (1.0 - m) * float(np.dot(terms, powers))
    # The exact value lies in 0..1; the summation's rounding may step a hair outside.
    return min(1.0, max(0.0, value))


def _multiplier(num: int, den: int) -> float:
    return float(0.5 ** (math.sqrt(num / den) / 13.0))


def _flags(flags: bytearray) -> IntArray:
    return np.frombuffer(flags, dtype=np.uint8).astype(np.int64)


def _negative_walk(days: _Days) -> _Walk:
    slip_free = (1 - _flags(days.done)).astype(np.float64)
    return _Walk(0.0, _multiplier(1, 1), slip_free, days.skipped)


def _strength_walk(habit: HabitSpec, days: _Days) -> _Walk:
    """Prepare the strength walk of section 5 over the days from ``start_date`` through as-of."""
    if habit.kind == "negative":
        return _negative_walk(days)
    num, den = habit.schedule.frequency
    m = _multiplier(num, den)
    if habit.kind == "boolean":
        done = _flags(days.done)
        if num >= den:
            return _Walk(0.0, m, done.astype(np.float64), days.skipped)
        # Loop doubles the window of a less-than-daily habit to smooth irregular schedules.
        counts = _window_sums(done, 2 * den).astype(np.float64)
        return _Walk(0.0, m, np.minimum(counts / (2 * num), 1.0), days.skipped)
    target = _target(habit)
    sums = days.amounts if den == 1 else _window_sums(days.amounts, den)
    limit = target.value
    if target.direction == "at_least":
        if limit <= 0:
            return _Walk(0.0, m, np.ones(days.n), days.skipped)
        return _Walk(0.0, m, np.clip(sums / limit, 0.0, 1.0), days.skipped)
    if limit <= 0:
        return _Walk(1.0, m, (sums <= 0.0).astype(np.float64), days.skipped)
    # Full marks within the target, none at twice the target or more.
    return _Walk(1.0, m, np.clip(2.0 - sums / limit, 0.0, 1.0), days.skipped)


def _window_sums(daily: _Array, window: int) -> _Array:
    """Return, for each day, the sum over it and the ``window - 1`` days before it."""
    before = np.zeros(len(daily) + 1, dtype=daily.dtype)
    np.cumsum(daily, out=before[1:])
    lagged = np.zeros(len(daily), dtype=daily.dtype)
    if window <= len(daily):
        lagged[window - 1 :] = before[: len(daily) - window + 1]
    return before[1:] - lagged
