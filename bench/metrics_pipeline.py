"""End to end: log writes at a fixed rate, and the time until their metrics are readable.

Starts the gateway and the metrics service (one process each, as ``make run`` does) unless
``--url`` is given. Creates ``--habits`` daily habits, then writes logs at ``--rate`` per second
for ``--seconds``, each on a new past date of its habit, so every write raises that habit's
``total_completions`` by one. Metrics are cached (readable through the API) before
``metrics.habit.updated.v1`` is published, so the time from a write's acknowledgement to the
first event showing its count is an upper bound of "write acknowledged → new metrics readable".
Then measures ``GET /v1/habits/{id}/metrics`` latency at 32 concurrent clients.

    .venv/bin/python bench/metrics_pipeline.py [--rate 500] [--seconds 30] [--habits 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import nats

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def wait_ready(urls: list[str]) -> None:
    async with httpx.AsyncClient() as client:
        for url in urls:
            for _ in range(300):
                try:
                    if (await client.get(f"{url}/internal/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)


async def run(args: argparse.Namespace, url: str, nats_url: str) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        reg = await client.post(
            "/v1/auth/register", json={"email": email, "password": "bench-pw-1"}
        )
        headers = {"Authorization": f"Bearer {reg.json()['access_token']}"}
        per_habit = int(args.rate * args.seconds / args.habits) + 1
        today = date.fromisoformat(
            (await client.post("/v1/habits", json={"title": "probe"}, headers=headers)).json()[
                "start_date"
            ]
        )
        start = (today - timedelta(days=per_habit + 5)).isoformat()
        habits: list[str] = []
        for i in range(args.habits):
            r = await client.post(
                "/v1/habits", json={"title": f"h{i}", "start_date": start}, headers=headers
            )
            habits.append(r.json()["id"])

        acked: dict[tuple[str, int], float] = {}  # (habit, completions after the write) → ack
        seen: dict[str, list[tuple[int, float]]] = {h: [] for h in habits}
        nc = await nats.connect(nats_url)

        async def on_metrics(msg: nats.aio.msg.Msg) -> None:
            body = json.loads(msg.data)
            if body["habit_id"] in seen:
                seen[body["habit_id"]].append(
                    (body["metrics"]["total_completions"], time.perf_counter())
                )

        await nc.subscribe("metrics.habit.updated.v1", cb=on_metrics)
        await asyncio.sleep(2)  # creation events drain first
        counts = dict.fromkeys(habits, 0)
        failures = 0
        # A connection the gateway closes at its keep-alive timeout (uvicorn's 5 s) just as the
        # pool reuses it fails the request with a transport error; count it, do not crash.
        transport_errors = 0
        total = int(args.rate * args.seconds)
        sem = asyncio.Semaphore(64)

        async def write(i: int) -> None:
            nonlocal failures, transport_errors
            habit = habits[i % len(habits)]
            day = (today - timedelta(days=i // len(habits))).isoformat()
            async with sem:
                try:
                    r = await client.post(
                        f"/v1/habits/{habit}/logs", json={"date": day}, headers=headers
                    )
                except httpx.TransportError:
                    transport_errors += 1
                    failures += 1
                    return
            if r.status_code != 201:
                failures += 1
                return
            counts[habit] += 1
            # Keyed by the habit's count of acknowledged writes, so one failed write does not
            # make every later write of that habit look unreflected.
            acked[(habit, counts[habit])] = time.perf_counter()

        began = time.perf_counter()
        tasks = []
        for i in range(total):
            due = began + i / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(write(i)))
        await asyncio.gather(*tasks)
        sent_for = time.perf_counter() - began
        await asyncio.sleep(5)
        await nc.close()

        lags: list[float] = []
        missing = 0
        for (habit, n), ack in acked.items():
            when = [t for c, t in seen[habit] if c >= n]
            if not when:
                missing += 1
                continue
            lags.append(max(0.0, min(when) - ack))
        print(
            f"writes: {len(acked)} acknowledged of {total} in {sent_for:.1f}s "
            f"({len(acked) / sent_for:.0f}/s offered {args.rate}/s), {failures} failed "
            f"({transport_errors} transport errors)"
        )
        print(
            f"ack → metrics readable: p50 {pct(lags, 0.5):.1f} ms, p95 {pct(lags, 0.95):.1f} ms,"
            f" p99 {pct(lags, 0.99):.1f} ms, max {max(lags, default=float('nan')) * 1000:.1f} ms"
        )
        final_ok = sum(1 for h in habits if seen[h] and max(c for c, _ in seen[h]) == counts[h])
        print(
            f"writes never reflected: {missing}; habits whose final metrics show every write: "
            f"{final_ok}/{len(habits)}"
        )

    # Reads: 32 concurrent clients for 10 s, on a fresh pool (the write pool's connections sat
    # idle for the 5 s above, as long as the gateway's keep-alive timeout).
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        latencies: list[float] = []
        read_errors = 0
        stop = time.perf_counter() + 10

        async def reader(k: int) -> None:
            nonlocal read_errors
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    r = await client.get(
                        f"/v1/habits/{habits[k % len(habits)]}/metrics", headers=headers
                    )
                except httpx.TransportError:
                    read_errors += 1
                    continue
                latencies.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
                k += 32

        await asyncio.gather(*(reader(k) for k in range(32)))
        print(
            f"GET metrics at 32 clients: {len(latencies) / 10:.0f} req/s, "
            f"p50 {pct(latencies, 0.5):.1f} ms, p99 {pct(latencies, 0.99):.1f} ms "
            f"({read_errors} transport errors)"
        )
        _ = statistics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--habits", type=int, default=500)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    nats_url = env.get("NATS_URL", "nats://127.0.0.1:4222")
    procs = []
    url = args.url
    if url is None:
        subprocess.run([sys.executable, "-m", "deploy.infra", "--start-missing"], check=True)
        subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], check=True, env=env)
        url = "http://127.0.0.1:18100"
        for name, port in (("gateway", 18100), ("metrics", 18102)):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", f"services.{name}"],
                    cwd=ROOT,
                    env={**env, "PORT": str(port)},
                )
            )
        asyncio.run(wait_ready([url, "http://127.0.0.1:18102"]))
    try:
        asyncio.run(run(args, url, nats_url))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
