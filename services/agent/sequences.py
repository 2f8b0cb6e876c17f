"""Habit sequence generation: a goal becomes phases of habits that build on each other.

A plan follows the spec's sequencing principles. Phase 1 (foundation) is daily and tiny, with at
least one habit of two minutes or less, because a habit too small to skip builds the cue before
the effort matters (Fogg's "tiny habits", Clear's two-minute rule). Core and advanced phases add
longer sessions and stack new habits onto ones already in place; progression texts say how the
load grows (progressive overload). Long goals get more phases: an extra "build" phase that
intensifies the core habits, a "sustain" phase that holds the level and adds a weekly review, and
for multi-year goals a second advanced block. Phase lengths add up to the goal's time frame.

Timing follows the chronotype (morning people get morning slots, evening people evening ones;
habits tied to waking, meals or bedtime keep their anchor) and durations are scaled so that no day
asks for more than the minutes the user said they have.

Each domain has its own template (running, strength, weight loss, general fitness; language,
reading, instrument, skill; saving, debt, budgeting, investing; sleep, meditation, hydration,
nutrition, quitting; focus, planning, writing) and there is a generic fallback.

:func:`services.agent.sequence_checks.sequence_checks` states the rules as code; phase lengths and
weekday scheduling are in :mod:`services.agent.scheduling`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.agent.coaching.library import library
from services.agent.coaching.schema import (
    TINY_MINUTES,
    Anchor,
    DomainSpec,
    HabitBlueprint,
    StageSpec,
)
from services.agent.goals import GoalAnalysis
from services.agent.scheduling import (
    Planned,
    assign_days,
    day_loads,
    fit_budget,
    minutes_of,
    phase_count,
    phase_days,
    weeks_value,
)
from services.agent.understanding import match_habits

Stage = Literal["foundation", "core", "build", "advanced", "advanced2", "sustain"]

DAY_NAMES: dict[str, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_CODE_OF_DAY = {name: code for code, name in DAY_NAMES.items()}

_FROZEN = ConfigDict(frozen=True)


class HabitSchedule(BaseModel):
    """The habit's schedule in the public API's shape, ready for ``create_habit``."""

    model_config = _FROZEN

    type: Literal["interval", "weekdays"]
    every: int | None = None
    unit: Literal["day", "week", "month"] | None = None
    times: int | None = None
    days: tuple[str, ...] = ()


class SequenceHabit(BaseModel):
    """One habit of a phase."""

    model_config = _FROZEN

    name: str
    frequency: str
    duration_minutes: int
    time_of_day: str
    stack_trigger: str
    progression: str
    days: tuple[str, ...]
    rationale: str
    time_anchor: Anchor
    schedule: HabitSchedule


class SequencePhase(BaseModel):
    """One phase: a stretch of weeks with its own habits and a bar to clear before moving on."""

    model_config = _FROZEN

    phase_number: int
    name: str
    duration_weeks: int | float
    duration_days: int
    start_date: date
    end_date: date
    focus: str
    success_criteria: tuple[str, ...]
    habits: tuple[SequenceHabit, ...]
    carried_forward: tuple[str, ...] = ()


class HabitSequencePlan(BaseModel):
    """A habit sequence in the JSON shape of the spec's marathon example."""

    model_config = _FROZEN

    name: str
    description: str
    goal: str
    domain: str | None
    category: str
    total_duration_weeks: int | float
    total_duration_days: int
    start_date: date
    end_date: date
    phases: tuple[SequencePhase, ...]


# --------------------------------------------------------------------------------------------
# The data (services/agent/coaching)
# --------------------------------------------------------------------------------------------


def _template(category: str) -> DomainSpec:
    return library().domain(category)


# --------------------------------------------------------------------------------------------
# Times and triggers
# --------------------------------------------------------------------------------------------


def _slot(anchor: Anchor, chronotype: str | None) -> str:
    if anchor == "am":
        return "evening" if chronotype == "evening" else "morning"
    if anchor == "pm":
        return "morning" if chronotype == "morning" else "evening"
    return {"wake": "morning", "bedtime": "bedtime", "meal": "meal"}[anchor]


