"""Sessions: issuing access and refresh tokens, checking and revoking them.

An access token is checked against two things kept in Redis: a deny-list of logged-out token ids
(each entry lives until the token would have expired anyway) and the user's token version (bumped
when the password changes; the database is the truth, Redis a cache of it). Refresh tokens live in
``core.refresh_tokens`` and rotate: each use replaces the token, and a second use of a replaced
token revokes its whole family (OAuth 2.0 Security BCP §4.14).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import repository
from services.gateway.config import GatewaySettings
from services.gateway.security import (
    AccessClaims,
    issue_token,
    new_refresh_token,
    read_token,
    refresh_token_hash,
)
from shared.db.core import RefreshToken, User
from shared.errors import Unauthorized

log = logging.getLogger(__name__)
# How long a cached token version may be trusted without the database: a change is written
# through at once, this only bounds the damage of a write that Redis missed.
VERSION_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


def _revoked_key(jti: str) -> str:
    return f"auth:revoked:{jti}"


def _version_key(user_id: uuid.UUID) -> str:
    return f"auth:version:{user_id}"


async def open_session(
    db: AsyncSession, settings: GatewaySettings, user: User, now: datetime
) -> Session:
    """Issue an access token and the first refresh token of a new family."""
    return await _issue(db, settings, user, uuid.uuid4(), now)


async def _issue(
    db: AsyncSession, settings: GatewaySettings, user: User, family: uuid.UUID, now: datetime
) -> Session:
    token, digest = new_refresh_token()
    repository.add_refresh_token(
        db,
        RefreshToken(
            token_hash=digest,
            user_id=user.id,
            family_id=family,
            token_version=user.token_version,
            expires_at=now + timedelta(seconds=settings.refresh_ttl_seconds),
            created_at=now,
        ),
    )
    access = issue_token(
        user.id, settings.jwt_secret, settings.jwt_ttl_seconds, now, user.token_version
    )
    return Session(access, token, settings.jwt_ttl_seconds, settings.refresh_ttl_seconds)


class RefreshReused(Unauthorized):
    """A refresh token was presented after it had been exchanged: revoke its family."""

    def __init__(self, family_id: uuid.UUID) -> None:
        super().__init__("The refresh token was already used; sign in again.")
        self.family_id = family_id


async def rotate(
    db: AsyncSession, settings: GatewaySettings, refresh_token: str, now: datetime
) -> Session:
    """Exchange a refresh token for a new pair; raise ``Unauthorized`` if it is not good.

    A reused token raises ``RefreshReused``; the caller revokes the family in a transaction of
    its own (this one rolls back with the error).
    """
    row = await repository.refresh_token_for_update(db, refresh_token_hash(refresh_token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("The refresh token is not valid; sign in again.")
    if row.used_at is not None:
        raise RefreshReused(row.family_id)
    user = await repository.user_by_id(db, row.user_id)
    if user is None or user.token_version != row.token_version:
        raise Unauthorized("The refresh token is not valid; sign in again.")
    row.used_at = now
    return await _issue(db, settings, user, row.family_id, now)


async def revoke_family(db: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await repository.revoke_refresh_family(db, family_id, now)


async def end_family(
    db: AsyncSession, refresh_token: str, user_id: uuid.UUID, now: datetime
) -> None:
    """Revoke the family of the caller's own refresh token (a stranger's is left alone)."""
    row = await repository.refresh_token_for_update(db, refresh_token_hash(refresh_token))
    if row is not None and row.user_id == user_id:
        await repository.revoke_refresh_family(db, row.family_id, now)


async def deny(redis: Redis, claims: AccessClaims, now: datetime) -> None:
    """Put an access token on the deny-list until it expires."""
    seconds = max(1, int((claims.expires_at - now).total_seconds()) + 1)
    await redis.set(_revoked_key(claims.jti), b"1", ex=seconds)


async def forget_account(redis: Redis, user_id: uuid.UUID) -> None:
    """Drop a deleted account's cached token version, so its tokens answer 401 at once."""
    try:
        await redis.delete(_version_key(user_id))
    except (RedisError, OSError) as exc:
        # The cached version expires within VERSION_CACHE_SECONDS; until then the routes that
        # load the account refuse the token anyway.
        log.warning("could not drop the token version of %s: %s", user_id, exc)


async def remember_version(redis: Redis, user_id: uuid.UUID, version: int) -> None:
    try:
        await redis.set(_version_key(user_id), str(version), ex=VERSION_CACHE_SECONDS)
    except (RedisError, OSError) as exc:
        # The stale cached version expires within VERSION_CACHE_SECONDS.
        log.warning("could not cache the token version of %s: %s", user_id, exc)


async def check_access(
    token: str,
    settings: GatewaySettings,
    redis: Redis,
    current_version: Callable[[uuid.UUID], Awaitable[int | None]],
) -> AccessClaims:
    """Return the claims of a valid, unrevoked access token; raise ``Unauthorized``."""
    claims = read_token(token, settings.jwt_secret)
    try:
        revoked, cached = await redis.mget(_revoked_key(claims.jti), _version_key(claims.user_id))
    except (RedisError, OSError) as exc:
        # Without Redis the deny-list is unreadable; the token version still comes from the
        # database, so a changed password keeps revoking.
        log.warning("token deny-list unavailable: %s", exc)
        revoked, cached = None, None
    if revoked is not None:
        raise Unauthorized("The access token was revoked; sign in again.")
    if cached is not None:
        version: int | None = int(cached)
    else:
        version = await current_version(claims.user_id)
        if version is not None:
            await remember_version(redis, claims.user_id, version)
    if version is None:
        raise Unauthorized("The account behind this token no longer exists.")
    if claims.version != version:
        raise Unauthorized("The access token was revoked; sign in again.")
    return claims
