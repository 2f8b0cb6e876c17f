"""Replicas split the work and each event is handled once in effect.

Beside the e2e stack (whose gateway runs two worker processes, ``GATEWAY_WORKERS=2``) a second
metrics and a second agent instance start against the same JetStream, PostgreSQL and Redis. Log
writes spread over both metrics instances and the stored metrics equal a recompute from the
logs; chat turns spread over both agents and each turn is answered exactly once.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from deploy.launcher import wait_ready
from services.metrics import repository as metrics_repository
from services.metrics.engine import LogEntry, compute_metrics
from services.metrics.service import habit_spec, metrics_out
from shared.db.engine import create_engine, session_factory
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
LOGS_PER_HABIT = 12
HABITS = 4
CHAT_USERS = 6
TURNS_PER_USER = 2


@pytest.fixture(scope="module")
def second_instances(
    stack: str, stack_env: dict[str, str], stack_ports: dict[str, int], tmp_path_factory: Any
) -> Iterator[dict[str, tuple[int, int]]]:
    """A second metrics and agent process; each service's (first, second) port."""
    logs = tmp_path_factory.mktemp("replica-logs")
    base = max(stack_ports.values()) + 1
    ports = {"metrics": base, "agent": base + 1}
    procs = []
    for name, port in ports.items():
        with open(logs / f"{name}.log", "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                cwd=ROOT,
                env={**stack_env, "PORT": str(port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
    try:
        deadline = time.monotonic() + 120
        for (name, port), proc in zip(ports.items(), procs, strict=True):
            wait_ready(port, name, proc, deadline, logs=logs)
        yield {name: (stack_ports[name.upper()], port) for name, port in ports.items()}
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def counter(client: httpx.AsyncClient, port: int, series: str) -> float:
    """The sum of a Prometheus series (every label set matching ``series``) of one process."""
    text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    pattern = re.compile(rf"^{re.escape(series)}(?:\{{[^}}]*\}})? ([0-9.e+]+)$", re.M)
    return sum(float(v) for v in pattern.findall(text))


LOG_EVENTS = (
    "faststream_received_messages_total"
    '{app_name="metrics",broker="nats",handler="habits.log.recorded.v1"}'
)
TURNS = 'habyss_chat_turn_seconds_count{outcome="finished"}'


async def test_two_metrics_instances_share_the_log_events_and_agree_with_a_recompute(
    stack: str, stack_env: dict[str, str], second_instances: dict[str, tuple[int, int]]
) -> None:
    ports = second_instances["metrics"]
    async with httpx.AsyncClient(base_url=stack, timeout=30) as client:
        before = [await counter(client, p, LOG_EVENTS) for p in ports]
        user = await register(client)
        start = (date.today() - timedelta(days=LOGS_PER_HABIT + 10)).isoformat()
        habits = [
            (await create_habit(client, user, title=f"r{i}", start_date=start))["id"]
            for i in range(HABITS)
        ]

        async def write(habit: str, day: int) -> None:
            when = (date.today() - timedelta(days=day + 1)).isoformat()
            r = await client.post(
                f"/v1/habits/{habit}/logs", json={"date": when}, headers=auth(user)
            )
            assert r.status_code == 201, r.text

        await asyncio.gather(*(write(h, d) for h in habits for d in range(LOGS_PER_HABIT)))

        async def settled(habit: str) -> dict[str, Any]:
            deadline = time.monotonic() + 60
            while True:
                r = await client.get(f"/v1/habits/{habit}/metrics", headers=auth(user))
                if r.status_code == 200 and r.json()["total_completions"] == LOGS_PER_HABIT:
                    body: dict[str, Any] = r.json()
                    return body
                assert time.monotonic() < deadline, f"metrics of {habit} did not settle: {r.text}"
                await asyncio.sleep(0.2)

        served = {h: await settled(h) for h in habits}
        after = [await counter(client, p, LOG_EVENTS) for p in ports]

    handled = [a - b for a, b in zip(after, before, strict=True)]
    assert all(n > 0 for n in handled), f"one instance took no log event: {handled}"
    assert sum(handled) >= HABITS * LOGS_PER_HABIT
    engine = create_engine(stack_env["DATABASE_URL"], pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session:
            for habit, body in served.items():
                habit_id = uuid.UUID(habit)
                record = await metrics_repository.habit_record(session, habit_id)
                rows = await metrics_repository.habit_logs(session, habit_id)
                assert record is not None
                as_of = date.fromisoformat(body["as_of"])
                logs = [LogEntry(d, s, v) for d, s, v in rows]
                recomputed = compute_metrics(habit_spec(record), logs, as_of)
                assert body == metrics_out(habit_id, as_of, recomputed).model_dump(mode="json")
    finally:
        await engine.dispose()


async def _turn(
    client: httpx.AsyncClient, user: dict[str, str], message: str, conversation: str | None
) -> list[tuple[str, Any]]:
    body: dict[str, Any] = {"message": message}
    if conversation:
        body["conversation_id"] = conversation
    headers = {**auth(user), "Accept": "text/event-stream"}
    async with aconnect_sse(client, "POST", "/v1/chat", json=body, headers=headers) as source:
        assert source.response.status_code == 200
        return [(sse.event, sse.json()) async for sse in source.aiter_sse()]


async def test_two_agents_share_the_chat_turns_and_answer_each_once(
    stack: str, second_instances: dict[str, tuple[int, int]]
) -> None:
    ports = second_instances["agent"]
    messages = ["How are my habits going this week?", "I keep skipping my morning run, help"]
    async with httpx.AsyncClient(base_url=stack, timeout=60) as client:
        before = [await counter(client, p, TURNS) for p in ports]
        users = [await register(client) for _ in range(CHAT_USERS)]

        async def chat(user: dict[str, str]) -> tuple[str, list[list[tuple[str, Any]]]]:
            conversation = None
            turns = []
            for message in messages[:TURNS_PER_USER]:
                events = await _turn(client, user, message, conversation)
                conversation = events[0][1]["conversation_id"]
                turns.append(events)
            assert conversation is not None
            return conversation, turns

        chats = await asyncio.gather(*(chat(u) for u in users))
        for (conversation, turns), user in zip(chats, users, strict=True):
            for events in turns:
                kinds = [kind for kind, _ in events]
                assert kinds[0] == "run.started"
                assert kinds.count("run.completed") == 1 and "run.failed" not in kinds, kinds
            stored = await client.get(
                f"/v1/conversations/{conversation}/messages", headers=auth(user)
            )
            roles = [m["role"] for m in stored.json()["messages"]]
            assert roles == ["user", "assistant"] * TURNS_PER_USER
        after = [await counter(client, p, TURNS) for p in ports]

    handled = [a - b for a, b in zip(after, before, strict=True)]
    assert all(n > 0 for n in handled), f"one agent took no turn: {handled}"
    assert sum(handled) == CHAT_USERS * TURNS_PER_USER
