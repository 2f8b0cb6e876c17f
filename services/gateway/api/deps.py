"""What routes depend on: the runtime (engine, relay, broker), transactions and the caller."""

from __future__ import annotations

import logging
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

from services.gateway import repository, tokens
from services.gateway.config import GatewaySettings
from services.gateway.outbox import OutboxRelay
from services.gateway.reminders.push import PushAdapter
from services.gateway.security import AccessClaims, utcnow
from services.gateway.throttle import Throttle
from shared.db.core import User
from shared.errors import Unauthorized
from shared.localtime import local_today

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: GatewaySettings
    sessions: async_sessionmaker[AsyncSession]
    relay: OutboxRelay
    broker: NatsBroker
    redis: Redis
    throttle: Throttle
    # None when no push adapter is configured (Web Push without VAPID keys is off).
    push: PushAdapter | None = None

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


async def caller_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an access token as 'Authorization: Bearer <token>'.")
    rt = runtime(request)

    async def current_version(user_id: uuid.UUID) -> int | None:
        async with rt.read() as session:
            return await repository.token_version_of(session, user_id)

    return await tokens.check_access(
        credentials.credentials, rt.settings, rt.redis, current_version
    )


async def caller_id(claims: Annotated[AccessClaims, Depends(caller_claims)]) -> uuid.UUID:
    return claims.user_id


def client_address(request: Request) -> str:
    """The client's address as the server saw it.

    Behind a proxy, uvicorn's ``--proxy-headers`` and ``--forwarded-allow-ips`` make it the real
    client's.
    """
    return request.client.host if request.client else "unknown"


RuntimeDep = Annotated[Runtime, Depends(runtime)]
CallerClaims = Annotated[AccessClaims, Depends(caller_claims)]
CallerId = Annotated[uuid.UUID, Depends(caller_id)]
ClientAddress = Annotated[str, Depends(client_address)]


def today_of(user: User) -> date:
    """The user's today in their zone, with their ``day_start``."""
    return local_today(utcnow(), user.timezone, user.day_start)
