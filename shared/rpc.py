"""Request/reply over core NATS: one envelope, errors carried as the API's error triple.

A reply is ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": {code, message, details}}``.
``call`` raises the ``HabyssError`` subclass named by the code, so an error raised in a service
reaches the HTTP client unchanged; ``rpc_handler`` turns a handler's exceptions into that shape.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from faststream.nats import NatsBroker
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ValidationError

from shared.errors import ERRORS_BY_CODE, HabyssError, ServiceUnavailable, ValidationFailed

log = logging.getLogger(__name__)
P = ParamSpec("P")
DEFAULT_TIMEOUT_SECONDS = 3.0


def _encode(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_encode(item) for item in data]
    return data


def rpc_handler(
    fn: Callable[P, Awaitable[Any]],
) -> Callable[P, Awaitable[dict[str, Any]]]:
    """Wrap an rpc subscriber so that it always replies with the envelope."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        try:
            return {"ok": True, "data": _encode(await fn(*args, **kwargs))}
        except HabyssError as exc:
            return {"ok": False, **exc.to_body()}
        except ValidationError as exc:
            error = ValidationFailed("Invalid rpc request.", details=exc.errors(include_url=False))
            return {"ok": False, **json.loads(json.dumps(error.to_body(), default=str))}
        except Exception:
            log.exception("rpc handler %s failed", fn.__name__)
            return {"ok": False, **HabyssError("The service failed to answer.").to_body()}

    # faststream reads the signature to parse arguments and to cast the result: the arguments
    # stay the handler's, the result is the envelope.
    signature = inspect.signature(fn)
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=dict[str, Any]
    )
    return wrapper


async def call(
    broker: NatsBroker,
    subject: str,
    payload: BaseModel | dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,  # noqa: ASYNC109 - nats applies it to the request
) -> Any:
    """Send a request and return the reply's ``data``; raise the error it carries."""
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    try:
        reply = await broker.request(json.dumps(body).encode(), subject, timeout=timeout)
    except (TimeoutError, NatsTimeoutError, NoRespondersError):
        raise ServiceUnavailable(f"No answer from {subject} in time; try again.") from None
    envelope = json.loads(reply.body)
    if envelope.get("ok"):
        return envelope.get("data")
    error = envelope.get("error") or {}
    cls = ERRORS_BY_CODE.get(error.get("code", ""), HabyssError)
    raise cls(error.get("message", "The service failed to answer."), error.get("details"))
