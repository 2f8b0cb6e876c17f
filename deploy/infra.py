"""``python -m deploy.infra [--start-missing]``: check (or bring up) NATS, PostgreSQL and Redis.

CI and ``make test`` run this before the suite. The servers it starts are left running in the
background with their data under ``./.data``, so the next run finds them up.
"""

from __future__ import annotations

import argparse
import asyncio
from urllib.parse import urlsplit

from deploy.launcher import (
    Stack,
    ensure_database,
    ensure_nats,
    ensure_postgres,
    ensure_redis,
    log,
    reachable,
)
from shared.config import CommonSettings


def _endpoints(settings: CommonSettings) -> dict[str, tuple[str, int]]:
    found = {}
    for name, url, port in (
        ("NATS", settings.nats_url, 4222),
        ("PostgreSQL", settings.database_url.replace("+asyncpg", ""), 5432),
        ("Redis", settings.redis_url, 6379),
    ):
        parts = urlsplit(url)
        found[name] = (parts.hostname or "127.0.0.1", parts.port or port)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start-missing", action="store_true", help="start what is down")
    args = parser.parse_args()
    settings = CommonSettings()
    if args.start_missing:
        stack = Stack()  # never stopped: the servers outlive this command on purpose
        ensure_nats(settings.nats_url, stack)
        ensure_redis(settings.redis_url, stack)
        ensure_postgres(settings.database_url, stack)
        asyncio.run(ensure_database(settings.database_url))
    missing = [n for n, (h, p) in _endpoints(settings).items() if not reachable(h, p)]
    if missing:
        raise SystemExit(
            f"not reachable: {', '.join(missing)}; run 'python -m deploy.infra --start-missing'"
        )
    log("NATS, PostgreSQL and Redis are reachable")


if __name__ == "__main__":
    main()
