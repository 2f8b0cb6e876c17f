from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.agent.goals import GoalAnalysis, analyze_goal
from services.agent.sequence_checks import sequence_checks
from services.agent.sequences import (
    HabitSequencePlan,
    SequencePhase,
    generate_sequence,
)

TODAY = date(2025, 1, 15)

CATEGORIES = (
    "running",
    "strength",
    "weight_loss",
    "general_fitness",
    "language",
    "reading",
    "instrument",
    "skill",
    "saving",
    "debt",
    "budgeting",
    "investing",
    "sleep",
    "meditation",
    "hydration",
    "nutrition",
    "quitting",
    "focus",
    "planning",
    "writing",
    "general",
)
BASE = analyze_goal("I want to get fit", TODAY)


def goal_for(category: str, days: int) -> GoalAnalysis:
    return BASE.model_copy(update={"category": category, "timeframe_days": days, "subject": None})


def plan_for(message: str) -> tuple[GoalAnalysis, HabitSequencePlan]:
    goal = analyze_goal(message, TODAY)
    plan = generate_sequence(goal, goal.chronotype, goal.minutes_available, (), TODAY)
    return goal, plan


def names(plan: HabitSequencePlan) -> str:
    return " | ".join(h.name.lower() for p in plan.phases for h in p.habits)


def busiest_day(phase: SequencePhase, plan: HabitSequencePlan) -> int:
    latest = {}
    for earlier in plan.phases[: phase.phase_number - 1]:
        latest.update({h.name: h for h in earlier.habits})
    load: dict[str, int] = {}
    for habit in [*phase.habits, *(latest[n] for n in phase.carried_forward)]:
        for day in habit.days:
            load[day] = load.get(day, 0) + habit.duration_minutes
    return max(load.values())


@given(
    category=st.sampled_from(CATEGORIES),
    days=st.integers(min_value=3, max_value=3650),
    chronotype=st.sampled_from([None, "morning", "evening"]),
    minutes=st.one_of(st.none(), st.integers(min_value=1, max_value=180)),
)
@settings(max_examples=400, deadline=None)
def test_every_plan_meets_the_rules(
    category: str, days: int, chronotype: str | None, minutes: int | None
) -> None:
    plan = generate_sequence(goal_for(category, days), chronotype, minutes, (), TODAY)
    assert sequence_checks(plan, days, chronotype=chronotype, minutes_available=minutes) == []

    # The same rules, stated directly, so a lenient checker can't hide a broken plan.
    assert len(plan.phases) >= 3
    assert plan.total_duration_days == days
    assert sum(p.duration_days for p in plan.phases) == days
    assert abs(sum(p.duration_weeks for p in plan.phases) * 7 - days) <= 0.15 * days
    first = plan.phases[0]
    assert all(h.frequency == "daily" and h.duration_minutes <= 10 for h in first.habits)
    assert min(h.duration_minutes for h in first.habits) <= 2
    for phase in plan.phases:
        assert phase.habits
        if minutes is not None:
            assert busiest_day(phase, plan) <= minutes
        for habit in phase.habits:
            hour = int(habit.time_of_day[:2])
            if chronotype == "morning" and habit.time_anchor in ("am", "pm"):
                assert hour < 12
            if chronotype == "evening" and habit.time_anchor in ("am", "pm"):
                assert hour >= 17
    for before, after in zip(plan.phases, plan.phases[1:], strict=False):
        assert after.start_date == before.end_date + timedelta(days=1)
    assert plan.phases[-1].end_date == TODAY + timedelta(days=days - 1)


@pytest.mark.parametrize(
    ("days", "phases"),
    [(14, 3), (84, 3), (112, 3), (182, 4), (273, 4), (365, 5), (728, 5), (1095, 6), (3650, 6)],
)
def test_longer_goals_get_more_phases(days: int, phases: int) -> None:
    plan = generate_sequence(goal_for("general", days), None, None, (), TODAY)
    assert len(plan.phases) == phases


