"""Latency of ``rpc.knowledge.search.v1`` over NATS at 8 concurrent callers, embedding included.

Starts the knowledge service (``python -m services.knowledge``) on its own port against an
already-ingested store (``QDRANT_PATH``, default ``.data/qdrant``; run
``python -m services.knowledge ingest`` first), then has 8 callers send the evaluation questions
round-robin for ``--seconds``.

    .venv/bin/python bench/knowledge_rpc.py [--callers 8] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import CommonSettings  # noqa: E402
from shared.contracts.knowledge import SEARCH  # noqa: E402
from shared.messaging import create_broker  # noqa: E402
from shared.rpc import call  # noqa: E402


def questions() -> list[str]:
    found = []
    for path in sorted((ROOT / "services" / "knowledge" / "eval").glob("*.jsonl")):
        found += [json.loads(line)["question"] for line in path.read_text().splitlines() if line]
    return found


async def run(callers: int, seconds: float) -> None:
    broker = create_broker(CommonSettings(service_name="bench"))
    await broker.connect()
    asked = questions()
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def caller(k: int) -> None:
        while time.perf_counter() < stop:
            began = time.perf_counter()
            await call(broker, SEARCH, {"query": asked[k % len(asked)], "k": 5})
            latencies.append(time.perf_counter() - began)
            k += callers

    await asyncio.gather(*(caller(k) for k in range(callers)))
    await broker.stop()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000  # noqa: E731
    print(
        f"rpc.knowledge.search.v1, {callers} callers, {len(latencies)} requests, "
        f"{len(latencies) / seconds:.0f}/s: p50 {pick(0.5):.1f} ms, p90 {pick(0.9):.1f} ms, "
        f"p99 {pick(0.99):.1f} ms   [budget p50 25 ms, p99 60 ms]"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    env = {**os.environ, "PORT": "18103", "LOG_LEVEL": "WARNING", "OPENBLAS_NUM_THREADS": "1"}
    service = subprocess.Popen([sys.executable, "-m", "services.knowledge"], cwd=ROOT, env=env)
    try:
        for _ in range(300):
            try:
                if httpx.get("http://127.0.0.1:18103/internal/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        asyncio.run(run(args.callers, args.seconds))
    finally:
        service.terminate()
        service.wait(timeout=30)


if __name__ == "__main__":
    main()
