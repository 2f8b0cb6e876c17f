"""Webhook signatures: HMAC-SHA256 of ``"<unix time>.<raw body>"`` in ``X-Habyss-Signature``.

The header reads ``t=<unix time>,v1=<hex digest>``.
Signing the time with the body lets a receiver refuse a replayed delivery: it recomputes the
digest with its secret, compares in constant time, and rejects a ``t`` older than its tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "X-Habyss-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh webhook secret (shown to the user once, at creation)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Habyss-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Tell whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` of ``now``."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).rsplit("v1=", 1)[1]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
