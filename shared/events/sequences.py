"""Events of habit sequences, published by the agent after the transaction that made them."""

from __future__ import annotations

import uuid
from datetime import date

from shared.events.base import Event


class SequencePhaseAdvancedV1(Event):
    """An active sequence entered its next phase (or, with ``completed``, finished its last).

    ``phase`` is the 1-based number of the phase entered; on completion it is the last phase.
    """

    subject = "sequences.phase.advanced.v1"
    sequence_id: uuid.UUID
    phase: int
    phase_count: int
    completed: bool
    as_of: date


SEQUENCE_EVENTS: tuple[type[Event], ...] = (SequencePhaseAdvancedV1,)