def test_long_plans_use_whole_weeks_and_a_short_foundation() -> None:
    plan = generate_sequence(goal_for("running", 181), None, None, (), TODAY)
    weeks = [p.duration_weeks for p in plan.phases]
    assert all(isinstance(w, int) for w in weeks[:-1])
    assert 2 <= weeks[0] <= 4
    assert weeks[1:] == sorted(weeks[1:])  # later phases are the longer ones
    assert plan.total_duration_days == 181


def test_short_plans_are_cut_in_days() -> None:
    plan = generate_sequence(goal_for("hydration", 10), None, None, (), TODAY)
    lengths = [p.duration_days for p in plan.phases]
    assert sum(lengths) == 10
    assert lengths[0] == min(lengths) >= 1
    assert plan.phases[0].duration_weeks == pytest.approx(lengths[0] / 7, abs=0.01)


def test_marathon_in_six_months() -> None:
    goal, plan = plan_for("Help me run a marathon in 6 months")
    assert sequence_checks(plan, goal.timeframe_days, keywords_any=["run", "walk"]) == []
    assert plan.name == "Marathon training: 26-week plan"
    assert [p.name for p in plan.phases] == [
        "Foundation",
        "Base building",
        "Build",
        "Race preparation",
    ]
    first = plan.phases[0]
    assert first.habits[0].name == "Put on your running shoes"
    assert first.habits[0].duration_minutes <= 2
    race = plan.phases[-1]
    long_run = next(h for h in race.habits if h.name == "Long run")
    assert (long_run.frequency, long_run.days) == ("weekly", ("Sunday",))
    assert "mile" in long_run.progression


def test_five_k_in_three_months() -> None:
    goal, plan = plan_for("Create a habit sequence to help me run a 5K in 3 months")
    assert sequence_checks(plan, goal.timeframe_days, keywords_any=["run", "walk"]) == []
    assert len(plan.phases) == 3
    assert plan.total_duration_days == goal.timeframe_days


def test_log_your_run_follows_the_run_days() -> None:
    _, plan = plan_for("Create a habit sequence to help me run a 5K in 3 months")
    core = {h.name: h for h in plan.phases[1].habits}
    assert core["Log your run"].days == core["Run/walk intervals"].days


def test_lose_twenty_pounds() -> None:
    goal, plan = plan_for("I want to lose 20 pounds in 6 months")
    keywords = ["weigh", "meal", "cardio", "strength", "walk"]
    assert sequence_checks(plan, goal.timeframe_days, keywords_any=keywords) == []
    all_names = names(plan)
    assert all(k in all_names for k in keywords)
    weigh_in = plan.phases[0].habits[0]
    assert weigh_in.name == "Morning weigh-in"
    assert "Morning weigh-in" in plan.phases[-1].carried_forward


def test_spanish_by_summer() -> None:
    goal, plan = plan_for("Learn Spanish to conversational fluency by summer")
    keywords = ["spanish", "vocabulary", "conversation", "podcast", "lesson"]
    assert sequence_checks(plan, goal.timeframe_days, keywords_any=keywords) == []
    assert all(k in names(plan) for k in keywords)
    assert plan.end_date == date(2025, 6, 20)  # the day before the deadline is the last day


def test_save_ten_thousand_this_year() -> None:
    goal, plan = plan_for("Save $10,000 for an emergency fund this year")
    keywords = ["budget", "expense", "saving", "transfer"]
    assert sequence_checks(plan, goal.timeframe_days, keywords_any=keywords) == []
    assert all(k in names(plan) for k in keywords)
    assert len(plan.phases) == 5
    monthly = next(m for m in goal.target_metrics if m.name == "monthly saving").value
    transfer = next(h for h in plan.phases[1].habits if h.name == "Weekly savings transfer")
    assert f"${monthly:,} a month" in transfer.progression
    assert "($5)" in plan.phases[0].habits[1].name


