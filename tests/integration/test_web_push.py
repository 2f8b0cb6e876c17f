"""Web Push: the adapter against a push service of our own on 127.0.0.1 (a Starlette receiver),
the subscription endpoints, and a fired reminder pushed to the user's browsers."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.gateway import handlers
from services.gateway.app import create_app as create_gateway_app
from services.gateway.config import GatewaySettings
from services.gateway.reminders.push import PushMessage, PushTarget, WebPushAdapter
from shared.events.reminders import ReminderFiredV1
from tests.support import auth, register, served

pytestmark = pytest.mark.integration

SUBJECT = "mailto:ops@example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@dataclass
class Browser:
    """A browser's subscription keys: it alone can decrypt what is pushed to it."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def target(self, endpoint: str) -> PushTarget:
        return PushTarget(endpoint, b64url(point(self.key.public_key())), b64url(self.auth))

    def decrypt(self, body: bytes) -> Any:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth))


@dataclass
class Vapid:
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def private(self) -> str:
        return b64url(self.key.private_numbers().private_value.to_bytes(32, "big"))

    @property
    def public(self) -> str:
        return b64url(point(self.key.public_key()))


class PushService:
    """Stands in for FCM/Mozilla autopush: records each request; ``/gone/…`` answers 410."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    async def accept(self, request: Request) -> Response:
        self.received.append((request.url.path, dict(request.headers), await request.body()))
        return Response(status_code=410 if request.url.path.startswith("/gone/") else 201)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{kind}/{token}", self.accept, methods=["POST"])])


@pytest.fixture
async def push_service() -> AsyncIterator[tuple[PushService, str]]:
    service = PushService()
    async with served(service.app()) as url:
        yield service, url


def check_vapid(headers: dict[str, str], vapid: Vapid, audience: str) -> None:
    """The Authorization header is ``vapid t=<ES256 JWT>, k=<public key>`` (RFC 8292)."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == vapid.public
    header, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(header))["alg"] == "ES256"
    body = json.loads(unb64url(claims))
    assert body["aud"] == audience and body["sub"] == SUBJECT
    assert body["exp"] > datetime.now(UTC).timestamp()
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    vapid.key.public_key().verify(
        der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256())
    )  # raises if forged


async def test_the_adapter_sends_an_encrypted_vapid_signed_request(
    push_service: tuple[PushService, str],
) -> None:
    service, url = push_service
    vapid, browser = Vapid(), Browser()
    adapter = WebPushAdapter(vapid.private, SUBJECT, allow_private=True)
    message = PushMessage("Meditate", "Time for Meditate.", {"reminder_id": "r1"})
    assert await adapter.send(browser.target(f"{url}/push/abc"), message) == "sent"
    ((path, headers, body),) = service.received
    assert path == "/push/abc"
    check_vapid(headers, vapid, url)
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == "3600"
    assert b"Meditate" not in body  # encrypted on the wire
    assert browser.decrypt(body) == {
        "title": "Meditate",
        "body": "Time for Meditate.",
        "data": {"reminder_id": "r1"},
    }


async def test_a_gone_subscription_and_an_unreachable_service(
    push_service: tuple[PushService, str],
) -> None:
    _, url = push_service
    adapter = WebPushAdapter(Vapid().private, SUBJECT, allow_private=True)
    message = PushMessage("t", "b", {})
    assert await adapter.send(Browser().target(f"{url}/gone/x"), message) == "gone"
    # Nothing listens on port 9 (discard): a failure, logged, never raised.
    assert await adapter.send(Browser().target("http://127.0.0.1:9/push/x"), message) == "failed"


async def test_private_addresses_are_refused_without_the_allowance(
    push_service: tuple[PushService, str],
) -> None:
    service, url = push_service
    adapter = WebPushAdapter(Vapid().private, SUBJECT)
    message = PushMessage("t", "b", {})
    assert await adapter.send(Browser().target(f"{url}/push/x"), message) == "failed"
    assert service.received == []  # never sent


