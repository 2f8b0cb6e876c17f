"""Integration fixtures, a plugin of tests/conftest.py so that tests/integration and
tests/hardening share one instance of each per worker: per pytest worker, a fresh migrated
PostgreSQL database, a JetStream server of its own (durable consumers are server-wide state: two
workers, or a running ``make run``, would otherwise take each other's messages) and a Redis
database index of its own; the gateway and metrics services run in process, the gateway served
over httpx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.agent.app import create_app as create_agent_app
from services.agent.config import AgentSettings
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.learning.app import create_app as create_learning_app
from services.learning.config import LearningSettings
from services.metrics.app import create_app as create_metrics_app
from services.metrics.config import MetricsSettings
from shared.config import CommonSettings
from shared.db.engine import create_engine
from tests.support import nats_server, redis_index, worker_suffix

COMMON_FIELDS = set(CommonSettings.model_fields) - {"service_name", "port"}

pytestmark = pytest.mark.integration


async def recreate_database(url: str) -> None:
    parts = urlsplit(url.replace("+asyncpg", ""))
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(parts._replace(path="/postgres").geturl())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def alembic_config(url: str) -> Config:
    config = Config("alembic.ini")
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture(scope="session")
async def database_url() -> str:
    base = CommonSettings().database_url
    parts = urlsplit(base)
    url = parts._replace(path=f"/habyss_test_{worker_suffix()}").geturl()
    await recreate_database(url)
    # env.py runs its own event loop, so migrate from a worker thread.
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    return url


@pytest.fixture(scope="session")
def nats_url(
    _servers: dict[str, str] | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The test process's NATS container where Docker runs, else a nats-server of its own.

    The container is already this process's alone; the environment's NATS is not (another
    worker, or a running ``make run``, holds the same durable consumers), hence the local server.
    """
    if _servers is not None:
        yield _servers["NATS_URL"]
        return
    with nats_server(tmp_path_factory.mktemp("nats")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    base = urlsplit(CommonSettings().redis_url)
    return base._replace(path=f"/{redis_index()}").geturl()


@pytest.fixture(scope="session")
def settings(database_url: str, nats_url: str, redis_url: str) -> GatewaySettings:
    return GatewaySettings(
        database_url=database_url,
        nats_url=nats_url,
        redis_url=redis_url,
        relay_poll_seconds=0.2,
        # Small pools: two workers' services and the e2e stack share one PostgreSQL.
        db_pool_size=2,
        db_max_overflow=6,
        # Tests run reminder rounds themselves, with their own clock.
        reminder_poll_seconds=0,
        # Every test registers its users from the one in-process client address.
        auth_address_registrations=1_000_000,
    )


@pytest.fixture(scope="session")
async def metrics_service(settings: GatewaySettings) -> AsyncIterator[FastAPI]:
    app = create_metrics_app(MetricsSettings(**settings.model_dump(include=COMMON_FIELDS)))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def learning_service(settings: GatewaySettings) -> AsyncIterator[FastAPI]:
    """The learning service in process; its periodic sweep is off (tests sweep explicitly)."""
    app = create_learning_app(
        LearningSettings(**settings.model_dump(include=COMMON_FIELDS), sweep_interval_seconds=0)
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def client(
    settings: GatewaySettings, metrics_service: FastAPI, learning_service: FastAPI
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway, lifespan and all (bus, relay), served in process; metrics and learning run
    beside it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
            yield c


@pytest.fixture(scope="session")
async def agent_service(
    settings: GatewaySettings, metrics_service: FastAPI, learning_service: FastAPI
) -> AsyncIterator[FastAPI]:
    """The agent in process with the offline planner; tests may swap ``state.agent`` 's model."""
    # Offline whatever the environment says: no test may reach a real model.
    app = create_agent_app(
        AgentSettings(**settings.model_dump(include=COMMON_FIELDS), llm_provider="offline")
    )
    async with app.router.lifespan_context(app):
        yield app
