"""Data in and out: ``POST /v1/imports/loop``, ``GET /v1/me/export``, ``DELETE /v1/me``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from services.gateway import accounts, tokens
from services.gateway.api.deps import CallerId, RuntimeDep, today_of
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.health.errors import ExportTooLarge
from services.gateway.portability import transfer
from services.gateway.portability.archive import read_upload

router = APIRouter(prefix="/v1", tags=["portability"], responses=ERROR_RESPONSES)
_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {"application/zip": {}, "text/csv": {}},
        "description": "Loop's CSV export zip as the raw body, or its Habits.csv alone",
    }
}


async def _body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes ``limit``."""
    too_large = ExportTooLarge(
        f"Uploads are limited to {limit} bytes.", details=[{"loc": ["body"], "limit": limit}]
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_large
    return bytes(data)


@router.post(
    "/imports/loop",
    openapi_extra=_UPLOAD,
    responses={413: {"description": "payload too large"}},
)
async def import_loop(request: Request, caller: CallerId, rt: RuntimeDep) -> dict[str, Any]:
    """Import Loop Habit Tracker's CSV export; answers what was mapped and what was skipped."""
    body = await _body(request, rt.settings.loop_import_max_bytes)
    files = read_upload(body, rt.settings.loop_import_max_unzipped_bytes)
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await transfer.import_loop(
            session, user, files, today_of(user), max_habits=rt.settings.max_habits_per_user
        )


@router.get(
    "/me/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the export zip"}},
)
async def export_me(caller: CallerId, rt: RuntimeDep) -> Response:
    """Everything the account owns: Loop-layout CSVs and ``habyss.json``."""
    async with rt.read() as session:
        user = await accounts.current_user(session, caller)
        data = await transfer.export_zip(session, user)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="habyss-export.zip"'},
    )


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(caller: CallerId, rt: RuntimeDep) -> Response:
    """Delete the account and, through ``accounts.user.deleted.v1``, its data in every service."""
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        await transfer.delete_account(session, user)
    await tokens.forget_account(rt.redis, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
