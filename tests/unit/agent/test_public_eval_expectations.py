"""Every expectation of the public evaluation file that understanding and planning decide.

Tool selection belongs to the agent loop and is not checked here.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.agent.goals import analyze_goal
from services.agent.sequence_checks import sequence_checks
from services.agent.sequences import generate_sequence
from services.agent.understanding import understand

PUBLIC = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "agent_public.jsonl"
# Relative time frames ("in 6 months", "this year", "by summer") must hold whatever the date.
TODAYS = (date(2025, 1, 15), date(2025, 6, 30), date(2025, 12, 20))


def _cases() -> list[dict[str, Any]]:
    if not PUBLIC.exists():
        return []
    return [json.loads(line) for line in PUBLIC.read_text().splitlines() if line.strip()]


CASES = _cases()
pytestmark = pytest.mark.skipif(not CASES, reason=f"{PUBLIC} is not available")


def _problems(case: dict[str, Any], today: date) -> list[str]:
    setup = case.get("setup", {})
    habits = [h["title"] for h in setup.get("habits", [])]
    expect = case["expect"]
    result = understand(case["message"], today, habits)
    problems: list[str] = []

    intents = expect.get("intent")
    if intents is not None:
        accepted = intents if isinstance(intents, list) else [intents]
        if result.intent not in accepted:
            problems.append(f"intent {result.intent} not in {accepted}")
    for field in ("refuse", "domain", "chronotype", "minutes_available"):
        if field in expect and getattr(result, field) != expect[field]:
            problems.append(f"{field} {getattr(result, field)!r} != {expect[field]!r}")
    if "timeframe_days" in expect:
        low, high = expect["timeframe_days"]
        if result.timeframe_days is None or not low <= result.timeframe_days <= high:
            problems.append(f"timeframe_days {result.timeframe_days} not in [{low}, {high}]")
    if "metric" in expect:
        metric = result.metric
        wanted = (expect["metric"]["value"], expect["metric"]["unit"])
        if metric is None or (metric.value, metric.unit) != wanted:
            problems.append(f"metric {metric} != {wanted}")
    if "sentiment" in expect and result.sentiment.label != expect["sentiment"]:
        problems.append(f"sentiment {result.sentiment.label} != {expect['sentiment']}")
    if "frustration" in expect and result.sentiment.frustration != expect["frustration"]:
        problems.append(f"frustration {result.sentiment.frustration} != {expect['frustration']}")

    if "sequence" in expect and result.intent == "goal_setting":
        goal = analyze_goal(result, today)
        plan = generate_sequence(
            goal,
            setup.get("chronotype") or result.chronotype,
            result.minutes_available,
            habits,
            today,
        )
        problems += sequence_checks(
            plan,
            goal.timeframe_days,
            min_phases=expect["sequence"].get("min_phases", 3),
            keywords_any=expect["sequence"].get("keywords_any", ()),
        )
    return problems


@pytest.mark.parametrize("today", TODAYS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_public_case(case: dict[str, Any], today: date) -> None:
    assert _problems(case, today) == []


def test_public_file_covers_every_checked_field() -> None:
    fields = {key for case in CASES for key in case["expect"]}
    assert {"intent", "refuse", "domain", "timeframe_days", "metric", "sequence"} <= fields
