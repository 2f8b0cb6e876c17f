"""A chat turn's live stream: its events on ``live.chat.<turn_id>`` as they happen."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from faststream.nats import NatsBroker

from services.agent.loop import AgentEvent, TextDeltaEvent
from shared.events.chat import live_chat

log = logging.getLogger(__name__)

DELTA_WINDOW_SECONDS = 0.025


class LiveStream:
    """Publishes a turn's events on ``live.chat.<turn_id>`` (core NATS: fast, not stored).

    Text deltas are coalesced: the first goes out at once (time to first token), later ones
    at most every :data:`DELTA_WINDOW_SECONDS`, and whatever is pending goes out before any
    other event. A model streams a token at a time; one message per token would cost the
    agent, the gateway and the client far more than the text is worth.
    """

    def __init__(
        self, broker: NatsBroker, turn_id: uuid.UUID, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._connection = broker.config.connection_state.connection
        self._subject = live_chat(turn_id)
        self._clock = clock
        self._pending: list[str] = []
        self._last_delta = -DELTA_WINDOW_SECONDS

    async def send(self, event: AgentEvent | dict[str, Any]) -> None:
        if isinstance(event, TextDeltaEvent):
            self._pending.append(event.text)
            if self._clock() - self._last_delta >= DELTA_WINDOW_SECONDS:
                await self._flush()
            return
        await self._flush()
        await self._publish(event if isinstance(event, dict) else event.model_dump(mode="json"))

    async def _flush(self) -> None:
        if not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        self._last_delta = self._clock()
        await self._publish(TextDeltaEvent(text=text).model_dump(mode="json"))

    async def _publish(self, body: dict[str, Any]) -> None:
        try:
            await self._connection.publish(self._subject, json.dumps(body).encode())
        except Exception as exc:  # the turn goes on and is stored even if nobody can watch it
            log.warning("could not stream %s: %r", self._subject, exc)
