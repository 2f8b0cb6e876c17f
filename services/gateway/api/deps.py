"""What routes depend on: the runtime (engine, relay, broker), transactions and the caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from faststream.nats import NatsBroker
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.config import GatewaySettings
from services.gateway.outbox import OutboxRelay
from services.gateway.security import read_token, utcnow
from shared.db.core import User
from shared.errors import Unauthorized
from shared.localtime import local_today


@dataclass
class Runtime:
    settings: GatewaySettings
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    broker: NatsBroker
    redis: Redis

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction; on commit, the relay is woken to publish what it staged."""
        async with self.sessions.begin() as session:
            yield session
        self.relay.wake()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


_bearer = HTTPBearer(auto_error=False, description="The access token from /v1/auth/token")


def caller_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an access token as 'Authorization: Bearer <token>'.")
    return read_token(credentials.credentials, runtime(request).settings.jwt_secret)


RuntimeDep = Annotated[Runtime, Depends(runtime)]
CallerId = Annotated[uuid.UUID, Depends(caller_id)]


def today_of(user: User) -> date:
    """The user's today in their zone, with their ``day_start``."""
    return local_today(utcnow(), user.timezone, user.day_start)
