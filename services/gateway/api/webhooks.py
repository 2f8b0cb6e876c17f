"""``/v1/webhooks``: subscribe a URL to events; the secret is shown once, at creation."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import Field

from services.gateway import accounts
from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.portability import webhooks
from services.gateway.portability.webhooks import Deliverer
from services.gateway.schemas import Body

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
EventName = Literal["habit.logged", "streak.broken", "sequence.phase_advanced", "reminder.due"]


class WebhookIn(Body):
    url: str = Field(min_length=1, max_length=2048)
    events: list[EventName] = Field(min_length=1, max_length=4)


def _deliverer(request: Request) -> Deliverer:
    deliverer: Deliverer = request.app.state.webhooks
    return deliverer


DelivererDep = Annotated[Deliverer, Depends(_deliverer)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookIn, caller: CallerId, rt: RuntimeDep, deliverer: DelivererDep
) -> dict[str, Any]:
    """Create a webhook; the answer carries its signing ``secret``, never shown again."""
    async with rt.transaction() as session:
        await accounts.current_user(session, caller)
        return await webhooks.create_webhook(
            session, caller, body.url, list(body.events), deliverer.policy
        )


@router.get("")
async def list_webhooks(caller: CallerId, rt: RuntimeDep) -> dict[str, Any]:
    async with rt.read() as session:
        await accounts.current_user(session, caller)
        return {"webhooks": await webhooks.list_webhooks(session, caller)}


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: uuid.UUID, caller: CallerId, rt: RuntimeDep) -> Response:
    async with rt.transaction() as session:
        await webhooks.delete_webhook(session, caller, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
