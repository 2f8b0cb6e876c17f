"""Authentication under attack: throttled sign-ins, the password policy, one account per email,
tokens that can be revoked, rotating refresh tokens, and forged tokens refused."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.config import GatewaySettings
from tests.hardening.conftest import client_at

pytestmark = [pytest.mark.integration, pytest.mark.hardening]
PASSWORD = "a long enough pass"


def _email() -> str:
    return f"auth-{uuid.uuid4().hex[:10]}@example.com"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["code"] == code


async def _register(client: httpx.AsyncClient, email: str | None = None) -> dict[str, str]:
    response = await client.post(
        "/v1/auth/register", json={"email": email or _email(), "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_ten_failures_lock_the_account_with_retry_after(
    tight_app: object, tally: Counter[str]
) -> None:
    async with client_at(tight_app) as client:
        await _locked_after_ten(client)
    tally["auth_checks"] += 1


async def _locked_after_ten(client: httpx.AsyncClient) -> None:
    email = _email()
    await _register(client, email)
    for _ in range(10):
        wrong = await client.post("/v1/auth/token", json={"email": email, "password": "wrong"})
        _assert_error(wrong, 401, "unauthorized")
    locked = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    _assert_error(locked, 429, "too_many_requests")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert locked.json()["error"]["details"]["retry_after"] == retry_after
    # The lock is the account's, whatever the case of its address, and no one else's.
    shouted = await client.post(
        "/v1/auth/token", json={"email": email.upper(), "password": PASSWORD}
    )
    _assert_error(shouted, 429, "too_many_requests")
    other = _email()
    await _register(client, other)
    fine = await client.post("/v1/auth/token", json={"email": other, "password": PASSWORD})
    assert fine.status_code == 200


async def test_failures_from_one_address_are_throttled(
    tight_app: object, tally: Counter[str]
) -> None:
    async with client_at(tight_app) as attacker:
        for _ in range(20):
            wrong = await attacker.post(
                "/v1/auth/token", json={"email": _email(), "password": "guess-guess"}
            )
            _assert_error(wrong, 401, "unauthorized")
        spraying = await attacker.post(
            "/v1/auth/token", json={"email": _email(), "password": "guess-guess"}
        )
        _assert_error(spraying, 429, "too_many_requests")
        assert int(spraying.headers["Retry-After"]) > 0
    tally["auth_checks"] += 1


async def test_registrations_from_one_address_are_throttled(
    tight_app: object, tally: Counter[str]
) -> None:
    async with client_at(tight_app) as farm:
        for _ in range(3):
            await _register(farm)
        too_many = await farm.post(
            "/v1/auth/register", json={"email": _email(), "password": PASSWORD}
        )
        _assert_error(too_many, 429, "too_many_requests")
    async with client_at(tight_app) as neighbour:
        await _register(neighbour)
    tally["auth_checks"] += 1


@pytest.mark.parametrize(
    "password",
    ["short-one", "qwertyuiop", "QWERTYUIOP", "password12", "1234567890", " basketball "],
)
async def test_short_and_common_passwords_are_refused(
    client: httpx.AsyncClient, password: str, tally: Counter[str]
) -> None:
    response = await client.post(
        "/v1/auth/register", json={"email": _email(), "password": password}
    )
    _assert_error(response, 422, "validation_error")
    assert "password" in response.json()["error"]["message"]
    tally["auth_checks"] += 1


async def test_emails_are_one_account_whatever_their_case(
    client: httpx.AsyncClient, engine: AsyncEngine, tally: Counter[str]
) -> None:
    local = uuid.uuid4().hex[:10]
    first = await client.post(
        "/v1/auth/register", json={"email": f"  Mixed.{local}@Example.COM ", "password": PASSWORD}
    )
    assert first.status_code == 201
    again = await client.post(
        "/v1/auth/register", json={"email": f"mixed.{local}@example.com", "password": PASSWORD}
    )
    _assert_error(again, 409, "conflict")
    signin = await client.post(
        "/v1/auth/token", json={"email": f"MIXED.{local}@EXAMPLE.com", "password": PASSWORD}
    )
    assert signin.status_code == 200
    me = await client.get("/v1/me", headers=_bearer(signin.json()["access_token"]))
    assert me.json()["email"] == f"mixed.{local}@example.com"
    # The database holds the line too, for writers other than the API.
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO core.users (id, email, password_hash, timezone, day_start,"
                    " week_start, preferences, created_at, updated_at) VALUES (:id, :email,"
                    " '-', 'UTC', '00:00', 0, '{}', now(), now())"
                ),
                {"id": uuid.uuid4(), "email": f"MIXED.{local}@example.com"},
            )
    tally["auth_checks"] += 1


async def test_tokens_carry_iat_exp_jti_and_the_shapes_stay_compatible(
    client: httpx.AsyncClient, settings: GatewaySettings, tally: Counter[str]
) -> None:
    email = _email()
    registered = await _register(client, email)
    assert {"user_id", "access_token", "token_type"} <= set(registered)
    assert registered["refresh_token"]
    signin = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    body = signin.json()
    assert {"access_token", "token_type", "expires_in", "refresh_token"} <= set(body)
    claims = jwt.decode(body["access_token"], settings.jwt_secret, algorithms=["HS256"])
    assert {"iat", "exp", "jti", "sub"} <= set(claims)
    assert claims["exp"] - claims["iat"] == settings.jwt_ttl_seconds
    other = jwt.decode(registered["access_token"], settings.jwt_secret, algorithms=["HS256"])
    assert other["jti"] != claims["jti"]
    tally["auth_checks"] += 1


async def test_logout_revokes_the_access_token_and_its_session(
    client: httpx.AsyncClient, tally: Counter[str]
) -> None:
    session = await _register(client)
    headers = _bearer(session["access_token"])
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    out = await client.post(
        "/v1/auth/logout", json={"refresh_token": session["refresh_token"]}, headers=headers
    )
    assert out.status_code == 204
    _assert_error(await client.get("/v1/me", headers=headers), 401, "unauthorized")
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    _assert_error(refreshed, 401, "unauthorized")
    tally["auth_checks"] += 1


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(
    client: httpx.AsyncClient, tally: Counter[str]
) -> None:
    session = await _register(client)
    first = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != session["refresh_token"]
    assert (await client.get("/v1/me", headers=_bearer(rotated["access_token"]))).status_code == 200
    # The old token again: someone kept a copy. Both it and its successor die.
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    _assert_error(replay, 401, "unauthorized")
    successor = await client.post(
        "/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    _assert_error(successor, 401, "unauthorized")
    unknown = await client.post("/v1/auth/refresh", json={"refresh_token": "made-up"})
    _assert_error(unknown, 401, "unauthorized")
    tally["auth_checks"] += 1


async def test_changing_the_password_revokes_every_older_token(
    client: httpx.AsyncClient, tally: Counter[str]
) -> None:
    email = _email()
    session = await _register(client, email)
    old = _bearer(session["access_token"])
    wrong = await client.post(
        "/v1/me/password",
        json={"current_password": "not it at all", "new_password": "a brand new phrase"},
        headers=old,
    )
    _assert_error(wrong, 422, "validation_error")
    changed = await client.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new phrase"},
        headers=old,
    )
    assert changed.status_code == 200, changed.text
    _assert_error(await client.get("/v1/me", headers=old), 401, "unauthorized")
    stale = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    _assert_error(stale, 401, "unauthorized")
    fresh = _bearer(changed.json()["access_token"])
    assert (await client.get("/v1/me", headers=fresh)).status_code == 200
    old_password = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    _assert_error(old_password, 401, "unauthorized")
    new_password = await client.post(
        "/v1/auth/token", json={"email": email, "password": "a brand new phrase"}
    )
    assert new_password.status_code == 200
    tally["auth_checks"] += 1


def _forged(kind: str, user_id: str, secret: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": 0,
        "typ": "access",
    }
    if kind == "alg_none":
        return jwt.encode(claims, None, algorithm="none")
    if kind == "wrong_key":
        return jwt.encode(claims, "someone-else's-key-someone-else's-key", algorithm="HS256")
    if kind == "expired":
        claims["iat"] = int((now - timedelta(hours=2)).timestamp())
        claims["exp"] = int((now - timedelta(seconds=1)).timestamp())
        return jwt.encode(claims, secret, algorithm="HS256")
    if kind == "no_jti":
        del claims["jti"]
        return jwt.encode(claims, secret, algorithm="HS256")
    if kind == "hs512":
        return jwt.encode(claims, secret + "-padding-for-a-512-bit-key", algorithm="HS512")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["alg_none", "wrong_key", "expired", "no_jti", "hs512"])
async def test_forged_and_expired_tokens_answer_401(
    client: httpx.AsyncClient, settings: GatewaySettings, kind: str, tally: Counter[str]
) -> None:
    session = await _register(client)
    token = _forged(kind, session["user_id"], settings.jwt_secret)
    response = await client.get("/v1/me", headers=_bearer(token))
    _assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    tally["auth_checks"] += 1