@pytest.mark.parametrize(
    ("message", "keywords"),
    [
        ("I want to read 24 books this year", ["read", "page", "book"]),
        ("I want to stop smoking", ["smok", "urge", "craving"]),
        ("I'd like to get better sleep", ["sleep", "bed", "wind-down"]),
        ("Help me meditate daily", ["meditat", "breath", "mindful"]),
        ("Help me drink more water", ["water"]),
        ("Learn to play the guitar", ["guitar"]),
        ("Learn Python in 3 months", ["python"]),
        ("Pay off my credit card debt", ["debt", "budget", "expense"]),
        ("I want to start investing", ["invest", "contribution"]),
        ("Help me stick to a budget", ["budget", "expense", "spending"]),
        ("I want to eat healthier", ["vegetable", "meal", "cook"]),
        ("Help me be more productive at work", ["focus", "priorit", "deep-work"]),
        ("Help me get organized", ["plan", "time-block"]),
        ("I want to write a novel", ["writ", "word"]),
        ("Help me build muscle", ["strength", "push-up", "squat"]),
        ("I'm a night owl and only have 15 minutes a day, help me start exercising", ["workout"]),
    ],
)
def test_habit_names_carry_the_domain_keywords(message: str, keywords: list[str]) -> None:
    goal, plan = plan_for(message)
    assert sequence_checks(plan, goal.timeframe_days, keywords_any=keywords) == []
    assert all(k in names(plan) for k in keywords)


def test_chronotype_moves_flexible_habits_but_not_anchored_ones() -> None:
    goal = analyze_goal("I want to lose 20 pounds in 6 months", TODAY)
    morning = generate_sequence(goal, "morning", None, (), TODAY)
    evening = generate_sequence(goal, "evening", None, (), TODAY)
    walk_am = next(h for h in morning.phases[0].habits if h.name == "10-minute walk")
    walk_pm = next(h for h in evening.phases[0].habits if h.name == "10-minute walk")
    assert walk_am.time_of_day < "12:00" <= "17:00" <= walk_pm.time_of_day
    weigh_am = morning.phases[0].habits[0]
    weigh_pm = evening.phases[0].habits[0]
    assert weigh_am.time_anchor == weigh_pm.time_anchor == "wake"
    assert weigh_am.time_of_day < weigh_pm.time_of_day < "12:00"


def test_minutes_available_shrinks_sessions() -> None:
    goal = analyze_goal("Help me run a marathon in 6 months", TODAY)
    roomy = generate_sequence(goal, None, None, (), TODAY)
    tight = generate_sequence(goal, None, 15, (), TODAY)
    assert sequence_checks(tight, goal.timeframe_days, minutes_available=15) == []
    assert sequence_checks(roomy, goal.timeframe_days, minutes_available=15) != []
    for phase in tight.phases:
        assert busiest_day(phase, tight) <= 15


def test_later_phases_build_on_earlier_ones() -> None:
    _, plan = plan_for("Help me run a marathon in 6 months")
    core, build = plan.phases[1], plan.phases[2]
    before = {h.name: h for h in core.habits}
    for habit in build.habits:
        previous = before[habit.name]
        assert habit.duration_minutes >= previous.duration_minutes
        assert len(habit.days) >= len(previous.days)
        assert habit.progression.startswith(("Step up", "Keep it going"))
    assert any(h.progression.startswith("Step up (up from 25 min, 3x weekly") for h in build.habits)
    for phase in plan.phases[1:]:
        assert phase.carried_forward
        assert any(h.stack_trigger.startswith('After "') for h in phase.habits)


def test_progression_never_backslides_under_a_budget() -> None:
    goal = analyze_goal("Learn Spanish to conversational fluency by summer", TODAY)
    plan = generate_sequence(goal, "morning", 20, (), TODAY)
    seen: dict[str, int] = {}
    for phase in plan.phases:
        for habit in phase.habits:
            assert habit.duration_minutes >= seen.get(habit.name, 0)
            seen[habit.name] = habit.duration_minutes
    core, build = plan.phases[1], plan.phases[2]
    # Core leaves headroom in the budget, so the build phase can still step up.
    assert sum(h.duration_minutes for h in build.habits) > sum(
        h.duration_minutes for h in core.habits
    )
    assert any(h.progression.startswith("Step up") for h in build.habits)


