"""Use cases of accounts: register, sign in and out, refresh, change the password, the profile."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import repository
from services.gateway.schemas import MeOut, MePatch, RegisterIn
from services.gateway.security import hash_password, verify_password
from services.gateway.throttle import Throttle
from shared.db.core import User
from shared.errors import Conflict, Unauthorized, ValidationFailed
from shared.localtime import WEEKDAYS, parse_day_start, weekday_index

LOCKED = "Too many failed sign-ins; wait before trying again."


class WrongPassword(ValidationFailed):
    """The current password sent to change it is wrong (not a 401: the token itself is fine)."""


async def register(session: AsyncSession, data: RegisterIn) -> User:
    user = User(
        id=uuid.uuid4(),
        email=data.email,
        password_hash=hash_password(data.password),
        display_name=data.display_name,
        timezone=data.timezone,
        day_start=parse_day_start("00:00"),
        week_start=0,
        preferences={},
        token_version=0,
    )
    if not await repository.add_user(session, user):
        raise Conflict("An account with this email already exists.")
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = await repository.user_by_email(session, email.strip().lower())
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Wrong email or password.")
    return user


async def ensure_not_locked(throttle: Throttle, email: str, address: str) -> None:
    """Refuse a sign-in while the account or the client address has too many recent failures."""
    await throttle.ensure(throttle.account_failures, email, LOCKED)
    await throttle.ensure(throttle.address_failures, address, LOCKED)


async def count_failure(throttle: Throttle, email: str, address: str) -> None:
    await throttle.hit(throttle.account_failures, email)
    await throttle.hit(throttle.address_failures, address)


async def change_password(
    session: AsyncSession, user: User, current: str, new: str, now: datetime
) -> None:
    """Set a new password and revoke every token issued before (access and refresh)."""
    if not verify_password(user.password_hash, current):
        raise WrongPassword("current_password: wrong password")
    if current == new:
        raise ValidationFailed("new_password: choose a password other than the current one")
    user.password_hash = hash_password(new)
    user.token_version += 1
    user.updated_at = now
    await repository.revoke_refresh_tokens_of(session, user.id, now)
    await session.flush()


async def current_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await repository.user_by_id(session, user_id)
    if user is None:
        raise Unauthorized("The account behind this token no longer exists.")
    return user


def me_out(user: User) -> MeOut:
    return MeOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        timezone=user.timezone,
        day_start=user.day_start.strftime("%H:%M"),
        week_start=WEEKDAYS[user.week_start],
        chronotype=user.chronotype,
        preferences=user.preferences or {},
    )


def apply_patch(user: User, patch: MePatch, now: datetime) -> None:
    fields = patch.model_fields_set
    if "display_name" in fields:
        user.display_name = patch.display_name
    if patch.timezone is not None:
        user.timezone = patch.timezone
    if patch.day_start is not None:
        user.day_start = parse_day_start(patch.day_start)
    if patch.week_start is not None:
        user.week_start = weekday_index(patch.week_start)
    if "chronotype" in fields:
        user.chronotype = patch.chronotype
    if patch.preferences is not None:
        user.preferences = {**(user.preferences or {}), **patch.preferences}
    user.updated_at = now
