"""Push adapters: how a due reminder leaves the server for a device that is not connected.

:class:`PushAdapter` is the extension point. One adapter is real: :class:`WebPushAdapter`, the
W3C Push API through ``pywebpush`` (payload encrypted with the subscription's keys, RFC 8291
``aes128gcm``; VAPID, RFC 8292, signs each request). Native apps would add an APNs adapter
(HTTP/2 to ``api.push.apple.com`` with a token-based ``.p8`` key) and an FCM adapter (HTTP v1
API with a service account); each needs its own token table beside ``push_subscriptions`` and
implements the same ``send``. They are documented in docs/reminders.md, not stubbed here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import aiohttp
from pywebpush import WebPushException, webpush_async

log = logging.getLogger(__name__)

PushOutcome = Literal["sent", "gone", "failed"]
# A reminder an hour late is dropped by the scheduler; a push service should not hold it longer.
PUSH_TTL_SECONDS = 3600
PUSH_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where a device receives pushes (for Web Push: the browser's PushSubscription)."""

    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True, slots=True)
class PushMessage:
    """What the notification shows, and data for the app (ids, a deep link)."""

    title: str
    body: str
    data: dict[str, Any]

    def payload(self) -> str:
        return json.dumps({"title": self.title, "body": self.body, "data": self.data})


class PushAdapter(Protocol):
    """Sends one message to one device; never raises for a delivery failure.

    ``gone`` means the device unsubscribed (the caller forgets the target); ``failed`` a
    temporary failure, logged and not retried (the reminder also went out on the SSE stream).
    """

    async def send(self, target: PushTarget, message: PushMessage) -> PushOutcome: ...


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def endpoint_problem(endpoint: str, allow_private: bool) -> str | None:
    """Why a push endpoint may not be registered (``None``: it may).

    A push endpoint is a URL the gateway will POST to, so a user could aim it inside our network
    (SSRF): it must be HTTPS and, as far as the URL shows, public. The address it resolves to is
    checked again before each push (:func:`resolves_public`), against DNS tricks.
    """
    parts = urlsplit(endpoint)
    if allow_private:
        return None if parts.scheme in ("http", "https") and parts.hostname else "not a URL"
    if parts.scheme != "https" or not parts.hostname:
        return "a push endpoint must be an https URL"
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "a push endpoint must be a public address"
    try:
        if _private(host):
            return "a push endpoint must be a public address"
    except ValueError:
        pass  # a name, not an IP literal: checked when it resolves
    return None


async def resolves_public(endpoint: str) -> bool:
    """Whether every address the endpoint's host resolves to is public."""
    parts = urlsplit(endpoint)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or 443, type=0
        )
    except OSError:
        return False
    return bool(infos) and not any(_private(str(info[4][0])) for info in infos)


class WebPushAdapter:
    """Web Push with VAPID: the one real adapter.

    ``allow_private`` lets endpoints on private addresses through (tests run a push service on
    127.0.0.1); in production it stays off.
    """

    def __init__(self, private_key: str, subject: str, *, allow_private: bool = False) -> None:
        self._private_key = private_key
        self._subject = subject
        self._allow_private = allow_private

    async def send(self, target: PushTarget, message: PushMessage) -> PushOutcome:
        if not self._allow_private and not await resolves_public(target.endpoint):
            log.warning("web push to %s refused: not a public address", _origin(target.endpoint))
            return "failed"
        try:
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=PUSH_TIMEOUT_SECONDS)
            ) as session:
                keys = {"p256dh": target.p256dh, "auth": target.auth}
                await webpush_async(
                    {"endpoint": target.endpoint, "keys": keys},
                    data=message.payload(),
                    vapid_private_key=self._private_key,
                    # pywebpush fills in "aud" from the endpoint and mutates the dict: a new one.
                    vapid_claims={"sub": self._subject},
                    ttl=PUSH_TTL_SECONDS,
                    aiohttp_session=session,
                )
        except WebPushException as exc:
            status = getattr(exc.response, "status", None) or getattr(
                exc.response, "status_code", None
            )
            if status in (404, 410):
                return "gone"
            log.warning("web push to %s failed: %s", _origin(target.endpoint), status or exc)
            return "failed"
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("web push to %s failed: %r", _origin(target.endpoint), exc)
            return "failed"
        return "sent"


def _origin(endpoint: str) -> str:
    # The endpoint's path identifies the subscription; logs keep only the push service's host.
    return "/".join(endpoint.split("/", 3)[:3])
