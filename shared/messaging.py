"""The bus: one broker factory, one publish helper, one delivery policy for every consumer.

Delivery rules (DESIGN section 3): every publish carries ``Nats-Msg-Id`` so JetStream drops a
duplicate; every JetStream consumer is durable, acknowledges explicitly, retries a failed message
with growing delays up to ``MAX_DELIVER`` deliveries, then copies it to ``dlq.<subject>`` and
terminates it. A message that cannot be parsed (see ``is_poison``) is dead-lettered on its first
delivery. faststream's own default would terminate a message on the first exception.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from faststream import AckPolicy, BaseMiddleware
from faststream.exceptions import HandlerException, NackMessage, RejectMessage
from faststream.nats import NatsBroker, NatsRouter, PullSub
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig
from prometheus_client import REGISTRY
from pydantic import ValidationError

from shared.config import CommonSettings
from shared.errors import ValidationFailed
from shared.events.base import Event
from shared.slo_metrics import DEAD_LETTERED
from shared.streams import ALL_STREAMS, DEAD_LETTERS, stream_config, stream_for
from shared.telemetry import setup_tracing

if TYPE_CHECKING:
    from faststream.message import StreamMessage
    from nats.js.api import PubAck

log = logging.getLogger(__name__)

MAX_DELIVER = 5
FIRST_RETRY_DELAY_SECONDS = 0.5
MAX_RETRY_DELAY_SECONDS = 30.0
# A handler that runs longer than this is presumed dead and its message redelivered.
ACK_WAIT_SECONDS = 30.0
PUBLISH_TIMEOUT_SECONDS = 5.0


def retry_delay(delivery: int) -> float:
    """Return the delay before redelivering after failed delivery number ``delivery`` (1-based)."""
    return float(min(MAX_RETRY_DELAY_SECONDS, FIRST_RETRY_DELAY_SECONDS * 2 ** (delivery - 1)))


def is_poison(exc: BaseException) -> bool:
    """Tell whether a failure comes from the message itself, so no redelivery can mend it.

    A payload that is not JSON, nests past the parser's limit or does not fit the handler's model
    fails the same way every time: it goes to the dead letters on its first delivery.
    """
    return isinstance(exc, ValidationError | ValueError | RecursionError)


class _DeliveryPolicy(BaseMiddleware):
    """Turns a handler's exception into a delayed nack, or a dead letter on the last delivery."""

    def __init__(self, msg: Any, /, *, context: Any, owner: DeliveryPolicy) -> None:
        super().__init__(msg, context=context)
        self.owner = owner

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        try:
            return await call_next(msg)
        except HandlerException:
            raise
        except Exception as exc:
            raw = msg.raw_message
            reply = getattr(raw, "reply", "") or ""
            if not reply.startswith("$JS.ACK"):
                if reply and is_poison(exc):
                    # A request whose body does not even decode never reaches the rpc envelope
                    # of shared.rpc; answer it here so the caller is not left to time out.
                    await self.owner.answer_unreadable(reply)
                    return None
                raise
            delivered = raw.metadata.num_delivered
            if delivered < MAX_DELIVER and not is_poison(exc):
                log.warning("handler failed on %s (delivery %d), retrying", raw.subject, delivered)
                raise NackMessage(delay=retry_delay(delivered)) from exc
            await self.owner.dead_letter(raw, exc)
            raise RejectMessage() from exc


class DeliveryPolicy:
    """Middleware factory; holds the broker it dead-letters through."""

    def __init__(self) -> None:
        self.broker: NatsBroker | None = None

    def __call__(self, msg: Any, /, *, context: Any) -> _DeliveryPolicy:
        """Make the per-message middleware, as faststream calls broker middlewares."""
        return _DeliveryPolicy(msg, context=context, owner=self)

    async def answer_unreadable(self, reply: str) -> None:
        """Answer an rpc request that could not be decoded with a ``validation_error``."""
        assert self.broker is not None
        error = ValidationFailed("The request is not a readable JSON object.")
        body = json.dumps({"ok": False, **error.to_body()}).encode()
        await self.broker.publish(body, subject=reply)

    async def dead_letter(self, raw: Any, exc: Exception) -> None:
        """Copy a message that failed its last delivery to ``dlq.<subject>`` with the error."""
        assert self.broker is not None
        log.error("dead-lettering %s after %d deliveries: %r", raw.subject, MAX_DELIVER, exc)
        DEAD_LETTERED.labels(raw.subject).inc()
        headers = {k: v for k, v in (raw.headers or {}).items() if k != "Nats-Msg-Id"}
        # One line: a CR or LF would end the header block early and lose the headers after it.
        headers["Habyss-Error"] = " ".join(repr(exc).split())[:500]
        headers["Habyss-Original-Subject"] = raw.subject
        await self.broker.publish(
            raw.data,
            subject=f"dlq.{raw.subject}",
            headers=headers,
            stream=DEAD_LETTERS.name,
            timeout=PUBLISH_TIMEOUT_SECONDS,
        )


