"""Data in and out through the gateway, with real PostgreSQL, NATS JetStream and Redis: the Loop
import (report, idempotence, all-or-nothing, bad input), the export round trip, and deleting an
account everywhere."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import auth, create_habit, register

TODAY = date.today()


def day(offset: int) -> str:
    return (TODAY - timedelta(days=offset)).isoformat()


def loop_zip(
    habits_csv: str, checkmarks: dict[str, str], extra: dict[str, str] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Habits.csv", habits_csv)
        for folder, text_ in checkmarks.items():
            archive.writestr(f"{folder}/Checkmarks.csv", text_)
            archive.writestr(f"{folder}/Scores.csv", "Date,Score\n")
        for name, text_ in (extra or {}).items():
            archive.writestr(name, text_)
    return buffer.getvalue()


HABITS = (
    "Position,Name,Question,Description,NumRepetitions,Interval,Color\n"
    "001,Meditate,Did you meditate?,,1,1,#FF8F00\n"
    "002,Gym,,Lift,3,7,#3F51B5\n"
    "003,Nonsense,,,9,2,#000000\n"
)


def export_fixture() -> bytes:
    meditate = "Date,Value,Notes\n" + "".join(
        f"{day(d)},{v},\n" for d, v in [(1, 2), (2, 2), (3, 1), (4, 0), (5, 3), (6, 2)]
    )
    gym = f"Date,Value,Notes\n{day(2)},2,heavy\n{day(9)},2,\n{day(-3)},2,\n"
    return loop_zip(
        HABITS,
        {"001 Meditate": meditate, "002 Gym": gym},
        {"Checkmarks.csv": "Date,Meditate,Gym,\n", "Scores.csv": "Date,\n"},
    )


async def post_import(
    client: httpx.AsyncClient, user: dict[str, str], body: bytes, kind: str = "application/zip"
) -> httpx.Response:
    return await client.post(
        "/v1/imports/loop", content=body, headers={**auth(user), "content-type": kind}
    )


async def habits_by_title(client: httpx.AsyncClient, user: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/habits", headers=auth(user))
    return {h["title"]: h for h in response.json()}


async def logs_of(client: httpx.AsyncClient, user: dict[str, str], habit_id: str) -> list[Any]:
    response = await client.get(f"/v1/habits/{habit_id}/logs", headers=auth(user))
    assert response.status_code == 200, response.text
    return sorted((log["date"], log["status"], log["value"]) for log in response.json())


async def test_loop_import_maps_reports_and_is_idempotent(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await post_import(client, user, export_fixture())
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["habits"] == {"created": 2, "existing": 0, "skipped": 1}
    assert report["logs"]["created"] == 6
    assert report["logs"]["implicit"] == 1
    reasons = [s["reason"] for s in report["skipped"]]
    assert any("frequency" in r for r in reasons)
    assert any(r.startswith("after your today") for r in reasons)
    assert "Checkmarks.csv" in report["ignored_files"]

    habits = await habits_by_title(client, user)
    assert set(habits) == {"Meditate", "Gym"}
    assert habits["Gym"]["schedule"] == {"type": "interval", "every": 1, "unit": "week", "times": 3}
    assert habits["Meditate"]["description"] == "Did you meditate?"
    assert await logs_of(client, user, habits["Meditate"]["id"]) == [
        (day(6), "done", None),
        (day(5), "skip", None),
        (day(2), "done", None),
        (day(1), "done", None),
    ]

    again = await post_import(client, user, export_fixture())
    assert again.status_code == 200, again.text
    assert again.json()["habits"] == {"created": 0, "existing": 2, "skipped": 1}
    assert again.json()["logs"]["created"] == 0
    assert await habits_by_title(client, user) == habits
    assert len(await logs_of(client, user, habits["Gym"]["id"])) == 2

    # The imported logs reach the metrics service through the outbox like any other log.
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        metrics = await client.get(
            f"/v1/habits/{habits['Meditate']['id']}/metrics", headers=auth(user)
        )
        if metrics.json().get("total_completions") == 3:
            break
        assert asyncio.get_running_loop().time() < deadline, metrics.text
        await asyncio.sleep(0.2)


async def test_bare_habits_csv_imports_habits_only(client: httpx.AsyncClient) -> None:
    user = await register(client)
    await create_habit(client, user, title="Gym", kind="negative")
    text_ = (
        "Position,Name,Type,Question,Description,NumRepetitions,Interval,Color,Unit,"
        "Target Type,Target Value\n"
        "001,Meditate,0,,,1,1,#fff,,,\n"
        "002,Gym,0,,,3,7,#fff,,,\n"
        "003,Steps,1,,,1,1,#fff,steps,0,1e12\n"
    )
    response = await post_import(client, user, text_.encode(), "text/csv")
    assert response.status_code == 200, response.text
    report = response.json()
    # "Gym" exists but is a negative habit: the boolean Loop habit is a new one beside it.
    assert report["habits"] == {"created": 2, "existing": 0, "skipped": 1}
    assert [s["name"] for s in report["skipped"]] == ["Steps"]
    kinds = sorted(h["kind"] for h in (await client.get("/v1/habits", headers=auth(user))).json())
    assert kinds == ["boolean", "boolean", "negative"]


async def test_bad_files_answer_envelope_errors_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    whole = export_fixture()
    cases: list[tuple[bytes, int, str]] = [
        (whole[: len(whole) // 2], 400, "malformed_export"),
        (loop_zip("Position,Name,Streak\n001,x,2\n", {}), 422, "invalid_export"),
        (
            loop_zip(HABITS, {"001 Meditate": f"Date,Value\n{day(1)},2\n31/12/2025,2\n"}),
            422,
            "invalid_export",
        ),
        (loop_zip(HABITS, {"002 Gym": f"Date,Value\n{day(1)},maybe\n"}), 422, "invalid_export"),
        (
            loop_zip("", {}, {"notes.txt": "hello"})[:0] + b"PK\x05\x06" + bytes(18),
            422,
            "invalid_export",
        ),
        (b"\xff\xfe\x00garbage", 422, "invalid_export"),
        (b"", 400, "malformed_export"),
    ]
    for body, status, code in cases:
        response = await post_import(client, user, body)
        assert response.status_code == status, (body[:40], response.text)
        assert response.json()["error"]["code"] == code
    unknown = (await post_import(client, user, cases[1][0])).json()["error"]
    assert unknown["details"][0]["unknown"] == ["Streak"]
    assert await habits_by_title(client, user) == {}  # nothing half-imported

    too_big = await post_import(client, user, b"x" * (32 * 1024**2 + 1))
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"


async def test_export_round_trips_into_another_account(client: httpx.AsyncClient) -> None:
    alice = await register(client)
    run = await create_habit(
        client,
        alice,
        title="Run",
        kind="quantity",
        schedule={"type": "interval", "every": 1, "unit": "week", "times": 3},
        target={"value": 20, "unit": "km", "direction": "at_least"},
        start_date=day(20),
    )
    read = await create_habit(client, alice, title="Read", start_date=day(20))
    for offset, value in [(1, 5.0), (3, 7.25)]:
        await client.post(
            f"/v1/habits/{run['id']}/logs",
            json={"date": day(offset), "value": value},
            headers=auth(alice),
        )
    for offset, status in [(1, "done"), (2, "skip"), (4, "done")]:
        await client.post(
            f"/v1/habits/{read['id']}/logs",
            json={"date": day(offset), "status": status},
            headers=auth(alice),
        )
    response = await client.get("/v1/me/export", headers=auth(alice))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {
        "Habits.csv",
        "001 Run/Checkmarks.csv",
        "002 Read/Checkmarks.csv",
        "habyss.json",
    } <= names
    dump = json.loads(archive.read("habyss.json"))
    assert dump["tables"]["core.users"][0]["email"]
    assert "password_hash" not in dump["tables"]["core.users"][0]
    assert len(dump["tables"]["core.habit_logs"]) == 5
    assert "agent.conversations" in dump["tables"] and "learning.events" in dump["tables"]

    bob = await register(client)
    imported = await post_import(client, bob, response.content)
    assert imported.status_code == 200, imported.text
    assert imported.json()["habits"]["created"] == 2
    theirs, ours = await habits_by_title(client, alice), await habits_by_title(client, bob)
    for title in ("Run", "Read"):
        for field in ("kind", "schedule", "target"):
            assert ours[title][field] == theirs[title][field], (title, field)
        assert await logs_of(client, bob, ours[title]["id"]) == await logs_of(
            client, alice, theirs[title]["id"]
        )


async def rows_of(engine: AsyncEngine, user_id: str) -> dict[str, int]:
    """Rows with this user id in every table with a user_id column, in every schema."""
    found: dict[str, int] = {}
    async with engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.columns "
                    "WHERE column_name = 'user_id' AND table_schema IN "
                    "('core', 'agent', 'metrics', 'learning')"
                )
            )
        ).all()
        for schema, table in tables:
            count = (
                await conn.execute(
                    text(f'SELECT count(*) FROM "{schema}"."{table}" WHERE user_id = :u'),
                    {"u": uuid.UUID(user_id)},
                )
            ).scalar_one()
            if count:
                found[f"{schema}.{table}"] = count
        users = await conn.execute(
            text("SELECT count(*) FROM core.users WHERE id = :u"), {"u": uuid.UUID(user_id)}
        )
        if users.scalar_one():
            found["core.users"] = 1
    return found


async def test_deleting_the_account_leaves_no_row_in_any_schema(
    client: httpx.AsyncClient, agent_service: FastAPI, engine: AsyncEngine
) -> None:
    user = await register(client)
    user_id = user["x-user-id"]
    habit = await create_habit(client, user, title="Stretch")
    await client.post(f"/v1/habits/{habit['id']}/logs", json={}, headers=auth(user))
    await client.post("/v1/feedback", json={"kind": "comment", "text": "nice"}, headers=auth(user))
    draft = await client.post("/v1/sequences", json={"goal": "run a 5K"}, headers=auth(user))
    assert draft.status_code == 201, draft.text
    await client.post(
        "/v1/webhooks",
        # A public address no event here goes to: nothing is posted, the row still exists.
        json={"url": "https://93.184.216.34/hook", "events": ["sequence.phase_advanced"]},
        headers=auth(user),
    )
    await post_import(client, user, export_fixture())
    deadline = asyncio.get_running_loop().time() + 15
    while not {"metrics.habit_metrics", "learning.events", "agent.sequences"} <= set(
        await rows_of(engine, user_id)
    ):
        assert asyncio.get_running_loop().time() < deadline, await rows_of(engine, user_id)
        await asyncio.sleep(0.2)
    before = await rows_of(engine, user_id)
    assert {"core.habits", "core.habit_logs", "core.webhooks", "core.import_refs"} <= set(before)

    response = await client.delete("/v1/me", headers=auth(user))
    assert response.status_code == 204, response.text
    deadline = asyncio.get_running_loop().time() + 20
    while (left := await rows_of(engine, user_id)) != {}:
        assert asyncio.get_running_loop().time() < deadline, left
        await asyncio.sleep(0.2)
    # Late events of the account (its logs' recomputes) do not bring rows back.
    await asyncio.sleep(1.0)
    assert await rows_of(engine, user_id) == {}

    for method, path in [("GET", "/v1/me"), ("GET", "/v1/habits"), ("GET", "/v1/webhooks")]:
        answer = await client.request(method, path, headers=auth(user))
        assert answer.status_code == 401, (path, answer.text)
    again = await client.delete("/v1/me", headers=auth(user))
    assert again.status_code == 401
