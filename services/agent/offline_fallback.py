"""The last rung of the model ladder: when the LLM cannot answer, the offline planner does.

The OpenAI provider already retries and falls over to the fallback model. If that whole chain
fails before anything reached the user (endpoint down, every model timing out), the turn is
answered by the offline planner instead of ending in ``run.failed``: a plain, deterministic reply
beats an error. Once the model failed in a turn, the rest of that turn stays offline, so a dead
endpoint costs its timeouts once per turn, not once per step. A failure after the model started
answering is still final (the user has seen part of a reply), as the provider documents.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from services.agent.models import Message, Model, ModelError, ModelEvent, ModelSettings, ToolSpec

log = logging.getLogger(__name__)

OFFLINE_ANSWERS = Counter(
    "habyss_agent_offline_fallbacks_total",
    "Model calls the offline planner answered because the LLM could not",
)


@dataclass
class OfflineFallback:
    """``primary`` (the LLM), and ``offline`` for the rest of the turn once it failed."""

    primary: Model
    offline: Model
    failed: bool = False

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], settings: ModelSettings
    ) -> AsyncIterator[ModelEvent]:
        if not self.failed:
            started = False
            try:
                async for event in self.primary.stream(messages, tools, settings):
                    started = True
                    yield event
                return
            except ModelError as exc:
                if started:
                    raise
                self.failed = True
                OFFLINE_ANSWERS.inc()
                log.warning("the model could not answer (%s); the offline planner does", exc)
        async for event in self.offline.stream(messages, tools, settings):
            yield event