def test_stacks_onto_an_existing_habit() -> None:
    goal = analyze_goal("Learn Spanish by summer", TODAY)
    plan = generate_sequence(goal, "morning", None, ("Morning coffee",), TODAY)
    first = plan.phases[0].habits[0]
    assert first.stack_trigger == 'After your existing "Morning coffee" habit'
    alone = generate_sequence(goal, "morning", None, (), TODAY)
    assert alone.phases[0].habits[0].stack_trigger == "After your morning coffee"


def test_says_when_a_habit_upgrades_an_existing_one() -> None:
    goal = analyze_goal("Help me meditate daily", TODAY)
    plan = generate_sequence(goal, "morning", None, ("Meditation",), TODAY)
    two_minute = next(h for h in plan.phases[0].habits if h.name == "2-minute meditation")
    assert 'Builds on your existing "Meditation" habit' in two_minute.rationale
    wake = plan.phases[0].habits[0]
    assert wake.stack_trigger == "Right after you get out of bed"


def test_habits_come_with_an_api_schedule() -> None:
    _, plan = plan_for("Help me run a marathon in 6 months")
    daily = plan.phases[0].habits[0]
    assert daily.schedule.model_dump(exclude_defaults=True) == {
        "type": "interval",
        "every": 1,
        "unit": "day",
        "times": 1,
    }
    runs = plan.phases[1].habits[0]
    assert runs.schedule.type == "weekdays"
    assert runs.schedule.days == ("mon", "wed", "fri")


def test_json_shape_matches_the_spec_example() -> None:
    _, plan = plan_for("Help me run a marathon in 6 months")
    data = plan.model_dump(mode="json")
    assert {"name", "description", "total_duration_weeks", "phases"} <= data.keys()
    phase = data["phases"][0]
    assert {
        "phase_number",
        "name",
        "duration_weeks",
        "focus",
        "success_criteria",
        "habits",
    } <= phase.keys()
    assert {
        "name",
        "frequency",
        "duration_minutes",
        "time_of_day",
        "stack_trigger",
        "progression",
        "days",
        "rationale",
    } <= phase["habits"][0].keys()
    assert len(phase["success_criteria"]) >= 2


def test_checks_report_each_broken_rule() -> None:
    goal, plan = plan_for("Help me run a marathon in 6 months")
    first = plan.phases[0]
    weekly = first.habits[1].model_copy(update={"frequency": "3x weekly"})
    long = first.habits[2].model_copy(update={"duration_minutes": 30})
    no_tiny = first.model_copy(update={"habits": (weekly, long, *(h for h in first.habits[3:]))})
    broken = plan.model_copy(update={"phases": (no_tiny, *plan.phases[1:3])})
    problems = sequence_checks(
        broken,
        goal.timeframe_days,
        min_phases=4,
        keywords_any=["swim"],
        chronotype="evening",
        minutes_available=10,
    )
    text = "\n".join(problems)
    assert "only 3 phases" in text
    assert "no habit of two minutes or less" in text
    assert "is not daily" in text
    assert "longer than 10 minutes" in text
    assert "phases add up to" in text
    assert "no habit name contains" in text
    assert "not in the evening" in text
    assert "busiest day" in text


def test_checks_flag_a_phase_that_builds_on_nothing() -> None:
    _, plan = plan_for("Help me run a marathon in 6 months")
    core = plan.phases[1]
    isolated = core.model_copy(
        update={
            "carried_forward": (),
            "habits": tuple(
                h.model_copy(update={"stack_trigger": "Whenever"}) for h in core.habits
            ),
        }
    )
    broken = plan.model_copy(update={"phases": (plan.phases[0], isolated, *plan.phases[2:])})
    assert sequence_checks(broken, None) == ["phase 2 does not build on earlier habits"]
