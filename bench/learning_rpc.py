"""Latency of ``rpc.learning.predict.v1`` against a running learning service over real NATS.

Sets up a scratch database (``habyss_bench_learning`` on the configured PostgreSQL server,
recreated and migrated) and a JetStream server of its own, then:

1. trains the success model through the service's own update path (``learn_batch``, the code the
   churn sweep calls) on a simulated population (``--users`` over ``--days`` days; the first 60
   days of 80 % of the users), and scores the model read back from PostgreSQL on what it never
   saw, printing Brier scores and the reliability table;
2. writes ``--predict-users`` of the simulated users, their habits and logs into ``core``;
3. starts ``python -m services.learning`` as its own process and times ``rpc.learning.predict.v1``
   for those users' habits: one caller at a time, then ``--concurrency`` callers at once.

    .venv/bin/python bench/learning_rpc.py [--users 500] [--days 90] [--calls 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from alembic import command
from alembic.config import Config
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.learning.calibration import (  # noqa: E402
    base_rate_brier,
    brier_score,
    expected_calibration_error,
    format_reliability_table,
    reliability_table,
)
from services.learning.prediction import Example  # noqa: E402
from services.learning.service import LearningService  # noqa: E402
from shared.config import CommonSettings  # noqa: E402
from shared.contracts.learning import PREDICT  # noqa: E402
from shared.db.core import Habit, HabitLog, User  # noqa: E402
from shared.db.engine import create_engine, session_factory  # noqa: E402
from shared.messaging import create_broker  # noqa: E402
from shared.rpc import call  # noqa: E402
from tests.support import nats_server  # noqa: E402
from tests.unit.learning.population import Population, SimDay, simulate_population  # noqa: E402

NAMESPACE = uuid.UUID("a1d0c0de-0000-4000-8000-00000000be7c")
CHRONOTYPE = {"morning": "morning", "evening": "evening", "neutral": "intermediate"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def uid(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def fresh_database(url: str) -> None:
    parts = urlsplit(url.replace("+asyncpg", ""))
    conn = await asyncpg.connect(parts._replace(path="/postgres").geturl())
    try:
        name = parts.path.lstrip("/")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def examples(days: list[SimDay]) -> list[tuple[Example, bool]]:
    return [
        (Example(d.profile, replace(d.history, user_id=str(uid(d.history.user_id))), d.on), d.done)
        for d in days
    ]


async def train_and_score(url: str, nats_url: str, pop: Population) -> None:
    engine = create_engine(url)
    settings = CommonSettings(nats_url=nats_url, database_url=url)
    service = LearningService(session_factory(engine), create_broker(settings))
    await service.start()
    held_out = int(len(pop.users) * 0.8)
    usable = [d for d in pop.days if d.status != "skipped"]
    train = [d for d in usable if d.day_index < 60 and d.user_index < held_out]
    began = time.perf_counter()
    for first in range(0, 60, 10):
        await service.learn_batch(examples([d for d in train if first <= d.day_index < first + 10]))
    print(
        f"learned {len(train)} outcomes of {held_out} users through the service's update path "
        f"(6 transactions) in {time.perf_counter() - began:.1f} s"
    )
    train_rate = sum(d.done for d in train) / len(train)
    later = [d for d in usable if d.day_index >= 60 and d.user_index < held_out]
    strangers = [d for d in usable if d.user_index >= held_out]
    for label, days in (
        ("later days (60+) of seen users", later),
        ("held-out users, all days", strangers),
    ):
        scored = examples(days)
        model = await service.stored_model(sorted({e.history.user_id for e, _ in scored}))
        probabilities = [model.probability(e.profile, e.history, e.on) for e, _ in scored]
        outcomes = [done for _, done in scored]
        table = reliability_table(probabilities, outcomes)
        print(
            f"\n{label}: n={len(outcomes)} model brier={brier_score(probabilities, outcomes):.4f}"
            f"  base-rate brier={base_rate_brier(outcomes):.4f}"
            f"  (training base rate {train_rate:.3f}: "
            f"{base_rate_brier(outcomes, train_rate):.4f})"
            f"  ece={expected_calibration_error(table):.4f}"
        )
        print(format_reliability_table(table))
    await engine.dispose()


async def store_users(url: str, pop: Population, count: int) -> list[tuple[str, str]]:
    """Write ``count`` simulated users with their habits and logs into ``core``."""
    users, habits, logs, pairs = [], [], [], []
    chosen = pop.users[:count]
    for user in chosen:
        users.append(
            {
                "id": uid(user.user_id),
                "email": f"{user.user_id}@bench.example.com",
                "password_hash": "-",
                "timezone": user.zone,
                "day_start": dtime(0, 0),
                "week_start": 0,
                "chronotype": CHRONOTYPE[user.chronotype],
                "preferences": {},
            }
        )
        for habit in user.habits:
            pairs.append((str(uid(user.user_id)), str(uid(habit.habit_id))))
            habits.append(
                {
                    "id": uid(habit.habit_id),
                    "user_id": uid(user.user_id),
                    "title": f"{habit.category.capitalize()} {habit.minutes} min",
                    "kind": "boolean",
                    "schedule": {
                        "type": "weekdays",
                        "days": [WEEKDAYS[d] for d in sorted(habit.weekdays)],
                    },
                    "start_date": pop.start,
                }
            )
    for day in pop.days:
        if day.user_index >= count or day.status == "missed":
            continue
        user = pop.users[day.user_index]
        noon = datetime.combine(day.on, dtime(12), tzinfo=ZoneInfo(user.zone))
        logs.append(
            {
                "id": uuid.uuid4(),
                "habit_id": uid(user.habits[day.habit_index].habit_id),
                "user_id": uid(user.user_id),
                "date": day.on,
                "status": "done" if day.status == "done" else "skip",
                "created_at": day.completed_at or noon.astimezone(UTC),
            }
        )
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(insert(User), users)
        await conn.execute(insert(Habit), habits)
        for i in range(0, len(logs), 5000):
            await conn.execute(insert(HabitLog), logs[i : i + 5000])
    await engine.dispose()
    return pairs


async def time_predictions(
    nats_url: str, pairs: list[tuple[str, str]], calls: int, concurrency: int
) -> None:
    broker = create_broker(CommonSettings(nats_url=nats_url, service_name="bench"))
    await broker.connect()
    try:
        for user_id, habit_id in pairs[:50]:  # warm up connections and caches
            await call(broker, PREDICT, {"user_id": user_id, "habit_id": habit_id})
        sequential: list[float] = []
        for i in range(calls):
            user_id, habit_id = pairs[i % len(pairs)]
            began = time.perf_counter()
            await call(broker, PREDICT, {"user_id": user_id, "habit_id": habit_id})
            sequential.append(time.perf_counter() - began)
        print(
            f"\nrpc.learning.predict.v1, one caller: {calls} calls, p50 {pct(sequential, 0.5):.2f}"
            f" ms, p99 {pct(sequential, 0.99):.2f} ms, mean "
            f"{statistics.fmean(sequential) * 1000:.2f} ms"
        )
        concurrent: list[float] = []
        next_call = iter(range(calls))

        async def worker() -> None:
            for i in next_call:
                user_id, habit_id = pairs[i % len(pairs)]
                began = time.perf_counter()
                await call(broker, PREDICT, {"user_id": user_id, "habit_id": habit_id})
                concurrent.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        print(
            f"rpc.learning.predict.v1, {concurrency} callers: {calls / elapsed:.0f} calls/s, "
            f"p50 {pct(concurrent, 0.5):.2f} ms, p99 {pct(concurrent, 0.99):.2f} ms"
        )
    finally:
        await broker.stop()


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{url}/internal/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the learning service did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--predict-users", type=int, default=200)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    base = urlsplit(CommonSettings().database_url)
    url = base._replace(path="/habyss_bench_learning").geturl()
    asyncio.run(fresh_database(url))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    pop = simulate_population(n_users=args.users, n_days=args.days)
    print(f"simulated {args.users} users over {args.days} days: {len(pop.days)} habit-days")

    with tempfile.TemporaryDirectory() as store, nats_server(Path(store)) as nats_url:
        asyncio.run(train_and_score(url, nats_url, pop))
        pairs = asyncio.run(store_users(url, pop, args.predict_users))
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "NATS_URL": nats_url,
            "PORT": "18104",
            "SWEEP_INTERVAL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        }
        proc = subprocess.Popen([sys.executable, "-m", "services.learning"], cwd=ROOT, env=env)
        try:
            asyncio.run(wait_ready("http://127.0.0.1:18104"))
            asyncio.run(time_predictions(nats_url, pairs, args.calls, args.concurrency))
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
