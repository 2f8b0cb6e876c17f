"""Passwords (argon2), access tokens (JWT, HS256) and refresh tokens (opaque, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import Unauthorized

_hasher = PasswordHasher()
ALGORITHM = "HS256"
# Verifying an unknown email costs as much as a wrong password, so timing tells no one which
# emails have accounts.
_DUMMY_HASH = _hasher.hash("not a password anyone has: " + secrets.token_hex(8))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    jti: str
    version: int
    expires_at: datetime


def issue_token(
    user_id: uuid.UUID, secret: str, ttl_seconds: int, now: datetime, version: int = 0
) -> str:
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": version,
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> AccessClaims:
    """Return the claims of a well-signed, unexpired access token; raise ``Unauthorized``.

    Only HS256 is accepted, so a token signed with ``none`` or another algorithm fails here.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp"]},
        )
        # Checked after the signature and expiry so an expired token is still told it expired.
        if claims.get("typ") != "access" or "jti" not in claims or "iat" not in claims:
            raise jwt.InvalidTokenError("not an access token of ours")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            jti=str(claims["jti"]),
            version=int(claims.get("ver", 0)),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; request a new one.") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise Unauthorized("The access token is not valid.") from None


def new_refresh_token() -> tuple[str, str]:
    """Return a fresh refresh token and the hash under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)
