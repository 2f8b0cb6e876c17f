"""The async engine and session factory every service opens in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    """Create an async engine for ``postgresql+asyncpg://`` URLs.

    Args:
        url: The database URL.
        pool_size: Connections kept open.
        max_overflow: Extra connections allowed under load.
    """
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # Recycling beats pinging on every checkout: a ping is a round trip per transaction.
        pool_recycle=1800,
        connect_args={"server_settings": {"timezone": "UTC"}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return a session factory whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose statements run without ``BEGIN`` and ``ROLLBACK`` around them.

    For a read of one statement, as a consumer's per-message lookup: one round trip instead of
    three. The connection goes back to the pool with its usual isolation level.
    """
    async with sessions() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
