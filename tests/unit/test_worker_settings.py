"""How many turns an agent runs at once and how many processes a gateway serves with."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from services.agent.config import AgentSettings
from services.gateway.config import GatewaySettings


def test_an_agent_runs_at_most_32_turns_at_once() -> None:
    assert AgentSettings(turn_workers=32).turn_workers == 32
    with pytest.raises(ValidationError):
        AgentSettings(turn_workers=64)


def test_the_gateway_serves_with_a_process_per_core_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GATEWAY_WORKERS", raising=False)
    assert GatewaySettings().gateway_workers == (os.cpu_count() or 1)
    monkeypatch.setenv("GATEWAY_WORKERS", "3")
    assert GatewaySettings().gateway_workers == 3
    monkeypatch.setenv("GATEWAY_WORKERS", "0")
    with pytest.raises(ValidationError):
        GatewaySettings()
