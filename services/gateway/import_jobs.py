"""Running accepted imports in the background, with their progress in ``core.integration_jobs``.

The export is read in a worker thread (parsing is CPU work); meanwhile the job's row is updated
every :data:`PROGRESS_SECONDS` so ``GET /v1/integrations/jobs/{id}`` shows how far it is, from
any gateway instance. When the read ends, its rows, auto-logs and the job's success commit in
one transaction; a failure leaves no row and records the error on the job. The uploaded file is
deleted either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import accounts, integrations, repository
from services.gateway.api.deps import today_of
from services.gateway.health.uploads import Prepared, Progress
from services.gateway.outbox import OutboxRelay
from shared.db.base import utcnow
from shared.errors import HabyssError

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 0.5


class ImportJobs:
    """The imports this gateway instance is running."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay) -> None:
        self._sessions = sessions
        self._relay = relay
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self,
        job_id: uuid.UUID,
        user_id: uuid.UUID,
        integration: str,
        prepared: Prepared,
        upload: Path,
    ) -> asyncio.Task[None]:
        """Run an accepted import in the background."""
        task = asyncio.create_task(self._run(job_id, user_id, integration, prepared, upload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        """Cancel running imports (their jobs read as interrupted once stale)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _progress(self, job_id: uuid.UUID, progress: Progress, status: str) -> None:
        async with self._sessions.begin() as session:
            await repository.update_job(
                session,
                job_id,
                status=status,
                processed=progress.processed,
                total=progress.total,
                records=progress.records,
                updated_at=utcnow(),
            )

    async def _run(
        self,
        job_id: uuid.UUID,
        user_id: uuid.UUID,
        integration: str,
        prepared: Prepared,
        upload: Path,
    ) -> None:
        progress = Progress(total=prepared.total)
        try:
            await self._progress(job_id, progress, "running")
            reading = asyncio.create_task(asyncio.to_thread(prepared.read, progress))
            while not reading.done():
                await asyncio.wait({reading}, timeout=PROGRESS_SECONDS)
                if not reading.done():
                    await self._progress(job_id, progress, "running")
            totals = reading.result()
            now = utcnow()
            async with self._sessions.begin() as session:
                user = await accounts.current_user(session, user_id)
                result = await integrations.apply_import(
                    session, user, integration, totals.all_rows(), job_id, today_of(user), now
                )
                await repository.update_job(
                    session,
                    job_id,
                    status="succeeded",
                    processed=progress.total,
                    total=progress.total,
                    records=totals.records,
                    result=result,
                    updated_at=now,
                    finished_at=now,
                )
            self._relay.wake()
        except asyncio.CancelledError:
            raise
        except HabyssError as exc:
            await self._fail(job_id, progress, exc.to_body()["error"])
        except Exception:
            log.exception("import job %s failed", job_id)
            await self._fail(
                job_id,
                progress,
                {
                    "code": "internal_error",
                    "message": "The import failed on our side.",
                    "details": None,
                },
            )
        finally:
            upload.unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink of a local temp file

    async def _fail(self, job_id: uuid.UUID, progress: Progress, error: dict[str, object]) -> None:
        now = utcnow()
        async with self._sessions.begin() as session:
            await repository.update_job(
                session,
                job_id,
                status="failed",
                processed=progress.processed,
                records=progress.records,
                error=error,
                updated_at=now,
                finished_at=now,
            )