def _slot_start(slot: str, chronotype: str | None) -> int:
    """Minutes after midnight where a slot's chain of habits starts."""
    starts = library().anchors.slot_starts[slot]  # type: ignore[index]
    hhmm = starts[chronotype if chronotype in ("morning", "evening") else "none"]
    return minutes_of(hhmm)


def _clock(minutes: int) -> str:
    minutes = max(0, min(minutes, 23 * 60 + 59))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _existing_anchor(slot: str, existing: Sequence[str]) -> str | None:
    words = library().anchors.existing_habit_words[slot]  # type: ignore[index]
    pattern = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
    for title in existing:
        if re.search(pattern, title.lower()):
            return title
    return None


def _resolve(
    planned: list[Planned],
    chronotype: str | None,
    earlier_by_slot: dict[str, tuple[str, int]],
    existing: Sequence[str],
    first_phase: bool,
) -> list[tuple[Planned, str, str]]:
    """Clock times and stack triggers: each habit follows the one before it in its slot."""
    order = {"wake": 0, "am": 1, "meal": 2, "pm": 3, "bedtime": 4}
    slots: dict[str, list[Planned]] = {}
    for habit in sorted(planned, key=lambda h: order[h.anchor]):
        slots.setdefault(_slot(habit.anchor, chronotype), []).append(habit)
    resolved: dict[str, tuple[str, str]] = {}
    for slot, chain in slots.items():
        start = _slot_start(slot, chronotype)
        if slot == "bedtime":
            # The bedtime chain ends at bedtime, starting on a round five minutes.
            start -= sum(h.minutes for h in chain if h.per_week >= 7)
            start -= start % 5
        ends: list[tuple[Planned, int]] = []
        for habit in chain:
            earlier = [(h, end) for h, end in ends if set(h.days) & set(habit.days)]
            begin = max([end for _, end in earlier], default=start)
            if earlier:
                previous = max(earlier, key=lambda pair: pair[1])[0]
                trigger = f'After "{previous.name}"'
            elif not first_phase and slot in earlier_by_slot and slot != "bedtime":
                anchor_name, anchor_end = earlier_by_slot[slot]
                trigger = f'After "{anchor_name}"'
                begin = max(begin, anchor_end)
            elif habit.anchor == "wake":
                trigger = "Right after you get out of bed"
            elif (anchor := _existing_anchor(slot, existing)) is not None:
                trigger = f'After your existing "{anchor}" habit'
            else:
                trigger = library().anchors.first_triggers[slot]  # type: ignore[index]
            resolved[habit.name] = (_clock(begin), trigger)
            ends.append((habit, begin + habit.minutes))
    return [(habit, *resolved[habit.name]) for habit in planned]


def _end_minute(time: str, minutes: int) -> int:
    hours, mins = time.split(":")
    return int(hours) * 60 + int(mins) + minutes


def _frequency(per_week: int) -> str:
    if per_week >= 7:
        return "daily"
    if per_week == 0:
        return "monthly"
    if per_week == 1:
        return "weekly"
    return f"{per_week}x weekly"


def _schedule(per_week: int, days: tuple[str, ...]) -> HabitSchedule:
    if per_week >= 7:
        return HabitSchedule(type="interval", every=1, unit="day", times=1)
    if per_week == 0:
        return HabitSchedule(type="interval", every=1, unit="month", times=1)
    return HabitSchedule(type="weekdays", days=days)


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def _fields(goal: GoalAnalysis) -> dict[str, str]:
    """Values for the template placeholders, from the goal's subject and metrics."""
    template = _template(goal.category)
    subject = goal.subject or template.default_subject or "your goal"
    currency = "$"
    pace = "your target"
    for metric in goal.target_metrics:
        if metric.unit in ("usd", "eur", "gbp"):
            currency = {"usd": "$", "eur": "€", "gbp": "£"}[metric.unit]
    by_name = {m.name: m for m in goal.target_metrics}
    if "monthly saving" in by_name:
        pace = f"{currency}{by_name['monthly saving'].value:,} a month"
    elif "monthly payment" in by_name:
        pace = f"{currency}{by_name['monthly payment'].value:,} a month"
    elif "weekly pace" in by_name:
        m = by_name["weekly pace"]
        pace = f"about {m.value} {m.unit} a week"
    elif "pages per day" in by_name:
        pace = f"about {by_name['pages per day'].value} pages a day"
    elif goal.category == "hydration":
        glasses = next((m for m in goal.target_metrics if m.unit == "glasses"), None)
        pace = f"{glasses.value} glasses of water a day" if glasses else "8 glasses of water a day"
    elif goal.category == "sleep":
        hours = next((m for m in goal.target_metrics if m.unit == "hours"), None)
        pace = f"{hours.value} hours of sleep" if hours else "7-8 hours of sleep"
    elif goal.category == "weight_loss":
        pace = "about 1 lb (0.5 kg) a week"
    free = template.free_forms.get(subject, f"{subject}-free")
    return {
        "subject": subject,
        "Subject": subject[:1].upper() + subject[1:],
        "free": free,
        "Free": free[:1].upper() + free[1:],
        "cur": currency,
        "pace": pace,
    }


