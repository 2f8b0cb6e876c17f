"""Event contracts: one module per domain, every event a frozen ``Event`` subclass."""

from shared.events.base import Event
from shared.events.chat import CHAT_EVENTS
from shared.events.habits import HABIT_EVENTS
from shared.events.learning import LEARNING_EVENTS
from shared.events.metrics import METRICS_EVENTS

ALL_EVENTS: tuple[type[Event], ...] = HABIT_EVENTS + METRICS_EVENTS + LEARNING_EVENTS + CHAT_EVENTS

EVENTS_BY_SUBJECT: dict[str, type[Event]] = {e.subject: e for e in ALL_EVENTS}

__all__ = ["ALL_EVENTS", "EVENTS_BY_SUBJECT", "Event"]
