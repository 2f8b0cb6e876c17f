"""``create_visualization``: the tool's card, its errors, and the offline planner's use of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.loop import Budgets, CardEvent, RunCompleted, ToolCallStarted, run_agent
from services.agent.models import ModelSettings, ParsedToolCall, UserMessage
from services.agent.offline import OfflinePlanner, plan_calls
from services.agent.tools import ToolContext, run_tool
from services.agent.understanding import understand
from shared.charts import SCHEMA

TODAY = date(2026, 3, 15)


async def _ctx(titles: tuple[str, ...] = ("Running", "Meditation")) -> ToolContext:
    backend = InMemoryBackend()
    habits = backend.seed("u1", [NewHabit(title=t) for t in titles], TODAY - timedelta(days=20))
    for back in (0, 1, 2, 5, 6):
        await backend.log_habit("u1", habits[0].id, TODAY - timedelta(days=back), None)
    return ToolContext(user_id="u1", today=TODAY, backend=backend)


def _call(args: dict[str, object]) -> ParsedToolCall:
    return ParsedToolCall(id="c", name="create_visualization", raw_arguments="", arguments=args)


async def test_the_tool_returns_a_visualization_card_with_the_spec() -> None:
    ctx = await _ctx()
    result = await run_tool(
        ctx, _call({"data_source": "running", "visualization_type": "streak", "time_period": "90d"})
    )
    assert not result.is_error, result.data
    card = result.card
    assert card is not None and card["type"] == "visualization"
    assert card["spec"]["$schema"] == SCHEMA
    values = card["spec"]["data"]["values"]
    assert [(v["start"], v["length"]) for v in values] == [
        ((TODAY - timedelta(days=6)).isoformat(), 2),
        ((TODAY - timedelta(days=2)).isoformat(), 3),
    ]
    assert result.data["longest_streak"] == 3 and result.data["completed_days"] == 5
    assert result.data["days"] == 21  # from the habit's creation, not 90 empty days
    # The model gets a summary; the spec goes to the client only.
    assert "spec" not in result.data


async def test_the_line_rate_of_the_last_day_is_the_week_rate() -> None:
    ctx = await _ctx()
    result = await run_tool(ctx, _call({"data_source": "Running"}))
    last = result.card["spec"]["data"]["values"][-1] if result.card else {}
    assert last == {"date": TODAY.isoformat(), "rate": 5 / 7}  # 7-day window for 30d


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"data_source": "Swimming"}, "habit_not_found"),
        ({"data_source": "Running", "visualization_type": "pie"}, "invalid_arguments"),
        ({"data_source": "Running", "time_period": "7w"}, "invalid_arguments"),
        ({}, "invalid_arguments"),
    ],
)
async def test_bad_requests_come_back_as_errors(args: dict[str, object], code: str) -> None:
    result = await run_tool(await _ctx(), _call(args))
    assert result.is_error and result.data["error"]["code"] == code


@pytest.mark.parametrize(
    ("message", "chart", "period"),
    [
        ("show me a chart of my running this month", "line", "30d"),
        ("Can I see a heatmap of my running for the last year?", "heatmap", "1y"),
        ("plot my running streaks", "streak", "30d"),
        ("graph my runs per week over the last 90 days", "bar", "90d"),
    ],
)
def test_the_planner_asks_for_the_chart_named(message: str, chart: str, period: str) -> None:
    titles = ["Morning run", "Meditation"]
    ((name, args),) = plan_calls(understand(message, TODAY, titles), titles)
    assert name == "create_visualization"
    assert (args["visualization_type"], args["time_period"]) == (chart, period)


async def test_the_offline_planner_answers_a_chart_request_with_the_card() -> None:
    ctx = await _ctx(("Morning run", "Reading"))
    message = "show me a chart of my running this month"
    events = [
        e
        async for e in run_agent(
            model=OfflinePlanner(today=TODAY, known_habits=["Morning run", "Reading"]),
            messages=[UserMessage(content=message)],
            ctx=ctx,
            settings=ModelSettings(),
            budgets=Budgets(),
            clock=lambda: 0.0,
            run_id="r",
        )
    ]
    assert [e.name for e in events if isinstance(e, ToolCallStarted)] == ["create_visualization"]
    (card,) = [e.card for e in events if isinstance(e, CardEvent)]
    assert card["type"] == "visualization" and card["spec"]["title"]["text"] == "Morning run"
    (done,) = [e for e in events if isinstance(e, RunCompleted)]
    assert "line chart of Morning run over the last 30 days" in done.text
