"""Other services change habit data only through the gateway's rpc, scoped to a user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from faststream.nats import NatsBroker

from services.gateway.config import GatewaySettings
from shared.contracts.habits import ADD_SUB_HABITS, ASSIGN_TAGS, CREATE, LIST, LOG
from shared.errors import NotFound, ValidationFailed
from shared.messaging import create_broker
from shared.rpc import call
from tests.support import BusObserver, auth, create_habit, register

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def bus(settings: GatewaySettings) -> AsyncIterator[NatsBroker]:
    broker = create_broker(settings.model_copy(update={"service_name": "agent-test"}))
    await broker.connect()
    yield broker
    await broker.stop()


async def test_create_log_and_organise_a_habit(
    client: httpx.AsyncClient, bus: NatsBroker, settings: GatewaySettings
) -> None:
    user = await register(client)
    uid = user["x-user-id"]
    async with BusObserver(settings.nats_url, "habits.>") as events:
        habit = await call(
            bus, CREATE, {"user_id": uid, "habit": {"title": "Stretch", "sub_habits": ["neck"]}}
        )
        log = await call(bus, LOG, {"user_id": uid, "habit_id": habit["id"], "log": {}})
        grown = await call(
            bus, ADD_SUB_HABITS, {"user_id": uid, "habit_id": habit["id"], "titles": ["back"]}
        )
        tagged = await call(
            bus, ASSIGN_TAGS, {"user_id": uid, "habit_id": habit["id"], "tags": ["Morning"]}
        )
        seen = await events.wait_for(lambda s, b: b.get("habit_id") == habit["id"], count=4)
    assert log["habit_id"] == habit["id"]
    assert [s["title"] for s in grown["sub_habits"]] == ["neck", "back"]
    assert tagged["tags"] == ["morning"]
    assert len(seen) == 4  # created, logged, sub-habit added, tags changed: one event each
    listed = await call(bus, LIST, {"user_id": uid})
    assert [h["id"] for h in listed] == [habit["id"]]
    via_api = await client.get(f"/v1/habits/{habit['id']}", headers=auth(user))
    assert via_api.json()["tags"] == ["morning"]


async def test_rules_and_ownership_hold_over_rpc(
    client: httpx.AsyncClient, bus: NatsBroker
) -> None:
    owner = await register(client)
    other = await register(client)
    habit = await create_habit(client, owner)
    with pytest.raises(NotFound):
        await call(bus, LOG, {"user_id": other["x-user-id"], "habit_id": habit["id"], "log": {}})
    with pytest.raises(ValidationFailed):
        await call(bus, CREATE, {"user_id": owner["x-user-id"], "habit": {"title": "x",
                   "schedule": {"type": "interval", "unit": "fortnight"}}})  # fmt: skip
    with pytest.raises(ValidationFailed):
        await call(bus, ADD_SUB_HABITS, {"user_id": owner["x-user-id"], "habit_id": habit["id"],
                   "titles": [f"s{i}" for i in range(21)]})  # fmt: skip
    with pytest.raises(ValidationFailed):
        await call(bus, LOG, {"user_id": owner["x-user-id"], "habit_id": habit["id"],
                   "log": {"date": "2999-01-01"}})  # fmt: skip
    # A user with no habits (or an unknown id) lists nothing rather than someone else's.
    assert await call(bus, LIST, {"user_id": str(uuid.uuid4())}) == []
