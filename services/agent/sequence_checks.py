"""The sequencing rules as code: the evaluation runner and the tests check plans with them."""

from __future__ import annotations

from collections.abc import Sequence

from services.agent.coaching.schema import FOUNDATION_MAX_MINUTES, TINY_MINUTES
from services.agent.scheduling import minutes_of
from services.agent.sequences import DAY_NAMES, HabitSequencePlan, SequenceHabit

TIMEFRAME_TOLERANCE = 0.15

# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def sequence_checks(
    plan: HabitSequencePlan,
    timeframe_days: int | None,
    *,
    min_phases: int = 3,
    keywords_any: Sequence[str] = (),
    chronotype: str | None = None,
    minutes_available: int | None = None,
) -> list[str]:
    """List the ways a plan breaks the sequencing rules; an empty list means it meets them.

    Args:
        plan: The plan to check.
        timeframe_days: The goal's time frame; phase lengths must add up to it within 15%.
            None skips that check.
        min_phases: The least number of phases.
        keywords_any: When given, some habit name must contain one of them (case-insensitive).
        chronotype: When given, flexible habits must sit in the morning (before noon) for
            ``"morning"`` or in the evening (from 17:00) for ``"evening"``.
        minutes_available: When given, no day of any phase may need more minutes than this.

    Returns:
        Human-readable problems, empty when the plan is fine.
    """
    problems: list[str] = []
    phases = plan.phases
    if len(phases) < max(3, min_phases):
        problems.append(f"only {len(phases)} phases, need at least {max(3, min_phases)}")
    if [p.phase_number for p in phases] != list(range(1, len(phases) + 1)):
        problems.append("phase numbers are not 1..n in order")
    if not phases:
        return problems

    first = phases[0]
    if not first.habits:
        problems.append("phase 1 has no habits")
    if not any(h.duration_minutes <= TINY_MINUTES for h in first.habits):
        problems.append("phase 1 has no habit of two minutes or less")
    for habit in first.habits:
        if habit.frequency != "daily":
            problems.append(f'phase 1 habit "{habit.name}" is not daily')
        if habit.duration_minutes > FOUNDATION_MAX_MINUTES:
            problems.append(f'phase 1 habit "{habit.name}" is longer than 10 minutes')

    seen: dict[str, SequenceHabit] = {h.name: h for h in first.habits}
    for phase in phases[1:]:
        if not phase.habits:
            problems.append(f"phase {phase.phase_number} has no habits")
        builds = bool(phase.carried_forward) or any(
            any(f'"{name}"' in h.stack_trigger for name in seen) for h in phase.habits
        )
        if not builds:
            problems.append(f"phase {phase.phase_number} does not build on earlier habits")
        for habit in phase.habits:
            if not habit.progression.strip():
                problems.append(f'habit "{habit.name}" has no progression')
        seen.update({h.name: h for h in phase.habits})

    for phase in phases:
        for habit in phase.habits:
            if habit.duration_minutes < 1 or not habit.rationale.strip() or not habit.name.strip():
                problems.append(f'habit "{habit.name}" lacks a duration, name or rationale')

    total_days = sum(p.duration_weeks for p in phases) * 7
    if (
        timeframe_days is not None
        and timeframe_days > 0
        and abs(total_days - timeframe_days) > TIMEFRAME_TOLERANCE * timeframe_days
    ):
        problems.append(f"phases add up to {round(total_days)} days, not {timeframe_days} (±15%)")

    if keywords_any:
        names = " ".join(h.name.lower() for p in phases for h in p.habits)
        if not any(k.lower() in names for k in keywords_any):
            problems.append(f"no habit name contains any of {list(keywords_any)}")

    if chronotype in ("morning", "evening"):
        for phase in phases:
            for habit in phase.habits:
                if habit.time_anchor not in ("am", "pm"):
                    continue
                minute = minutes_of(habit.time_of_day)
                if chronotype == "morning" and minute >= 12 * 60:
                    problems.append(f'"{habit.name}" is not in the morning for a morning person')
                if chronotype == "evening" and minute < 17 * 60:
                    problems.append(f'"{habit.name}" is not in the evening for an evening person')

    if minutes_available is not None:
        latest: dict[str, SequenceHabit] = {}
        for phase in phases:
            load = dict.fromkeys(DAY_NAMES.values(), 0)
            in_phase = [*phase.habits, *(latest[n] for n in phase.carried_forward if n in latest)]
            for habit in in_phase:
                for day in habit.days:
                    load[day] += habit.duration_minutes
            busiest = max(load.values())
            if busiest > minutes_available:
                problems.append(
                    f"phase {phase.phase_number} needs {busiest} minutes on its busiest day, "
                    f"more than {minutes_available}"
                )
            latest.update({h.name: h for h in phase.habits})
    return problems
