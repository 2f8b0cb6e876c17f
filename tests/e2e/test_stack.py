"""Start the stack the way ``make run`` does, then register, create a habit, log it, and watch
``habits.log.recorded.v1`` arrive on the bus; chat to a plan and activate it; ask a question the
knowledge service answers; get a chart as a PNG and as the assistant's card; import from Loop,
export and delete the account. Ctrl-C (SIGINT) stops it cleanly."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from httpx_sse import aconnect_sse

from shared.config import CommonSettings
from tests.support import (
    BusObserver,
    auth,
    create_habit,
    register,
    worker_suffix,
)

# Its tests share one stack (tests/e2e/conftest.py): `make test` sends a file's tests to one
# worker (--dist loadfile).
pytestmark = pytest.mark.e2e


async def test_register_create_log_and_see_the_event(
    stack: str, stack_bus: str, stack_ports: dict[str, int]
) -> None:
    async with httpx.AsyncClient(base_url=stack, timeout=10) as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200
        for port in stack_ports.values():
            ready = await client.get(f"http://127.0.0.1:{port}/internal/ready")
            assert ready.status_code == 200, port
        user = await register(client, timezone="Europe/Lisbon")
        habit = await create_habit(client, user, title="Meditate 2 minutes")
        async with BusObserver(stack_bus, "habits.log.recorded.v1") as bus:
            log = await client.post(f"/v1/habits/{habit['id']}/logs", json={}, headers=auth(user))
            assert log.status_code == 201
            events = await bus.wait_for(
                lambda s, body: body["habit_id"] == habit["id"], count=1, timeout=15
            )
    assert len(events) == 1
    assert events[0]["log_id"] == log.json()["id"]
    assert events[0]["user_id"] == user["x-user-id"]


async def _chat(client: httpx.AsyncClient, user: dict[str, str], message: str) -> list[Any]:
    """One turn over SSE; the events as ``(type, data)`` pairs."""
    async with aconnect_sse(
        client,
        "POST",
        "/v1/chat",
        json={"message": message},
        headers={**auth(user), "Accept": "text/event-stream"},
    ) as source:
        return [(sse.event, sse.json()) async for sse in source.aiter_sse()]


async def test_chat_to_an_activated_sequence(stack: str) -> None:
    async with httpx.AsyncClient(base_url=stack, timeout=30) as client:
        user = await register(client, timezone="America/New_York")
        events = await _chat(client, user, "I want to run a marathon in 6 months")
        names = [name for name, _ in events]
        assert names[0] == "run.started" and names[-1] == "run.completed"
        (card,) = [d["card"] for n, d in events if n == "card"]
        assert card["type"] == "habit_sequence"
        first_phase = card["plan"]["phases"][0]
        assert any(h["duration_minutes"] <= 2 for h in first_phase["habits"])

        activated = await client.post(
            f"/v1/sequences/{card['sequence_id']}/activate", headers=auth(user)
        )
        assert activated.status_code == 200, activated.text
        assert activated.json()["status"] == "active"
        habits = (await client.get("/v1/habits", headers=auth(user))).json()
        assert sorted(h["title"] for h in habits) == sorted(
            h["name"] for h in first_phase["habits"]
        )

        # The knowledge service answers through the agent's tool, with its sources cited.
        science = await _chat(client, user, "How long until flossing becomes automatic?")
        results = [
            d["result"]
            for n, d in science
            if n == "tool.call.completed" and d["name"] == "search_knowledge"
        ]
        assert results and results[0]["results"], science
        assert "Sources:" in science[-1][1]["text"]


async def test_reminders_through_the_api_and_the_assistant(stack: str) -> None:
    async with httpx.AsyncClient(base_url=stack, timeout=30) as client:
        user = await register(client, timezone="Europe/Berlin")
        habit = await create_habit(client, user, title="Meditation")
        bad = await client.post(
            "/v1/reminders", json={"habit_id": habit["id"], "time": "25:00"}, headers=auth(user)
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"

        events = await _chat(client, user, "remind me to meditate at 7am")
        (card,) = [d["card"] for n, d in events if n == "card"]
        assert card["type"] == "reminder" and events[-1][0] == "run.completed"
        reminders = (await client.get("/v1/reminders", headers=auth(user))).json()
        assert [(r["habit_id"], r["time"], r["timezone"]) for r in reminders] == [
            (habit["id"], "07:00", "Europe/Berlin")
        ]
        other = await register(client)
        foreign = await client.get(f"/v1/reminders/{reminders[0]['id']}", headers=auth(other))
        assert foreign.status_code == 404


async def test_a_chart_as_an_image_and_as_the_assistant_card(stack: str) -> None:
    async with httpx.AsyncClient(base_url=stack, timeout=30) as client:
        user = await register(client, timezone="Asia/Tokyo")
        habit = await create_habit(client, user, title="Evening walk")
        log = await client.post(f"/v1/habits/{habit['id']}/logs", json={}, headers=auth(user))
        assert log.status_code == 201
        png = await client.get(
            f"/v1/habits/{habit['id']}/chart?type=heatmap&period=90d",
            headers={**auth(user), "Accept": "image/png"},
        )
        assert png.status_code == 200, png.text
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and len(png.content) > 2000
        spec = await client.get(f"/v1/habits/{habit['id']}/chart?type=streak", headers=auth(user))
        assert spec.json()["data"]["values"][0]["length"] == 1

        events = await _chat(client, user, "show me a chart of my walk this month")
        (card,) = [d["card"] for n, d in events if n == "card"]
        assert card["type"] == "visualization" and card["habit_id"] == habit["id"]
        line = await client.get(f"/v1/habits/{habit['id']}/chart", headers=auth(user))
        assert card["spec"] == line.json()


async def test_import_export_and_delete_the_account(stack: str) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Habits.csv",
            "Position,Name,Question,Description,NumRepetitions,Interval,Color\n"
            "001,Stretch,,,1,1,#FF8F00\n",
        )
        archive.writestr("001 Stretch/Checkmarks.csv", f"Date,Value,Notes\n{yesterday},2,\n")
    async with httpx.AsyncClient(base_url=stack, timeout=30) as client:
        user = await register(client)
        headers = {**auth(user), "content-type": "application/zip"}
        imported = await client.post("/v1/imports/loop", content=buffer.getvalue(), headers=headers)
        assert imported.status_code == 200, imported.text
        assert imported.json()["logs"]["created"] == 1
        truncated = await client.post(
            "/v1/imports/loop", content=buffer.getvalue()[:40], headers=headers
        )
        assert truncated.status_code == 400
        assert truncated.json()["error"]["code"] == "malformed_export"
        hook = await client.post(
            "/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["habit.logged"]},
            headers=auth(user),
        )
        assert hook.status_code == 422

        export = await client.get("/v1/me/export", headers=auth(user))
        names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
        assert {"Habits.csv", "001 Stretch/Checkmarks.csv", "habyss.json"} <= set(names)

        assert (await client.delete("/v1/me", headers=auth(user))).status_code == 204
        assert (await client.get("/v1/habits", headers=auth(user))).status_code == 401

    base = urlsplit(CommonSettings().database_url.replace("+asyncpg", ""))
    conn = await asyncpg.connect(base._replace(path=f"/habyss_e2e_{worker_suffix()}").geturl())
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.columns "
            "WHERE column_name = 'user_id' "
            "AND table_schema IN ('core', 'agent', 'metrics', 'learning')"
        )
        deadline = time.monotonic() + 20
        while True:
            left = {}
            for row in tables:
                count = await conn.fetchval(
                    f'SELECT count(*) FROM "{row[0]}"."{row[1]}" WHERE user_id = $1',
                    uuid.UUID(user["x-user-id"]),
                )
                if count:
                    left[f"{row[0]}.{row[1]}"] = count
            if not left:
                break
            assert time.monotonic() < deadline, left
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
