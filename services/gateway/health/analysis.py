"""What the health data says over a span, and how it moves with the user's habits. Pure.

:func:`summarize` gives the totals the assistant reports ("you slept 7 h 12 min a night this
week"); :func:`compare_with_habits` sets the data on days a habit was done against the other
days of the span ("you walk 30% more on days you log your run"). A comparison needs at least
:data:`MIN_DAYS` days on each side, so one lucky day does not make a pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

MIN_DAYS = 2


@dataclass(frozen=True)
class Summary:
    """The data of a span: days with data, total, average per such day, extremes."""

    days_with_data: int
    total: float
    average: float | None
    minimum: float | None
    maximum: float | None
    best_day: date | None


@dataclass(frozen=True)
class HabitComparison:
    """The average on days a habit was done against the other days with data."""

    habit_id: str
    title: str
    days_done: int
    days_other: int
    average_done: float
    average_other: float
    difference_percent: float | None


def summarize(values: Mapping[date, float]) -> Summary:
    """Totals of a span's daily values."""
    if not values:
        return Summary(0, 0.0, None, None, None, None)
    total = sum(values.values())
    best = max(values, key=lambda d: (values[d], d))
    return Summary(
        days_with_data=len(values),
        total=round(total, 2),
        average=round(total / len(values), 2),
        minimum=round(min(values.values()), 2),
        maximum=round(values[best], 2),
        best_day=best,
    )


def compare_with_habits(
    values: Mapping[date, float],
    habits: Sequence[tuple[str, str, set[date]]],
) -> list[HabitComparison]:
    """Compare the data on each habit's done days with the rest, largest difference first.

    Args:
        values: Daily values over the span (days without data are left out of both sides).
        habits: ``(habit id, title, done dates)`` for the user's habits.

    Returns:
        One comparison per habit with at least :data:`MIN_DAYS` days on each side.
    """
    out: list[HabitComparison] = []
    for habit_id, title, done in habits:
        on = [v for d, v in values.items() if d in done]
        off = [v for d, v in values.items() if d not in done]
        if len(on) < MIN_DAYS or len(off) < MIN_DAYS:
            continue
        avg_on, avg_off = sum(on) / len(on), sum(off) / len(off)
        diff = round(100 * (avg_on - avg_off) / avg_off, 1) if avg_off else None
        out.append(
            HabitComparison(
                habit_id=habit_id,
                title=title,
                days_done=len(on),
                days_other=len(off),
                average_done=round(avg_on, 2),
                average_other=round(avg_off, 2),
                difference_percent=diff,
            )
        )
    out.sort(key=lambda c: -abs(c.difference_percent or 0.0))
    return out
