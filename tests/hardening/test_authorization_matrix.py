"""Object-level authorization, generated from the OpenAPI document.

Every operation that names an object (an id in its path, an ``*_id`` field in its body or query)
is tried by user B on user A's objects: each try must answer 404 and change nothing of A's.
``MATRIX`` says how to try each operation; an operation of the OpenAPI that names an object and
has no entry fails the suite, so a new route cannot ship without its row. Adding one is a line:

    "DELETE /v1/reminders/{reminder_id}": [Probe()],

with, for a new kind of object, its maker in ``MAKERS`` (how A creates one) and its reading in
``SNAPSHOTS`` (how A sees it, to prove it unchanged).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.app import create_app
from tests.health_exports import health_connect_export
from tests.support import auth, register

pytestmark = [pytest.mark.integration, pytest.mark.hardening]


@dataclass(frozen=True)
class A:
    """The id of user A's object of this kind, filled in when the probe runs."""

    kind: str


@dataclass(frozen=True)
class B:
    """The id of user B's own object of this kind (to pair B's habit with A's goal)."""

    kind: str


@dataclass(frozen=True)
class Probe:
    """One try by B: path ids are A's unless ``params`` names them otherwise."""

    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    params: dict[str, A | B] = field(default_factory=dict)
    accept: str = "application/json"


MATRIX: dict[str, list[Probe]] = {
    "GET /v1/goals/{goal_id}": [Probe()],
    "PATCH /v1/goals/{goal_id}": [Probe(body={"title": "taken over"})],
    "DELETE /v1/goals/{goal_id}": [Probe()],
    "POST /v1/habits": [Probe(body={"title": "mine now", "goal_id": A("goal")})],
    "GET /v1/habits/{habit_id}": [Probe()],
    "PATCH /v1/habits/{habit_id}": [
        Probe(body={"title": "taken over"}),
        Probe(body={"goal_id": A("goal")}, params={"habit_id": B("habit")}),
    ],
    "DELETE /v1/habits/{habit_id}": [Probe()],
    "POST /v1/habits/{habit_id}/sub-habits": [Probe(body={"title": "extra step"})],
    "POST /v1/habits/{habit_id}/logs": [Probe(body={"value": 1})],
    "GET /v1/habits/{habit_id}/logs": [Probe()],
    "DELETE /v1/habits/{habit_id}/logs/{log_id}": [
        Probe(),
        Probe(params={"habit_id": B("habit"), "log_id": A("log")}),
    ],
    "GET /v1/habits/{habit_id}/metrics": [Probe()],
    "GET /v1/habits/{habit_id}/strength": [Probe()],
    "GET /v1/habits/{habit_id}/trend": [Probe()],
    "GET /v1/habits/{habit_id}/chart": [Probe(query={"type": "line"})],
    "GET /v1/integrations/jobs/{job_id}": [Probe()],
    "POST /v1/integrations/links": [
        Probe(body={"habit_id": A("habit"), "data_type": "steps", "threshold": 1000})
    ],
    "DELETE /v1/integrations/links/{link_id}": [Probe()],
    "POST /v1/feedback": [
        Probe(body={"kind": "suggestion_accepted", "habit_id": A("habit")}),
        Probe(body={"kind": "message_rating", "message_id": A("message"), "rating": 1}),
        Probe(body={"kind": "sequence_abandoned", "sequence_id": A("sequence")}),
    ],
    "POST /v1/chat": [Probe(body={"message": "hello", "conversation_id": A("conversation")})],
    "GET /v1/conversations/{conversation_id}/messages": [Probe()],
    "GET /v1/sequences/{sequence_id}": [Probe()],
    "POST /v1/sequences/{sequence_id}/activate": [Probe()],
    "POST /v1/reminders": [Probe(body={"habit_id": A("habit"), "time": "07:30"})],
    "GET /v1/reminders": [Probe(query={"habit_id": A("habit")})],
    "GET /v1/reminders/{reminder_id}": [Probe()],
    "PATCH /v1/reminders/{reminder_id}": [Probe(body={"time": "09:00"})],
    "DELETE /v1/reminders/{reminder_id}": [Probe()],
    "DELETE /v1/push/subscriptions/{subscription_id}": [Probe()],
    "DELETE /v1/webhooks/{webhook_id}": [Probe()],
    "GET /v1/confirmations/{confirmation_id}": [Probe()],
    "POST /v1/confirmations/{confirmation_id}": [Probe()],
    "DELETE /v1/confirmations/{confirmation_id}": [Probe()],
}


