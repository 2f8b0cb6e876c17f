"""``/v1/integrations``: health-data imports and their jobs, habit links, the imported data."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from services.gateway import accounts, integrations
from services.gateway.api.deps import CallerId, Runtime, RuntimeDep, today_of
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.health.errors import ExportTooLarge
from services.gateway.health.uploads import Integration, Limits, prepare
from services.gateway.import_jobs import ImportJobs
from services.gateway.integration_schemas import JobOut, LinkIn, LinkOut
from services.gateway.security import utcnow
from shared.contracts.integrations import DataOut, DataTypeName, IntegrationName
from shared.db.integrations import IntegrationJob

router = APIRouter(prefix="/v1/integrations", tags=["integrations"], responses=ERROR_RESPONSES)
_SLUGS: dict[str, Integration] = {
    "apple-health": "apple_health",
    "health-connect": "health_connect",
    "fitbit": "fitbit",
}
_BODIES: dict[str, dict[str, Any]] = {
    "apple-health": {"application/zip": {}, "application/xml": {}},
    "health-connect": {"application/json": {}, "application/zip": {}},
    "fitbit": {"application/zip": {}},
}
_ACCEPTED = {
    202: {"description": "Accepted: the import runs as a job (see Location)"},
    413: {"description": "payload too large"},
}


def _limits(rt: Runtime) -> Limits:
    return Limits(
        max_xml_bytes=rt.settings.integration_max_export_bytes,
        max_json_bytes=rt.settings.integration_max_json_bytes,
    )


async def _spool(request: Request, rt: Runtime) -> Path:
    """Stream the request body to a temporary file, never holding it in memory."""
    limit = rt.settings.integration_max_upload_bytes
    too_large = ExportTooLarge(
        f"Uploads are limited to {limit} bytes.", details=[{"loc": ["body"], "limit": limit}]
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    directory = rt.settings.integration_upload_dir or None
    fd, name = tempfile.mkstemp(prefix="habyss-import-", suffix=".upload", dir=directory)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                # One chunk into the page cache is short; a thread hop per chunk costs more.
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink of a local temp file
        raise
    return path


def _import_route(slug: str) -> None:
    integration = _SLUGS[slug]

    async def start_import(request: Request, caller: CallerId, rt: RuntimeDep) -> JSONResponse:
        upload = await _spool(request, rt)
        try:
            async with rt.read() as session:
                user = await accounts.current_user(session, caller)
                zone, day_start = user.timezone, user.day_start
            prepared = await asyncio.to_thread(
                prepare, integration, upload, zone, day_start, _limits(rt)
            )
            now = utcnow()
            job = IntegrationJob(
                id=uuid.uuid4(),
                user_id=caller,
                integration=integration,
                status="queued",
                processed=0,
                total=prepared.total,
                records=0,
                created_at=now,
                updated_at=now,
            )
            async with rt.transaction() as session:
                session.add(job)
                await session.flush()
                out = integrations.job_out(job, now)
        except BaseException:
            upload.unlink(missing_ok=True)
            raise
        jobs: ImportJobs = request.app.state.imports
        jobs.start(job.id, caller, integration, prepared, upload)
        return JSONResponse(
            out.model_dump(mode="json"),
            status_code=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/v1/integrations/jobs/{job.id}"},
        )

    start_import.__name__ = f"import_{integration}"
    router.post(
        f"/{slug}/import",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=JobOut,
        responses=_ACCEPTED,  # type: ignore[arg-type]
        summary=f"Import a {integrations.LABELS[integration]} export",
        description="Send the export file as the raw request body (not multipart), e.g. "
        "`curl --data-binary @export.zip`. The file is checked at once (format, zip integrity, "
        "size, entity declarations) and then read by a job: poll `GET /v1/integrations/jobs/"
        "{id}`. Formats and rules: docs/integrations.md.",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in _BODIES[slug]
                },
            }
        },
    )(start_import)


for _slug in _SLUGS:
    _import_route(_slug)


@router.get("/jobs/{job_id}")
async def get_job(job_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> JobOut:
    async with rt.read() as session:
        return await integrations.owned_job(session, caller, job_id, utcnow())


@router.post("/links", status_code=status.HTTP_201_CREATED)
async def create_link(body: LinkIn, caller: CallerId, rt: RuntimeDep) -> LinkOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await integrations.create_link(session, user, body, today_of(user))


@router.get("/links")
async def list_links(caller: CallerId, rt: RuntimeDep) -> list[LinkOut]:
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        return await integrations.list_links(session, user)


@router.delete("/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_link(link_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> Response:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        await integrations.delete_link(session, user, link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/data")
async def get_data(
    caller: CallerId,
    rt: RuntimeDep,
    data_type: DataTypeName,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    integration: IntegrationName | None = None,
    workout_type: Annotated[str | None, Query(max_length=64)] = None,
) -> DataOut:
    """One data type's daily values over the last `days` days through your today."""
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        return await integrations.integration_data(
            session,
            user,
            data_type,
            days,
            today_of(user),
            integration=integration,
            workout_type=workout_type,
        )
