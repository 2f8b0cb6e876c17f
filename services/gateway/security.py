"""Passwords (argon2) and access tokens (JWT, HS256)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import Unauthorized

_hasher = PasswordHasher()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(user_id: uuid.UUID, secret: str, ttl_seconds: int, now: datetime) -> str:
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> uuid.UUID:
    """Return the user id of a valid token; raise ``Unauthorized`` naming what is wrong."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]}
        )
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; request a new one.") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("The access token is not valid.") from None


def utcnow() -> datetime:
    return datetime.now(UTC)
