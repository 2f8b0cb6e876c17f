"""The tool-call loop with a scripted model: actions, budgets, repeats, errors, terminal events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.loop import (
    AgentEvent,
    Budgets,
    CardEvent,
    RunCompleted,
    RunFailed,
    RunStarted,
    TextDeltaEvent,
    ToolCallCompleted,
    ToolCallStarted,
    run_agent,
)
from services.agent.models import (
    Finish,
    Message,
    ModelEvent,
    ModelSettings,
    ScriptedModel,
    TextDelta,
    ToolCallsReady,
    ToolResultMessage,
    UserMessage,
    parse_tool_call,
    system_prompt,
)
from services.agent.prompt_guard import NOTICE, system_prompt_guard
from services.agent.tools import ToolContext

TODAY = date(2025, 3, 10)


def calls(*specs: tuple[str, dict[str, object]]) -> list[ModelEvent]:
    return [
        ToolCallsReady(
            calls=tuple(
                parse_tool_call(f"c{i}-{name}", name, json.dumps(args))
                for i, (name, args) in enumerate(specs)
            )
        )
    ]


def say(text: str) -> list[ModelEvent]:
    return [TextDelta(text=text)]


class Clock:
    def __init__(self, step: float = 0.0) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


async def run(
    model: ScriptedModel,
    budgets: Budgets | None = None,
    clock: Clock | None = None,
    habits: Sequence[str] = ("Reading",),
    permitted: set[str] | None = None,
) -> tuple[list[AgentEvent], InMemoryBackend]:
    backend = InMemoryBackend()
    backend.seed("u1", [NewHabit(title=t) for t in habits], TODAY)
    ctx = ToolContext(user_id="u1", today=TODAY, backend=backend)
    events = [
        e
        async for e in run_agent(
            model=model,
            messages=[UserMessage(content="hi")],
            ctx=ctx,
            settings=ModelSettings(),
            budgets=budgets or Budgets(),
            clock=clock or Clock(),
            run_id="r1",
            permitted=permitted,
        )
    ]
    return events, backend


def terminal(events: list[AgentEvent]) -> RunCompleted | RunFailed:
    ends = [e for e in events if isinstance(e, RunCompleted | RunFailed)]
    assert len(ends) == 1 and events[-1] is ends[0]
    assert isinstance(events[0], RunStarted)
    return ends[0]


async def test_several_actions_from_one_message() -> None:
    model = ScriptedModel(
        [
            calls(
                ("create_habit", {"title": "Morning routine"}),
                (
                    "add_sub_habits",
                    {"habit_title": "Morning routine", "sub_habits": ["Meditate", "Journal"]},
                ),
                ("log_habit", {"habit_title": "Reading"}),
            ),
            say("Done!"),
        ]
    )
    events, backend = await run(model)
    end = terminal(events)
    assert isinstance(end, RunCompleted)
    assert (end.stop_reason, end.tool_calls, end.turns, end.text) == ("done", 3, 2, "Done!")
    assert [e.name for e in events if isinstance(e, ToolCallStarted)] == [
        "create_habit",
        "add_sub_habits",
        "log_habit",
    ]
    assert any(isinstance(e, CardEvent) and e.card["type"] == "habit_created" for e in events)
    habits = {h.title: h for h in await backend.list_habits("u1")}
    assert habits["Morning routine"].sub_habits == ("Meditate", "Journal")
    second_call = model.calls[1]
    assert [m.role for m in second_call] == ["user", "assistant", "tool", "tool", "tool"]


async def test_tool_error_is_fed_back_to_the_model() -> None:
    def react(messages: Sequence[Message]) -> list[ModelEvent]:
        result = messages[-1]
        assert isinstance(result, ToolResultMessage)
        error = json.loads(result.content)["error"]
        return say(f"Sorry: {error['code']}")

    model = ScriptedModel([calls(("log_habit", {"habit_title": "Juggling"})), react])
    events, _ = await run(model)
    completed = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert completed[0].is_error
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.text == "Sorry: habit_not_found"


async def test_max_turns_budget() -> None:
    model = ScriptedModel(
        [calls(("analyze_progress", {"time_period": p})) for p in ("7d", "30d", "90d", "all")]
    )
    events, _ = await run(model, Budgets(max_turns=2))
    end = terminal(events)
    assert isinstance(end, RunCompleted)
    assert (end.stop_reason, end.turns) == ("max_turns", 2)
    assert "analyze_progress" in end.text
    assert len(model.calls) == 2


async def test_max_tool_calls_budget() -> None:
    model = ScriptedModel(
        [
            calls(("analyze_progress", {"time_period": "7d"})),
            calls(
                ("analyze_progress", {"time_period": "30d"}),
                ("analyze_progress", {"time_period": "90d"}),
            ),
            say("unreachable"),
        ]
    )
    events, _ = await run(model, Budgets(max_tool_calls=2))
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.stop_reason == "max_tool_calls"
    assert end.tool_calls == 1
    assert sum(isinstance(e, ToolCallStarted) for e in events) == 1


async def test_max_tokens_budget() -> None:
    model = ScriptedModel(
        [
            [
                *calls(("analyze_progress", {})),
                Finish(reason="tool_calls", model="m", input_tokens=900, output_tokens=200),
            ],
            say("unreachable"),
        ]
    )
    events, _ = await run(model, Budgets(max_tokens=1000))
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.stop_reason == "max_tokens"
    assert end.tokens == 1100 and len(model.calls) == 1


async def test_deadline_budget_on_injected_clock() -> None:
    model = ScriptedModel(
        [calls(("analyze_progress", {"time_period": p})) for p in ("7d", "30d", "90d", "all")]
    )
    events, _ = await run(model, Budgets(deadline_seconds=10), Clock(step=4.0))
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.stop_reason == "deadline"
    assert len(model.calls) < 4


async def test_repeated_identical_call_is_cut_off() -> None:
    same = ("log_habit", {"habit_title": "Reading"})
    model = ScriptedModel([calls(same), calls(same), say("unreachable")])
    events, _ = await run(model)
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.stop_reason == "repeated_call"
    results = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert [r.result.get("error", {}).get("code") for r in results] == [None, "repeated_call"]
    assert end.tool_calls == 1


async def test_model_failure_gives_one_run_failed() -> None:
    model = ScriptedModel([])
    events, _ = await run(model)
    end = terminal(events)
    assert isinstance(end, RunFailed) and end.code == "script_exhausted"


async def test_text_is_streamed_as_deltas() -> None:
    model = ScriptedModel([[TextDelta(text="Nic"), TextDelta(text="ely, woohoo")]])
    events, _ = await run(model)
    assert [e.text for e in events if isinstance(e, TextDeltaEvent)] == ["Nic", "ely, woohoo"]
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.text == "Nicely, woohoo"


async def test_a_word_that_may_still_become_the_prompt_is_held_until_it_cannot() -> None:
    # "Hel" may grow into "help", a word of the system prompt, so it waits for the next piece.
    model = ScriptedModel([[TextDelta(text="Hel"), TextDelta(text="lo")]])
    events, _ = await run(model)
    assert [e.text for e in events if isinstance(e, TextDeltaEvent)] == ["Hello"]


async def test_a_reply_reciting_the_system_prompt_is_cut_and_its_tool_calls_not_run() -> None:
    prompt = system_prompt(user_context="Habits: Reading")
    pieces = [prompt[i : i + 7] for i in range(0, len(prompt), 7)]
    model = ScriptedModel(
        [[*(TextDelta(text=p) for p in pieces), *calls(("log_habit", {"habit_title": "Reading"}))]]
    )
    events, backend = await run(model)
    assert backend.users["u1"].logs == []
    shown = "".join(e.text for e in events if isinstance(e, TextDeltaEvent))
    assert not system_prompt_guard().leaks(shown)
    assert shown.endswith(NOTICE) and len(shown) < len(NOTICE) + 40
    assert not [e for e in events if isinstance(e, ToolCallStarted)]
    end = terminal(events)
    assert isinstance(end, RunCompleted) and end.stop_reason == "refused"


async def test_a_tool_outside_the_permitted_ones_is_neither_offered_nor_run() -> None:
    model = ScriptedModel([calls(("log_habit", {"habit_title": "Reading"})), say("ok")])
    events, backend = await run(model, permitted={"analyze_progress"})
    assert backend.users["u1"].logs == []
    [done] = [e for e in events if isinstance(e, ToolCallCompleted)]
    assert done.is_error and done.result["error"]["code"] == "not_permitted"
    assert model.offered[0] == ["analyze_progress"]
