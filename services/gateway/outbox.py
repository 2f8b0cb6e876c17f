"""The outbox relay: publishes committed events to JetStream until each is acknowledged.

A write commits its business rows and an outbox row together; this relay claims unpublished
rows (``FOR UPDATE SKIP LOCKED``, so several gateway replicas share the work), publishes each with
``Nats-Msg-Id`` = event id, waits for JetStream's ack and only then marks the row published. If
the process dies between publish and mark, the next claim publishes again and JetStream drops
the duplicate inside its dedupe window; consumers are idempotent besides.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import repository

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, str, dict[str, str]], Awaitable[object]]

PUBLISHED = Counter("habyss_outbox_published_total", "Outbox events published to JetStream")
FAILED = Counter("habyss_outbox_publish_failures_total", "Outbox publish attempts that failed")
MAX_BACKOFF_SECONDS = 10.0


class OutboxRelay:
    """Runs in the gateway's lifespan; ``wake()`` after a commit makes it publish at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: Publish,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.005,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._linger_seconds = linger_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            # On Python 3.11 asyncio.wait_for drops a cancel that arrives as the wake event fires
            # (a commit just before shutdown), and the loop would wait on: cancel until it ends.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=1.0)
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            try:
                published = await self.publish_pending()
                backoff = 0.0
            except Exception:
                FAILED.inc()
                backoff = min(MAX_BACKOFF_SECONDS, max(0.2, backoff * 2))
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                continue
            if published == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
                    # Under load many commits wake the relay within a few milliseconds: waiting
                    # that long lets one relay transaction publish them all.
                    await asyncio.sleep(self._linger_seconds)

    async def publish_pending(self) -> int:
        """Publish one batch; return how many events were published (0 when none waited)."""
        async with self._sessions.begin() as session:
            rows = await repository.claim_unpublished(session, self._batch_size)
            if not rows:
                return 0
            results = await asyncio.gather(
                *(
                    self._publish(
                        row.subject,
                        json.dumps(row.payload, separators=(",", ":")).encode(),
                        str(row.event_id),
                        dict(row.headers or {}),
                    )
                    for row in rows
                ),
                return_exceptions=True,
            )
            done = [row.id for row, r in zip(rows, results, strict=True) if not _failed(r)]
            await repository.mark_published(session, done, datetime.now(UTC))
        PUBLISHED.inc(len(done))
        failures = [r for r in results if _failed(r)]
        if failures:
            raise RuntimeError(f"{len(failures)} of {len(rows)} publishes failed") from (
                failures[0] if isinstance(failures[0], BaseException) else None
            )
        return len(done)


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)
