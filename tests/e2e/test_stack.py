"""Start the stack the way ``make run`` does, then register, create a habit, log it, and watch
``habits.log.recorded.v1`` arrive on the bus; chat to a plan and activate it; ask a question the
knowledge service answers. Ctrl-C (SIGINT) stops it cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from httpx_sse import aconnect_sse

from shared.config import CommonSettings
from tests.support import BusObserver, auth, create_habit, register, worker_suffix

# Its tests share one stack: `make test` sends a file's tests to one worker (--dist loadfile).
pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
PORTS = {"GATEWAY": 18000, "AGENT": 18001, "METRICS": 18002, "KNOWLEDGE": 18003, "LEARNING": 18004}


# Session-wide: xdist may run other tests between this module's, and a second start would race
# the first stack's shutdown for the local Qdrant store.
@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = CommonSettings().database_url
    database = urlsplit(base)._replace(path=f"/habyss_e2e_{worker_suffix()}").geturl()
    # A store of its own: a running `make run` owns .data/qdrant (local mode takes one process).
    # Seeded from it when there is one, so the corpus is not embedded again.
    store = tmp_path_factory.mktemp("qdrant") / "store"
    if (ROOT / ".data" / "qdrant").is_dir():
        shutil.copytree(ROOT / ".data" / "qdrant", store, ignore=shutil.ignore_patterns(".lock"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_"))}
    # The offline planner, whatever the environment says: no test may reach a real model.
    env.update(DATABASE_URL=database, QDRANT_PATH=str(store), LLM_PROVIDER="offline")
    env.update({f"{name}_PORT": str(port) for name, port in PORTS.items()})
    launcher = subprocess.Popen(
        [sys.executable, "-m", "deploy.launcher"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert launcher.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = launcher.stdout.readline()
        if not line and launcher.poll() is not None:
            break
        lines.append(line)
        if "docs: http://" in line:
            break
    if not any("docs: http://" in line for line in lines):
        launcher.kill()
        launcher.communicate(timeout=30)
        pytest.fail("the stack did not start:\n" + "".join(lines))
    yield f"http://127.0.0.1:{PORTS['GATEWAY']}"
    launcher.send_signal(signal.SIGINT)
    rest, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 0, rest
    assert "stopped" in rest


async def test_register_create_log_and_see_the_event(stack: str) -> None:
    async with httpx.AsyncClient(base_url=stack, timeout=10) as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200
        for port in PORTS.values():
            ready = await client.get(f"http://127.0.0.1:{port}/internal/ready")
            assert ready.status_code == 200, port
        user = await register(client, timezone="Europe/Lisbon")
        habit = await create_habit(client, user, title="Meditate 2 minutes")
        async with BusObserver(CommonSettings().nats_url, "habits.log.recorded.v1") as bus:
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