def _plan_habit(blueprint: HabitBlueprint, fields: dict[str, str], goal: GoalAnalysis) -> Planned:
    minutes = blueprint.minutes
    facts = _template(goal.category).subjects.get(goal.subject or "")
    if facts is not None:
        minutes = facts.minutes.get(blueprint.name, minutes)
    return Planned(
        name=blueprint.name.format(**fields),
        minutes=minutes,
        per_week=blueprint.per_week,
        anchor=blueprint.anchor,
        progression=blueprint.progression.format(**fields),
        rationale=blueprint.rationale.format(**fields),
        carry=blueprint.carry,
        follows=blueprint.follows.format(**fields) if blueprint.follows else None,
    )


def _progressed(habit: Planned, more_days: bool) -> Planned:
    """The same habit one step harder (``overload.yaml``): longer and, if allowed, one more day.

    Under a daily time budget an extra day tends to land on a day that is already full, so
    then the step up is in minutes only.
    """
    rules = library().overload
    minutes = habit.minutes
    if minutes > TINY_MINUTES:
        minutes = math.ceil(minutes * rules.step_factor)
        if minutes >= rules.round_from_minutes:
            minutes = rules.round_to_minutes * math.ceil(minutes / rules.round_to_minutes)
    low, high = rules.extra_day_between
    per_week = habit.per_week + 1 if more_days and low <= habit.per_week <= high else habit.per_week
    return replace(habit, minutes=minutes, per_week=per_week, follows=habit.follows)


def _stages(count: int) -> list[Stage]:
    if count <= 3:
        return ["foundation", "core", "advanced"]
    if count == 4:
        return ["foundation", "core", "build", "advanced"]
    if count == 5:
        return ["foundation", "core", "build", "advanced", "sustain"]
    return ["foundation", "core", "build", "advanced", "advanced2", "sustain"]


def _matches_existing(name: str, existing: Sequence[str]) -> str | None:
    found = match_habits(name.lower(), existing)
    return found[0] if found else None


@dataclass(frozen=True)
class _PhaseSpec:
    stage: Stage
    name: str
    focus: str
    criterion: str
    habits: tuple[Planned, ...]


def _phase_spec(
    stage: Stage,
    template: DomainSpec,
    planned: dict[str, list[Planned]],
    latest: dict[str, Planned],
    fields: dict[str, str],
    more_days: bool,
) -> _PhaseSpec:
    """What a phase of the given stage holds, before days, budget and times are worked out."""
    steady = "Every habit of this phase done on at least 80% of its days for two weeks"
    stage_text: StageSpec
    if stage == "foundation":
        stage_text = template.foundation
        spec = (
            template.phase_names[0],
            stage_text.focus,
            stage_text.criterion,
            planned["foundation"],
        )
    elif stage == "core":
        stage_text = template.core
        spec = (template.phase_names[1], stage_text.focus, stage_text.criterion, planned["core"])
    elif stage == "build":
        habits = [_progressed(latest.get(h.name, h), more_days) for h in planned["core"]]
        spec = (template.phase_names[2], template.build_focus, steady, habits)
    elif stage == "advanced":
        stage_text = template.advanced
        spec = (
            template.phase_names[3],
            stage_text.focus,
            stage_text.criterion,
            planned["advanced"],
        )
    elif stage == "advanced2":
        habits = [_progressed(latest.get(h.name, h), more_days) for h in planned["advanced"]]
        spec = (
            f"{template.phase_names[3]} II",
            f"{template.advanced.focus}, one level up",
            template.advanced.criterion,
            habits,
        )
    else:
        habits = [latest.get(h.name, h) for h in planned["advanced"]] + planned["review"]
        spec = (
            template.phase_names[4],
            template.sustain_focus,
            "All habits kept for four weeks running with no more than one miss in a row",
            habits,
        )
    name, focus, criterion, habits = spec
    return _PhaseSpec(
        stage=stage,
        name=name,
        focus=focus.format(**fields),
        criterion=criterion.format(**fields),
        habits=tuple(habits),
    )


