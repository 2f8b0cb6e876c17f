"""Hardening suites: besides the integration fixtures (tests/integration/servers.py, a real
database, JetStream and Redis), a second gateway with tight abuse limits, and the tally each suite
keeps for ``make test-hardening``."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings

REPORT_DIR = Path(".data/hardening")


@pytest.fixture(scope="session")
def tally() -> Iterator[Counter[str]]:
    """Counts a suite adds to (``tally["limits_checked"] += 1``); written where the summary
    of ``make test-hardening`` (tests/hardening/summary.py) reads them."""
    counts: Counter[str] = Counter()
    yield counts
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = REPORT_DIR / f"tally-{worker}.json"
    path.write_text(json.dumps(dict(counts), indent=2))


TIGHT = {
    "auth_address_failures": 20,
    "auth_address_registrations": 3,
    "chat_turns_per_minute": 2,
    "max_habits_per_user": 3,
}


@pytest.fixture(scope="module")
async def tight_app(settings: GatewaySettings) -> AsyncIterator[object]:
    """A second gateway on the same servers, with limits small enough to reach in a test.

    Per module: it also answers the habit rpc (``rpc.habits.*``, a queue group), and its habit
    limit must not reach the tests of other modules through the agent.
    """
    app = create_app(settings.model_copy(update=TIGHT))
    async with app.router.lifespan_context(app):
        yield app


def client_at(app: object) -> httpx.AsyncClient:
    """A client of ``app`` whose requests come from an address of its own.

    Throttling state lives in Redis across runs (a 15-minute or hourly window), so each client
    takes a fresh documentation address (RFC 3849) rather than a fixed one.
    """
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")
