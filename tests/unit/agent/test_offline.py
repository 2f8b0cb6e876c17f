"""The offline planner through the real loop and in-memory backend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.loop import (
    AgentEvent,
    Budgets,
    CardEvent,
    RunCompleted,
    TextDeltaEvent,
    ToolCallCompleted,
    ToolCallStarted,
    run_agent,
)
from services.agent.models import ModelSettings, UserMessage
from services.agent.offline import OfflinePlanner
from services.agent.tools import ToolContext

TODAY = date(2025, 6, 30)


async def chat(
    message: str, habits: Sequence[str] = ()
) -> tuple[list[AgentEvent], InMemoryBackend]:
    backend = InMemoryBackend()
    backend.seed("u", [NewHabit(title=t) for t in habits], TODAY)
    events = [
        e
        async for e in run_agent(
            model=OfflinePlanner(today=TODAY, known_habits=list(habits)),
            messages=[UserMessage(content=message)],
            ctx=ToolContext(user_id="u", today=TODAY, backend=backend),
            settings=ModelSettings(),
            budgets=Budgets(),
            clock=lambda: 0.0,
            run_id="r",
        )
    ]
    return events, backend


def tools_of(events: list[AgentEvent]) -> list[str]:
    return [e.name for e in events if isinstance(e, ToolCallStarted)]


def final(events: list[AgentEvent]) -> RunCompleted:
    end = events[-1]
    assert isinstance(end, RunCompleted)
    return end


async def test_goal_creates_a_sequence_card_and_streams_text() -> None:
    events, _ = await chat("Help me run a marathon in 6 months")
    assert tools_of(events) == ["create_habit_sequence"]
    assert any(isinstance(e, CardEvent) and e.card["type"] == "habit_sequence" for e in events)
    deltas = [e for e in events if isinstance(e, TextDeltaEvent)]
    assert len(deltas) > 5
    assert "".join(d.text for d in deltas) == final(events).text
    assert "phase 1" in final(events).text


async def test_routine_creates_habit_and_sub_habits() -> None:
    events, backend = await chat("Create morning routine with meditate, journal, and stretch")
    assert tools_of(events)[:2] == ["create_habit", "add_sub_habits"]
    assert not any(isinstance(e, ToolCallCompleted) and e.is_error for e in events)
    (habit,) = await backend.list_habits("u")
    assert [s.lower() for s in habit.sub_habits] == ["meditate", "journal", "stretch"]


async def test_out_of_scope_refuses_without_tools() -> None:
    events, backend = await chat("What's the capital of France?")
    assert tools_of(events) == []
    assert "outside" in final(events).text.lower()
    assert await backend.list_habits("u") == []


async def test_log_with_value_on_quantity_habit() -> None:
    backend_events, _ = await chat("I did my 20 minutes of reading today", ["Reading"])
    assert tools_of(backend_events) == ["log_habit"]
    assert "Logged Reading" in final(backend_events).text


async def test_troubleshooting_analyses_and_suggests_with_empathy() -> None:
    events, _ = await chat(
        "I keep skipping my evening workout, I'm so frustrated", ["Evening workout"]
    )
    assert tools_of(events) == ["analyze_progress", "suggest_habit_modification"]
    assert "frustrating" in final(events).text.lower()


async def test_knowledge_question_cites_sources() -> None:
    events, _ = await chat("How long does it take to form a habit?")
    assert "search_knowledge" in tools_of(events)
    assert "Sources:" in final(events).text and "Lally" in final(events).text


async def test_motivation_makes_no_habit_writes() -> None:
    events, backend = await chat(
        "I'm feeling really unmotivated lately, nothing is working", ["Meditation"]
    )
    assert not {"create_habit", "log_habit", "create_habit_sequence"} & set(tools_of(events))
    assert [h.title for h in await backend.list_habits("u")] == ["Meditation"]


def test_progress_of_one_habit_is_told_with_its_streak() -> None:
    from services.agent.offline import _describe

    one = {
        "period": "7d",
        "habits": [
            {"title": "Read", "completion_rate": 0.714, "current_streak": 5, "best_streak": 9,
             "streak_unit": "day"}
        ],
        "average_completion_rate": 0.714,
        "strongest": "Read",
        "weakest": "Read",
    }  # fmt: skip
    text = _describe("analyze_progress", one)
    assert text == (
        "Read: 71% of planned days over the last 7 days, and your current streak is 5 days "
        "(best 9)."
    )
    two = {**one, "habits": one["habits"] * 2, "weakest": "Floss"}
    assert "strongest: Read, needs attention: Floss" in _describe("analyze_progress", two)
    assert "needs attention" not in _describe("analyze_progress", {**two, "weakest": "Read"})
