"""Every setting a service reads from its environment has a row in the README's table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.agent.config import AgentSettings
from services.gateway.config import GatewaySettings
from services.knowledge.config import KnowledgeSettings
from services.learning.config import LearningSettings
from services.metrics.config import MetricsSettings
from shared.config import CommonSettings

README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED: list[type[BaseSettings]] = [
    CommonSettings,
    AgentSettings,
    GatewaySettings,
    MetricsSettings,
    KnowledgeSettings,
    LearningSettings,
]


def table_variables() -> set[str]:
    """The variables named in the first column of the README's configuration table."""
    names: set[str] = set()
    for line in README.read_text().splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return names


@pytest.mark.parametrize("settings", DOCUMENTED, ids=lambda s: s.__name__)
def test_every_setting_has_a_row(settings: type[BaseSettings]) -> None:
    variables = {name.upper() for name in settings.model_fields}
    assert variables - table_variables() == set()
