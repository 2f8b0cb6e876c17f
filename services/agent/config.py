"""Agent service settings: the only place this service reads its environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import CommonSettings


class AgentSettings(CommonSettings):
    service_name: str = "agent"
    port: int = 8001

    # The model. With neither a base URL nor a key the offline planner answers (``auto``).
    llm_provider: Literal["auto", "offline", "openai"] = "auto"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    llm_model: str = "gpt-4-turbo"
    llm_fallback_model: str | None = "gpt-3.5-turbo"
    llm_temperature: float = Field(default=0.7, ge=0, le=2)
    llm_max_tokens: int = Field(default=1000, ge=1)
    llm_top_p: float = Field(default=0.9, gt=0, le=1)
    llm_frequency_penalty: float = 0.3
    llm_presence_penalty: float = 0.3
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=2, ge=0)

    # Budgets of one turn.
    turn_max_model_calls: int = Field(default=6, ge=1)
    turn_max_tool_calls: int = Field(default=12, ge=1)
    turn_max_tokens: int = Field(default=20_000, ge=1)
    turn_deadline_seconds: float = Field(default=60.0, gt=0)
    # A turn request older than this when an agent takes it is answered with run.failed
    # instead of running: its client has long stopped waiting.
    turn_max_age_seconds: float = Field(default=300.0, gt=0)
    # Chat turns handled at once by one instance. At most 32: the turns share one event loop,
    # and past that their CPU can outlast the 3 s of the agent's rpc calls (docs/performance.md).
    turn_workers: int = Field(default=32, ge=1, le=32)

    # Memory: this many latest messages go to the model verbatim; older ones are summarised.
    memory_recent_messages: int = Field(default=12, ge=2)

    @property
    def uses_openai(self) -> bool:
        """Whether turns go to an OpenAI-compatible endpoint rather than the offline planner."""
        if self.llm_provider == "auto":
            return bool(self.openai_base_url or self.openai_api_key)
        return self.llm_provider == "openai"
