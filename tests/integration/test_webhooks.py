"""Webhooks through the gateway with the real bus: the SSRF guard at creation, signed deliveries
to a local receiver (allow-listed), retries from the bus and the switch-off after failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from services.gateway.portability import signing
from services.gateway.portability.ssrf import AllowList
from services.gateway.portability.webhooks import Deliverer
from tests.support import auth, create_habit, register, served


class Receiver:
    """A local HTTP receiver: ``/ok`` answers 204, ``/fail`` answers 500; both record."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/{outcome}")
        async def receive(outcome: str, request: Request) -> Response:
            self.calls.append((outcome, dict(request.headers), await request.body()))
            return Response(status_code=204 if outcome == "ok" else 500)

    def of(self, outcome: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for o, h, b in self.calls if o == outcome]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    found = Receiver()
    async with served(found.app) as url:
        yield found, url


@pytest.fixture
def deliverer(client: httpx.AsyncClient) -> Iterator[Deliverer]:
    """The gateway's deliverer, its policy restored after the test."""
    found: Deliverer = client._transport.app.state.webhooks  # type: ignore[attr-defined]
    saved = (found.policy.allow, found.policy.max_failures)
    yield found
    found.policy.allow, found.policy.max_failures = saved


async def wait_until(check: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "ftp://example.com/x",
        "not a url",
    ],
)
async def test_private_targets_are_refused_at_creation(client: httpx.AsyncClient, url: str) -> None:
    user = await register(client)
    response = await client.post(
        "/v1/webhooks", json={"url": url, "events": ["habit.logged"]}, headers=auth(user)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_events_are_refused(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.post(
        "/v1/webhooks",
        json={"url": "https://93.184.216.34/x", "events": ["habit.exploded"]},
        headers=auth(user),
    )
    assert response.status_code == 422


async def test_a_logged_habit_is_delivered_signed(
    client: httpx.AsyncClient, receiver: tuple[Receiver, str], deliverer: Deliverer
) -> None:
    found, base = receiver
    deliverer.policy.allow = AllowList.parse("127.0.0.1")
    user = await register(client)
    created = await client.post(
        "/v1/webhooks",
        json={"url": f"{base}/ok", "events": ["habit.logged", "streak.broken"]},
        headers=auth(user),
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    listed = (await client.get("/v1/webhooks", headers=auth(user))).json()["webhooks"]
    assert [w["id"] for w in listed] == [hook["id"]] and "secret" not in listed[0]

    start = (date.today() - timedelta(days=5)).isoformat()
    habit = await create_habit(client, user, title="Floss", start_date=start)
    logs = []
    for offset in (2, 1):
        day = (date.today() - timedelta(days=offset)).isoformat()
        response = await client.post(
            f"/v1/habits/{habit['id']}/logs", json={"date": day}, headers=auth(user)
        )
        logs.append(response.json())
    await wait_until(lambda: len(found.of("ok")) >= 2)
    headers, body = found.of("ok")[0]
    assert headers["x-habyss-event"] == "habit.logged"
    assert signing.verify(secret, headers["x-habyss-signature"], body, now=int(time.time()))
    assert not signing.verify("whsec_other", headers["x-habyss-signature"], body, int(time.time()))
    delivered = {httpx.Response(200, content=b).json()["data"]["log_id"] for _, b in found.of("ok")}
    assert delivered == {log["id"] for log in logs}

    # Deleting yesterday's log shortens the streak: streak.broken follows from the metrics.
    await client.delete(f"/v1/habits/{habit['id']}/logs/{logs[1]['id']}", headers=auth(user))
    await wait_until(lambda: any(h["x-habyss-event"] == "streak.broken" for h, _ in found.of("ok")))
    broken = [
        httpx.Response(200, content=b).json()
        for h, b in found.of("ok")
        if h["x-habyss-event"] == "streak.broken"
    ]
    # Yesterday is now missed: the run of two is over.
    assert broken[0]["data"]["previous_streak"] == 2 and broken[0]["data"]["current_streak"] == 0

    assert (
        await client.delete(f"/v1/webhooks/{hook['id']}", headers=auth(user))
    ).status_code == 204
    assert (
        await client.delete(f"/v1/webhooks/{hook['id']}", headers=auth(user))
    ).status_code == 404


async def test_a_failing_receiver_is_retried_then_disabled(
    client: httpx.AsyncClient, receiver: tuple[Receiver, str], deliverer: Deliverer
) -> None:
    found, base = receiver
    deliverer.policy.allow = AllowList.parse("127.0.0.1")
    deliverer.policy.max_failures = 3
    user = await register(client)
    created = await client.post(
        "/v1/webhooks", json={"url": f"{base}/fail", "events": ["habit.logged"]}, headers=auth(user)
    )
    assert created.status_code == 201, created.text
    habit = await create_habit(client, user, title="Journal")
    await client.post(f"/v1/habits/{habit['id']}/logs", json={}, headers=auth(user))

    await wait_until(lambda: len(found.of("fail")) >= 3)
    # Retried by the bus with the same delivery id, and growing gaps between attempts.
    ids = {h["x-habyss-delivery"] for h, _ in found.of("fail")}
    assert len(ids) == 1
    # The third failure is recorded just after the receiver answered it.
    deadline = asyncio.get_running_loop().time() + 5
    while (listed := (await client.get("/v1/webhooks", headers=auth(user))).json()["webhooks"])[0][
        "enabled"
    ]:
        assert asyncio.get_running_loop().time() < deadline, listed
        await asyncio.sleep(0.05)
    assert listed[0]["consecutive_failures"] == 3
    assert "3 consecutive" in listed[0]["disabled_reason"]
    # The bus redelivers once more after the switch-off; nothing more is posted.
    await asyncio.sleep(5.0)
    assert len(found.of("fail")) == 3
