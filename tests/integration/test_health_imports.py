"""Health imports through the gateway: Apple Health, Health Connect, Fitbit; jobs; habit links.

Exports are generated in code (tests/health_exports.py): two months in Europe/Berlin around the
end of summer time, thousands of records, samples and workouts across midnight.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.db.core import HabitLog
from shared.db.integrations import IntegrationDay
from tests.health_exports import (
    Expected,
    apple_export,
    apple_zip,
    fitbit_zip,
    health_connect_export,
)
from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration
ZONE = "Europe/Berlin"
DAYS = 60


async def user_today(client: httpx.AsyncClient, user: dict[str, str]) -> date:
    probe = await create_habit(client, user, title=f"Probe {uuid.uuid4().hex[:6]}")
    await client.delete(f"/v1/habits/{probe['id']}", headers=auth(user))
    return date.fromisoformat(probe["start_date"])


async def upload(
    client: httpx.AsyncClient, user: dict[str, str], slug: str, body: bytes, media: str
) -> httpx.Response:
    return await client.post(
        f"/v1/integrations/{slug}/import",
        content=body,
        headers={**auth(user), "Content-Type": media},
        timeout=60,
    )


async def finished(
    client: httpx.AsyncClient, user: dict[str, str], response: httpx.Response
) -> dict[str, Any]:
    """Follow a 202's Location until the job ends."""
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location == f"/v1/integrations/jobs/{response.json()['id']}"
    for _ in range(600):
        job = await client.get(location, headers=auth(user))
        assert job.status_code == 200, job.text
        body: dict[str, Any] = job.json()
        if body["status"] in ("succeeded", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"job did not finish: {body}")


async def stored(engine: AsyncEngine, user: dict[str, str]) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(
                IntegrationDay.integration,
                IntegrationDay.data_type,
                IntegrationDay.key,
                IntegrationDay.date,
                IntegrationDay.value,
                IntegrationDay.count,
            )
            .where(IntegrationDay.user_id == uuid.UUID(user["x-user-id"]))
            .order_by(
                IntegrationDay.integration,
                IntegrationDay.data_type,
                IntegrationDay.key,
                IntegrationDay.date,
            )
        )
        return [tuple(r) for r in result.all()]


def as_expected(rows: list[tuple[Any, ...]], integration: str) -> Expected:
    return {(t, k, d): v for i, t, k, d, v, _ in rows if i == integration}


def assert_close(got: Expected, want: Expected) -> None:
    assert set(got) == set(want)
    wrong = {k: (got[k], want[k]) for k in want if abs(got[k] - want[k]) > 0.01}
    assert wrong == {}


async def test_apple_health_zip_stores_local_days_and_reimport_changes_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user = await register(client, timezone=ZONE)
    today = await user_today(client, user)
    first = today - timedelta(days=DAYS)
    xml, expected = apple_export(first, DAYS, ZONE, heart_rate_per_day=20)
    body = apple_zip(xml)

    job = await finished(
        client, user, await upload(client, user, "apple-health", body, "application/zip")
    )
    assert job["status"] == "succeeded", job
    assert job["processed"] == job["total"] == len(xml) and job["unit"] == "bytes"
    assert job["records"] > 7_000
    assert job["result"]["workout_types"] == ["running", "social_dance"]
    assert set(job["result"]["data_types"]) == {
        "steps",
        "active_energy",
        "exercise_minutes",
        "sleep_minutes",
        "mindful_minutes",
        "workouts",
    }
    rows = await stored(engine, user)
    assert_close(as_expected(rows, "apple_health"), expected)
    # The night of the autumn change (Sunday 25 October in Berlin) is an hour longer.
    nights = {d: v for (t, _, d), v in expected.items() if t == "sleep_minutes"}
    assert sorted(set(nights.values())) == [440.0, 500.0]

    again = await finished(
        client, user, await upload(client, user, "apple-health", body, "application/zip")
    )
    assert again["status"] == "succeeded"
    assert await stored(engine, user) == rows

    week = await client.get("/v1/integrations/data?data_type=steps&days=7", headers=auth(user))
    assert week.status_code == 200, week.text
    data = week.json()
    assert data["unit"] == "steps" and data["end"] == today.isoformat()
    want = {d: v for (t, _, d), v in expected.items() if t == "steps" and d > today - timedelta(7)}
    assert {date.fromisoformat(d["date"]): d["value"] for d in data["days"]} == want
    assert data["summary"]["days_with_data"] == len(want)


