"""Integration fixtures: a fresh PostgreSQL database per worker, migrated; the gateway app in
process over httpx; the real NATS JetStream and Redis of the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.config import CommonSettings
from shared.db.engine import create_engine
from tests.support import worker_suffix

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
def settings(database_url: str) -> GatewaySettings:
    return GatewaySettings(database_url=database_url, relay_poll_seconds=0.2)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def client(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway, lifespan and all (bus, relay), served in process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
            yield c
