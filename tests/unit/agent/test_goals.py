from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.agent.goals import (
    MAX_TIMEFRAME_DAYS,
    MIN_TIMEFRAME_DAYS,
    GoalAnalysis,
    analyze_goal,
)
from services.agent.understanding import add_months, understand

TODAY = date(2025, 1, 15)


def metric(goal: GoalAnalysis, name: str) -> tuple[float, str, str | None]:
    found = next(m for m in goal.target_metrics if m.name == name)
    return float(found.value), found.unit, found.per


def test_marathon_in_six_months() -> None:
    goal = analyze_goal("Help me run a marathon in 6 months", TODAY)
    assert goal.objective == "Run a marathon in 6 months"
    assert (goal.domain, goal.category, goal.subject) == ("fitness", "running", "marathon")
    assert goal.deadline == add_months(TODAY, 6)
    assert goal.timeframe_days == (goal.deadline - TODAY).days
    assert goal.timeframe_stated
    assert metric(goal, "race distance") == (42.2, "km", None)
    assert goal.difficulty_label == "moderate"
    assert goal.sub_goals and goal.dependencies and goal.obstacles and goal.success_indicators


def test_five_k_in_three_months_is_easier_than_a_marathon_in_three_months() -> None:
    five_k = analyze_goal("Create a habit sequence to help me run a 5K in 3 months", TODAY)
    marathon = analyze_goal("Run a marathon in 3 months", TODAY)
    assert five_k.objective == "Run a 5K in 3 months"
    assert metric(five_k, "distance") == (5.0, "km", None)
    assert 84 <= five_k.timeframe_days <= 95
    assert five_k.difficulty < marathon.difficulty
    assert marathon.difficulty_label == "challenging"
    assert any("Ambitious timeline" in o for o in marathon.obstacles)


def test_lose_twenty_pounds_in_six_months() -> None:
    goal = analyze_goal("I want to lose 20 pounds in 6 months", TODAY)
    assert goal.objective == "Lose 20 pounds in 6 months"
    assert goal.primary_focus == "Weight loss"
    assert goal.category == "weight_loss"
    value, unit, _ = metric(goal, "weight lost")
    assert (value, unit) == (20, "lb")
    assert goal.target_metrics[0].direction == "decrease"
    pace, pace_unit, per = metric(goal, "weekly pace")
    assert (pace_unit, per) == ("lb", "week")
    assert pace == pytest.approx(20 / (goal.timeframe_days / 7), abs=0.01)
    # Under a pound a week is a sustainable pace, so not challenging.
    assert goal.difficulty < 0.5
    assert any("Calorie deficit" in s or "calorie deficit" in s for s in goal.sub_goals)


def test_spanish_by_summer() -> None:
    goal = analyze_goal("Learn Spanish to conversational fluency by summer", TODAY)
    assert goal.deadline == date(2025, 6, 21)
    assert (goal.domain, goal.category, goal.subject) == ("learning", "language", "Spanish")
    assert goal.primary_focus == "Spanish language acquisition"
    assert metric(goal, "active vocabulary") == (1500, "words", None)


def test_save_ten_thousand_this_year() -> None:
    goal = analyze_goal("Save $10,000 for an emergency fund this year", TODAY)
    assert goal.deadline == date(2025, 12, 31)
    assert (goal.domain, goal.category) == ("financial", "saving")
    assert goal.primary_focus == "Financial security"
    amount = goal.target_metrics[0]
    assert (amount.value, amount.unit) == (10000, "usd")
    monthly, unit, per = metric(goal, "monthly saving")
    assert (unit, per) == ("usd", "month")
    months = goal.timeframe_days / 30.44
    assert monthly * months >= 10000
    assert monthly * months < 10000 + monthly


def test_reading_goal_gets_a_daily_page_pace() -> None:
    goal = analyze_goal("I want to read 24 books this year", TODAY)
    pages, unit, per = metric(goal, "pages per day")
    assert (unit, per) == ("pages", "day")
    assert 15 <= pages <= 30


