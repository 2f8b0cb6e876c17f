"""The field names of DESIGN section 4 are the API contract mobile clients rely on."""

from __future__ import annotations

from typing import Any

from services.gateway.app import create_app


def _schema(spec: dict[str, Any], name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_openapi_carries_the_contract_fields() -> None:
    spec = create_app().openapi()
    # Backward compatible: the design's fields, plus the refresh token of docs/security.md.
    refresh = {"refresh_token", "refresh_expires_in"}
    assert _schema(spec, "RegisterOut") == {
        "user_id", "access_token", "token_type", "expires_in", *refresh
    }  # fmt: skip
    assert _schema(spec, "TokenOut") == {"access_token", "token_type", "expires_in", *refresh}
    assert {"id", "email", "display_name", "timezone", "day_start", "week_start", "chronotype",
            "preferences"} == _schema(spec, "MeOut")  # fmt: skip
    assert _schema(spec, "LogOut") == {
        "id", "habit_id", "date", "value", "status", "note", "created_at"
    }  # fmt: skip
    assert {"title", "description", "kind", "schedule", "target", "start_date", "sub_habits",
            "tags", "goal_id"} <= _schema(spec, "HabitIn")  # fmt: skip
    assert _schema(spec, "ErrorBody") == {"error"}
    assert _schema(spec, "ErrorDetail") == {"code", "message", "details"}
    log_post = spec["paths"]["/v1/habits/{habit_id}/logs"]["post"]
    assert any(p["name"] == "idempotency-key" for p in log_post["parameters"])
    assert {"401", "404", "422"} <= set(log_post["responses"])


def test_openapi_carries_the_assistant_contract() -> None:
    spec = create_app().openapi()
    paths = spec["paths"]
    for path, method in [
        ("/v1/chat", "post"),
        ("/v1/conversations", "get"),
        ("/v1/conversations/{conversation_id}/messages", "get"),
        ("/v1/sequences", "post"),
        ("/v1/sequences/{sequence_id}", "get"),
        ("/v1/sequences/{sequence_id}/activate", "post"),
        ("/v1/assistant/context", "get"),
        ("/v1/confirmations/{confirmation_id}", "get"),
        ("/v1/confirmations/{confirmation_id}", "post"),
        ("/v1/confirmations/{confirmation_id}", "delete"),
    ]:
        assert method in paths[path], path
    assert _schema(spec, "ChatIn") == {"message", "conversation_id"}
    assert "text/event-stream" in paths["/v1/chat"]["post"]["responses"]["200"]["content"]
    assert {"banner", "chips", "has_new_suggestion"} <= _schema(spec, "AssistantContextOut")
    assert _schema(spec, "ChipOut") == {"label", "prompt"}
    assert {"id", "status", "plan", "current_phase", "habits"} <= _schema(spec, "SequenceOut")
    assert _schema(spec, "SequenceIn") == {"goal", "preferences"}
