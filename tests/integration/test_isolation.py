"""A user never reads or changes another user's data: a foreign id answers 404."""

from __future__ import annotations

import httpx
import pytest

from tests.support import auth, create_habit, register

pytestmark = pytest.mark.integration


async def test_user_a_cannot_touch_user_bs_data(client: httpx.AsyncClient) -> None:
    a = await register(client)
    b = await register(client)
    habit = await create_habit(client, b)
    hid = habit["id"]
    log = await client.post(f"/v1/habits/{hid}/logs", json={}, headers=auth(b))
    goal = await client.post("/v1/goals", json={"title": "Run a 5K"}, headers=auth(b))
    gid = goal.json()["id"]

    attempts = [
        client.get(f"/v1/habits/{hid}", headers=auth(a)),
        client.patch(f"/v1/habits/{hid}", json={"title": "mine now"}, headers=auth(a)),
        client.delete(f"/v1/habits/{hid}", headers=auth(a)),
        client.post(f"/v1/habits/{hid}/logs", json={}, headers=auth(a)),
        client.get(f"/v1/habits/{hid}/logs", headers=auth(a)),
        client.delete(f"/v1/habits/{hid}/logs/{log.json()['id']}", headers=auth(a)),
        client.post(f"/v1/habits/{hid}/sub-habits", json={"title": "x"}, headers=auth(a)),
        client.get(f"/v1/goals/{gid}", headers=auth(a)),
        client.patch(f"/v1/goals/{gid}", json={"title": "x"}, headers=auth(a)),
        client.delete(f"/v1/goals/{gid}", headers=auth(a)),
        client.post("/v1/habits", json={"title": "x", "goal_id": gid}, headers=auth(a)),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404, (response.request.url, response.text)
        assert response.json()["error"]["code"] == "not_found"

    assert (await client.get("/v1/habits", headers=auth(a))).json() == []
    assert (await client.get("/v1/goals", headers=auth(a))).json() == []
    # B's data is untouched.
    still = await client.get(f"/v1/habits/{hid}", headers=auth(b))
    assert still.json()["title"] == habit["title"]
    logs = await client.get(f"/v1/habits/{hid}/logs", headers=auth(b))
    assert len(logs.json()) == 1
