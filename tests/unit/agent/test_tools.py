"""Tools over the in-memory backend: arguments, user scoping, errors as data."""

from __future__ import annotations

from datetime import date, timedelta

from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.models import ParsedToolCall, parse_tool_call
from services.agent.sequence_checks import sequence_checks
from services.agent.sequences import HabitSequencePlan
from services.agent.tools import TOOLS, ToolContext, run_tool

TODAY = date(2025, 3, 10)


def ctx(user: str = "u1", habits: tuple[str, ...] = ("Reading",)) -> ToolContext:
    backend = InMemoryBackend()
    backend.seed(user, [NewHabit(title=t) for t in habits], TODAY, chronotype="morning")
    return ToolContext(user_id=user, today=TODAY, backend=backend)


def call(name: str, args: dict[str, object]) -> ParsedToolCall:
    return ParsedToolCall(id="c", name=name, raw_arguments="", arguments=args)


def test_every_tool_has_a_strict_schema_without_user_id() -> None:
    for tool in TOOLS.values():
        fn = tool.spec.openai_param()["function"]
        assert fn.get("strict") is True
        assert "user_id" not in fn["parameters"]["properties"], tool.name


async def test_create_habit_sequence_returns_a_valid_plan_card() -> None:
    c = ctx()
    result = await run_tool(
        c, call("create_habit_sequence", {"goal": "run a 5K", "timeline": "in 3 months"})
    )
    assert not result.is_error and result.card is not None
    plan = HabitSequencePlan.model_validate(result.card["plan"])
    assert sequence_checks(plan, 91, keywords_any=["run", "walk"]) == []
    assert len(result.data["sequence"]["phases"]) >= 3
    # A plan is a proposal: nothing is written until the user accepts it.
    assert [h.title for h in await c.backend.list_habits("u1")] == ["Reading"]


async def test_create_then_log_then_metrics() -> None:
    c = ctx(habits=())
    created = await run_tool(c, call("create_habit", {"title": "Meditation"}))
    assert created.data["created"]["title"] == "Meditation"
    for back in range(3):
        day = (TODAY - timedelta(days=back)).isoformat()
        r = await run_tool(c, call("log_habit", {"habit_title": "meditation", "date": day}))
        assert not r.is_error, r.data
    progress = await run_tool(c, call("analyze_progress", {"time_period": "7d"}))
    (row,) = progress.data["habits"]
    assert (row["completed_days"], row["current_streak"]) == (3, 3)
    assert row["completion_rate"] == round(3 / 7, 3)


async def test_habits_are_scoped_to_the_context_user() -> None:
    c = ctx(user="alice", habits=("Reading",))
    assert isinstance(c.backend, InMemoryBackend)
    c.backend.seed("bob", [NewHabit(title="Secret")], TODAY)
    r = await run_tool(c, call("log_habit", {"habit_title": "Secret"}))
    assert r.data["error"]["code"] == "habit_not_found"
    assert "h2" not in r.data["error"]["message"]
    assert [h.title for h in await c.backend.list_habits("bob")] == ["Secret"]


async def test_errors_are_data() -> None:
    c = ctx()
    assert (await run_tool(c, call("nope", {}))).data["error"]["code"] == "unknown_tool"
    bad = parse_tool_call("c", "log_habit", '{"habit_title": ')
    assert (await run_tool(c, bad)).data["error"]["code"] == "malformed_arguments"
    invalid = await run_tool(c, call("suggest_habit_modification", {"issue": "bored"}))
    assert invalid.data["error"]["code"] == "invalid_arguments"
    extra = await run_tool(c, call("log_habit", {"habit_title": "Reading", "user_id": "x"}))
    assert extra.data["error"]["code"] == "invalid_arguments"
    future = (TODAY + timedelta(days=1)).isoformat()
    r = await run_tool(c, call("log_habit", {"habit_title": "Reading", "date": future}))
    assert r.data["error"]["code"] == "future_date"
    dup = await run_tool(c, call("create_habit", {"title": "reading"}))
    assert dup.data["error"]["code"] == "habit_exists"


async def test_quantity_habit_needs_a_value() -> None:
    c = ctx(habits=())
    await run_tool(c, call("create_habit", {"title": "Steps", "kind": "quantity", "unit": "steps"}))
    missing = await run_tool(c, call("log_habit", {"habit_title": "Steps"}))
    assert missing.data["error"]["code"] == "value_required"
    ok = await run_tool(c, call("log_habit", {"habit_title": "Steps", "value": 8000}))
    assert ok.data["logged"]["value"] == 8000


async def test_sub_habits_tags_and_suggestions() -> None:
    c = ctx(habits=("Morning routine", "Budget review"))
    r = await run_tool(
        c, call("add_sub_habits", {"habit_title": "Morning routine", "sub_habits": ["Meditate"]})
    )
    assert r.data["sub_habits"] == ["Meditate"]
    r = await run_tool(c, call("assign_tags", {"habit_id": "h1", "tags": ["Wellness"]}))
    assert r.data["tags"] == ["wellness"]
    r = await run_tool(c, call("suggest_tags", {}))
    tags = {s["habit"]: s["tags"] for s in r.data["suggestions"]}
    assert "finance" in tags["Budget review"] and "morning" in tags["Morning routine"]


async def test_modification_prediction_time_and_knowledge() -> None:
    c = ctx(habits=("Evening workout",))
    r = await run_tool(
        c, call("suggest_habit_modification", {"habit_title": "workout", "issue": "forgot"})
    )
    assert r.data["habit"] == "Evening workout" and r.data["suggestions"]
    easy = await run_tool(
        c, call("predict_success", {"habit": {"title": "Walk", "times_per_week": 3}})
    )
    hard = await run_tool(
        c,
        call(
            "predict_success",
            {"habit": {"title": "Gym", "times_per_week": 7, "duration_minutes": 90}},
        ),
    )
    assert easy.data["probability"] > hard.data["probability"]
    t = await run_tool(c, call("find_optimal_time", {"habit_type": "meditation"}))
    assert t.data["time_of_day"] == "07:00"
    k = await run_tool(c, call("search_knowledge", {"query": "how long does habit formation take"}))
    assert k.data["results"][0]["id"] == "lally-2010"
