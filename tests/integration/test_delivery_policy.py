"""Consumers retry a failing message with delays, then dead-letter it; a success is acked once."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest
from faststream.nats import NatsRouter
from prometheus_client import REGISTRY

from services.gateway.config import GatewaySettings
from shared.events.habits import HabitArchivedV1
from shared.messaging import (
    MAX_DELIVER,
    create_broker,
    declare_streams,
    durable_consumer,
    publish_event,
)
from shared.streams import HABITS
from tests.support import BusObserver


async def _delete_consumer(url: str, durable: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_consumer(HABITS.name, durable)
    finally:
        await nc.close()


pytestmark = pytest.mark.integration


def dead_lettered() -> float:
    """The DLQ counter the alert rules read, for the subject this test poisons."""
    labels = {"subject": "habits.habit.archived.v1"}
    return REGISTRY.get_sample_value("habyss_dead_letters_total", labels) or 0.0


async def test_failing_handler_is_retried_then_dead_lettered(settings: GatewaySettings) -> None:
    marker = uuid.uuid4()
    attempts: dict[str, int] = {}
    router = NatsRouter()
    durable = f"test-delivery-{uuid.uuid4().hex[:8]}"

    @router.subscriber("habits.habit.archived.v1", stream=HABITS, **durable_consumer(durable))
    async def on_archived(event: HabitArchivedV1) -> None:
        if event.habit_id != marker:
            return
        key = str(event.event_id)
        attempts[key] = attempts.get(key, 0) + 1
        if event.user_id.int % 2 == 0 or attempts[key] < 2:
            raise RuntimeError("boom")

    broker = create_broker(settings.model_copy(update={"service_name": "test"}))
    broker.include_router(router)
    poison = HabitArchivedV1(user_id=uuid.UUID(int=2), habit_id=marker)  # always fails
    dead_before = dead_lettered()
    flaky = HabitArchivedV1(user_id=uuid.UUID(int=3), habit_id=marker)  # fails once
    try:
        await broker.connect()
        await declare_streams(broker)
        await broker.start()
        async with BusObserver(settings.nats_url, "dlq.>") as dead:
            await publish_event(broker, poison)
            await publish_event(broker, flaky)
            letters = await dead.wait_for(
                lambda s, body: body.get("habit_id") == str(marker),
                count=1,
                timeout=30,
            )
            await asyncio.sleep(0.5)
    finally:
        await broker.stop()
    await _delete_consumer(settings.nats_url, durable)

    assert attempts[str(flaky.event_id)] == 2
    assert attempts[str(poison.event_id)] == MAX_DELIVER
    assert [b["event_id"] for b in letters] == [str(poison.event_id)]
    subject, _, headers = next(
        m for m in dead.messages if m[1].get("event_id") == str(poison.event_id)
    )
    assert subject == "dlq.habits.habit.archived.v1"
    assert "boom" in headers["Habyss-Error"]
    # The DLQ-growth alert reads this counter: the poison message counts. (Not "exactly one":
    # the bus fuzz, run beside this test, poisons the same subject for every consumer in this
    # process.)
    assert dead_lettered() >= dead_before + 1
