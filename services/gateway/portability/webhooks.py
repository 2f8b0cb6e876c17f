"""Webhooks: a user's subscriptions, and their delivery from the bus.

Deliveries run in the gateway, as durable JetStream consumers of the events behind each webhook
event name. The gateway owns ``core.webhooks`` (it is the single writer of ``core``), so the
failure count and the switch-off stay in one service with no extra rpc. A delivery posts the
event, signed (see ``signing``), to every enabled webhook of the event's owner that subscribed to
it; a webhook already answered 2xx for that event is not posted again. If any webhook failed
(not 2xx, timeout, refused by the SSRF guard), the handler raises, and the bus redelivers the
message after a growing delay (0.5 s, 1 s, 2 s, 4 s; five deliveries, then the dead letters).
Every failed attempt adds one to the webhook's consecutive failures and a success resets it; at
``WEBHOOK_MAX_FAILURES`` the webhook is disabled, and nothing is posted to it any more.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.portability import repository as store
from services.gateway.portability.signing import HEADER, new_secret, signature
from services.gateway.portability.ssrf import AllowList, UnsafeTarget, checked_target
from shared.db.base import utcnow
from shared.db.engine import autocommit
from shared.db.portability import Webhook
from shared.errors import NotFound, ValidationFailed

log = logging.getLogger(__name__)

# Webhook event name → the bus subject it is delivered from.
EVENT_SUBJECTS: dict[str, str] = {
    "habit.logged": "habits.log.recorded.v1",
    "streak.broken": "metrics.streak.ended.v1",
    "sequence.phase_advanced": "sequences.phase.advanced.v1",
    # Published by the reminders scheduler; delivered once a stream holds the subject.
    "reminder.due": "reminders.reminder.fired.v1",
}
MAX_WEBHOOKS_PER_USER = 10


@dataclass
class WebhookPolicy:
    """What deliveries obey; mutable so an operator tool (or a test) can change it live."""

    allow: AllowList
    max_failures: int
    timeout_seconds: float


class DeliveryFailed(RuntimeError):
    """At least one webhook did not take the event; the bus retries it later."""


def webhook_out(hook: Webhook, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(hook.id),
        "url": hook.url,
        "events": list(hook.events),
        "enabled": hook.enabled,
        "consecutive_failures": hook.consecutive_failures,
        "disabled_reason": hook.disabled_reason,
        "created_at": hook.created_at.isoformat(),
        "last_delivery_at": hook.last_delivery_at.isoformat() if hook.last_delivery_at else None,
    }
    if secret is not None:
        out["secret"] = secret
    return out


async def create_webhook(
    session: AsyncSession, user_id: uuid.UUID, url: str, events: list[str], policy: WebhookPolicy
) -> dict[str, Any]:
    try:
        await checked_target(url, policy.allow)
    except UnsafeTarget as exc:
        raise ValidationFailed(
            f"url: {exc}.", details=[{"loc": ["body", "url"], "msg": str(exc)}]
        ) from None
    if len(await store.webhooks_of(session, user_id)) >= MAX_WEBHOOKS_PER_USER:
        raise ValidationFailed(
            f"An account holds at most {MAX_WEBHOOKS_PER_USER} webhooks.",
            details=[{"loc": ["body"], "limit": MAX_WEBHOOKS_PER_USER}],
        )
    secret = new_secret()
    hook = Webhook(
        id=uuid.uuid4(),
        user_id=user_id,
        url=url,
        events=sorted(set(events)),
        secret=secret,
        enabled=True,
        consecutive_failures=0,
        created_at=utcnow(),
    )
    session.add(hook)
    await session.flush()
    return webhook_out(hook, secret)


async def list_webhooks(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return [webhook_out(h) for h in await store.webhooks_of(session, user_id)]


async def delete_webhook(session: AsyncSession, user_id: uuid.UUID, webhook_id: uuid.UUID) -> None:
    hook = await store.webhook_of(session, user_id, webhook_id)
    if hook is None:
        raise NotFound("No such webhook.")
    await session.delete(hook)


def delivery_body(name: str, event: dict[str, Any]) -> bytes:
    """The JSON posted to a receiver: the event's id, type, time and fields."""
    data = {k: v for k, v in event.items() if k not in ("event_id", "occurred_at")}
    body = {
        "id": event["event_id"],
        "type": name,
        "created_at": event.get("occurred_at"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


class Deliverer:
    """Posts an event to the webhooks subscribed to it and keeps their bookkeeping."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policy: WebhookPolicy,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.sessions = sessions
        self.policy = policy
        # Redirects are not followed: a redirect could point at a private address.
        self.client = client or httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def deliver(self, name: str, event: dict[str, Any]) -> None:
        """Post ``event`` (the bus payload) to its owner's webhooks for ``name``."""
        user_id, event_id = uuid.UUID(event["user_id"]), uuid.UUID(event["event_id"])
        # Every event of every user passes here, most of them to no webhook: one round trip.
        async with autocommit(self.sessions) as session:
            hooks = await store.subscribed_webhooks(session, user_id, name)
        body = delivery_body(name, event)
        failed = []
        for hook in hooks:
            async with self.sessions() as session:
                if await store.delivered(session, hook.id, event_id):
                    continue
            status, error = await self._post(hook, name, event_id, body)
            ok = status is not None and 200 <= status < 300
            still_enabled = await self._record(hook, event_id, name, ok, status, error)
            if not ok and still_enabled:
                failed.append(str(hook.id))
        if failed:
            raise DeliveryFailed(f"{name} {event_id} not delivered to {', '.join(failed)}")

    async def _post(
        self, hook: Webhook, name: str, event_id: uuid.UUID, body: bytes
    ) -> tuple[int | None, str | None]:
        try:
            scheme, host, port, address = await checked_target(hook.url, self.policy.allow)
        except UnsafeTarget as exc:
            return None, f"refused: {exc}"
        # Connect to the address just checked, not to a second lookup of the name (rebinding);
        # Host and TLS SNI still name the host, so virtual hosts and certificates work.
        url = httpx.URL(hook.url)
        pinned = url.copy_with(host=str(address))
        default_port = 443 if scheme == "https" else 80
        timestamp = int(time.time())
        headers = {
            "Host": host if port == default_port else f"{host}:{port}",
            "Content-Type": "application/json",
            "User-Agent": "Habyss-Webhooks/1",
            "X-Habyss-Event": name,
            "X-Habyss-Delivery": str(event_id),
            HEADER: signature(hook.secret, timestamp, body),
        }
        try:
            response = await self.client.post(
                pinned,
                content=body,
                headers=headers,
                timeout=self.policy.timeout_seconds,
                extensions={"sni_hostname": host} if scheme == "https" else {},
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return response.status_code, None if response.is_success else response.text[:200]

    async def _record(
        self,
        hook: Webhook,
        event_id: uuid.UUID,
        name: str,
        ok: bool,
        status: int | None,
        error: str | None,
    ) -> bool:
        """Store the attempt; return whether the webhook is still enabled afterwards."""
        now: datetime = utcnow()
        async with self.sessions.begin() as session:
            if not await store.lock_user(session, hook.user_id, exclusive=False):
                return False
            current = await store.webhook_of(session, hook.user_id, hook.id, lock=True)
            if current is None:
                return False
            await store.record_attempt(session, current, event_id, name, ok, status, error, now)
            failures = 0 if ok else current.consecutive_failures + 1
            values: dict[str, Any] = {"consecutive_failures": failures, "last_delivery_at": now}
            if failures >= self.policy.max_failures:
                values["enabled"] = False
                values["disabled_reason"] = f"{failures} consecutive failed deliveries"
                log.warning("webhook %s disabled after %d failures", hook.id, failures)
            await store.set_webhook_state(session, hook.id, **values)
            return bool(values.get("enabled", current.enabled))
