"""The relay survives being stopped mid-way: the rest is published after restart, and JetStream's
dedupe on Nats-Msg-Id keeps any re-published event from reaching a consumer twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic import command
from faststream.nats import NatsBroker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway import repository
from services.gateway.config import GatewaySettings
from services.gateway.outbox import OutboxRelay
from shared.db.engine import create_engine, session_factory
from shared.events.habits import HabitArchivedV1
from shared.messaging import create_broker, declare_streams, publish_raw
from tests.integration.servers import alembic_config, recreate_database
from tests.support import BusObserver

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database of its own, so that the gateway's relay (running for other tests) keeps off."""
    url = database_url.replace("habyss_test_", "habyss_relay_test_")
    await recreate_database(url)
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


async def test_relay_stopped_mid_batch_publishes_the_rest_once(
    settings: GatewaySettings, engine: AsyncEngine
) -> None:
    sessions = session_factory(engine)
    user_id = uuid.uuid4()
    marker = uuid.uuid4()  # only this test's events carry this habit id
    async with sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO core.users (id, email, password_hash, timezone, day_start,"
                " week_start, preferences, created_at, updated_at) VALUES (:id, :email, 'x',"
                " 'UTC', '00:00', 0, '{}', now(), now())"
            ),
            {"id": user_id, "email": f"{user_id}@example.com"},
        )
        for _ in range(20):
            repository.add_outbox_event(session, HabitArchivedV1(user_id=user_id, habit_id=marker))

    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    await declare_streams(broker)
    published: list[str] = []
    calls = 0
    twelve_out = asyncio.Event()

    async def dying_publish(subject: str, payload: bytes, msg_id: str, headers: dict) -> None:
        # Calls past the 12th hang: the process is about to be killed with 4 events of its second
        # batch already in JetStream and none of that batch marked published.
        nonlocal calls
        calls += 1
        if calls > 12:
            await asyncio.Event().wait()
        await publish_raw(broker, subject, payload, msg_id, headers)
        published.append(msg_id)
        if len(published) == 12:
            twelve_out.set()

    async def publish(subject: str, payload: bytes, msg_id: str, headers: dict) -> None:
        await publish_raw(broker, subject, payload, msg_id, headers)
        published.append(msg_id)

    try:
        async with BusObserver(settings.nats_url, "habits.habit.archived.v1") as bus:
            first = OutboxRelay(sessions, dying_publish, batch_size=8)
            first.start()
            await asyncio.wait_for(twelve_out.wait(), 10)
            await first.stop()  # killed mid-batch: its transaction rolls back
            second = OutboxRelay(sessions, publish, batch_size=8)
            while await second.publish_pending():
                pass
            events = await bus.wait_for(lambda s, body: body["habit_id"] == str(marker), count=20)
    finally:
        await broker.stop()

    assert len(published) > 20  # some events really were published twice...
    assert len(events) == 20  # ...yet each reached the consumer once
    assert len({e["event_id"] for e in events}) == 20
    async with engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM core.outbox WHERE published_at IS NULL"
                " AND payload->>'habit_id' = :h"
            ),
            {"h": str(marker)},
        )
    assert waiting == 0
