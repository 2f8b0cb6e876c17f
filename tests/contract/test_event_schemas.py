"""Each event's JSON schema is snapshotted: a change to a published contract must be deliberate
(a new V2 event), never an accident. Set UPDATE_SNAPSHOTS=1 to record a new event's schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shared.events import ALL_EVENTS, Event

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.subject)
def test_event_schema_matches_snapshot(event: type[Event]) -> None:
    schema = event.model_json_schema()
    path = SNAPSHOTS / f"{event.subject}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" and not path.exists():
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"no snapshot for {event.subject}; record it with UPDATE_SNAPSHOTS=1"
    assert schema == json.loads(path.read_text())


def test_subjects_follow_the_naming_rule() -> None:
    for event in ALL_EVENTS:
        _domain, _entity, verb, version = event.subject.split(".")
        assert version == f"v{event.__name__.rsplit('V', 1)[1]}"
        assert verb.endswith("ed"), event.subject
        assert {"event_id", "occurred_at", "user_id"} <= set(event.model_fields)
        assert event.model_config.get("frozen") is True
