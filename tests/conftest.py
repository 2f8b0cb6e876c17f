"""Fixtures every kind of test may use."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real model: point the OpenAI SDK at a closed local port."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-never-valid")