async def test_a_linked_habit_is_logged_from_the_data_without_touching_manual_logs(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user = await register(client, timezone=ZONE)
    today = await user_today(client, user)
    first = today - timedelta(days=DAYS)
    xml, expected = apple_export(first, DAYS, ZONE)
    walk = await create_habit(client, user, title="Walk 9,000 steps", start_date=first.isoformat())
    sleep = await create_habit(
        client,
        user,
        title="Sleep 7 hours",
        kind="quantity",
        target={"value": 420, "unit": "minutes", "direction": "at_least"},
        start_date=first.isoformat(),
    )
    qualifying = sorted(
        d for (t, _, d), v in expected.items() if t == "steps" and v >= 9000 and d <= today
    )
    assert 10 < len(qualifying) < DAYS  # the threshold splits the days
    manual_day = qualifying[3]
    manual = await client.post(
        f"/v1/habits/{walk['id']}/logs",
        json={"date": manual_day.isoformat(), "note": "walked to work"},
        headers=auth(user),
    )
    assert manual.status_code == 201
    for habit, data_type, threshold in ((walk, "steps", 9000), (sleep, "sleep_minutes", 420)):
        link = await client.post(
            "/v1/integrations/links",
            json={"habit_id": habit["id"], "data_type": data_type, "threshold": threshold},
            headers=auth(user),
        )
        assert link.status_code == 201, link.text
        assert link.json()["logged_days"] == 0  # nothing imported yet

    job = await finished(
        client, user, await upload(client, user, "apple-health", xml, "application/xml")
    )
    assert job["status"] == "succeeded", job
    assert job["result"]["auto_logged"][walk["id"]] == len(qualifying) - 1

    async def logs_of(habit_id: str) -> list[HabitLog]:
        async with engine.connect() as conn:
            result = await conn.execute(
                select(HabitLog).where(HabitLog.habit_id == uuid.UUID(habit_id))
            )
            return list(result.all())  # type: ignore[arg-type]

    walk_logs = await logs_of(walk["id"])
    assert sorted(log.date for log in walk_logs) == qualifying
    assert {log.date: log.source for log in walk_logs}[manual_day] == "manual"
    assert {log.note for log in walk_logs if log.date == manual_day} == {"walked to work"}
    assert {log.source for log in walk_logs if log.date != manual_day} == {"integration"}
    sleep_logs = await logs_of(sleep["id"])
    nights = {d: v for (t, _, d), v in expected.items() if t == "sleep_minutes" and d <= today}
    assert {log.date: log.value for log in sleep_logs} == nights

    # Re-importing logs nothing new.
    again = await finished(
        client, user, await upload(client, user, "apple-health", xml, "application/xml")
    )
    assert again["result"]["auto_logged"] == {}
    assert len(await logs_of(walk["id"])) == len(qualifying)

    # The auto-logs went out as log events: the metrics service counted them.
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        metrics = (await client.get(f"/v1/habits/{walk['id']}/metrics", headers=auth(user))).json()
        if metrics.get("total_completions") == len(qualifying):
            break
        assert asyncio.get_running_loop().time() < deadline, metrics
        await asyncio.sleep(0.1)

    # A habit linked after the import is logged from the stored days at once.
    later = await create_habit(client, user, title="Run", start_date=first.isoformat())
    link = await client.post(
        "/v1/integrations/links",
        json={
            "habit_id": later["id"],
            "data_type": "workouts",
            "workout_type": "running",
            "threshold": 20,
        },
        headers=auth(user),
    )
    assert link.status_code == 201, link.text
    runs = [d for (t, k, d) in expected if (t, k) == ("workouts", "running")]
    assert link.json()["logged_days"] == len(runs)
    listed = await client.get("/v1/integrations/links", headers=auth(user))
    assert [x["habit_id"] for x in listed.json()] == [walk["id"], sleep["id"], later["id"]]
    assert (
        await client.post(
            "/v1/integrations/links",
            json={"habit_id": later["id"], "data_type": "steps", "threshold": 1},
            headers=auth(user),
        )
    ).status_code == 409

    # The data read sets the steps against the habit's days ("you walk more on run days").
    data = await client.get("/v1/integrations/data?data_type=steps&days=60", headers=auth(user))
    by_habit = {h["habit_id"]: h for h in data.json()["habits"]}
    assert by_habit[walk["id"]]["difference_percent"] > 0


async def test_health_connect_and_fitbit_exports(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user = await register(client, timezone="America/New_York")
    today = await user_today(client, user)
    first = today - timedelta(days=45)  # 3 November 2026 is not in it; 1 November is
    doc, hc_expected = health_connect_export(first, 40, "America/New_York")
    job = await finished(
        client, user, await upload(client, user, "health-connect", doc, "application/json")
    )
    assert job["status"] == "succeeded", job
    archive, fb_expected = fitbit_zip(first, 40)
    job = await finished(
        client, user, await upload(client, user, "fitbit", archive, "application/zip")
    )
    assert job["status"] == "succeeded", job
    rows = await stored(engine, user)
    assert_close(as_expected(rows, "health_connect"), hc_expected)
    assert_close(as_expected(rows, "fitbit"), fb_expected)
    # Several integrations: the data read takes each day's largest.
    data = await client.get("/v1/integrations/data?data_type=steps&days=60", headers=auth(user))
    values = {date.fromisoformat(d["date"]): d["value"] for d in data.json()["days"]}
    for day, value in values.items():
        assert value == max(
            hc_expected.get(("steps", "", day), 0), fb_expected.get(("steps", "", day), 0)
        )
    only = await client.get(
        "/v1/integrations/data?data_type=steps&days=60&integration=fitbit", headers=auth(user)
    )
    assert {d["value"] for d in only.json()["days"]} <= {
        v for (t, _, _), v in fb_expected.items() if t == "steps"
    }


async def test_jobs_are_their_owners_alone(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    other = await register(client)
    doc, _ = health_connect_export(date(2026, 1, 1), 3, "UTC")
    response = await upload(client, owner, "health-connect", doc, "application/json")
    job = await finished(client, owner, response)
    foreign = await client.get(f"/v1/integrations/jobs/{job['id']}", headers=auth(other))
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"
    unknown = await client.get(f"/v1/integrations/jobs/{uuid.uuid4()}", headers=auth(owner))
    assert unknown.status_code == 404
    anonymous = await client.get(f"/v1/integrations/jobs/{job['id']}")
    assert anonymous.status_code == 401


def _truncated(body: bytes) -> bytes:
    return body[: len(body) // 2]


BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n <!ENTITY a "aaaaaaaaaaaaaaaa">\n'
    + b"".join(
        f' <!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 16}">\n'.encode() for i in range(8)
    )
    + b']>\n<HealthData locale="en_US"><Record type="&i;"/></HealthData>\n'
)


@pytest.mark.parametrize(
    ("slug", "make", "status", "code"),
    [
        ("apple-health", lambda xml: _truncated(apple_zip(xml)), 400, "malformed_export"),
        ("apple-health", lambda xml: BOMB, 422, "invalid_export"),
        ("apple-health", lambda xml: apple_zip(BOMB), 422, "invalid_export"),
        ("apple-health", lambda xml: b"\x89PNG\r\n\x1a\n" + xml[:100], 422, "invalid_export"),
        ("apple-health", lambda xml: b'{"format": "health_connect"}', 422, "invalid_export"),
        ("apple-health", lambda xml: b"", 422, "invalid_export"),
        ("apple-health", lambda xml: b"<html><body>hi</body></html>", 422, "invalid_export"),
        (
            "health-connect",
            lambda xml: b'{"format": "health_connect", "records": [',
            400,
            "malformed_export",
        ),
        (
            "health-connect",
            lambda xml: b'{"format": "garmin", "records": []}',
            422,
            "invalid_export",
        ),
        (
            "health-connect",
            lambda xml: (
                b'{"format": "health_connect", "records": [{"type": '
                b'"Steps", "startTime": "2026-01-01T10:00:00", "endTime": "x", "count": 5}]}'
            ),
            422,
            "invalid_export",
        ),
        (
            "fitbit",
            lambda xml: b'[{"dateTime": "01/01/26 00:00:00", "value": "1"}]',
            422,
            "invalid_export",
        ),
        ("fitbit", lambda xml: apple_zip(xml), 422, "invalid_export"),
    ],
)
async def test_bad_exports_answer_in_the_error_envelope(
    client: httpx.AsyncClient, engine: AsyncEngine, slug: str, make: Any, status: int, code: str
) -> None:
    user = await register(client)
    xml, _ = apple_export(date(2026, 1, 1), 2, "UTC")
    response = await upload(client, user, slug, make(xml), "application/octet-stream")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert await stored(engine, user) == []


async def test_a_file_broken_inside_an_intact_zip_applies_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user = await register(client)
    xml, _ = apple_export(date(2026, 1, 1), 20, "UTC")
    cut = xml[: len(xml) * 3 // 4]  # well formed until the cut: thousands of records read
    job = await finished(
        client, user, await upload(client, user, "apple-health", apple_zip(cut), "application/zip")
    )
    assert job["status"] == "failed"
    assert job["error"]["code"] == "malformed_export"
    assert job["records"] > 1000
    assert await stored(engine, user) == []

    bad_record = xml.replace(b'value="300"', b'value="three hundred"', 1)
    job = await finished(
        client, user, await upload(client, user, "apple-health", bad_record, "application/xml")
    )
    assert (job["status"], job["error"]["code"]) == ("failed", "invalid_export")
    assert await stored(engine, user) == []


@pytest.fixture(scope="module")
async def small_gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway with tiny import limits, to reach them with small files."""
    tight = settings.model_copy(
        update={
            "integration_max_upload_bytes": 200_000,
            "integration_max_export_bytes": 150_000,
            "integration_max_json_bytes": 20_000,
        }
    )
    app = create_app(tight)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
            yield c


async def test_too_large_answers_413(small_gateway: httpx.AsyncClient) -> None:
    user = await register(small_gateway)
    xml, _ = apple_export(date(2026, 1, 1), 3, "UTC")
    assert len(xml) > 100_000
    big = await upload(small_gateway, user, "apple-health", xml + xml, "application/xml")
    assert big.status_code == 413, big.text
    assert big.json()["error"]["code"] == "payload_too_large"
    # A small zip that decompresses past the export limit (a zip bomb's shape).
    packed = apple_zip(xml[:-14] + b" " * 400_000 + b"</HealthData>\n")
    assert len(packed) < 200_000
    response = await upload(small_gateway, user, "apple-health", packed, "application/zip")
    assert response.status_code == 413, response.text
    doc, _ = health_connect_export(date(2026, 1, 1), 10, "UTC")
    assert len(doc) > 20_000
    response = await upload(small_gateway, user, "health-connect", doc, "application/json")
    assert response.status_code == 413
