"""The one hierarchy of domain errors. Each has a stable ``code`` and the HTTP status it maps to.

The gateway turns any ``HabyssError`` into ``{"error": {"code", "message", "details"}}``; rpc
replies carry the same triple, so an error raised in a service reaches the client unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HabyssError(Exception):
    """Base of every error a client may see."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        """Return the error in the API's one error format."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(HabyssError):
    """The request is malformed (for example, JSON that does not parse)."""

    code = "bad_request"
    status = 400


class ValidationFailed(HabyssError):
    """The request parses but breaks a rule of the API."""

    code = "validation_error"
    status = 422


class Unauthorized(HabyssError):
    """No valid credentials: a missing, expired or forged token, or a wrong password."""

    code = "unauthorized"
    status = 401


class NotFound(HabyssError):
    """No such resource for this user (a foreign id answers this too)."""

    code = "not_found"
    status = 404


class Conflict(HabyssError):
    """The request clashes with the current state (a taken email, a reused idempotency key)."""

    code = "conflict"
    status = 409


class Gone(HabyssError):
    """The resource existed but can no longer be used (an expired or already used confirmation)."""

    code = "gone"
    status = 410


class PayloadTooLarge(HabyssError):
    """The request body or one of its collections is over a documented limit."""

    code = "payload_too_large"
    status = 413


class TooManyRequests(HabyssError):
    """A rate or concurrency limit was reached; ``retry_after`` says when to try again."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, details: Any = None, *, retry_after: int = 1) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, {**(details or {}), "retry_after": self.retry_after})


class ServiceUnavailable(HabyssError):
    """A dependency did not answer in time; ``retry_after`` says when trying again makes sense."""

    code = "service_unavailable"
    status = 503
    # A dependency that is down (the bus restarting, a service rolling out) is usually back in
    # seconds; the gateway sends this as ``Retry-After`` so clients back off instead of hammering.
    retry_after: ClassVar[int] = 5


ERRORS_BY_CODE: dict[str, type[HabyssError]] = {
    cls.code: cls
    for cls in (
        HabyssError,
        BadRequest,
        ValidationFailed,
        Unauthorized,
        NotFound,
        Conflict,
        Gone,
        PayloadTooLarge,
        TooManyRequests,
        ServiceUnavailable,
    )
}
