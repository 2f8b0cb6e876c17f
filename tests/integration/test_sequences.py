"""Habit sequences with the real NATS, PostgreSQL and Redis: a draft, its activation through the
gateway's habit rpc, and a phase advance driven by metrics events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from shared.db.agent import HabitSequence
from tests.support import BusObserver, auth, register


async def draft(client: httpx.AsyncClient, user: dict[str, str], goal: str) -> dict[str, Any]:
    response = await client.post("/v1/sequences", json={"goal": goal}, headers=auth(user))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def titles(client: httpx.AsyncClient, user: dict[str, str]) -> dict[str, str]:
    habits = (await client.get("/v1/habits", headers=auth(user))).json()
    return {h["title"]: h["id"] for h in habits}


async def wait_for_sequence(
    client: httpx.AsyncClient,
    user: dict[str, str],
    sequence_id: str,
    ready: Any,
    timeout: float = 15.0,
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body: dict[str, Any] = (
            await client.get(f"/v1/sequences/{sequence_id}", headers=auth(user))
        ).json()
        if ready(body) or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.1)


async def test_a_draft_is_activated_once_and_advances_when_its_phase_is_stable(
    client: httpx.AsyncClient,
    agent_service: FastAPI,
    engine: AsyncEngine,
    settings: GatewaySettings,
) -> None:
    user = await register(client)
    seq = await draft(client, user, "I want to run a 5K in 8 weeks")
    assert seq["status"] == "draft" and seq["current_phase"] is None and seq["habits"] == []
    phases = seq["plan"]["phases"]
    assert len(phases) >= 2
    first = [h["name"] for h in phases[0]["habits"]]
    assert await titles(client, user) == {}

    active = await client.post(f"/v1/sequences/{seq['id']}/activate", headers=auth(user))
    assert active.status_code == 200, active.text
    body = active.json()
    assert body["status"] == "active" and body["current_phase"] == 1
    created = await titles(client, user)
    assert sorted(created) == sorted(first)
    assert {h["name"]: h["habit_id"] for h in body["habits"]} == {n: created[n] for n in first}

    context = (await client.get("/v1/assistant/context", headers=auth(user))).json()
    assert context["active_plan"]["sequence_id"] == seq["id"]
    assert context["active_plan"]["phase"] == 1 and context["active_habits"] == len(first)
    assert any(c["label"] == "My plan" for c in context["chips"])

    again = await client.post(f"/v1/sequences/{seq['id']}/activate", headers=auth(user))
    assert again.json()["habits"] == body["habits"]
    assert await titles(client, user) == created

    # Every phase-1 habit done today: stable, but the phase has only just begun.
    for habit_id in created.values():
        logged = await client.post(f"/v1/habits/{habit_id}/logs", json={}, headers=auth(user))
        assert logged.status_code == 201
    stable = await wait_for_sequence(
        client,
        user,
        seq["id"],
        lambda b: all(h["completion_rate_week"] == 1.0 for h in b["habits"]),
    )
    assert all(h["completion_rate_week"] == 1.0 for h in stable["habits"])
    assert stable["current_phase"] == 1

    # The calendar catches up: the phase began its planned length ago.
    async with engine.begin() as conn:
        await conn.execute(
            update(HabitSequence)
            .where(HabitSequence.id == uuid.UUID(seq["id"]))
            .values(
                phase_started_on=HabitSequence.phase_started_on
                - timedelta(days=phases[0]["duration_days"])
            )
        )
    some_habit = next(iter(created.values()))
    async with BusObserver(settings.nats_url, "sequences.phase.advanced.v1") as bus:
        await client.post(f"/v1/habits/{some_habit}/logs", json={}, headers=auth(user))
        advanced = await wait_for_sequence(
            client, user, seq["id"], lambda b: b["current_phase"] == 2
        )
        announced = await bus.wait_for(lambda s, b: b["sequence_id"] == seq["id"], count=1)
    assert advanced["current_phase"] == 2
    # Announced once, after the commit (what the sequence.phase_advanced webhook delivers).
    assert [(e["phase"], e["completed"]) for e in announced] == [(2, False)]
    assert announced[0]["user_id"] == user["x-user-id"]
    second = {h["name"] for h in phases[1]["habits"]} | set(phases[1]["carried_forward"])
    assert {h["name"] for h in advanced["habits"] if h["phase"] == 2} == second
    now = await titles(client, user)
    assert {h["name"] for h in phases[1]["habits"]} <= set(now)
    assert len(now) == len(set(first) | {h["name"] for h in phases[1]["habits"]})


async def test_a_phase_with_a_slipping_habit_does_not_advance(
    client: httpx.AsyncClient, agent_service: FastAPI, engine: AsyncEngine
) -> None:
    user = await register(client)
    seq = await draft(client, user, "I want to read 12 books this year")
    body = (await client.post(f"/v1/sequences/{seq['id']}/activate", headers=auth(user))).json()
    habits = [h["habit_id"] for h in body["habits"]]
    assert len(habits) >= 2
    async with engine.begin() as conn:
        await conn.execute(
            update(HabitSequence)
            .where(HabitSequence.id == uuid.UUID(seq["id"]))
            .values(phase_started_on=HabitSequence.phase_started_on - timedelta(days=400))
        )
    # All but one done: the one left undone has no rate above the bar.
    for habit_id in habits[:-1]:
        await client.post(f"/v1/habits/{habit_id}/logs", json={}, headers=auth(user))
    settled = await wait_for_sequence(
        client,
        user,
        seq["id"],
        lambda b: sum(h["completion_rate_week"] == 1.0 for h in b["habits"]) == len(habits) - 1,
    )
    await asyncio.sleep(0.5)
    after = (await client.get(f"/v1/sequences/{seq['id']}", headers=auth(user))).json()
    assert settled["current_phase"] == after["current_phase"] == 1


async def test_sequences_are_private_and_bad_goals_are_refused(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    alice, bob = await register(client), await register(client)
    seq = await draft(client, alice, "Save $1000 in 3 months")
    for response in (
        await client.get(f"/v1/sequences/{seq['id']}", headers=auth(bob)),
        await client.post(f"/v1/sequences/{seq['id']}/activate", headers=auth(bob)),
        await client.get(f"/v1/sequences/{uuid.uuid4()}", headers=auth(alice)),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert await titles(client, bob) == {}

    for body in (
        {"goal": "What is the capital of France?"},
        {"goal": "ab"},
        {"goal": "Run a 10K", "preferences": {"minutes_available": 1}},
        {"goal": "Run a 10K", "preferences": {"chronotype": "noon"}},
        {"goal": "Run a 10K", "colour": "blue"},
    ):
        response = await client.post("/v1/sequences", json=body, headers=auth(alice))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "validation_error"


async def test_preferences_shape_the_plan(
    client: httpx.AsyncClient, agent_service: FastAPI
) -> None:
    user = await register(client)
    response = await client.post(
        "/v1/sequences",
        json={
            "goal": "Learn Spanish",
            "preferences": {"chronotype": "evening", "minutes_available": 20, "timeframe_days": 84},
        },
        headers=auth(user),
    )
    assert response.status_code == 201, response.text
    plan = response.json()["plan"]
    assert plan["total_duration_days"] == 84
    for phase in plan["phases"]:
        per_day: dict[str, int] = {}
        for habit in phase["habits"]:
            for day in habit["days"] or ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
                per_day[day] = per_day.get(day, 0) + habit["duration_minutes"]
        assert max(per_day.values()) <= 20
    times = [h["time_of_day"] for p in plan["phases"] for h in p["habits"]]
    assert any(t >= "17:00" for t in times)
