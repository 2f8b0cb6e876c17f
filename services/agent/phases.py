"""When a habit sequence moves on, and what each phase asks the gateway for: pure, no I/O.

A phase advances only when both hold: its planned length has passed since it began, and every
habit it tracks is stable, a 7-day completion rate (from the metrics service) of at least
:data:`STABLE_RATE`. The calendar alone never advances a plan, and neither does one good week
early on. A phase tracks its own habits and the earlier habits it carries forward; a habit whose
name an earlier phase already created is reused (its progression is a change of effort, not a
new habit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.agent.backend import NewHabit, Schedule
from services.agent.sequences import HabitSequencePlan, SequenceHabit, SequencePhase

STABLE_RATE = 0.8


@dataclass(frozen=True)
class TrackedHabit:
    """A habit a phase tracks, with its latest 7-day completion rate (None: no metrics yet)."""

    name: str
    completion_rate_week: float | None


def phase_of(plan: HabitSequencePlan, number: int) -> SequencePhase:
    """The phase with this number (1-based)."""
    return plan.phases[number - 1]


def phase_names(plan: HabitSequencePlan, number: int) -> list[str]:
    """Names of the habits phase ``number`` tracks: its own, then those carried forward."""
    phase = phase_of(plan, number)
    own = [h.name for h in phase.habits]
    return list(dict.fromkeys([*own, *phase.carried_forward]))


def is_stable(tracked: Sequence[TrackedHabit], min_rate: float = STABLE_RATE) -> bool:
    """Whether every tracked habit has a 7-day rate of at least ``min_rate``."""
    return bool(tracked) and all(
        t.completion_rate_week is not None and t.completion_rate_week >= min_rate for t in tracked
    )


def should_advance(
    plan: HabitSequencePlan,
    current_phase: int,
    phase_started_on: date,
    today: date,
    tracked: Sequence[TrackedHabit],
) -> bool:
    """Whether the current phase is done: its length has passed and its habits are stable.

    Args:
        plan: The sequence's plan.
        current_phase: The phase the user is in (1-based).
        phase_started_on: The user's date when that phase began.
        today: The user's date now.
        tracked: The habits the phase tracks, with their rates.

    Returns:
        True when the user should move on (to the next phase, or finish after the last one).
    """
    phase = phase_of(plan, current_phase)
    return (today - phase_started_on).days >= phase.duration_days and is_stable(tracked)


def habits_to_create(
    plan: HabitSequencePlan, number: int, created: Iterable[str]
) -> list[SequenceHabit]:
    """The habits of phase ``number`` that no earlier phase created (by name, any case)."""
    have = {name.casefold() for name in created}
    return [h for h in phase_of(plan, number).habits if h.name.casefold() not in have]


def new_habit(habit: SequenceHabit) -> NewHabit:
    """The gateway habit for a sequence habit: boolean, on the plan's schedule and time."""
    s = habit.schedule
    if s.type == "weekdays":
        schedule = Schedule(type="weekdays", days=s.days)
    else:
        schedule = Schedule(every=s.every or 1, unit=s.unit or "day", times=s.times or 1)
    return NewHabit(title=habit.name[:120], schedule=schedule, time_of_day=habit.time_of_day)


def describe(habit: SequenceHabit, phase: SequencePhase) -> str:
    """The habit's description: why it is there, what triggers it and how it will grow."""
    parts = [
        f"Phase {phase.phase_number} ({phase.name}) of your plan: {habit.rationale}",
        f"{habit.duration_minutes} min, {habit.frequency}.",
    ]
    if habit.stack_trigger:
        parts.append(f"Trigger: {habit.stack_trigger}.")
    if habit.progression:
        parts.append(f"Next: {habit.progression}")
    return " ".join(p.strip() for p in parts if p.strip())