Ids = dict[str, str]
Maker = Callable[[httpx.AsyncClient, dict[str, str], Ids], Awaitable[str]]


async def _post(client: httpx.AsyncClient, user: dict[str, str], path: str, **kw: Any) -> Any:
    response = await client.post(path, headers={**auth(user), **kw.pop("headers", {})}, **kw)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


async def _goal(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    return str((await _post(client, user, "/v1/goals", json={"title": "A's goal"}))["id"])


async def _habit(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    body = {"title": "A's run", "kind": "quantity", "target": {"value": 5, "unit": "km"}}
    if "goal" in ids:
        body["goal_id"] = ids["goal"]
    return str((await _post(client, user, "/v1/habits", json=body))["id"])


async def _log(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    path = f"/v1/habits/{ids['habit']}/logs"
    return str((await _post(client, user, path, json={"value": 3}))["id"])


async def _link(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    body = {"habit_id": ids["habit"], "data_type": "steps", "threshold": 1000}
    return str((await _post(client, user, "/v1/integrations/links", json=body))["id"])


async def _job(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    doc, _ = health_connect_export(date.today() - timedelta(days=5), 2, "UTC")
    job = await _post(
        client,
        user,
        "/v1/integrations/health-connect/import",
        content=doc,
        headers={"Content-Type": "application/json"},
    )
    for _ in range(200):  # a finished job, so its snapshot cannot move under the test
        state = (await client.get(f"/v1/integrations/jobs/{job['id']}", headers=auth(user))).json()
        if state["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.05)
    return str(job["id"])


async def _conversation(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    turn = await _post(
        client,
        user,
        "/v1/chat",
        json={"message": "How do I build a reading habit?"},
        headers={"Accept": "application/json"},
        timeout=60,
    )
    return str(turn["conversation_id"])


async def _message(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    path = f"/v1/conversations/{ids['conversation']}/messages"
    messages = (await client.get(path, headers=auth(user))).json()["messages"]
    return str(messages[-1]["id"])


async def _sequence(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    body = {"goal": "run a 10k in three months"}
    return str((await _post(client, user, "/v1/sequences", json=body, timeout=60))["id"])


async def _reminder(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    body = {"habit_id": ids["habit"], "time": "07:30", "message": "A's run"}
    return str((await _post(client, user, "/v1/reminders", json=body))["id"])


async def _confirmation(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    # The assistant proposes archiving A's habit; only A may accept it.
    turn = await _post(
        client,
        user,
        "/v1/chat",
        json={"message": "Please archive my A's run habit"},
        headers={"Accept": "application/json"},
        timeout=60,
    )
    [card] = [e["card"] for e in turn["events"] if e["type"] == "card"]
    return str(card["confirmation_id"])


async def _subscription(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    # A public address literal: the endpoint check needs no name lookup, and nothing is sent.
    body = {
        "endpoint": "https://93.184.216.34/push/a-subscription",
        "keys": {"p256dh": "B" * 87, "auth": "A" * 22},
    }
    return str((await _post(client, user, "/v1/push/subscriptions", json=body))["id"])


async def _webhook(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> str:
    body = {"url": "https://93.184.216.34/a-hook", "events": ["habit.logged"]}
    return str((await _post(client, user, "/v1/webhooks", json=body))["id"])


# In order: a maker may use the ids of the kinds made before it.
MAKERS: dict[str, Maker] = {
    "goal": _goal,
    "habit": _habit,
    "log": _log,
    "link": _link,
    "job": _job,
    "conversation": _conversation,
    "message": _message,
    "sequence": _sequence,
    "reminder": _reminder,
    "confirmation": _confirmation,
    "subscription": _subscription,
    "webhook": _webhook,
}

# How A reads each object back; equal before and after B's tries means B changed nothing.
SNAPSHOTS: dict[str, str] = {
    "goal": "/v1/goals/{goal}",
    "habit": "/v1/habits/{habit}",
    "log": "/v1/habits/{habit}/logs",
    "link": "/v1/integrations/links",
    "job": "/v1/integrations/jobs/{job}",
    "conversation": "/v1/conversations/{conversation}/messages",
    "message": "/v1/conversations/{conversation}/messages",
    "sequence": "/v1/sequences/{sequence}",
    "reminder": "/v1/reminders/{reminder}",
    "confirmation": "/v1/confirmations/{confirmation}",
    "subscription": "/v1/push/subscriptions",
    "webhook": "/v1/webhooks",
}


def _resolve_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _id_fields(spec: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Names of ``*_id`` properties of a body schema, through refs and unions."""
    schema = _resolve_schema(spec, schema)
    names = {n for n in schema.get("properties", {}) if n.endswith("_id")}
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            names |= _id_fields(spec, part)
    return names


def operations_naming_objects(spec: dict[str, Any]) -> dict[str, set[str]]:
    """Each ``METHOD /path`` that names an object, with the names it uses for them."""
    found: dict[str, set[str]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            names = {
                p["name"]
                for p in op.get("parameters", [])
                if p["in"] == "path" or (p["in"] == "query" and p["name"].endswith("_id"))
            }
            for content in op.get("requestBody", {}).get("content", {}).values():
                names |= _id_fields(spec, content.get("schema", {}))
            if names:
                found[f"{method.upper()} {path}"] = names
    return found


def test_every_operation_naming_an_object_has_an_entry() -> None:
    """Fails when a route that takes an object's id is added without its row in MATRIX."""
    spec = create_app().openapi()
    missing = sorted(set(operations_naming_objects(spec)) - set(MATRIX))
    assert not missing, (
        "add these operations to MATRIX in tests/hardening/test_authorization_matrix.py "
        f"(how user B tries user A's object): {missing}"
    )
    stale = sorted(set(MATRIX) - set(operations_naming_objects(spec)))
    assert not stale, f"MATRIX rows for operations that no longer exist: {stale}"
    for probes in MATRIX.values():
        for probe in probes:
            for ref in _refs(probe):
                assert ref.kind in MAKERS, f"no maker for {ref.kind!r}: add one to MAKERS"


def _refs(value: Any) -> list[A | B]:
    if isinstance(value, A | B):
        return [value]
    if isinstance(value, Probe):
        return _refs(value.body) + _refs(value.query) + _refs(value.params)
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _fill(value: Any, a: Ids, b: Ids) -> Any:
    if isinstance(value, A):
        return a[value.kind]
    if isinstance(value, B):
        return b[value.kind]
    if isinstance(value, dict):
        return {k: _fill(v, a, b) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, a, b) for v in value]
    return value


async def _make(client: httpx.AsyncClient, user: dict[str, str], kinds: list[str]) -> Ids:
    ids: Ids = {}
    for kind in kinds:
        ids[kind] = await MAKERS[kind](client, user, ids)
    return ids


async def _snapshot(client: httpx.AsyncClient, user: dict[str, str], ids: Ids) -> dict[str, Any]:
    seen = {}
    for kind, template in SNAPSHOTS.items():
        response = await client.get(template.format(**ids), headers=auth(user))
        assert response.status_code == 200, (kind, response.text)
        seen[kind] = response.json()
    return seen


async def test_user_b_gets_404_on_every_object_of_user_a_and_changes_nothing(
    client: httpx.AsyncClient, agent_service: FastAPI, tally: Counter[str]
) -> None:
    spec = create_app().openapi()
    user_a, user_b = await register(client), await register(client)
    a = await _make(client, user_a, list(MAKERS))
    b = await _make(client, user_b, ["goal", "habit", "log"])
    before = await _snapshot(client, user_a, a)
    answers: list[tuple[str, int, str]] = []
    names = operations_naming_objects(spec)
    # Deletions last, so a leak there cannot hide a leak elsewhere.
    for key in sorted(MATRIX, key=lambda k: k.startswith("DELETE")):
        method, path = key.split(" ", 1)
        for probe in MATRIX[key]:
            params = {n.removesuffix("_id"): a.get(n.removesuffix("_id")) for n in names[key]}
            params.update({n.removesuffix("_id"): _fill(r, a, b) for n, r in probe.params.items()})
            url = path.format(**{f"{k}_id": v for k, v in params.items()})
            response = await client.request(
                method,
                url,
                params=_fill(probe.query, a, b),
                content=None if probe.body is None else json.dumps(_fill(probe.body, a, b)),
                headers={
                    **auth(user_b),
                    "Content-Type": "application/json",
                    "Accept": probe.accept,
                },
                timeout=30,
            )
            answers.append((key, response.status_code, response.text[:200]))
    after = await _snapshot(client, user_a, a)
    leaks = [x for x in answers if x[1] < 300]
    tally["authz_pairs"] += len(answers)
    tally["authz_leaks"] += len(leaks)
    assert not leaks, f"user B reached user A's objects: {leaks}"
    wrong = [x for x in answers if x[1] != 404 or '"not_found"' not in x[2]]
    assert not wrong, f"expected 404 not_found: {wrong}"
    assert after == before, "user B's tries changed user A's objects"
