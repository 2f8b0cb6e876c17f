"""``/v1/auth/*`` and ``/v1/me``."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.gateway import accounts
from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from services.gateway.schemas import MeOut, MePatch, RegisterIn, RegisterOut, TokenIn, TokenOut
from services.gateway.security import issue_token, utcnow

router = APIRouter(prefix="/v1", tags=["accounts"], responses=ERROR_RESPONSES)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterIn, rt: RuntimeDep) -> RegisterOut:
    async with rt.transaction() as session:
        user = await accounts.register(session, body)
    token = issue_token(user.id, rt.settings.jwt_secret, rt.settings.jwt_ttl_seconds, utcnow())
    return RegisterOut(user_id=user.id, access_token=token)


@router.post("/auth/token")
async def token(body: TokenIn, rt: RuntimeDep) -> TokenOut:
    async with rt.read() as session:
        user = await accounts.authenticate(session, body.email, body.password)
    ttl = rt.settings.jwt_ttl_seconds
    return TokenOut(
        access_token=issue_token(user.id, rt.settings.jwt_secret, ttl, utcnow()), expires_in=ttl
    )


@router.get("/me")
async def read_me(caller: CallerId, rt: RuntimeDep) -> MeOut:
    async with rt.read() as session:
        return accounts.me_out(await accounts.current_user(session, caller))


@router.patch("/me")
async def patch_me(body: MePatch, caller: CallerId, rt: RuntimeDep) -> MeOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        accounts.apply_patch(user, body, utcnow())
        await session.flush()
        return accounts.me_out(user)
