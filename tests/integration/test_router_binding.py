"""Building more apps in one process leaves the running services answering.

The AsyncAPI document builds an app of every service; a handlers module whose router was shared
between apps had its subscribers re-bound to the newest, never-connected broker, so the running
learning and metrics services received requests and their replies vanished.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from faststream.nats import NatsBroker

from deploy.asyncapi import service_apps
from services.gateway.config import GatewaySettings
from shared.contracts.learning import ASSIGN
from shared.contracts.metrics import GET
from shared.errors import NotFound
from shared.messaging import create_broker
from shared.rpc import call

pytestmark = pytest.mark.integration


@pytest.fixture
async def broker(
    settings: GatewaySettings, learning_service: FastAPI, metrics_service: FastAPI
) -> AsyncIterator[NatsBroker]:
    broker: NatsBroker = create_broker(settings)
    await broker.connect()
    yield broker
    await broker.stop()


async def answers(broker: NatsBroker) -> None:
    with pytest.raises(NotFound):  # an answer, not "no answer in time"
        await call(broker, ASSIGN, {"user_id": str(uuid.uuid4()), "experiment": "none-such"})
    with pytest.raises(NotFound):
        await call(broker, GET, {"user_id": str(uuid.uuid4()), "habit_id": str(uuid.uuid4())})


async def test_other_apps_built_in_process_do_not_take_the_running_subscribers(
    broker: NatsBroker, learning_service: FastAPI, metrics_service: FastAPI
) -> None:
    await answers(broker)
    others = service_apps()
    running = {id(s) for app in (learning_service, metrics_service) for s in subscribers(app)}
    assert all(id(s) not in running for app in others for s in subscribers(app))
    await answers(broker)


def subscribers(app: FastAPI) -> list[object]:
    broker: NatsBroker = app.state.broker
    return list(broker.subscribers)
