"""``/v1/auth/*`` and ``/v1/me``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from redis.exceptions import RedisError

from services.gateway import accounts, tokens
from services.gateway.api.deps import (
    CallerClaims,
    CallerId,
    ClientAddress,
    RuntimeDep,
)
from services.gateway.api.errors import ERROR_RESPONSES, THROTTLED
from services.gateway.reminders import use_cases as reminder_cases
from services.gateway.schemas import (
    LogoutIn,
    MeOut,
    MePatch,
    PasswordChangeIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    TokenIn,
    TokenOut,
)
from services.gateway.security import utcnow
from shared.errors import ServiceUnavailable, Unauthorized

router = APIRouter(prefix="/v1", tags=["accounts"], responses=ERROR_RESPONSES)


def _token_out(session: tokens.Session) -> TokenOut:
    return TokenOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
        refresh_expires_in=session.refresh_expires_in,
    )


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, responses=THROTTLED)
async def register(body: RegisterIn, rt: RuntimeDep, address: ClientAddress) -> RegisterOut:
    throttle = rt.throttle
    await throttle.take(throttle.registrations, address, "Too many accounts from this address.")
    now = utcnow()
    async with rt.transaction() as session:
        user = await accounts.register(session, body)
        issued = await tokens.open_session(session, rt.settings, user, now)
    return RegisterOut(user_id=user.id, **_token_out(issued).model_dump(exclude={"token_type"}))


@router.post("/auth/token", responses=THROTTLED)
async def token(body: TokenIn, rt: RuntimeDep, address: ClientAddress) -> TokenOut:
    """Sign in. After too many failures the account (or address) answers 429 for a while."""
    await accounts.ensure_not_locked(rt.throttle, body.email, address)
    try:
        async with rt.transaction() as session:
            user = await accounts.authenticate(session, body.email, body.password)
            issued = await tokens.open_session(session, rt.settings, user, utcnow())
    except Unauthorized:
        await accounts.count_failure(rt.throttle, body.email, address)
        raise
    await rt.throttle.clear(rt.throttle.account_failures, body.email)
    return _token_out(issued)


@router.post("/auth/refresh")
async def refresh(body: RefreshIn, rt: RuntimeDep) -> TokenOut:
    """Exchange a refresh token for a new pair; the one sent stops working."""
    try:
        async with rt.transaction() as session:
            issued = await tokens.rotate(session, rt.settings, body.refresh_token, utcnow())
    except tokens.RefreshReused as reused:
        # A replayed token means it leaked: end every session descended from its sign-in.
        async with rt.transaction() as session:
            await tokens.revoke_family(session, reused.family_id, utcnow())
        raise
    return _token_out(issued)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(claims: CallerClaims, rt: RuntimeDep, body: LogoutIn | None = None) -> Response:
    """Revoke this access token at once and, when sent, the refresh token's whole session."""
    now = utcnow()
    if body is not None and body.refresh_token:
        async with rt.transaction() as session:
            await tokens.end_family(session, body.refresh_token, claims.user_id, now)
    try:
        await tokens.deny(rt.redis, claims, now)
    except (RedisError, OSError) as exc:
        # Never a 204 for a token that still works: the client retries (both steps are safe twice).
        raise ServiceUnavailable("Could not revoke the access token right now; try again.") from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/password", responses=THROTTLED)
async def change_password(body: PasswordChangeIn, caller: CallerId, rt: RuntimeDep) -> TokenOut:
    """Change the password. Every token issued before stops working; a new pair is returned."""
    now = utcnow()
    async with rt.read() as session:
        email = (await accounts.current_user(session, caller)).email
    await rt.throttle.ensure(rt.throttle.account_failures, email, accounts.LOCKED)
    try:
        async with rt.transaction() as session:
            user = await accounts.current_user(session, caller)
            await accounts.change_password(
                session, user, body.current_password, body.new_password, now
            )
            issued = await tokens.open_session(session, rt.settings, user, now)
            version = user.token_version
    except accounts.WrongPassword:
        await rt.throttle.hit(rt.throttle.account_failures, email)
        raise
    await tokens.remember_version(rt.redis, caller, version)
    return _token_out(issued)


@router.get("/me")
async def read_me(caller: CallerId, rt: RuntimeDep) -> MeOut:
    async with rt.read() as session:
        return accounts.me_out(await accounts.current_user(session, caller))


@router.patch("/me")
async def patch_me(body: MePatch, caller: CallerId, rt: RuntimeDep) -> MeOut:
    async with rt.transaction() as session:
        user = await accounts.current_user(session, caller)
        zone = user.timezone
        accounts.apply_patch(user, body, utcnow())
        if user.timezone != zone:
            # Reminders keep their wall-clock time: 07:30 stays 07:30 in the new zone.
            await reminder_cases.reschedule_all(session, user, utcnow())
        await session.flush()
        return accounts.me_out(user)
