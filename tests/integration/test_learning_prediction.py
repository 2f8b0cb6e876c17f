"""Success prediction over rpc, learning from logged outcomes, the model persisted in Postgres."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from faststream.nats import NatsBroker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from services.learning.calibration import (
    base_rate_brier,
    brier_score,
    expected_calibration_error,
    format_reliability_table,
    reliability_table,
)
from services.learning.outcomes import Calendar, UserFacts, draft_profile, history_as_of
from services.learning.prediction import Example, SuccessPredictor
from services.learning.service import LearningService
from shared.contracts.learning import PREDICT, SWEEP, PredictQuery, UserQuery
from shared.db.engine import session_factory
from shared.db.learning import HabitProgress, ModelState, UserModel
from shared.errors import NotFound, ValidationFailed
from shared.messaging import create_broker
from shared.rpc import call
from tests.support import auth, create_habit, register
from tests.unit.learning.population import simulate_population

pytestmark = pytest.mark.integration

SIM_NAMESPACE = uuid.UUID("6d1f7f0e-5a0c-4d7e-9a55-2f1c0c1d9e01")


@pytest.fixture
async def broker(settings: GatewaySettings) -> Any:
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    yield broker
    await broker.stop()


async def today_of(client: httpx.AsyncClient, user: dict[str, str]) -> date:
    probe = await create_habit(client, user, title="probe")
    await client.delete(f"/v1/habits/{probe['id']}", headers=auth(user))
    return date.fromisoformat(probe["start_date"])


async def progress(engine: AsyncEngine, habit_id: str) -> tuple[date | None, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(HabitProgress.learned_through, HabitProgress.examples).where(
                    HabitProgress.habit_id == uuid.UUID(habit_id)
                )
            )
        ).one_or_none()
    return (row.learned_through, row.examples) if row else (None, 0)


async def model_revision(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(ModelState.revision).where(ModelState.name == "success_v1")
        )
        return int(result.scalar_one())


async def test_logged_outcomes_are_learned_once_and_persisted(
    client: httpx.AsyncClient, engine: AsyncEngine, broker: NatsBroker, settings: GatewaySettings
) -> None:
    user = await register(client)
    user_id = uuid.UUID(user["x-user-id"])
    today = await today_of(client, user)
    start = today - timedelta(days=20)
    habit = await create_habit(client, user, title="Stretch 5 min", start_date=start.isoformat())
    missed = {10, 6, 2, 1}  # days ago; today is still open
    for ago in range(20, 2, -1):
        if ago not in missed:
            day = (today - timedelta(days=ago)).isoformat()
            r = await client.post(
                f"/v1/habits/{habit['id']}/logs", json={"date": day}, headers=auth(user)
            )
            assert r.status_code == 201

    # Each log's metrics event sweeps the user. With a one-day lag, days through the day before
    # yesterday are learned: 19 closed days (the day before yesterday a miss).
    expected = (today - timedelta(days=2), 19)
    deadline = asyncio.get_running_loop().time() + 15
    while await progress(engine, habit["id"]) != expected:
        assert asyncio.get_running_loop().time() < deadline, await progress(engine, habit["id"])
        await asyncio.sleep(0.1)
    async with engine.connect() as conn:
        examples = (
            await conn.execute(
                select(UserModel.examples).where(
                    UserModel.user_id == user_id, UserModel.model == "success_v1"
                )
            )
        ).scalar_one()
    assert examples == 19

    # A sweep of a day already learned learns nothing again (redeliveries are harmless).
    again = await call(broker, SWEEP, UserQuery(user_id=user_id))
    assert again["learned"] == 0
    assert await progress(engine, habit["id"]) == expected

    # The stored state is what answers: a fresh instance with an empty cache agrees exactly
    # (tried again if another test's outcomes moved the shared model between the two reads).
    query = PredictQuery(user_id=user_id, habit_id=uuid.UUID(habit["id"]))
    fresh = LearningService(session_factory(engine), broker)
    for _ in range(5):
        before = await model_revision(engine)
        known = await call(broker, PREDICT, query)
        replayed = await fresh.predict(query)
        if await model_revision(engine) == before:
            break
        await asyncio.sleep(0.2)
    assert 0 < known["probability"] < 1
    assert date.fromisoformat(known["on"]) == today
    assert replayed.probability == pytest.approx(known["probability"], abs=1e-4)

    stranger = await register(client)
    twin = await create_habit(client, stranger, title="Stretch 5 min")
    unknown = await call(
        broker,
        PREDICT,
        PredictQuery(user_id=uuid.UUID(stranger["x-user-id"]), habit_id=uuid.UUID(twin["id"])),
    )
    assert known["confidence"] > unknown["confidence"]


async def test_predict_explains_with_real_factors(
    client: httpx.AsyncClient, broker: NatsBroker, engine: AsyncEngine
) -> None:
    user = await register(client)
    user_id = uuid.UUID(user["x-user-id"])
    hard = {"title": "Run", "duration_minutes": 90, "difficulty": 0.9, "times_per_week": 7}
    answer = await call(broker, PREDICT, {"user_id": str(user_id), "habit": hard})
    on = date.fromisoformat(answer["on"])

    # The factors are the stored model's own terms of the log-odds, largest first.
    stored = await LearningService(session_factory(engine), broker).stored_model([str(user_id)])
    profile = draft_profile(hard)
    history = history_as_of(UserFacts(str(user_id), Calendar()), "", on, {}, {"": profile.category})
    factors = stored.explain(profile, history, on).factors
    risks = sorted((f for f in factors if f.contribution <= -0.05), key=lambda f: f.contribution)
    helps = sorted((f for f in factors if f.contribution >= 0.05), key=lambda f: -f.contribution)
    assert [(f["name"], f["contribution"]) for f in answer["top_risk_factors"]] == [
        (f.name, pytest.approx(f.contribution, abs=1e-4)) for f in risks[:3]
    ]
    assert [f["name"] for f in answer["top_success_factors"]] == [f.name for f in helps[:3]]
    # The answer is rounded to 4 decimals; a relative tolerance fails on a small probability.
    expected = stored.probability(profile, history, on)
    assert answer["probability"] == pytest.approx(expected, rel=1e-3, abs=1e-4)

    # With the research priors alone (a model that has seen nothing), a long, hard habit is less
    # likely than a tiny one, and the remedy is to start smaller.
    fresh = LearningService(
        session_factory(engine), broker, model_name=f"fresh-{uuid.uuid4().hex[:8]}"
    )
    await fresh.start()
    easy = {"title": "Floss one tooth", "duration_minutes": 2, "difficulty": 0.1}
    p_easy = await fresh.predict(PredictQuery(user_id=user_id, habit=easy))
    p_hard = await fresh.predict(PredictQuery(user_id=user_id, habit=hard))
    assert 0 < p_hard.probability < p_easy.probability < 1
    assert {f.name for f in p_hard.top_risk_factors} >= {"duration", "difficulty"}
    assert all(f.contribution > 0 for f in p_easy.top_success_factors)
    assert "start_smaller" in [r.code for r in p_hard.recommendations]
    assert any("2-minute" in r.message for r in p_hard.recommendations)


async def test_predict_refuses_what_it_cannot_answer(
    client: httpx.AsyncClient, broker: NatsBroker
) -> None:
    user = await register(client)
    other = await register(client)
    foreign = await create_habit(client, other)
    quit_habit = await create_habit(client, user, title="No soda", kind="negative")
    user_id = str(user["x-user-id"])
    with pytest.raises(NotFound):
        await call(broker, PREDICT, {"user_id": user_id, "habit_id": foreign["id"]})
    with pytest.raises(ValidationFailed):
        await call(broker, PREDICT, {"user_id": user_id})
    with pytest.raises(ValidationFailed):
        await call(broker, PREDICT, {"user_id": user_id, "habit_id": quit_habit["id"]})
    with pytest.raises(ValidationFailed):
        await call(broker, PREDICT, {"user_id": user_id, "habit": {}, "on": "2001-01-01"})
    with pytest.raises(NotFound):
        await call(broker, PREDICT, {"user_id": str(uuid.uuid4()), "habit": {}})


def sim_examples(days: list[Any]) -> list[tuple[Example, bool]]:
    out = []
    for d in days:
        uid = str(uuid.uuid5(SIM_NAMESPACE, d.history.user_id))
        out.append((Example(d.profile, replace(d.history, user_id=uid), d.on), d.done))
    return out


async def test_a_simulated_population_learned_through_the_service_beats_the_base_rate(
    engine: AsyncEngine, settings: GatewaySettings
) -> None:
    """The service's update path, against the real database, learns a simulated population.

    The pure 600-user run is ``tests/unit/learning/test_simulation.py``; here 500 users over 90
    days go through ``learn_batch`` in ten-day transactions, and a fresh instance reads the model
    back from Postgres and scores what it never saw.
    """
    population = simulate_population(n_users=500, n_days=90, seed=3)
    held_out = 400
    train = [
        d
        for d in population.days
        if d.status != "skipped" and d.day_index < 60 and d.user_index < held_out
    ]
    name = f"sim-{uuid.uuid4().hex[:8]}"
    service = LearningService(session_factory(engine), create_broker(settings), model_name=name)
    await service.start()
    reference = SuccessPredictor()
    for first in range(0, 60, 10):
        batch = sim_examples([d for d in train if first <= d.day_index < first + 10])
        assert await service.learn_batch(batch) == len(batch)
        for example, done in batch:
            reference.update(example, done)

    seen_later = [
        d
        for d in population.days
        if d.status != "skipped" and d.day_index >= 60 and d.user_index < held_out
    ]
    strangers = [d for d in population.days if d.status != "skipped" and d.user_index >= held_out]
    fresh = LearningService(session_factory(engine), create_broker(settings), model_name=name)
    users = sorted({ex.history.user_id for ex, _ in sim_examples(seen_later)})
    stored = await fresh.stored_model(users)
    assert stored.examples_seen == len(train)
    for label, days in (("later days, seen users", seen_later), ("held-out users", strangers)):
        examples = sim_examples(days)
        probabilities = [stored.probability(e.profile, e.history, e.on) for e, _ in examples]
        outcomes = [done for _, done in examples]
        # The stored model is the model: persisting and reloading loses nothing.
        expected = [reference.probability(e.profile, e.history, e.on) for e, _ in examples[:200]]
        assert probabilities[:200] == pytest.approx(expected, abs=1e-12)
        model, base = brier_score(probabilities, outcomes), base_rate_brier(outcomes)
        table = reliability_table(probabilities, outcomes)
        print(f"\n{label}: n={len(outcomes)} brier={model:.4f} base-rate brier={base:.4f}")
        print(format_reliability_table(table))
        assert model < 0.9 * base
        assert expected_calibration_error(table) < 0.06