def create_broker(settings: CommonSettings) -> NatsBroker:
    """Build a broker with bus metrics, the delivery policy, and tracing when it is exported."""
    policy = DeliveryPolicy()
    middlewares: list[Any] = []
    if settings.otel_exporter_otlp_endpoint:
        # Spans only when something collects them: spans never exported cost about 1.4 ms of CPU
        # per message (measured on rpc.knowledge.search.v1) and tell nobody anything.
        provider = setup_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
        middlewares.append(NatsTelemetryMiddleware(tracer_provider=provider))
    middlewares += [
        NatsPrometheusMiddleware(registry=REGISTRY, app_name=settings.service_name),
        policy,
    ]
    broker = NatsBroker(
        settings.nats_url,
        name=settings.service_name,
        graceful_timeout=settings.shutdown_timeout_seconds,
        # Reconnect for as long as it takes: nats-py gives up after 60 attempts (two minutes) by
        # default and then stays closed, so a longer bus outage would need every pod restarted.
        max_reconnect_attempts=-1,
        middlewares=middlewares,
        log_level=logging.DEBUG,
    )
    policy.broker = broker
    return broker


async def declare_streams(broker: NatsBroker) -> None:
    """Create or update every stream (idempotent); call after ``broker.connect()``."""
    js = broker.config.connection_state.stream
    for stream in ALL_STREAMS:
        config = stream_config(stream)
        try:
            await js.update_stream(config)
        except Exception:
            await js.add_stream(config)


Handler = TypeVar("Handler", bound=Callable[..., Any])


class Subscribers:
    """A service's subscribers, declared once at import and bound to a new router per app.

    A faststream router binds its subscriber objects to the broker it is included in. One router
    shared by two apps in a process (the AsyncAPI document builds every service's app; tests build
    more) would move the first app's subscribers onto the second broker, whose connection never
    opened, and the first app's rpc replies would vanish. So handlers modules declare their
    subscribers here, and each ``create_app`` calls :meth:`router` for subscribers of its own.
    """

    def __init__(self) -> None:
        self._declared: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def subscriber(self, *args: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Declare a handler with the options of faststream's ``NatsRouter.subscriber``."""

        def declare(handler: Handler) -> Handler:
            self._declared.append((handler, args, kwargs))
            return handler

        return declare

    def router(self) -> NatsRouter:
        """A new router holding a fresh subscriber for every declared handler."""
        router = NatsRouter()
        for handler, args, kwargs in self._declared:
            router.subscriber(*args, **kwargs)(handler)
        return router


def durable_consumer(
    name: str, *, workers: int = 16, ack_wait: float = ACK_WAIT_SECONDS, independent: bool = False
) -> dict[str, Any]:
    """Keyword arguments for ``@router.subscriber`` that make a durable, explicitly acked consumer.

    Instances of one service share the durable pull consumer, so each message goes to one of them;
    each instance handles up to ``workers`` messages at once. ``ack_wait`` must exceed the
    longest a handler may legitimately run, or the message is redelivered while still in hand.
    ``independent`` hands messages to ``workers`` concurrent workers one by one, so a slow one
    does not hold back the next fetch (by default a fetched batch is finished as a whole).
    """
    extra: dict[str, Any] = {"max_workers": workers} if independent else {}
    return {
        **extra,
        "durable": name,
        "pull_sub": PullSub(batch_size=workers, timeout=5.0),
        "config": ConsumerConfig(
            durable_name=name,
            ack_policy=JsAckPolicy.EXPLICIT,
            max_deliver=MAX_DELIVER,
            ack_wait=ack_wait,
        ),
        "ack_policy": AckPolicy.NACK_ON_ERROR,
    }


async def publish_event(broker: NatsBroker, event: Event) -> PubAck:
    """Publish an event to its stream, deduplicated by its ``event_id``, and await the ack."""
    return await publish_raw(
        broker, event.subject, event.model_dump_json().encode(), str(event.event_id)
    )


async def publish_raw(
    broker: NatsBroker,
    subject: str,
    payload: bytes,
    msg_id: str,
    headers: dict[str, str] | None = None,
) -> PubAck:
    """Publish bytes to the stream holding ``subject`` with ``Nats-Msg-Id`` set to ``msg_id``."""
    all_headers = {**(headers or {}), "Nats-Msg-Id": msg_id, "content-type": "application/json"}
    ack: PubAck = await broker.publish(
        payload,
        subject=subject,
        headers=all_headers,
        stream=stream_for(subject).name,
        timeout=PUBLISH_TIMEOUT_SECONDS,
    )
    return ack