def _backslides(habits: Sequence[Planned], latest: dict[str, Planned]) -> bool:
    """Whether a returning habit came out shorter or rarer than it was last phase."""
    return any(
        h.name in latest
        and (h.minutes < latest[h.name].minutes or h.per_week < latest[h.name].per_week)
        for h in habits
    )


def _progression_text(
    habit: Planned, stage: Stage, previous: Planned | None, previous_phase: int | None
) -> str:
    if previous is None or previous_phase is None:
        return habit.progression
    if stage == "sustain":
        return f"Hold this level. {habit.progression}"
    if habit.minutes == previous.minutes and habit.per_week == previous.per_week:
        return f"Keep it going at the phase {previous_phase} level. {habit.progression}"
    change = f"up from {previous.minutes} min"
    if habit.per_week != previous.per_week:
        change += f", {_frequency(previous.per_week)}"
    return f"Step up ({change} in phase {previous_phase}). {habit.progression}"


def generate_sequence(
    goal: GoalAnalysis,
    chronotype: str | None,
    minutes_available: int | None,
    existing_habits: Sequence[str],
    today: date,
) -> HabitSequencePlan:
    """Generate a phased habit sequence for an analysed goal.

    Args:
        goal: The goal, from :func:`services.agent.goals.analyze_goal`.
        chronotype: ``"morning"`` or ``"evening"`` to place flexible habits in that part of the
            day; None for sensible defaults per habit.
        minutes_available: Free minutes per day; no day of any phase asks for more. None for no
            limit.
        existing_habits: Titles of the user's current habits: new habits are stacked onto a
            matching one where it fits, and a habit that upgrades an existing one says so.
        today: The plan's start date.

    Returns:
        The plan: at least three phases (foundation → core → advanced, more for long goals),
        whose lengths add up to the goal's time frame.
    """
    template = _template(goal.category)
    fields = _fields(goal)
    budget = max(1, minutes_available) if minutes_available is not None else None
    if chronotype not in ("morning", "evening"):
        chronotype = None

    total_days = max(3, goal.timeframe_days)
    stages = _stages(phase_count(total_days))
    lengths = phase_days(total_days, len(stages))
    planned = {
        "foundation": [_plan_habit(h, fields, goal) for h in template.foundation.habits],
        "core": [_plan_habit(h, fields, goal) for h in template.core.habits],
        "advanced": [_plan_habit(h, fields, goal) for h in template.advanced.habits],
        "review": [_plan_habit(template.review, fields, goal)],
    }
    tiny_name = next(h.name for h in planned["foundation"] if h.minutes <= TINY_MINUTES)

    phases: list[SequencePhase] = []
    latest: dict[str, Planned] = {}  # each habit as last scheduled
    latest_phase: dict[str, int] = {}
    carried: dict[str, Planned] = {}
    anchors_by_slot: dict[str, list[tuple[str, int]]] = {}
    start = today
    for number, (stage, days) in enumerate(zip(stages, lengths, strict=True), start=1):
        spec = _phase_spec(stage, template, planned, latest, fields, more_days=budget is None)
        names = {h.name for h in spec.habits}
        carry_list = [h for n, h in carried.items() if n not in names]
        keep = tiny_name if stage == "foundation" else None
        # Core and advanced phases leave some of the budget free, so the phase that steps them
        # up has room to grow.
        headroom = library().overload.headroom.get(stage, 1.0)
        stage_budget = None if budget is None else max(1, math.floor(budget * headroom))
        habits = assign_days(list(spec.habits), day_loads([], carry_list))
        fitted, fitted_carry = fit_budget(habits, carry_list, stage_budget, keep)
        if _backslides(fitted, latest):
            # The time budget can't take the step up: returning habits keep last phase's dose
            # (which fitted), and only the new ones are shrunk or dropped.
            again = {h.name: latest[h.name] for h in spec.habits if h.name in latest}
            fresh = assign_days(
                [h for h in spec.habits if h.name not in again],
                day_loads(list(again.values()), carry_list),
            )
            by_name = {**again, **{h.name: h for h in fresh}}
            fitted, fitted_carry = fit_budget(
                [by_name[h.name] for h in spec.habits],
                carry_list,
                stage_budget,
                keep,
                frozenset(again),
            )
        habits, carry_list = fitted, fitted_carry

        kept = [h.name for h in carry_list]
        anchors: dict[str, tuple[str, int]] = {}
        for slot, candidates in anchors_by_slot.items():
            alive = [c for c in candidates if c[0] in kept]
            if alive:
                anchors[slot] = alive[-1]
            elif not kept:
                anchors[slot] = candidates[0]
        resolved = _resolve(habits, chronotype, anchors, existing_habits, number == 1)
        if phases and not kept and not any(f'"{n}"' in t for _, _, t in resolved for n in latest):
            # A budget of a minute or two leaves room for nothing carried: the new habit takes
            # over the previous phase's slot, which is what it builds on.
            previous = phases[-1].habits[0]
            habit, time, _ = resolved[0]
            if _slot(habit.anchor, chronotype) == _slot(previous.time_anchor, chronotype):
                time = previous.time_of_day
            resolved[0] = (habit, time, f'In place of "{previous.name}"')

        out: list[SequenceHabit] = []
        for habit, time, trigger in resolved:
            rationale = habit.rationale
            match = _matches_existing(habit.name, existing_habits)
            if match is not None:
                rationale += f' (Builds on your existing "{match}" habit.)'
            out.append(
                SequenceHabit(
                    name=habit.name,
                    frequency=_frequency(habit.per_week),
                    duration_minutes=habit.minutes,
                    time_of_day=time,
                    stack_trigger=trigger,
                    progression=_progression_text(
                        habit, stage, latest.get(habit.name), latest_phase.get(habit.name)
                    ),
                    days=tuple(DAY_NAMES[d] for d in habit.days),
                    rationale=rationale,
                    time_anchor=habit.anchor,
                    schedule=_schedule(habit.per_week, habit.days),
                )
            )
        end = start + timedelta(days=days - 1)
        criteria = [spec.criterion]
        if stage == "foundation":
            criteria.append(f'Never miss "{tiny_name}" twice in a row')
        criteria.append(
            "Move on when this phase's habits are done on at least 80% of scheduled days for two"
            " weeks in a row, not just when the calendar says so"
        )
        phases.append(
            SequencePhase(
                phase_number=number,
                name=spec.name,
                duration_weeks=weeks_value(days),
                duration_days=days,
                start_date=start,
                end_date=end,
                focus=spec.focus,
                success_criteria=tuple(criteria),
                habits=tuple(out),
                carried_forward=tuple(kept),
            )
        )
        # Later phases stack onto the latest daily habit that stays on in each part of the day,
        # or, when none survives the time budget, onto the foundation's habit there.
        for habit, time, _ in resolved:
            latest[habit.name] = habit
            latest_phase[habit.name] = number
            slot = _slot(habit.anchor, chronotype)
            anchor = (habit.name, _end_minute(time, habit.minutes))
            if habit.carry:
                carried[habit.name] = habit
            if (habit.carry and habit.per_week >= 7) or (
                stage == "foundation" and slot not in anchors_by_slot
            ):
                anchors_by_slot.setdefault(slot, []).append(anchor)
        start = end + timedelta(days=1)

    total = sum(lengths)
    weeks_label = f"{round(total / 7)}-week" if total >= 14 else f"{total}-day"
    return HabitSequencePlan(
        name=f"{goal.primary_focus}: {weeks_label} plan",
        description=(
            f'{len(phases)} phases for "{goal.objective}": '
            + " → ".join(p.name for p in phases)
            + ". It starts with daily habits of a few minutes and adds more only once they are"
            " stable."
        ),
        goal=goal.objective,
        domain=goal.domain,
        category=goal.category,
        total_duration_weeks=weeks_value(total),
        total_duration_days=total,
        start_date=today,
        end_date=today + timedelta(days=total - 1),
        phases=tuple(phases),
    )
