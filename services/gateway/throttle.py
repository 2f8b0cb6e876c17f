"""Rate limits kept in Redis (the ``limits`` library, moving windows), shared by every worker.

Sign-in failures are counted per account and per client address; registrations per address;
chat turns per user. Throttling protects; it must not take the API down with it, so when Redis
does not answer the request goes through and the outage is logged.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.gateway.config import GatewaySettings
from shared.errors import TooManyRequests

log = logging.getLogger(__name__)


def per_window(amount: int, seconds: int, namespace: str) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds, namespace=namespace)


# A chat stream holds its slot at most this long, so a worker that died mid-stream does not hold
# the user's slot for ever (a turn's own deadline is far shorter).
STREAM_LEASE_SECONDS = 300


class Throttle:
    def __init__(self, settings: GatewaySettings, redis: Redis) -> None:
        self._redis = redis
        self.max_streams = settings.chat_max_streams
        storage = RedisStorage(
            f"async+{settings.redis_url}", implementation="redispy", key_prefix="habyss-limits"
        )
        self._limiter = MovingWindowRateLimiter(storage)
        window = settings.auth_failure_window_seconds
        self.account_failures = per_window(settings.auth_account_failures, window, "signin-acct")
        self.address_failures = per_window(settings.auth_address_failures, window, "signin-addr")
        self.registrations = per_window(settings.auth_address_registrations, 3600, "register")
        self.chat_turns = per_window(settings.chat_turns_per_minute, 60, "chat-turns")

    async def ensure(self, item: RateLimitItem, key: str, message: str) -> None:
        """Raise ``TooManyRequests`` (with when to retry) if ``key`` has no room left."""
        try:
            if await self._limiter.test(item, key):
                return
            stats = await self._limiter.get_window_stats(item, key)
        except (RedisError, OSError) as exc:
            log.warning("rate limits unavailable, letting the request through: %s", exc)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(message, retry_after=retry_after)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one use; return False when that use went over the limit."""
        try:
            return await self._limiter.hit(item, key)
        except (RedisError, OSError) as exc:
            log.warning("rate limits unavailable, not counting: %s", exc)
            return True

    async def take(self, item: RateLimitItem, key: str, message: str) -> None:
        """Count one use, refusing it with ``TooManyRequests`` when there is no room."""
        if not await self.hit(item, key):
            await self.ensure(item, key, message)
            raise TooManyRequests(message, retry_after=item.get_expiry())

    async def clear(self, item: RateLimitItem, key: str) -> None:
        try:
            await self._limiter.clear(item, key)
        except (RedisError, OSError) as exc:
            log.warning("rate limits unavailable, not cleared: %s", exc)

    async def open_stream(self, user_id: str, stream_id: str) -> None:
        """Take one of the user's concurrent chat-stream slots, or raise ``TooManyRequests``."""
        key = f"habyss-streams:{user_id}"
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zadd(key, {stream_id: now + STREAM_LEASE_SECONDS})
                pipe.zcard(key)
                pipe.expire(key, STREAM_LEASE_SECONDS)
                _, _, open_now, _ = await pipe.execute()
            if open_now <= self.max_streams:
                return
            await self._redis.zrem(key, stream_id)
        except (RedisError, OSError) as exc:
            log.warning("stream slots unavailable, letting the stream open: %s", exc)
            return
        raise TooManyRequests(
            f"At most {self.max_streams} chat streams may be open at once; close one first.",
            retry_after=5,
        )

    async def close_stream(self, user_id: str, stream_id: str) -> None:
        try:
            await self._redis.zrem(f"habyss-streams:{user_id}", stream_id)
        except (RedisError, OSError) as exc:
            log.warning("stream slot not released (its lease ends it): %s", exc)
