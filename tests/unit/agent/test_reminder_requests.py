"""Reminder requests in words: time phrases, operations, the planner's calls, the tool."""

from __future__ import annotations

import json
from datetime import date, time

import pytest

from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.models import parse_tool_call
from services.agent.offline import compose_reply, plan_calls
from services.agent.reminder_times import (
    clock_time,
    part_of_day,
    reminder_op,
    resolve_time,
    time_phrase,
)
from services.agent.tools import ToolContext, run_tool
from services.agent.understanding import understand

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("07:30", time(7, 30)),
        ("07:30:00", time(7, 30)),
        ("7am", time(7)),
        ("7 a.m.", time(7)),
        ("9pm", time(21)),
        ("9.30 pm", time(21, 30)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("noon", time(12)),
        ("midnight", time(0)),
        ("7", time(7)),
        ("11", time(11)),
        ("12", time(12)),
        ("3", time(15)),
        ("6", time(18)),
        ("18:45", time(18, 45)),
        ("0", time(0)),
        ("8 in the evening", time(20)),
        ("6 in the morning", time(6)),
    ],
)
def test_clock_times(phrase: str, expected: time) -> None:
    assert resolve_time(phrase, None, None) == expected


@pytest.mark.parametrize("phrase", ["25:00", "7:60", "13pm", "", "someday", "abc"])
def test_no_time(phrase: str) -> None:
    assert resolve_time(phrase, None, None) is None
    assert clock_time(phrase) is None


def test_parts_of_the_day_follow_the_chronotype_and_the_optimal_time() -> None:
    assert resolve_time("after lunch", None, None) == time(13, 30)
    assert resolve_time("in the evening", "morning", None) == time(18, 30)
    assert resolve_time("in the evening", "evening", None) == time(20, 0)
    assert resolve_time("in the morning", "morning", None) == time(7, 0)
    assert resolve_time("in the morning", "evening", None) == time(9, 0)
    assert resolve_time("before bed", None, None) == time(22, 0)
    # The learning service's optimal time wins when it falls in that part of the day…
    assert resolve_time("in the evening", None, time(20, 30)) == time(20, 30)
    # …and not when it does not.
    assert resolve_time("in the evening", None, time(7, 0)) == time(19, 0)
    assert part_of_day("after lunch") is not None and part_of_day("at 7") is None


@pytest.mark.parametrize(
    ("message", "op", "phrase"),
    [
        ("remind me to meditate at 7", "set", "7"),
        ("remind me every day at 8 to drink water", "set", "8"),
        ("remind me to read 10 pages at 21:30", "set", "21:30"),
        ("remind me at 8 in the evening to read", "set", "8 in the evening"),
        ("remind me to stretch after lunch", "set", "after lunch"),
        ("move my reading reminder to 9pm", "move", "9pm"),
        ("change my running reminder to 6:30am", "move", "6:30am"),
        ("stop reminding me about reading", "stop", None),
        ("turn off my meditation reminder", "stop", None),
        ("I don't want reminders for yoga anymore", "stop", None),
    ],
)
def test_requests(message: str, op: str, phrase: str | None) -> None:
    assert reminder_op(message) == op
    assert time_phrase(message) == phrase


def _plan(message: str, habits: list[str]) -> list[tuple[str, dict[str, object]]]:
    return plan_calls(understand(message, TODAY, habits), habits)


def test_the_planner_sets_moves_and_stops_reminders() -> None:
    assert _plan("remind me to meditate at 7", ["Meditation"]) == [
        ("set_reminder", {"habit_id": "Meditation", "time": "7"})
    ]
    assert _plan("move my reading reminder to 9pm", ["Reading"]) == [
        ("set_reminder", {"habit_id": "Reading", "time": "9pm"})
    ]
    assert _plan("stop reminding me about reading", ["Reading"]) == [
        ("set_reminder", {"habit_id": "Reading", "action": "stop"})
    ]
    created = _plan("remind me to floss at 21:30 every day", [])
    assert [name for name, _ in created] == ["create_habit", "set_reminder"]
    assert created[1][1]["time"] == "21:30"


def test_a_stop_request_about_no_known_habit_asks_which() -> None:
    u = understand("stop reminding me about the piano", TODAY, ["Reading"])
    assert plan_calls(u, ["Reading"]) == []
    assert "Which habit" in compose_reply(u, [], None, ["Reading"])


async def _run(backend: InMemoryBackend, name: str, args: dict[str, object]) -> dict[str, object]:
    ctx = ToolContext(user_id="u1", today=TODAY, backend=backend)
    result = await run_tool(ctx, parse_tool_call("c1", name, json.dumps(args)))
    assert result.card is None or result.card["type"] in ("reminder", "confirmation")
    return result.data


async def test_the_tool_sets_moves_and_stops_with_the_chronotype() -> None:
    backend = InMemoryBackend()
    backend.seed("u1", [NewHabit(title="Reading")], TODAY, chronotype="evening")
    data = await _run(backend, "set_reminder", {"habit_id": "Reading", "time": "7am"})
    assert data["created"] is True and data["reminder"]["time"] == "07:00"  # type: ignore[index]
    # "in the evening": the in-memory optimal time for reading is 20:30 for an evening person.
    data = await _run(backend, "set_reminder", {"habit_id": "Reading", "time": "in the evening"})
    assert data["created"] is False and data["reminder"]["time"] == "20:30"  # type: ignore[index]
    assert len(backend.users["u1"].reminders) == 1
    bad = await _run(backend, "set_reminder", {"habit_id": "Reading", "time": "25:00"})
    assert bad["error"]["code"] == "unknown_time"  # type: ignore[index]
    unknown = await _run(backend, "set_reminder", {"habit_id": "Piano", "time": "7am"})
    assert unknown["error"]["code"] == "habit_not_found"  # type: ignore[index]
    # A stop only proposes the deletion: the reminder stays until the user accepts the card.
    stopped = await _run(backend, "set_reminder", {"habit_id": "Reading", "action": "stop"})
    assert stopped["status"] == "awaiting_confirmation"
    assert len(backend.users["u1"].reminders) == 1
    [proposal] = backend.users["u1"].proposals
    assert (proposal.action, proposal.habit_id) == ("delete_reminders", "h1")
