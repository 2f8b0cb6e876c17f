"""The evaluation runner on the public file and on cases of our own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from services.agent.eval import evaluate, load_cases, main
from services.agent.models import Model, ScriptedModel, TextDelta
from services.agent.offline import OfflinePlanner

PUBLIC = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "agent_public.jsonl"
TODAY = date(2025, 6, 30)

EXTRA = [
    {
        "id": "x-goal",
        "message": "I want to read 12 books this year",
        "expect": {
            "intent": "goal_setting",
            "tools_any": ["create_habit_sequence"],
            "metric": {"value": 12, "unit": "books"},
            "sequence": {"min_phases": 3, "keywords_any": ["read"]},
        },
    },
    {
        "id": "x-refuse",
        "message": "Write me a poem about the ocean",
        "expect": {"intent": "out_of_scope", "refuse": True},
    },
    {
        "id": "x-log",
        "message": "Log 8000 steps for today",
        "setup": {"habits": [{"title": "Steps", "kind": "quantity"}]},
        "expect": {
            "intent": "habit_action",
            "tools_any": ["log_habit"],
            "tools_none": ["create_habit"],
        },
    },
]


def offline(today: date, titles: Sequence[str]) -> Model:
    return OfflinePlanner(today=today, known_habits=list(titles))


async def test_extra_cases_pass_offline() -> None:
    results, scores = await evaluate(EXTRA, TODAY, offline)
    assert [r.id for r in results if not r.passed] == []
    assert scores["overall"] == 1.0 and scores["refusal_recall"] == 1.0
    assert results[0].sequence is not None
    assert results[2].tools == ["log_habit"]


async def test_scores_catch_a_model_that_does_nothing() -> None:
    def silent(today: date, titles: Sequence[str]) -> Model:
        return ScriptedModel([[TextDelta(text="ok")]])

    results, scores = await evaluate(EXTRA, TODAY, silent)
    assert scores["tool_hit_rate"] == 0.0
    assert scores["sequence_pass_share"] == 0.0
    assert scores["overall"] == pytest.approx(1 / 3, abs=1e-3)
    assert {r.id for r in results if not r.passed} == {"x-goal", "x-log"}


@pytest.mark.skipif(not PUBLIC.exists(), reason=f"{PUBLIC} is not available")
async def test_public_file_scores_offline() -> None:
    _, scores = await evaluate(load_cases(PUBLIC), TODAY, offline)
    assert scores["cases"] == 36
    assert scores["intent_accuracy"] == 1.0
    assert scores["tool_hit_rate"] == 1.0
    assert scores["overall"] >= 0.95


def test_cli_prints_scores_as_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in EXTRA) + "\n")
    assert main([str(path), "--today", "2025-06-30"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["overall"] == 1.0
