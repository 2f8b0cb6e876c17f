"""One error format for everything the gateway answers: ``{"error": {code, message, details}}``."""

from __future__ import annotations

import logging
import re
from typing import Any

from asyncpg.exceptions import OperatorInterventionError, PostgresConnectionError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway.schemas import ErrorBody
from shared.errors import HabyssError, ServiceUnavailable, TooManyRequests

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": code.replace("_", " ")}
    for status, code in _HTTP_CODES.items()
    # 413: any body may go over MAX_BODY_BYTES (services/gateway/middleware.py).
    if status in (400, 401, 404, 409, 413, 422)
}


THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "too many requests; see the Retry-After header"}
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "payload too large"}
}


def _body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _clean(errors: list[Any]) -> list[dict[str, Any]]:
    cleaned = []
    for err in errors:
        item = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
        cleaned.append(item)
    return cleaned


# PostgreSQL restarting, shutting down or unreachable: a dependency is down, not a bug.
_UNREACHABLE = (OperatorInterventionError, PostgresConnectionError, ConnectionError)


def dependency_down(exc: BaseException) -> bool:
    """Whether an unexpected error (or one it was raised from) means a server is unreachable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNREACHABLE) or getattr(current, "connection_invalidated", False):
            return True
        # SQLAlchemy keeps the driver's error in ``orig``; the driver's own cause comes next.
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def _allowed_methods(request: Request) -> str:
    """Every documented method of the path, not only one route's.

    FastAPI has a route per method, and Starlette's 405 names only the one it tried; RFC 9110
    §15.5.6 wants them all. The OpenAPI document is the list of what the API answers.
    """
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in operations if m != "parameters"}
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HabyssError)
    async def domain_error(request: Request, exc: HabyssError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests | ServiceUnavailable):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(exc.to_body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(
                _body("malformed_json", "The request body is not valid JSON.", _clean(errors)),
                status_code=400,
            )
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "Invalid request."
        return JSONResponse(_body("validation_error", message, _clean(errors)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return JSONResponse(
            _body(code, str(exc.detail)), status_code=exc.status_code, headers=headers or None
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if dependency_down(exc):
            log.warning("%s %s: a dependency is down: %r", request.method, request.url.path, exc)
            return await domain_error(
                request, ServiceUnavailable("A service we depend on is restarting; try again.")
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            _body("internal_error", "Something went wrong on our side."), status_code=500
        )