def test_quitting_goal_counts_free_days() -> None:
    goal = analyze_goal("I want to stop smoking", TODAY)
    assert goal.primary_focus == "Quit smoking"
    assert metric(goal, "consecutive smoking-free days")[1] == "days"


def test_understanding_and_text_give_the_same_analysis() -> None:
    message = "I'm a night owl and only have 15 minutes a day, help me start exercising"
    from_text = analyze_goal(message, TODAY)
    from_understanding = analyze_goal(understand(message, TODAY), TODAY)
    assert from_text == from_understanding
    assert from_text.chronotype == "evening"
    assert from_text.minutes_available == 15
    assert from_text.objective == "Start exercising"
    assert any("15 minutes" in o for o in from_text.obstacles)


def test_constraints_become_obstacles() -> None:
    goal = analyze_goal("Help me get fit, I have a bad knee and no gym", TODAY)
    assert goal.constraints == ("bad knee", "no gym")
    assert any(o.startswith("Bad knee") and "low-impact" in o for o in goal.obstacles)
    assert any(o.startswith("No gym") for o in goal.obstacles)
    plain = analyze_goal("Help me get fit", TODAY)
    assert goal.difficulty > plain.difficulty


@pytest.mark.parametrize(
    ("message", "category", "at_least_days"),
    [
        ("Help me run a marathon", "running", 24 * 7),
        ("Help me run a 5K", "running", 56),
        ("I want to become fluent in Italian", "language", 365),
        ("I want to write a novel", "writing", 365),
        ("I want to get better sleep", "sleep", 28),
        ("I want to do something great", "general", 84),
    ],
)
def test_default_timeframe_depends_on_the_goal(
    message: str, category: str, at_least_days: int
) -> None:
    goal = analyze_goal(message, TODAY)
    assert goal.category == category
    assert not goal.timeframe_stated
    assert goal.timeframe_days >= at_least_days
    assert goal.deadline == TODAY + timedelta(days=goal.timeframe_days)


def test_weight_goal_without_deadline_defaults_to_a_pound_a_week() -> None:
    goal = analyze_goal("I want to lose 30 pounds", TODAY)
    assert goal.timeframe_days == 30 * 7


def test_timeframe_is_clamped() -> None:
    assert analyze_goal("Run a 5K in 2 days", TODAY).timeframe_days == MIN_TIMEFRAME_DAYS
    assert analyze_goal("Learn piano in 30 years", TODAY).timeframe_days == MAX_TIMEFRAME_DAYS


GOALS = [
    "lose 15 pounds",
    "run a half marathon",
    "learn Portuguese",
    "read 20 books",
    "save $6,000",
    "pay off $8,000 of debt",
    "meditate daily",
    "quit vaping",
    "write 500 words a day",
    "learn the violin",
    "stop procrastinating",
    "drink 8 glasses of water a day",
]


@given(
    st.sampled_from(GOALS),
    st.integers(min_value=2, max_value=40),
    st.integers(min_value=1, max_value=30),
)
@settings(max_examples=150, deadline=None)
def test_less_time_is_never_easier(goal: str, short_weeks: int, extra_weeks: int) -> None:
    short = analyze_goal(f"I want to {goal} in {short_weeks} weeks", TODAY)
    long = analyze_goal(f"I want to {goal} in {short_weeks + extra_weeks} weeks", TODAY)
    assert short.category == long.category != "general"
    assert 0.0 <= long.difficulty <= short.difficulty <= 1.0
    assert short.difficulty_label in ("easy", "moderate", "challenging")


@given(st.sampled_from(GOALS), st.integers(min_value=1, max_value=60))
@settings(max_examples=100, deadline=None)
def test_analysis_is_complete(goal: str, months: int) -> None:
    analysis = analyze_goal(f"I want to {goal} in {months} months", TODAY)
    assert analysis.domain is not None
    assert MIN_TIMEFRAME_DAYS <= analysis.timeframe_days <= MAX_TIMEFRAME_DAYS
    assert analysis.deadline == TODAY + timedelta(days=analysis.timeframe_days)
    assert analysis.target_metrics
    assert analysis.sub_goals and analysis.dependencies and analysis.obstacles
    assert analysis.success_indicators
    assert analysis.objective[0].isupper()
