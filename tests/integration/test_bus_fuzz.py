"""Every subscriber in the AsyncAPI document, fed malformed and oversized payloads.

Each event subscriber must dead-letter each bad message with its error, at once (no retry can
mend a payload that does not parse), and go on consuming: nothing stays pending or unacked, and a
real write still flows through afterwards. Each rpc subscriber must answer each bad request with
an error envelope, never stay silent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DeliverPolicy

from deploy.asyncapi import document
from services.gateway.config import GatewaySettings
from services.knowledge.app import create_app as create_knowledge_app
from services.knowledge.config import KnowledgeSettings
from shared.messaging import create_broker, publish_raw
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "knowledge" / "fixtures" / "corpus"
# Under NATS's 1 MB message limit, far over anything a real event carries.
OVERSIZED = 900_000


def bad_payloads() -> list[tuple[str, bytes]]:
    """Named payloads no subscriber can take: broken JSON, wrong shapes and types, bulk."""
    deep = b'{"a":' * 5_000 + b"{}" + b"}" * 5_000  # past any parser's recursion limit
    return [
        ("not_json", b"\x00\xffnot json{"),
        ("empty", b""),
        ("json_array", b"[1, 2, 3]"),
        ("json_null", b"null"),
        ("empty_object", b"{}"),
        ("wrong_types", json.dumps({"user_id": 5, "habit_id": [], "event_id": True}).encode()),
        ("deep_nesting", deep),
        ("oversized", json.dumps({"user_id": str(uuid.uuid4()), "x": "a" * OVERSIZED}).encode()),
    ]


def subjects() -> tuple[list[str], list[str]]:
    """The event subjects and the rpc subjects the services subscribe to."""
    addresses = sorted({c["address"] for c in document()["channels"].values()})
    events = [a for a in addresses if not a.startswith(("rpc.", "live."))]
    rpcs = [a for a in addresses if a.startswith("rpc.")]
    return events, rpcs


EVENTS, RPCS = subjects()
# Takes no request: it re-ingests the corpus whatever the body says, so there is nothing to reject.
NO_REQUEST = {"rpc.knowledge.ingest.v1"}


@pytest.fixture(scope="module")
async def knowledge(
    settings: GatewaySettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    app = create_knowledge_app(
        KnowledgeSettings(
            nats_url=settings.nats_url,
            qdrant_path=tmp_path_factory.mktemp("qdrant"),
            corpus_dir=FIXTURES,
            embedding_workers=1,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def bus(settings: GatewaySettings) -> AsyncIterator[NatsBroker]:
    broker = create_broker(settings.model_copy(update={"service_name": "fuzzer"}))
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.stop()


class DeadLetters:
    """Collects the raw dead letters published after it started (bodies need not be JSON)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.letters: list[tuple[str, dict[str, str]]] = []

    async def __aenter__(self) -> DeadLetters:
        self.nc = await nats.connect(self.url)

        async def on_message(msg: Any) -> None:
            self.letters.append((msg.subject, dict(msg.headers or {})))
            await msg.ack()

        self.sub = await self.nc.jetstream().subscribe(
            "dlq.>",
            cb=on_message,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
            manual_ack=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()

    def per_subject(self) -> dict[str, int]:
        """How many letters each original subject has."""
        counts: dict[str, int] = {}
        for _, headers in self.letters:
            original = headers.get("Habyss-Original-Subject", "?")
            counts[original] = counts.get(original, 0) + 1
        return counts

    async def wait_for(self, subjects: list[str], each: int, timeout: float) -> None:
        """Wait until every subject has ``each`` letters or ``timeout`` seconds passed."""
        for _ in range(int(timeout / 0.1)):
            counts = self.per_subject()
            if all(counts.get(subject, 0) >= each for subject in subjects):
                break
            await asyncio.sleep(0.1)


async def consumer_backlog(nats_url: str) -> dict[str, tuple[int, int]]:
    """Per durable consumer: messages pending delivery and delivered but unacknowledged."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        backlog = {}
        for stream in await js.streams_info():
            for info in await js.consumers_info(stream.config.name):
                if info.config.durable_name:
                    backlog[info.name] = (info.num_pending, info.num_ack_pending)
        return backlog
    finally:
        await nc.close()


async def test_every_event_subscriber_dead_letters_bad_payloads_and_keeps_consuming(
    settings: GatewaySettings,
    client: httpx.AsyncClient,
    agent_service: FastAPI,
    knowledge: FastAPI,
    bus: NatsBroker,
) -> None:
    payloads = bad_payloads()
    async with DeadLetters(settings.nats_url) as dead:
        for subject in EVENTS:
            for name, body in payloads:
                await publish_raw(bus, subject, body, f"fuzz-{subject}-{name}-{uuid.uuid4()}")
        # Each subject is consumed by at least one service; every copy of a bad message is
        # dead-lettered by each consumer that received it.
        # Poison is dead-lettered on its first delivery, so this does not wait out the retries.
        await dead.wait_for(EVENTS, len(payloads), timeout=30)
    per_subject: dict[str, int] = {}
    for subject, headers in dead.letters:
        assert headers.get("Habyss-Error"), subject
        original = headers["Habyss-Original-Subject"]
        assert subject == f"dlq.{original}"
        per_subject[original] = per_subject.get(original, 0) + 1
    assert set(per_subject) == set(EVENTS)
    short = {subject: n for subject, n in per_subject.items() if n < len(payloads)}
    assert short == {}, per_subject

    # Nobody is stuck: each consumer has taken and settled everything.
    for _ in range(50):
        backlog = await consumer_backlog(settings.nats_url)
        stuck = {name: counts for name, counts in backlog.items() if counts != (0, 0)}
        if not stuck:
            break
        await asyncio.sleep(0.2)
    assert stuck == {}

    # And the pipeline still works end to end: a log reaches the metrics.
    user = await register(client)
    habit = await create_habit(client, user, title="after the fuzz")
    logged = await client.post(
        f"/v1/habits/{habit['id']}/logs", headers=auth(user), json={"status": "done"}
    )
    assert logged.status_code == 201, logged.text
    for _ in range(100):
        metrics = (await client.get(f"/v1/habits/{habit['id']}/metrics", headers=auth(user))).json()
        if metrics.get("current_streak") == 1:
            break
        await asyncio.sleep(0.1)
    assert metrics["current_streak"] == 1


@pytest.mark.parametrize("subject", [s for s in RPCS if s not in NO_REQUEST])
async def test_every_rpc_subscriber_answers_bad_requests_with_an_error(
    subject: str,
    client: httpx.AsyncClient,
    agent_service: FastAPI,
    knowledge: FastAPI,
    bus: NatsBroker,
) -> None:
    wrong: dict[str, Any] = {}
    for name, body in bad_payloads():
        try:
            reply = await bus.request(body, subject, timeout=5)
        except NatsTimeoutError:
            wrong[name] = "no reply"
            continue
        envelope = json.loads(reply.body)
        if envelope.get("ok") is not False or envelope["error"]["code"] != "validation_error":
            wrong[name] = envelope
    assert wrong == {}
