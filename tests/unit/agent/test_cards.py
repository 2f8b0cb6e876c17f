"""Cards from the read-only tools: what the client draws for progress, chances and sources."""

from __future__ import annotations

from datetime import timedelta

from services.agent.cards import SCHOLAR, citations_card, source_link
from services.agent.tools import run_tool
from tests.unit.agent.test_tools import TODAY, call, ctx


async def test_progress_card_has_a_row_per_habit_and_the_average() -> None:
    c = ctx(habits=("Reading", "Stretch"))
    for back in range(2):
        day = (TODAY - timedelta(days=back)).isoformat()
        await run_tool(c, call("log_habit", {"habit_title": "reading", "date": day}))
    result = await run_tool(c, call("analyze_progress", {"time_period": "7d"}))
    card = result.card
    assert card is not None and card["type"] == "progress" and card["period"] == "7d"
    rows = {row["title"]: row for row in card["habits"]}
    assert rows["Reading"]["completion_rate"] == round(2 / 7, 3)
    assert rows["Reading"]["current_streak"] == 2 and rows["Stretch"]["current_streak"] == 0
    assert card["average_completion_rate"] == result.data["average_completion_rate"]


async def test_no_habits_no_progress_card() -> None:
    result = await run_tool(ctx(habits=()), call("analyze_progress", {}))
    assert result.card is None


async def test_prediction_card_carries_the_chance_factors_and_advice() -> None:
    result = await run_tool(
        ctx(), call("predict_success", {"habit": {"title": "Walk", "times_per_week": 3}})
    )
    card = result.card
    assert card is not None and card["type"] == "prediction" and card["habit"] == "Walk"
    assert card["probability"] == result.data["probability"]
    assert "3 sessions a week" in card["factors"] and card["recommendation"]


async def test_citations_card_links_every_source() -> None:
    result = await run_tool(
        ctx(), call("search_knowledge", {"query": "how long does habit formation take"})
    )
    card = result.card
    assert card is not None and card["type"] == "citations"
    assert len(card["sources"]) == len(result.data["results"])
    assert all(s["url"].startswith("https://") and s["citation"] for s in card["sources"])
    assert citations_card([]) is None


def test_a_doi_links_to_doi_org_and_anything_else_to_a_search() -> None:
    cited = (
        "Lally, P. (2010). How are habits formed. EJSP, 40(6). https://doi.org/10.1002/ejsp.674."
    )
    assert source_link(cited) == "https://doi.org/10.1002/ejsp.674"
    plain = "Wood, W. (2019). Good Habits, Bad Habits."
    assert source_link(plain) == SCHOLAR + "Wood%2C+W.+%282019%29.+Good+Habits%2C+Bad+Habits."
