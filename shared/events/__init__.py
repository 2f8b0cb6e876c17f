"""Event contracts: one module per domain, every event a frozen ``Event`` subclass."""

from shared.events.accounts import ACCOUNT_EVENTS
from shared.events.base import Event
from shared.events.chat import CHAT_EVENTS
from shared.events.habits import HABIT_EVENTS
from shared.events.learning import LEARNING_EVENTS
from shared.events.metrics import METRICS_EVENTS
from shared.events.reminders import REMINDER_EVENTS
from shared.events.sequences import SEQUENCE_EVENTS

ALL_EVENTS: tuple[type[Event], ...] = (
    HABIT_EVENTS
    + METRICS_EVENTS
    + LEARNING_EVENTS
    + CHAT_EVENTS
    + REMINDER_EVENTS
    + ACCOUNT_EVENTS
    + SEQUENCE_EVENTS
)

EVENTS_BY_SUBJECT: dict[str, type[Event]] = {e.subject: e for e in ALL_EVENTS}

__all__ = ["ALL_EVENTS", "EVENTS_BY_SUBJECT", "Event"]
