"""Experiments over rpc: definition, deterministic assignment, exposures, conversions, report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker

from services.gateway.config import GatewaySettings
from services.learning.experiments import Experiment, Variant, assign, difference_interval
from shared.contracts.learning import ASSIGN, CONVERT, DEFINE_EXPERIMENT, EXPERIMENT_REPORT
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.messaging import create_broker
from shared.rpc import call

pytestmark = pytest.mark.integration


@pytest.fixture
async def broker(settings: GatewaySettings, learning_service: object) -> AsyncIterator[NatsBroker]:
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    yield broker
    await broker.stop()


async def test_an_experiment_from_definition_to_report(broker: NatsBroker) -> None:
    key = f"onboarding-copy-{uuid.uuid4().hex[:6]}"
    definition = {
        "key": key,
        "variants": [{"key": "control"}, {"key": "short", "weight": 1}],
        "metric": "first_log_within_1d",
    }
    stored = await call(broker, DEFINE_EXPERIMENT, definition)
    assert stored["control"] == "control" and [v["key"] for v in stored["variants"]] == [
        "control",
        "short",
    ]
    assert await call(broker, DEFINE_EXPERIMENT, definition) == stored  # the same again is fine
    with pytest.raises(Conflict):
        await call(broker, DEFINE_EXPERIMENT, {**definition, "metric": "something_else"})

    users = [uuid.uuid4() for _ in range(160)]
    pure = Experiment(key, (Variant("control"), Variant("short")), "first_log_within_1d")
    answers = await asyncio.gather(
        *(call(broker, ASSIGN, {"user_id": str(u), "experiment": key}) for u in users)
    )
    variants = {u: a["variant"] for u, a in zip(users, answers, strict=True)}
    # The same assignment as the pure function, and stable on a second ask.
    assert all(variants[u] == assign(pure, str(u)) for u in users)
    again = await call(broker, ASSIGN, {"user_id": str(users[0]), "experiment": key})
    assert again["variant"] == variants[users[0]] and again["metric"] == "first_log_within_1d"
    counts = {v: sum(1 for x in variants.values() if x == v) for v in ("control", "short")}
    assert 50 < counts["short"] < 110

    # Conversions: every "short" user whose index is even, every third "control" user.
    converting = [
        u
        for i, u in enumerate(users)
        if (variants[u] == "short" and i % 2 == 0) or (variants[u] == "control" and i % 3 == 0)
    ]
    recorded = await asyncio.gather(
        *(call(broker, CONVERT, {"user_id": str(u), "experiment": key}) for u in converting)
    )
    assert all(r["recorded"] for r in recorded)
    twice = await call(broker, CONVERT, {"user_id": str(converting[0]), "experiment": key})
    assert twice["recorded"] is False  # a user converts once
    stranger = await call(broker, CONVERT, {"user_id": str(uuid.uuid4()), "experiment": key})
    assert stranger == {"experiment": key, "variant": None, "recorded": False}

    report = await call(broker, EXPERIMENT_REPORT, {"experiment": key})
    assert report["method"] == "newcombe_hybrid_score" and report["control"] == "control"
    control, short = report["variants"]
    conv = {v: sum(1 for u in converting if variants[u] == v) for v in ("control", "short")}
    assert (control["exposures"], control["conversions"]) == (counts["control"], conv["control"])
    assert (short["exposures"], short["conversions"]) == (counts["short"], conv["short"])
    assert control["difference"] is None and control["ci_low"] is None
    rate = conv["short"] / counts["short"]
    assert short["rate"] == pytest.approx(rate)
    assert short["difference"] == pytest.approx(rate - conv["control"] / counts["control"])
    low, high = difference_interval(
        conv["short"], counts["short"], conv["control"], counts["control"]
    )
    assert (short["ci_low"], short["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert low < short["difference"] < high
    assert short["significant"] == (low > 0 or high < 0)


async def test_the_nudge_experiments_exist_and_bad_requests_are_refused(
    broker: NatsBroker,
) -> None:
    for key, arms in (
        ("nudge_tone", {"encouraging", "direct"}),
        ("nudge_timing", {"immediate", "before_usual_time"}),
    ):
        report = await call(broker, EXPERIMENT_REPORT, {"experiment": key})
        assert report["metric"] == "nudged_habit_done_within_2d"
        assert {v["variant"] for v in report["variants"]} == arms
    with pytest.raises(NotFound):
        await call(broker, ASSIGN, {"user_id": str(uuid.uuid4()), "experiment": "no-such"})
    with pytest.raises(ValidationFailed):
        await call(
            broker,
            DEFINE_EXPERIMENT,
            {"key": "one-arm", "variants": [{"key": "only"}], "metric": "m"},
        )
    with pytest.raises(ValidationFailed):
        await call(
            broker,
            DEFINE_EXPERIMENT,
            {"key": "dup", "variants": [{"key": "a"}, {"key": "a"}], "metric": "m"},
        )
    with pytest.raises(ValidationFailed):
        await call(
            broker,
            DEFINE_EXPERIMENT,
            {"key": "ctl", "variants": [{"key": "a"}, {"key": "b"}], "metric": "m", "control": "c"},
        )
