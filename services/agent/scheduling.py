"""Phase lengths and weekday scheduling of a habit sequence: pure arithmetic, no data.

Phase lengths add up exactly to the goal's time frame; non-daily habits get the weekday pattern
that keeps the busiest day lightest, and :func:`fit_budget` shrinks or drops habits until no day
asks for more than the user's free minutes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.agent.coaching.schema import TINY_MINUTES, Anchor

WEEKDAY_CODES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# --------------------------------------------------------------------------------------------
# Phase lengths
# --------------------------------------------------------------------------------------------


def phase_count(total_days: int) -> int:
    weeks = total_days / 7
    if weeks <= 16:
        return 3
    if weeks <= 39:
        return 4
    if weeks <= 104:
        return 5
    return 6


def _largest_remainder(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights``, each at least ``minimum``."""
    spare = total - minimum * len(weights)
    raw = [spare * w / sum(weights) for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def phase_days(total_days: int, count: int) -> list[int]:
    """Phase lengths in days, adding up exactly to the time frame.

    From four weeks per phase up, every phase but the last is whole weeks and the last takes the
    remaining days, so the plan ends on the goal's deadline; shorter plans are cut in days.
    """
    rest_weights = [1 + 0.2 * i for i in range(count - 1)]
    total_days = max(total_days, count)
    weeks = total_days // 7
    if weeks >= 4 * count:
        # The spec's foundation is two weeks; very long plans get a little more.
        foundation = min(4, max(2, round(weeks * 0.1)))
        rest = _largest_remainder(weeks - foundation, rest_weights, 1)
        lengths = [7 * w for w in [foundation, *rest]]
        lengths[-1] += total_days - 7 * weeks
        return lengths
    foundation = max(1, round(total_days * 0.2))
    return [foundation, *_largest_remainder(total_days - foundation, rest_weights, 1)]


def weeks_value(days: int) -> int | float:
    return days // 7 if days % 7 == 0 else round(days / 7, 2)


# --------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------

_DAY_PATTERNS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("sun",), ("sat",), ("wed",), ("thu",)),
    2: (("tue", "thu"), ("mon", "thu"), ("wed", "sat"), ("sat", "sun")),
    3: (("mon", "wed", "fri"), ("tue", "thu", "sat"), ("mon", "wed", "sat"), ("sun", "tue", "thu")),
    4: (("mon", "tue", "thu", "sat"), ("mon", "wed", "fri", "sun"), ("tue", "wed", "fri", "sun")),
    5: (
        ("mon", "tue", "wed", "thu", "fri"),
        ("mon", "tue", "thu", "fri", "sat"),
        ("sun", "mon", "wed", "thu", "sat"),
    ),
    6: (("mon", "tue", "wed", "thu", "fri", "sat"), ("tue", "wed", "thu", "fri", "sat", "sun")),
}


@dataclass(frozen=True)
class Planned:
    """A habit being placed into a phase, before times and triggers are resolved."""

    name: str
    minutes: int
    per_week: int
    anchor: Anchor
    progression: str
    rationale: str
    carry: bool
    follows: str | None = None
    days: tuple[str, ...] = ()


def assign_days(habits: list[Planned], fixed_load: dict[str, int]) -> list[Planned]:
    """Give each non-daily habit the weekday pattern that keeps the busiest day lightest."""
    load = dict(fixed_load)
    own = dict.fromkeys(WEEKDAY_CODES, 0)  # this phase's non-daily habits per day
    placed: list[Planned] = []
    days_of: dict[str, tuple[str, ...]] = {}
    for habit in habits:
        followed = days_of.get(habit.follows or "")
        if habit.per_week >= 7:
            days = WEEKDAY_CODES
        elif followed is not None and len(followed) == max(1, habit.per_week):
            days = followed
        else:
            options = _DAY_PATTERNS[max(1, habit.per_week)]
            # Spread this phase's sessions over different days first (two runs on one day is
            # worse than a longer day), then keep the busiest day as light as possible.
            days = min(
                options,
                key=lambda pattern: (
                    max(own[d] for d in pattern),
                    max(load[d] for d in pattern),
                    sum(load[d] for d in pattern),
                ),
            )
            for d in days:
                own[d] += 1
        days_of[habit.name] = tuple(days)
        for d in days:
            load[d] += habit.minutes
        placed.append(replace(habit, days=tuple(days)))
    return placed


def day_loads(habits: Sequence[Planned], carried: Sequence[Planned]) -> dict[str, int]:
    load = dict.fromkeys(WEEKDAY_CODES, 0)
    for habit in [*habits, *carried]:
        for d in habit.days:
            load[d] += habit.minutes
    return load


def fit_budget(
    habits: list[Planned],
    carried: list[Planned],
    budget: int | None,
    keep: str | None,
    frozen: frozenset[str] = frozenset(),
) -> tuple[list[Planned], list[Planned]]:
    """Shrink, then drop, habits until no day needs more than ``budget`` minutes.

    Tiny habits keep their length; longer ones shrink proportionally (never below a minute);
    then carried-forward habits go (the smallest last), then this phase's last habits, always
    keeping ``keep`` (the foundation's two-minute habit), the ``frozen`` ones (already at a dose
    that fitted) and at least one habit.
    """
    if budget is None:
        return habits, carried
    for _ in range(4 * (len(habits) + len(carried)) + 4):
        load = day_loads(habits, carried)
        if max(load.values()) <= budget:
            return habits, carried

        def scalable(h: Planned) -> bool:
            return h.minutes > TINY_MINUTES and h.name not in frozen

        factors: dict[str, float] = {}
        for d in WEEKDAY_CODES:
            fixed = sum(h.minutes for h in [*habits, *carried] if d in h.days) - sum(
                h.minutes for h in habits if d in h.days and scalable(h)
            )
            flexible = sum(h.minutes for h in habits if d in h.days and scalable(h))
            factors[d] = 1.0 if flexible == 0 else max(0.0, (budget - fixed) / flexible)
        shrunk = []
        for h in habits:
            factor = min(factors[d] for d in h.days)
            if scalable(h) and factor < 1:
                h = replace(h, minutes=max(1, math.floor(h.minutes * factor)))
            shrunk.append(h)
        if shrunk != habits:
            habits = shrunk
            continue
        # Keep the smallest carried habit longest: it is what ties this phase to the last one.
        if len(carried) > 1:
            carried = sorted(carried, key=lambda h: h.minutes)[:-1]
            continue
        droppable = [h for h in habits if h.name != keep and h.name not in frozen]
        if len(habits) > 1 and droppable:
            worst = max(WEEKDAY_CODES, key=lambda d: load[d])
            on_worst = [h for h in droppable if worst in h.days] or droppable
            victim = on_worst[-1]
            habits = [h for h in habits if h is not victim]
            continue
        if carried:
            carried = []
            continue
        habits = [replace(h, minutes=max(1, min(h.minutes, budget))) for h in habits]
    return habits, carried


def minutes_of(hhmm: str) -> int:
    """Minutes after midnight of an ``HH:MM`` time."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