async def test_subscriptions_endpoints(client: httpx.AsyncClient) -> None:
    user, other = await register(client), await register(client)
    key = await client.get("/v1/push/key", headers=auth(user))
    assert key.json() == {"enabled": False, "public_key": None}
    browser = Browser()
    target = browser.target("https://push.example.com/send/abc")
    body = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
    created = await client.post("/v1/push/subscriptions", json=body, headers=auth(user))
    assert created.status_code == 201, created.text
    again = await client.post("/v1/push/subscriptions", json=body, headers=auth(user))
    assert again.json()["id"] == created.json()["id"]
    listed = await client.get("/v1/push/subscriptions", headers=auth(user))
    assert [s["endpoint"] for s in listed.json()] == [target.endpoint]
    assert (await client.get("/v1/push/subscriptions", headers=auth(other))).json() == []
    sid = created.json()["id"]
    foreign = await client.delete(f"/v1/push/subscriptions/{sid}", headers=auth(other))
    assert foreign.status_code == 404
    for bad in (
        {"endpoint": "not a url", "keys": body["keys"]},
        {"endpoint": "http://push.example.com/send/abc", "keys": body["keys"]},
        {"endpoint": "https://127.0.0.1/push/abc", "keys": body["keys"]},
        {"endpoint": "https://10.1.2.3:4222/", "keys": body["keys"]},
        {"endpoint": "https://[::1]/push", "keys": body["keys"]},
        {"endpoint": "https://localhost/push", "keys": body["keys"]},
        {"endpoint": "https://169.254.169.254/latest/meta-data", "keys": body["keys"]},
        {"endpoint": target.endpoint},
        {"endpoint": target.endpoint, "keys": {"p256dh": "short", "auth": target.auth}},
    ):
        response = await client.post("/v1/push/subscriptions", json=bad, headers=auth(user))
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    gone = await client.delete(f"/v1/push/subscriptions/{sid}", headers=auth(user))
    assert gone.status_code == 204


async def test_a_fired_reminder_is_pushed_and_a_gone_browser_forgotten(
    client: httpx.AsyncClient,
    settings: GatewaySettings,
    push_service: tuple[PushService, str],
) -> None:
    service, url = push_service
    vapid = Vapid()
    user = await register(client)
    live, gone = Browser(), Browser()
    app = create_gateway_app(
        settings.model_copy(
            update={
                "webpush_vapid_private_key": vapid.private,
                "webpush_vapid_public_key": vapid.public,
                "webpush_subject": SUBJECT,
                "webpush_allow_private": True,
            }
        )
    )
    event = ReminderFiredV1(
        user_id=uuid.UUID(user["x-user-id"]),
        reminder_id=uuid.uuid4(),
        habit_title="Meditate",
        message="Sit for two minutes.",
        local_date=date(2026, 12, 7),
        local_time="07:30",
        fire_at=datetime(2026, 12, 7, 7, 30, tzinfo=UTC),
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as gw:
            key = (await gw.get("/v1/push/key", headers=auth(user))).json()
            assert key == {"enabled": True, "public_key": vapid.public}
            for browser, endpoint in ((live, f"{url}/push/live"), (gone, f"{url}/gone/old")):
                target = browser.target(endpoint)
                keys = {"p256dh": target.p256dh, "auth": target.auth}
                response = await gw.post(
                    "/v1/push/subscriptions",
                    json={"endpoint": endpoint, "keys": keys},
                    headers=auth(user),
                )
                assert response.status_code == 201, response.text
        await handlers.on_reminder_fired(event, app.state.runtime)
    pushed = {path: (headers, body) for path, headers, body in service.received}
    assert set(pushed) == {"/push/live", "/gone/old"}
    headers, body = pushed["/push/live"]
    check_vapid(headers, vapid, url)
    payload = live.decrypt(body)
    assert payload["body"] == "Sit for two minutes." and payload["title"] == "Meditate"
    assert payload["data"]["kind"] == "reminder" and payload["data"]["id"] == str(event.event_id)
    remaining = await client.get("/v1/push/subscriptions", headers=auth(user))
    assert [s["endpoint"] for s in remaining.json()] == [f"{url}/push/live"]
