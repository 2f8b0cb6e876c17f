"""Memory: the verbatim window, the running summary, long-term facts and the prompt context."""

from __future__ import annotations

from datetime import date

from services.agent.memory import (
    SUMMARY_MAX_CHARS,
    HabitStatus,
    StoredMessage,
    achievements,
    facts_from,
    fold_summary,
    merge_facts,
    model_history,
    render_context,
    split_window,
)
from services.agent.models import AssistantMessage, UserMessage
from services.agent.tone import AIPreferences
from services.agent.understanding import understand

TODAY = date(2026, 12, 2)


def msg(position: int, role: str = "user", content: str = "hi", **kw: object) -> StoredMessage:
    return StoredMessage(position=position, role=role, content=content, created_on=TODAY, **kw)  # type: ignore[arg-type]


def test_the_window_keeps_the_latest_messages_verbatim() -> None:
    messages = [msg(i) for i in range(1, 11)]
    fold, keep = split_window(messages, 4)
    assert [m.position for m in fold] == [1, 2, 3, 4, 5, 6]
    assert [m.position for m in keep] == [7, 8, 9, 10]
    assert split_window(messages[:3], 4) == ([], messages[:3])


def test_history_becomes_user_and_assistant_messages_in_order() -> None:
    history = model_history([msg(1, content="plan a run"), msg(2, "assistant", "Here it is")])
    assert history == [UserMessage(content="plan a run"), AssistantMessage(content="Here it is")]


def test_the_summary_keeps_one_line_per_message_and_drops_the_oldest_when_full() -> None:
    first = fold_summary("", [msg(1, content="I want to run", intent="goal_setting")])
    assert first == "- 2026-12-02 user (goal setting): I want to run"
    tools = fold_summary(
        first, [msg(2, "assistant", "Plan made", tools=("create_habit_sequence",))]
    )
    assert tools.splitlines()[1] == "- 2026-12-02 assistant [used create_habit_sequence]: Plan made"
    long = fold_summary("", [msg(i, content=f"message {i} " + "x" * 300) for i in range(40)])
    assert len(long) <= SUMMARY_MAX_CHARS
    assert "message 39" in long and "message 0 " not in long


def test_facts_are_what_the_user_says_about_themselves() -> None:
    u = understand("I'm a night owl with 20 minutes a day and a bad knee", TODAY)
    facts = facts_from(u, TODAY)
    assert facts["chronotype"] == "evening"
    assert facts["minutes_available"] == 20
    assert facts["constraints"]
    goal = facts_from(understand("I want to run a marathon in 6 months", TODAY), TODAY)
    assert goal["goals"][0]["domain"] == "fitness"
    assert goal["goals"][0]["noted_on"] == "2026-12-02"
    assert facts_from(understand("What is the capital of France?", TODAY), TODAY) == {}


def test_merging_facts_returns_only_what_changed() -> None:
    old = {"chronotype": "morning", "constraints": ["no gym"], "goals": [{"text": "a"}]}
    assert merge_facts(old, {"chronotype": "morning"}) == {}
    assert merge_facts(old, {"chronotype": "evening"}) == {"chronotype": "evening"}
    assert merge_facts(old, {"constraints": ["no gym", "bad knee"]}) == {
        "constraints": ["no gym", "bad knee"]
    }
    goals = merge_facts(old, {"goals": [{"text": "b"}]})["goals"]
    assert [g["text"] for g in goals] == ["a", "b"]
    many = {"goals": [{"text": str(i)} for i in range(5)]}
    assert [g["text"] for g in merge_facts(many, {"goals": [{"text": "new"}]})["goals"]] == [
        "1", "2", "3", "4", "new"
    ]  # fmt: skip


def test_the_context_names_streaks_achievements_plans_and_preferences() -> None:
    habits = [
        HabitStatus("Read", 12, "day", 1.0),
        HabitStatus("Run", 1, "week", 0.5),
        HabitStatus("Floss"),
    ]
    text = render_context(
        today=TODAY,
        display_name="Ana",
        habits=habits,
        facts={"chronotype": "evening", "minutes_available": 15, "goals": [{"text": "5K"}]},
        preferences=AIPreferences(communication_style="direct"),
        plans=["Couch to 5K, phase 1 of 3 (Foundation)"],
    )
    assert (
        "Read; streak 12 days; 100% this week | Run; streak 1 week; 50% this week | Floss" in text
    )
    assert "Recent achievements: 12-day streak on Read." in text
    assert "Active plans: Couch to 5K, phase 1 of 3 (Foundation)." in text
    assert "Chronotype: evening person." in text and "about 15 minutes a day" in text
    assert "Goals they told us: 5K." in text
    assert "Preferences: direct style" in text
    assert "Active habits: none yet." in render_context(
        today=TODAY, display_name=None, habits=[], facts={}, preferences=None
    )


def test_only_long_streaks_are_achievements() -> None:
    assert achievements([HabitStatus("A", 6), HabitStatus("B", 30), HabitStatus("C", 7)]) == [
        "30-day streak on B",
        "7-day streak on C",
    ]
