"""Database models and engine. Importing this package registers every schema's tables."""

from shared.db import core, learning, metrics
from shared.db.base import SCHEMAS, Base

__all__ = ["SCHEMAS", "Base", "core", "learning", "metrics"]
