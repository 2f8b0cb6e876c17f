"""The rich cards the read-only tools attach to their results, for the client to draw.

Pure functions from tool data to a card: a JSON object with a ``type`` the client knows
(docs/client.md lists the types and their fields). A card repeats only what the person should see;
the model reads the tool's data, not the card.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote_plus

from services.agent.backend import HabitMetrics, KnowledgeHit, Prediction

Card = dict[str, Any]

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;)])")
SCHOLAR = "https://scholar.google.com/scholar?q="


def progress_card(period: str, metrics: Sequence[HabitMetrics], average: float) -> Card:
    """One row per habit (rate, streaks) and the average, for ``analyze_progress``."""
    return {
        "type": "progress",
        "period": period,
        "average_completion_rate": average,
        "habits": [
            {
                "habit_id": m.habit_id,
                "title": m.title,
                "completion_rate": m.completion_rate,
                "current_streak": m.current_streak,
                "best_streak": m.best_streak,
                "streak_unit": m.streak_unit,
            }
            for m in metrics
        ],
    }


def prediction_card(habit: str, prediction: Prediction) -> Card:
    """The chance that ``habit`` sticks, what moves it, and the one change to make."""
    return {
        "type": "prediction",
        "habit": habit,
        "probability": prediction.probability,
        "factors": list(prediction.factors),
        "recommendation": prediction.recommendation,
    }


def source_link(citation: str) -> str:
    """Where a reader finds a cited work: its DOI when the citation has one, else a search."""
    doi = _DOI.search(citation)
    if doi:
        return f"https://doi.org/{doi.group(1)}"
    return SCHOLAR + quote_plus(citation)


def citations_card(hits: Sequence[KnowledgeHit]) -> Card | None:
    """The passages a knowledge search returned, each with its reference and a link to it."""
    if not hits:
        return None
    return {
        "type": "citations",
        "sources": [
            {"title": h.title, "citation": h.source, "url": source_link(h.source)} for h in hits
        ],
    }
