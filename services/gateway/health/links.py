"""Which days a habit linked to health data is logged for. Pure: no I/O.

A link says "log this habit on a day when ``data_type`` (``workout_type`` for workouts) is at
least (or at most) ``threshold``". Only days from the habit's start through the user's today
count, and a day that already has a log of any kind (a manual one, a skip, an earlier
auto-log) is left alone: an import never overwrites what the user wrote, and importing the same
file twice logs nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

Direction = Literal["at_least", "at_most"]


@dataclass(frozen=True)
class LinkRule:
    """A link's rule, as the auto-logger applies it."""

    threshold: float
    direction: Direction = "at_least"

    def met(self, value: float) -> bool:
        """Whether a day's value satisfies the rule."""
        if self.direction == "at_most":
            return value <= self.threshold
        return value >= self.threshold


def combine_integrations(rows: Iterable[tuple[date, float]]) -> dict[date, float]:
    """One value per day from several integrations' rows: the largest (the best-covered one)."""
    out: dict[date, float] = {}
    for day, value in rows:
        if day not in out or value > out[day]:
            out[day] = value
    return out


def days_to_log(
    values: Mapping[date, float],
    rule: LinkRule,
    *,
    start: date,
    today: date,
    logged: set[date],
) -> list[date]:
    """The days to auto-log, in order.

    Args:
        values: The day's value of the linked data type, for the days the data covers.
        rule: The link's threshold and direction.
        start: The habit's start date (earlier days do not count for its metrics).
        today: The user's today (a log is never in the future).
        logged: Days that already have a log of the habit.

    Returns:
        The days whose value meets the rule and that have no log yet.
    """
    return sorted(
        day
        for day, value in values.items()
        if start <= day <= today and day not in logged and rule.met(value)
    )
