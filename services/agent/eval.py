"""The agent evaluation runner: ``python -m services.agent.eval FILE [--provider offline|openai]``.

Each case (see ``shared/eval/README.md``) runs in-process with no servers: a fresh
:class:`~services.agent.backend.InMemoryBackend` user seeded with ``setup.habits`` and
``setup.chronotype``, the message through :func:`services.agent.loop.run_agent`. The runner
records the understanding, the tools called and the sequence created, scores the cases, prints the
failing ones and, as the last line, one JSON object of scores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from services.agent.agency import permitted_tools
from services.agent.backend import InMemoryBackend, NewHabit
from services.agent.loop import Budgets, CardEvent, RunCompleted, ToolCallStarted, run_agent
from services.agent.models import (
    Message,
    Model,
    ModelSettings,
    OpenAIProvider,
    SystemMessage,
    UserMessage,
)
from services.agent.models import system_prompt as render_system_prompt
from services.agent.offline import OfflinePlanner
from services.agent.sequence_checks import sequence_checks
from services.agent.sequences import HabitSequencePlan
from services.agent.tools import HABIT_WRITE_TOOLS, ToolContext
from services.agent.understanding import Understanding, understand

ENTITY_FIELDS = ("domain", "timeframe_days", "metric", "chronotype", "minutes_available")


class CaseResult(BaseModel):
    """What happened in one case and which expectations failed."""

    id: str
    understanding: Understanding
    tools: list[str]
    reply: str
    stop_reason: str
    sequence: HabitSequencePlan | None
    refused: bool
    checks: dict[str, bool]

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return all(self.checks.values())


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file of cases."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _check(case: dict[str, Any], result: CaseResult) -> dict[str, bool]:
    expect = case["expect"]
    u = result.understanding
    checks: dict[str, bool] = {}
    if "intent" in expect:
        wanted = expect["intent"]
        checks["intent"] = u.intent in (wanted if isinstance(wanted, list) else [wanted])
    if "refuse" in expect:
        checks["refuse"] = result.refused == expect["refuse"]
    if "tools_any" in expect or "tools_none" in expect:
        hit = not expect.get("tools_any") or bool(set(expect["tools_any"]) & set(result.tools))
        clean = not set(expect.get("tools_none", ())) & set(result.tools)
        checks["tools"] = hit and clean
    for name in ("domain", "chronotype", "minutes_available"):
        if name in expect:
            checks[name] = getattr(u, name) == expect[name]
    if "timeframe_days" in expect:
        low, high = expect["timeframe_days"]
        checks["timeframe_days"] = u.timeframe_days is not None and low <= u.timeframe_days <= high
    if "metric" in expect:
        m = u.metric
        checks["metric"] = m is not None and (m.value, m.unit) == (
            expect["metric"]["value"],
            expect["metric"]["unit"],
        )
    if "sentiment" in expect:
        checks["sentiment"] = u.sentiment.label == expect["sentiment"]
    if "frustration" in expect:
        checks["frustration"] = u.sentiment.frustration == expect["frustration"]
    if "sequence" in expect:
        spec = expect["sequence"]
        plan = result.sequence
        checks["sequence"] = plan is not None and not sequence_checks(
            plan,
            u.timeframe_days,
            min_phases=spec.get("min_phases", 3),
            keywords_any=spec.get("keywords_any", ()),
        )
    return checks


async def run_case(
    case: dict[str, Any],
    today: date,
    make_model: Callable[[date, Sequence[str]], Model],
    settings: ModelSettings | None = None,
) -> CaseResult:
    """Run one case against a fresh in-memory user.

    Args:
        case: The case, as in ``shared/eval/README.md``.
        today: The user's date.
        make_model: Builds the model for the user's date and habit titles.
        settings: Model settings.

    Returns:
        The case's result, with its checks.
    """
    setup = case.get("setup", {})
    backend = InMemoryBackend()
    habits = [
        NewHabit(title=h["title"], kind=h.get("kind", "boolean")) for h in setup.get("habits", [])
    ]
    backend.seed("eval-user", habits, today, chronotype=setup.get("chronotype"))
    titles = [h.title for h in habits]
    ctx = ToolContext(user_id="eval-user", today=today, backend=backend)
    context = f"Habits: {', '.join(titles) or 'none'}. Chronotype: {setup.get('chronotype')}."
    messages: list[Message] = [
        SystemMessage(content=render_system_prompt(user_context=context)),
        UserMessage(content=case["message"]),
    ]
    tools: list[str] = []
    sequence: HabitSequencePlan | None = None
    reply, stop = "", "failed"
    # The understanding is what the service stores with the message on every path, and what
    # decides the tools the turn may use (services/agent/agency.py), as in the service.
    u = understand(case["message"], today, titles)
    async for event in run_agent(
        model=make_model(today, titles),
        messages=messages,
        ctx=ctx,
        settings=settings or ModelSettings(),
        budgets=Budgets(),
        clock=_no_clock,
        run_id=case["id"],
        permitted=permitted_tools(u),
    ):
        if isinstance(event, ToolCallStarted):
            tools.append(event.name)
        elif isinstance(event, CardEvent) and event.card.get("type") == "habit_sequence":
            sequence = HabitSequencePlan.model_validate(event.card["plan"])
        elif isinstance(event, RunCompleted):
            reply, stop = event.text, event.stop_reason
    refused = u.refuse and not set(tools) & HABIT_WRITE_TOOLS
    result = CaseResult(
        id=case["id"],
        understanding=u,
        tools=tools,
        reply=reply,
        stop_reason=stop,
        sequence=sequence,
        refused=refused,
        checks={},
    )
    result.checks = _check(case, result)
    return result


def _no_clock() -> float:
    # Offline runs are deterministic; the deadline budget is exercised by the loop's tests.
    return 0.0


def _ratio(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def score(cases: Sequence[dict[str, Any]], results: Sequence[CaseResult]) -> dict[str, Any]:
    """Score results per ``shared/eval/README.md``."""

    def share(name: str) -> float | None:
        values = [r.checks[name] for r in results if name in r.checks]
        return _ratio(sum(values), len(values))

    tp = fp = fn = 0
    for case, r in zip(cases, results, strict=True):
        expect = case["expect"]
        wanted = expect.get("refuse", expect.get("intent") == "out_of_scope")
        tp += wanted and r.refused
        fp += (not wanted) and r.refused
        fn += wanted and not r.refused
    scores: dict[str, Any] = {
        "cases": len(results),
        "intent_accuracy": share("intent"),
        "refusal_precision": _ratio(tp, tp + fp),
        "refusal_recall": _ratio(tp, tp + fn),
        "tool_hit_rate": share("tools"),
    }
    for name in ENTITY_FIELDS:
        scores[f"{name}_accuracy"] = share(name)
    scores["sentiment_accuracy"] = share("sentiment")
    scores["frustration_accuracy"] = share("frustration")
    scores["sequence_pass_share"] = share("sequence")
    scores["overall"] = _ratio(sum(r.passed for r in results), len(results))
    return scores


async def evaluate(
    cases: Sequence[dict[str, Any]],
    today: date,
    make_model: Callable[[date, Sequence[str]], Model],
) -> tuple[list[CaseResult], dict[str, Any]]:
    """Run and score cases."""
    results = [await run_case(c, today, make_model) for c in cases]
    return results, score(cases, results)


def _offline(today: date, titles: Sequence[str]) -> Model:
    return OfflinePlanner(today=today, known_habits=titles)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m services.agent.eval")
    parser.add_argument("file", type=Path)
    parser.add_argument("--provider", choices=("offline", "openai"), default="offline")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    today: date = args.today or date.today()
    make_model = _offline
    if args.provider == "openai":
        provider = OpenAIProvider(
            api_key=os.environ.get("OPENAI_API_KEY", ""),
            base_url=os.environ.get("OPENAI_BASE_URL"),
        )

        def make_model(today: date, titles: Sequence[str]) -> Model:
            return provider

    results, scores = asyncio.run(evaluate(load_cases(args.file), today, make_model))
    for r in results:
        if not r.passed:
            failed = [k for k, ok in r.checks.items() if not ok]
            print(
                f"FAIL {r.id}: {', '.join(failed)} (intent={r.understanding.intent}, "
                f"tools={r.tools}, stop={r.stop_reason})"
            )
    print(json.dumps(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
