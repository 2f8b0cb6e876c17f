"""Every input limit answers a clear 413, 422 or 429 in the error envelope, and never a 500."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.gateway.api.deps import Runtime
from tests.hardening.conftest import client_at
from tests.support import auth, create_habit, register

pytestmark = [pytest.mark.integration, pytest.mark.hardening]
MB = 1024 * 1024


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.fixture(scope="module")
async def user(client: httpx.AsyncClient) -> dict[str, str]:
    return await register(client)


@pytest.fixture(scope="module")
async def habit(client: httpx.AsyncClient, user: dict[str, str]) -> dict[str, Any]:
    return await create_habit(client, user, kind="quantity", target={"value": 5, "unit": "km"})


async def test_a_body_over_one_megabyte_answers_413(
    client: httpx.AsyncClient, user: dict[str, str], tally: Counter[str]
) -> None:
    big = json.dumps({"title": "x", "description": "a" * (MB + 10)}).encode()
    headers = {**auth(user), "content-type": "application/json"}
    declared = await client.post("/v1/goals", content=big, headers=headers)
    _assert_error(declared, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = await client.post("/v1/goals", content=chunks(), headers=headers)
    _assert_error(streamed, 413, "payload_too_large")
    tally["limits_checked"] += 2


async def test_health_imports_keep_their_own_larger_limit(
    client: httpx.AsyncClient, user: dict[str, str], tally: Counter[str]
) -> None:
    doc = json.dumps({"records": [], "padding": "a" * (2 * MB)}).encode()
    response = await client.post(
        "/v1/integrations/health-connect/import",
        content=doc,
        headers={**auth(user), "content-type": "application/json"},
    )
    assert response.status_code != 413, response.text
    assert response.status_code < 500
    tally["limits_checked"] += 1


def _cases(habit_id: str) -> list[tuple[str, str, str, Any]]:
    """(name, method, path, body) that each break one limit; each must answer 422."""
    h = f"/v1/habits/{habit_id}"
    cases: list[tuple[str, str, str, Any]] = [
        ("chat_4001_chars", "POST", "/v1/chat", {"message": "a" * 4001}),
        ("sub_habits_21", "POST", "/v1/habits", {"title": "t", "sub_habits": ["s"] * 21}),
        ("tags_21", "POST", "/v1/habits", {"title": "t", "tags": [f"t{i}" for i in range(21)]}),
        ("tags_21_patch", "PATCH", h, {"tags": [f"t{i}" for i in range(21)]}),
        ("title_empty", "POST", "/v1/habits", {"title": ""}),
        ("title_blank", "POST", "/v1/goals", {"title": "   "}),
        ("title_201", "POST", "/v1/goals", {"title": "a" * 201}),
        ("title_nul", "POST", "/v1/habits", {"title": "run\x00"}),
        ("title_escape", "POST", "/v1/goals", {"title": "run\x1b[2J"}),
        ("title_bidi", "POST", "/v1/habits", {"title": "run\u202etxt.exe"}),
        ("sub_habit_newline", "POST", f"{h}/sub-habits", {"title": "a\nb"}),
        ("tag_control", "POST", "/v1/habits", {"title": "t", "tags": ["a\x07"]}),
        ("display_name_control", "PATCH", "/v1/me", {"display_name": "Ada\x00"}),
        (
            "unit_control",
            "POST",
            "/v1/habits",
            {"title": "t", "kind": "quantity", "target": {"value": 1, "unit": "k\x00m"}},
        ),
        ("log_value_nan", "POST", f"{h}/logs", "NaN"),
        ("log_value_inf", "POST", f"{h}/logs", "Infinity"),
        ("log_value_negative", "POST", f"{h}/logs", -1),
        ("log_value_huge", "POST", f"{h}/logs", 1e10),
        (
            "target_nan",
            "POST",
            "/v1/habits",
            {"title": "t", "kind": "quantity", "target": {"value": "NaN", "unit": "km"}},
        ),
        (
            "target_zero",
            "POST",
            "/v1/habits",
            {"title": "t", "kind": "quantity", "target": {"value": 0, "unit": "km"}},
        ),
        ("log_date_1899", "POST", f"{h}/logs", {"date": "1899-12-31", "value": 1}),
        ("log_date_2201", "POST", f"{h}/logs", {"date": "2201-01-01", "value": 1}),
        ("start_date_year_1", "POST", "/v1/habits", {"title": "t", "start_date": "0001-01-01"}),
        ("goal_date_9999", "POST", "/v1/goals", {"title": "t", "target_date": "9999-12-31"}),
        ("query_from_1800", "GET", f"{h}/logs?from=1800-01-01", None),
        ("query_as_of_2500", "GET", f"{h}/metrics?as_of=2500-01-01", None),
        ("zone_unknown", "PATCH", "/v1/me", {"timezone": "Mars/Olympus_Mons"}),
        ("zone_path", "PATCH", "/v1/me", {"timezone": "../../etc/passwd"}),
        ("zone_offset", "PATCH", "/v1/me", {"timezone": "+05:00"}),
    ]
    return cases


CASE_NAMES = [name for name, *_ in _cases("x")]


@pytest.mark.parametrize("name", CASE_NAMES)
async def test_each_limit_answers_422(
    client: httpx.AsyncClient,
    user: dict[str, str],
    habit: dict[str, Any],
    name: str,
    tally: Counter[str],
) -> None:
    (case,) = [c for c in _cases(habit["id"]) if c[0] == name]
    _, method, path, body = case
    headers = {**auth(user), "content-type": "application/json"}
    if name.startswith("log_value"):
        content = f'{{"value": {json.dumps(body) if not isinstance(body, str) else body}}}'
    else:
        content = json.dumps(body) if body is not None else None
    response = await client.request(method, path, content=content, headers=headers)
    _assert_error(response, 422, "validation_error")
    tally["limits_checked"] += 1


async def test_habits_per_user_are_capped(tight_app: Any, tally: Counter[str]) -> None:
    async with client_at(tight_app) as client:
        user = await register(client)
        for i in range(3):
            await create_habit(client, user, title=f"habit {i}")
        fourth = await client.post("/v1/habits", json={"title": "one too many"}, headers=auth(user))
        _assert_error(fourth, 422, "validation_error")
        assert len((await client.get("/v1/habits", headers=auth(user))).json()) == 3
    tally["limits_checked"] += 1


async def test_concurrent_chat_streams_are_capped(tight_app: Any, tally: Counter[str]) -> None:
    runtime: Runtime = tight_app.state.runtime
    async with client_at(tight_app) as client:
        user = await register(client)
        user_id = user["x-user-id"]
        for i in range(3):  # three streams open elsewhere
            await runtime.throttle.open_stream(user_id, f"open-{i}")
        fourth = await client.post("/v1/chat", json={"message": "hi"}, headers=auth(user))
        _assert_error(fourth, 429, "too_many_requests")
        assert int(fourth.headers["Retry-After"]) > 0
        for i in range(3):
            await runtime.throttle.close_stream(user_id, f"open-{i}")
        # A slot frees when a stream ends.
        await runtime.throttle.open_stream(user_id, "after")
        await runtime.throttle.close_stream(user_id, "after")
    tally["limits_checked"] += 1


async def test_chat_turns_per_minute_are_capped(tight_app: Any, tally: Counter[str]) -> None:
    runtime: Runtime = tight_app.state.runtime
    async with client_at(tight_app) as client:
        user = await register(client)
        for _ in range(2):  # this minute's two turns, already sent
            assert await runtime.throttle.hit(runtime.throttle.chat_turns, user["x-user-id"])
        third = await client.post("/v1/chat", json={"message": "hi"}, headers=auth(user))
        _assert_error(third, 429, "too_many_requests")
        assert 0 < int(third.headers["Retry-After"]) <= 60
    other = str(uuid.uuid4())
    assert await runtime.throttle.hit(runtime.throttle.chat_turns, other)
    tally["limits_checked"] += 1
