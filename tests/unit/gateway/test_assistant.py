"""The assistant screen's banner and chips follow what the user has going on."""

from __future__ import annotations

from datetime import date

from services.gateway.assistant import MAX_CHIPS, HabitGlance, PlanGlance, assistant_context

TODAY = date(2026, 12, 2)
PLAN = PlanGlance("Marathon in 6 months", 1, 4, "Foundation")


def labels(view: object) -> list[str]:
    return [c.label for c in view.chips]  # type: ignore[attr-defined]


def test_a_new_user_is_invited_to_plan_a_goal() -> None:
    view = assistant_context(today=TODAY, nudge_message=None, habits=[], plans=[])
    assert view.banner.startswith("Tell me a goal")
    assert labels(view) == ["Plan a goal", "Start tiny", "Best time"]


def test_an_open_nudge_leads_the_banner_and_the_chips() -> None:
    view = assistant_context(
        today=TODAY,
        nudge_message="Try a 2-minute run instead",
        habits=[HabitGlance("Run", 10)],
        plans=[PLAN],
    )
    assert view.banner == "Try a 2-minute run instead"
    assert view.chips[0].prompt == "Help me with this suggestion: Try a 2-minute run instead"
    assert len(view.chips) == MAX_CHIPS


def test_a_streak_is_celebrated_and_an_undone_habit_offered_for_logging() -> None:
    view = assistant_context(
        today=TODAY,
        nudge_message=None,
        habits=[
            HabitGlance("Read", 12, last_completed_on=TODAY),
            HabitGlance("Floss", 2, last_completed_on=date(2026, 12, 1)),
        ],
        plans=[],
    )
    assert view.banner == "12-day streak on Read. Keep it going!"
    assert view.chips[0].label == "Log Floss" and view.chips[0].prompt == "I did Floss today"
    assert "How am I doing?" in labels(view)


def test_an_active_plan_is_shown_when_nothing_else_is_more_pressing() -> None:
    view = assistant_context(
        today=TODAY, nudge_message=None, habits=[HabitGlance("Walk", 1)], plans=[PLAN]
    )
    assert view.banner == "Marathon in 6 months: phase 1 of 4, Foundation."
    assert "My plan" in labels(view)
