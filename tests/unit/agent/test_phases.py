"""When a sequence advances, and what each phase asks the gateway to create."""

from __future__ import annotations

from datetime import date, timedelta

from services.agent.goals import analyze_goal
from services.agent.phases import (
    STABLE_RATE,
    TrackedHabit,
    describe,
    habits_to_create,
    is_stable,
    new_habit,
    phase_names,
    phase_of,
    should_advance,
)
from services.agent.sequences import HabitSequencePlan, generate_sequence

TODAY = date(2026, 12, 2)


def plan() -> HabitSequencePlan:
    goal = analyze_goal("I want to run a marathon in 6 months", TODAY)
    return generate_sequence(goal, "morning", 45, [], TODAY)


def test_stable_means_every_tracked_habit_is_at_the_bar() -> None:
    assert is_stable([TrackedHabit("a", 1.0), TrackedHabit("b", STABLE_RATE)])
    assert not is_stable([TrackedHabit("a", 1.0), TrackedHabit("b", STABLE_RATE - 0.01)])
    assert not is_stable([TrackedHabit("a", 1.0), TrackedHabit("b", None)])
    assert not is_stable([])


def test_a_phase_advances_only_when_its_length_has_passed_and_it_is_stable() -> None:
    p = plan()
    days = phase_of(p, 1).duration_days
    good = [TrackedHabit(n, 1.0) for n in phase_names(p, 1)]
    shaky = [*good[:-1], TrackedHabit(good[-1].name, 0.5)]
    started = TODAY - timedelta(days=days)
    assert should_advance(p, 1, started, TODAY, good)
    assert not should_advance(p, 1, started + timedelta(days=1), TODAY, good)  # too early
    assert not should_advance(p, 1, started - timedelta(days=100), TODAY, shaky)  # not stable


def test_later_phases_reuse_habits_by_name_and_track_what_they_carry() -> None:
    p = plan()
    first = [h.name for h in phase_of(p, 1).habits]
    assert [h.name for h in habits_to_create(p, 1, [])] == first
    second = habits_to_create(p, 2, [n.upper() for n in first])
    assert all(h.name not in first for h in second)
    names = phase_names(p, 2)
    assert set(phase_of(p, 2).carried_forward) <= set(names)
    third = habits_to_create(p, 3, [*first, *(h.name for h in second)])
    assert {h.name for h in third}.isdisjoint(h.name for h in second)


def test_a_sequence_habit_becomes_a_gateway_habit_with_its_why() -> None:
    p = plan()
    weekly = next(h for ph in p.phases for h in ph.habits if h.schedule.type == "weekdays")
    habit = new_habit(weekly)
    assert habit.kind == "boolean" and habit.schedule.type == "weekdays"
    assert habit.schedule.days == weekly.schedule.days
    assert habit.time_of_day == weekly.time_of_day
    daily = phase_of(p, 1).habits[0]
    assert new_habit(daily).schedule.unit == "day"
    text = describe(daily, phase_of(p, 1))
    assert text.startswith("Phase 1 (Foundation) of your plan:")
    assert f"{daily.duration_minutes} min" in text
