"""Database models and engine. Importing this package registers every schema's tables."""

from shared.db import agent, core, integrations, learning, metrics, portability, reminders
from shared.db.base import SCHEMAS, Base

__all__ = [
    "SCHEMAS",
    "Base",
    "agent",
    "core",
    "integrations",
    "learning",
    "metrics",
    "portability",
    "reminders",
]
