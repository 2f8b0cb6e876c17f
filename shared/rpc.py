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
import typing
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
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Wrap an rpc subscriber so that it always replies with the envelope.

    The request model (the first parameter annotated with a pydantic model) is validated here
    rather than by faststream, so a bad request is answered with ``validation_error`` instead of
    going unanswered.
    """
    # Resolved (string annotations under `from __future__`), Annotated kept for Context(...).
    hints = typing.get_type_hints(fn, include_extras=True)
    signature = inspect.signature(fn)
    model_param, model = next(
        (
            (name, hints[name])
            for name in signature.parameters
            if isinstance(hints.get(name), type) and issubclass(hints[name], BaseModel)
        ),
        (None, None),
    )

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            if model_param is not None and model is not None:
                bound = signature.bind_partial(*args, **kwargs)
                raw = bound.arguments.get(model_param)
                if not isinstance(raw, dict):
                    raise ValidationFailed("The request must be a JSON object.")
                bound.arguments[model_param] = model.model_validate(raw)
                args, kwargs = bound.args, bound.kwargs
            return {"ok": True, "data": _encode(await fn(*args, **kwargs))}
        except HabyssError as exc:
            return {"ok": False, **exc.to_body()}
        except ValidationError as exc:
            first: dict[str, Any] = dict(exc.errors()[0]) if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ()))
            error = ValidationFailed(
                f"{where}: {first.get('msg', 'invalid')}" if where else "Invalid request.",
                details=json.loads(
                    exc.json(include_url=False, include_context=False, include_input=False)
                ),
            )
            return {"ok": False, **error.to_body()}
        except Exception:
            log.exception("rpc handler %s failed", fn.__name__)
            return {"ok": False, **HabyssError("The service failed to answer.").to_body()}

    # faststream reads this signature to parse arguments and to cast the result: the request
    # arrives as whatever the body decodes to (validated above, so a JSON array or a bare string
    # is answered too), the result is the envelope.
    params = [
        p.replace(annotation=Any) if p.name == model_param else p
        for p in signature.parameters.values()
    ]
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p if p.name == model_param else p.replace(annotation=hints.get(p.name, p.annotation))
            for p in params
        ],
        return_annotation=dict[str, Any],
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
