"""``/v1/confirmations``: the user's yes (or no) to a destructive action the assistant proposed.

The assistant's archive and stop-reminder tools only propose; their chat card carries the
confirmation's id, and nothing changes until the owner accepts it here (services/gateway/
confirmations.py). Another user's id answers 404; an expired, used or cancelled one 410.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from services.gateway import accounts, confirmations
from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.schemas import ErrorBody
from services.gateway.security import utcnow
from shared.contracts.habits import ConfirmationOut

GONE: dict[int | str, dict[str, Any]] = {
    410: {"model": ErrorBody, "description": "expired, already accepted or cancelled"}
}
router = APIRouter(prefix="/v1/confirmations", tags=["assistant"], responses=ERROR_RESPONSES)


@router.get("/{confirmation_id}")
async def get_confirmation(
    confirmation_id: uuid.UUID, caller: CallerId, rt: RuntimeDep
) -> ConfirmationOut:
    """A proposed action and its state: pending, accepted, cancelled or expired."""
    async with rt.read() as session:
        return await confirmations.read(session, caller, confirmation_id, utcnow())


@router.post("/{confirmation_id}", responses=GONE)
async def accept_confirmation(
    confirmation_id: uuid.UUID, caller: CallerId, rt: RuntimeDep
) -> ConfirmationOut:
    """Accept: the proposed action runs now, once. Accepting again answers 410."""
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        return await confirmations.accept(session, user, confirmation_id, utcnow())


@router.delete("/{confirmation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=GONE)
async def cancel_confirmation(
    confirmation_id: uuid.UUID, caller: CallerId, rt: RuntimeDep
) -> Response:
    """Cancel: the proposed action will never run."""
    async with rt.transaction() as session:
        await confirmations.cancel(session, caller, confirmation_id, utcnow())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
