"""The limit a log write is measured against: the least a server can do for one.

A minimal Starlette app on uvicorn: ``POST /v1/habits/{habit_id}/logs`` checks the bearer JWT
(HS256, the gateway's secret), then runs one asyncpg transaction that inserts a log row and an
outbox row, and answers 201. Nothing else: no middleware, no rate limit, no Redis, no ORM, no
relay. Its rows go to scratch copies of ``core.habit_logs`` and ``core.outbox`` in the schema
``bench_limit`` (same columns, indexes and foreign keys), so the relay never publishes them.

``make bench`` runs it beside the gateway with as many processes as the gateway has, and divides
the gateway's write rate by this one's.

    .venv/bin/python bench/limit.py --port 18190 [--workers 2]   # DATABASE_URL, JWT_SECRET
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import asyncpg
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SCHEMA = "bench_limit"
PREPARE = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.habit_logs (LIKE core.habit_logs INCLUDING ALL,
    FOREIGN KEY (habit_id) REFERENCES core.habits (id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES core.users (id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS {SCHEMA}.outbox (LIKE core.outbox INCLUDING ALL);
"""
INSERT_LOG = f"""
INSERT INTO {SCHEMA}.habit_logs (id, habit_id, user_id, date, value, status, note, created_at)
VALUES ($1, $2, $3, $4, NULL, 'done', NULL, $5)
"""
INSERT_OUTBOX = f"""
INSERT INTO {SCHEMA}.outbox (event_id, subject, payload, headers, created_at)
VALUES ($1, 'habits.habit.logged.v1', $2::jsonb, '{{}}'::jsonb, $3)
"""


def dsn() -> str:
    return os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/habyss").replace(
        "+asyncpg", ""
    )


async def prepare(database_url: str) -> None:
    """Create the scratch tables (idempotent); run once before the workers start."""
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        await conn.execute(PREPARE)
    finally:
        await conn.close()


def create_app() -> Starlette:
    """The app; uvicorn's workers each build one (``factory=True``)."""
    secret = os.environ["JWT_SECRET"]
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn(), min_size=2, max_size=10)
        try:
            yield
        finally:
            await pool.close()

    async def log_habit(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        try:
            claims = jwt.decode(header.removeprefix("Bearer "), secret, algorithms=["HS256"])
            user_id = uuid.UUID(claims["sub"])
            habit_id = uuid.UUID(request.path_params["habit_id"])
        except (jwt.PyJWTError, KeyError, ValueError):
            return JSONResponse({"error": {"code": "unauthorized"}}, status_code=401)
        body = await request.body()
        day = date.fromisoformat(json.loads(body).get("date") or "") if body.strip(b"{} ") else None
        now = datetime.now(UTC)
        log_id, event_id = uuid.uuid4(), uuid.uuid4()
        payload = {"habit_id": str(habit_id), "user_id": str(user_id), "log_id": str(log_id)}
        assert pool is not None
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_LOG, log_id, habit_id, user_id, day or now.date(), now)
            await conn.execute(INSERT_OUTBOX, event_id, json.dumps(payload), now)
        return JSONResponse({"id": str(log_id), "habit_id": str(habit_id)}, status_code=201)

    routes = [Route("/v1/habits/{habit_id}/logs", log_habit, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    asyncio.run(prepare(dsn()))
    uvicorn.run(
        "limit:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
