"""The bus's AsyncAPI document is generated from the code and committed current."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.asyncapi import DOCUMENT, document, rendered
from shared.streams import stream_for


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def test_the_committed_document_is_current(spec: dict[str, Any]) -> None:
    assert DOCUMENT.read_text() == rendered(spec), "stale: run python -m deploy.asyncapi"


def test_every_event_subscriber_reads_a_declared_stream_and_every_channel_has_a_schema(
    spec: dict[str, Any],
) -> None:
    addresses = {c["address"] for c in spec["channels"].values()}
    events = {a for a in addresses if not a.startswith(("rpc.", "live."))}
    assert {"habits.log.recorded.v1", "chat.turn.requested.v1"} <= events
    for subject in events:
        stream_for(subject)  # raises when no stream holds the subject
    for message in spec["components"]["messages"].values():
        assert "$ref" in message["payload"] or message["payload"].get("type"), message
