"""Throughput and latency of ``POST /v1/habits/{id}/logs`` at 32 concurrent clients.

Starts a real gateway (uvicorn, one process) against the local PostgreSQL, NATS and Redis unless
``--url`` points at a running one, registers a user, creates one habit per client, then has each
client log as fast as it can for ``--seconds``. Prints requests per second and p50/p99 latency,
then how long the outbox took to drain (every write published to JetStream).

    .venv/bin/python bench/log_writes.py [--clients 32] [--seconds 20] [--url http://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/internal/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("gateway not ready")


async def client_loop(
    client: httpx.AsyncClient, habit_id: str, headers: dict[str, str], stop: float
) -> list[float]:
    latencies = []
    while time.monotonic() < stop:
        began = time.perf_counter()
        response = await client.post(f"/v1/habits/{habit_id}/logs", json={}, headers=headers)
        latencies.append(time.perf_counter() - began)
        if response.status_code != 201:
            raise SystemExit(f"unexpected {response.status_code}: {response.text}")
    return latencies


async def outbox_drain_seconds(database_url: str) -> float:
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    began = time.monotonic()
    try:
        while await conn.fetchval("SELECT count(*) FROM core.outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return time.monotonic() - began


async def run(url: str, clients: int, seconds: float, database_url: str) -> None:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        reg = await client.post(
            "/v1/auth/register", json={"email": email, "password": "benchmark-password"}
        )
        headers = {"Authorization": f"Bearer {reg.json()['access_token']}"}
        habits = []
        for i in range(clients):
            created = await client.post("/v1/habits", json={"title": f"h{i}"}, headers=headers)
            habits.append(created.json()["id"])
        # Warm up connections and caches.
        await asyncio.gather(
            *(client_loop(client, h, headers, time.monotonic() + 1) for h in habits)
        )
        began = time.monotonic()
        stop = began + seconds
        results = await asyncio.gather(*(client_loop(client, h, headers, stop) for h in habits))
        elapsed = time.monotonic() - began
    latencies = sorted(x for r in results for x in r)
    total = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(total * 0.99) - 1] * 1000
    drain = await outbox_drain_seconds(database_url)
    print(f"clients={clients} seconds={elapsed:.1f} requests={total}")
    print(f"throughput={total / elapsed:.0f} req/s  p50={p50:.1f} ms  p99={p99:.1f} ms")
    print(f"outbox drained {drain * 1000:.0f} ms after the last acknowledged write")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    database_url = os.environ.get(
        "DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/habyss"
    )
    server = None
    url = args.url
    if url is None:
        port = "18100"
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PORT": port, "LOG_LEVEL": "WARNING", "DATABASE_URL": database_url}
        subprocess.run([sys.executable, "-m", "deploy.infra", "--start-missing"], check=True)
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True, env=env)
        server = subprocess.Popen([sys.executable, "-m", "services.gateway"], cwd=ROOT, env=env)
    try:
        asyncio.run(wait_ready(url))
        asyncio.run(run(url, args.clients, args.seconds, database_url))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
