"""Real Chromium for the browser tests and bench/client.py: Debian's ``chromium`` package,
driven by playwright (its own browser download cannot be reached here)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
from playwright.sync_api import Page

from shared.contracts.learning import live_notifications

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".data" / "screenshots"
PASSWORD = "correct horse battery"
# A phone-sized window: the client is built for it first.
VIEWPORT = {"width": 420, "height": 860}


def chromium_path() -> str | None:
    """Debian's chromium, or ``CHROMIUM_PATH`` when set; None when there is none."""
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return found if found and Path(found).exists() else None


def sign_up_by_api(base: str) -> dict[str, str]:
    """A fresh account: its ``token``, ``user_id`` and ``email``."""
    email = f"browser-{uuid.uuid4().hex[:12]}@example.com"
    answer = httpx.post(
        f"{base}/v1/auth/register",
        json={"email": email, "password": PASSWORD, "timezone": "UTC"},
        timeout=10,
    )
    answer.raise_for_status()
    body = answer.json()
    return {"token": body["access_token"], "user_id": body["user_id"], "email": email}


def push_nudge(nats_url: str, user_id: str, habit_id: str) -> str:
    """Publish a nudge where the notifications stream listens, as the learning service does."""
    nudge_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    nudge = {
        "id": nudge_id,
        "habit_id": habit_id,
        "reason": "two_misses_in_a_row",
        "message": "Two misses in a row: how about a 2-minute version today?",
        "modification": {"kind": "smaller", "details": {"to_minutes": 2}},
        "signals": ["two_misses_in_a_row"],
        "local_date": now.date().isoformat(),
        "tone": "encouraging",
        "timing": "now",
        "created_at": now.isoformat(),
    }

    async def publish() -> None:
        connection = await nats.connect(nats_url)
        await connection.publish(live_notifications(user_id), json.dumps(nudge).encode())
        await connection.flush()
        await connection.close()

    # Playwright's sync API owns this thread's event loop: publish from another thread.
    worker = threading.Thread(target=asyncio.run, args=(publish(),))
    worker.start()
    worker.join(10)
    return nudge_id


def sse_body(events: list[tuple[str, dict[str, Any]]]) -> str:
    """A recorded chat stream, as the gateway sends it."""
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def until(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Wait until ``expression`` is truthy in the page.

    Not ``page.wait_for_function``: its polling evaluates the predicate with ``eval`` inside the
    page, which the client's CSP (rightly) refuses; ``page.evaluate`` goes through DevTools.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout}s: {expression}")
        page.wait_for_timeout(20)


def settled(page: Page, selector: str) -> None:
    """Wait until the element's CSS animations have ended (the sheet rises for 0.22 s).

    Coordinates read during the animation are stale by the time a pointer event lands, so a
    gesture started from them can miss its target on a loaded machine.
    """
    until(page, f"document.querySelector({selector!r}).getAnimations().length === 0")
