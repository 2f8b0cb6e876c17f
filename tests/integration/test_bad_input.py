"""Bad input answers a clear 4xx in the one error format and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration


async def _counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        habits = await conn.scalar(text("SELECT count(*) FROM core.habits"))
        logs = await conn.scalar(text("SELECT count(*) FROM core.habit_logs"))
        outbox = await conn.scalar(text("SELECT count(*) FROM core.outbox"))
    return habits, logs, outbox


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


async def test_bad_habit_and_log_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user = await register(client)
    boolean = await create_habit(client, user)
    quantity = await create_habit(
        client, user, kind="quantity", target={"value": 10000, "unit": "steps"}
    )
    full = await create_habit(client, user, sub_habits=[f"step {i}" for i in range(20)])
    before = await _counts(engine)
    h = auth(user)
    cases = [
        (client.post("/v1/habits", json={"title": "x", "schedule": {"type": "interval",
         "unit": "fortnight"}}, headers=h), 422, "validation_error"),
        (client.post("/v1/habits", json={"title": "x", "schedule": {"type": "interval",
         "every": 1, "unit": "week", "times": 8}}, headers=h), 422, "validation_error"),
        (client.post("/v1/habits", json={"title": "x", "schedule": {"type": "interval",
         "every": 2, "unit": "day", "times": 3}}, headers=h), 422, "validation_error"),
        (client.post("/v1/habits", json={"title": "x", "target": {"value": 5, "unit": "km"}},
         headers=h), 422, "validation_error"),
        (client.post("/v1/habits", json={"title": "x", "kind": "quantity"}, headers=h), 422,
         "validation_error"),
        (client.post("/v1/habits", json={"title": "x", "sub_habits": [f"s{i}" for i in
         range(21)]}, headers=h), 422, "validation_error"),
        (client.post(f"/v1/habits/{full['id']}/sub-habits", json={"title": "21st"},
         headers=h), 422, "validation_error"),
        (client.patch(f"/v1/habits/{boolean['id']}", json={"target": {"value": 1, "unit": "x"}},
         headers=h), 422, "validation_error"),
        (client.post(f"/v1/habits/{quantity['id']}/logs", json={}, headers=h), 422,
         "validation_error"),
        (client.post(f"/v1/habits/{boolean['id']}/logs", json={"date": "2999-01-01"},
         headers=h), 422, "validation_error"),
        (client.post(f"/v1/habits/{boolean['id']}/logs", content=b'{"date": ', headers={**h,
         "content-type": "application/json"}), 400, "malformed_json"),
        (client.post("/v1/habits", content=b"not json", headers={**h,
         "content-type": "application/json"}), 400, "malformed_json"),
        (client.post(f"/v1/habits/{boolean['id']}/logs", json={"status": "maybe"}, headers=h),
         422, "validation_error"),
    ]  # fmt: skip
    for request, status, code in cases:
        _assert_error(await request, status, code)
    assert await _counts(engine) == before
    sub_habits = (await client.get(f"/v1/habits/{full['id']}", headers=h)).json()["sub_habits"]
    assert len(sub_habits) == 20


async def test_unknown_zone_and_bad_profile_fields_are_refused(client: httpx.AsyncClient) -> None:
    user = await register(client)
    h = auth(user)
    for patch in (
        {"timezone": "Mars/Olympus_Mons"},
        {"day_start": "25:00"},
        {"week_start": "someday"},
    ):
        _assert_error(await client.patch("/v1/me", json=patch, headers=h), 422, "validation_error")
    me = (await client.get("/v1/me", headers=h)).json()
    assert (me["timezone"], me["day_start"], me["week_start"]) == ("UTC", "00:00", "monday")
    bad = await client.post(
        "/v1/auth/register",
        json={"email": "zone@example.com", "password": "long enough here", "timezone": "Nowhere/X"},
    )
    _assert_error(bad, 422, "validation_error")


async def test_expired_forged_and_missing_tokens_are_refused(
    client: httpx.AsyncClient, settings: GatewaySettings
) -> None:
    user = await register(client)
    now = datetime.now(UTC)
    expired = jwt.encode(
        {"sub": user["x-user-id"], "exp": int((now - timedelta(minutes=1)).timestamp())},
        settings.jwt_secret,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": user["x-user-id"], "exp": int((now + timedelta(hours=1)).timestamp())},
        "not-our-secret-not-our-secret-not-our-secret",
        algorithm="HS256",
    )
    for headers in (
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Bearer not.a.token"},
        {},
    ):
        response = await client.get("/v1/habits", headers=headers)
        _assert_error(response, 401, "unauthorized")
    expired_message = (
        await client.get("/v1/me", headers={"Authorization": f"Bearer {expired}"})
    ).json()["error"]["message"]
    assert "expired" in expired_message


async def test_wrong_password_and_taken_email(client: httpx.AsyncClient) -> None:
    email = "taken@example.com"
    first = await client.post("/v1/auth/register", json={"email": email, "password": "taken-pw-1"})
    assert first.status_code in (201, 409)
    again = await client.post("/v1/auth/register", json={"email": email, "password": "taken-pw-1"})
    _assert_error(again, 409, "conflict")
    wrong = await client.post("/v1/auth/token", json={"email": email, "password": "nope-nope"})
    _assert_error(wrong, 401, "unauthorized")
    right = await client.post("/v1/auth/token", json={"email": email, "password": "taken-pw-1"})
    assert right.status_code == 200
    assert right.json()["token_type"] == "bearer"
    assert right.json()["expires_in"] > 0
