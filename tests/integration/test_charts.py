"""``GET /v1/habits/{id}/chart`` through the gateway and metrics service: spec, images, errors."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _habit_with_logs(
    client: httpx.AsyncClient, user: dict[str, str]
) -> tuple[str, date, list[int]]:
    """A daily habit started 20 days ago, done on some days: (id, today, offsets done)."""
    probe = await create_habit(client, user, title="Probe")
    today = date.fromisoformat(probe["start_date"])
    habit = await create_habit(
        client, user, title="Running", start_date=(today - timedelta(days=20)).isoformat()
    )
    done = [20, 19, 18, 15, 14, 13, 12, 11, 9, 3, 2, 1, 0]
    for offset in done:
        response = await client.post(
            f"/v1/habits/{habit['id']}/logs",
            json={"date": (today - timedelta(days=offset)).isoformat()},
            headers=auth(user),
        )
        assert response.status_code == 201, response.text
    return habit["id"], today, done


async def _chart(
    client: httpx.AsyncClient, user: dict[str, str], habit_id: str, **params: str
) -> dict[str, Any]:
    response = await client.get(f"/v1/habits/{habit_id}/chart", params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    spec: dict[str, Any] = response.json()
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    return spec


async def test_every_chart_agrees_with_the_metrics(client: httpx.AsyncClient) -> None:
    user = await register(client)
    hid, today, done = await _habit_with_logs(client, user)
    metrics = await client.get(
        f"/v1/habits/{hid}/metrics", params={"as_of": today.isoformat()}, headers=auth(user)
    )
    m = metrics.json()
    assert m["longest_streak"] == 5 and m["current_streak"] == 4

    line = await _chart(client, user, hid, type="line", period="30d")
    rates = line["data"]["values"]
    assert rates[-1] == {"date": today.isoformat(), "rate": m["completion_rate_week"]}
    assert line["encoding"]["y"]["field"] == "rate"

    streak = await _chart(client, user, hid, type="streak", period="90d")
    lengths = [v["length"] for v in streak["data"]["values"]]
    assert max(lengths) == m["longest_streak"]
    assert streak["data"]["values"][-1]["end"] == today.isoformat()
    assert lengths[-1] == m["current_streak"]

    heatmap = await _chart(client, user, hid, type="heatmap", period="1y")
    cells = heatmap["data"]["values"]
    assert len(cells) == 21  # from the habit's start, not a year of empty days
    completed = {c["date"] for c in cells if c["status"] == "completed"}
    assert completed == {(today - timedelta(days=o)).isoformat() for o in done}
    assert len(completed) == m["total_completions"]

    bar = await _chart(client, user, hid, type="bar", period="all")
    assert sum(v["completed"] for v in bar["data"]["values"]) == m["total_completions"]
    assert bar["usermeta"]["habyss"] == {
        "habit_id": hid,
        "type": "bar",
        "period": "all",
        "start": (today - timedelta(days=20)).isoformat(),  # the habit's start_date
        "end": today.isoformat(),
    }


async def test_quantity_line_carries_daily_sums_and_the_target(client: httpx.AsyncClient) -> None:
    user = await register(client)
    probe = await create_habit(client, user, title="Probe")
    today = date.fromisoformat(probe["start_date"])
    habit = await create_habit(
        client,
        user,
        title="Steps",
        kind="quantity",
        target={"value": 5000, "unit": "steps"},
        start_date=(today - timedelta(days=5)).isoformat(),
    )
    for offset, value in ((5, 3000), (2, 4000), (2, 2500), (0, 8000)):
        await client.post(
            f"/v1/habits/{habit['id']}/logs",
            json={"date": (today - timedelta(days=offset)).isoformat(), "value": value},
            headers=auth(user),
        )
    spec = await _chart(client, user, habit["id"], type="line", period="30d")
    values = {v["date"]: v["value"] for v in spec["data"]["values"]}
    assert values[(today - timedelta(days=2)).isoformat()] == 6500
    assert values[today.isoformat()] == 8000
    assert spec["layer"][1]["encoding"]["y"]["datum"] == 5000


async def test_png_and_svg_are_rendered_on_the_server(client: httpx.AsyncClient) -> None:
    user = await register(client)
    hid, _, _ = await _habit_with_logs(client, user)
    png = await client.get(
        f"/v1/habits/{hid}/chart?type=heatmap", headers={**auth(user), "Accept": "image/png"}
    )
    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE) and len(png.content) > 2000
    width, height = (int.from_bytes(png.content[i : i + 4], "big") for i in (16, 20))
    assert width > 200 and height > 100
    svg = await client.get(
        f"/v1/habits/{hid}/chart?type=streak",
        headers={**auth(user), "Accept": "text/html;q=0.5, image/svg+xml"},
    )
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "</svg>" in svg.text
    assert svg.headers["vary"] == "Accept"


async def test_bad_chart_requests_answer_in_the_error_envelope(client: httpx.AsyncClient) -> None:
    user = await register(client)
    hid, _, _ = await _habit_with_logs(client, user)
    other = await register(client)
    cases = [
        (f"/v1/habits/{hid}/chart?type=pie", auth(user), 422, "validation_error"),
        (f"/v1/habits/{hid}/chart?period=7w", auth(user), 422, "validation_error"),
        ("/v1/habits/not-a-uuid/chart", auth(user), 422, "validation_error"),
        (f"/v1/habits/{hid}/chart", auth(other), 404, "not_found"),
        (f"/v1/habits/{uuid.uuid4()}/chart", auth(user), 404, "not_found"),
        (f"/v1/habits/{hid}/chart", {}, 401, "unauthorized"),
        (f"/v1/habits/{hid}/chart", {**auth(user), "Accept": "text/html"}, 406, "not_acceptable"),
    ]
    for url, headers, status, code in cases:
        response = await client.get(url, headers=headers)
        assert response.status_code == status, (url, response.text)
        assert response.json()["error"]["code"] == code, url
    foreign_png = await client.get(
        f"/v1/habits/{hid}/chart", headers={**auth(other), "Accept": "image/png"}
    )
    assert foreign_png.status_code == 404
