"""Telling questions about recorded health data from goals, advice and logs; the reply."""

from __future__ import annotations

import pytest

from services.agent.health_questions import HealthQuestion, describe_data, health_question


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("How did I sleep this week?", HealthQuestion("sleep_minutes", 7)),
        ("how many steps did I walk this month?", HealthQuestion("steps", 30)),
        ("Do I walk more on days I run?", HealthQuestion("steps", 7)),
        ("how was my sleep last night", HealthQuestion("sleep_minutes", 2)),
        ("How much did I work out this month?", HealthQuestion("workouts", 30)),
        ("I want to sleep 8 hours", None),
        ("How can I sleep better?", None),
        ("Log 8000 steps for today", None),
        ("show me a chart of my running this month", None),
        ("Remind me to walk at 6pm", None),
    ],
)
def test_health_question(message: str, expected: HealthQuestion | None) -> None:
    assert health_question(message) == expected


def test_the_reply_reports_the_average_and_a_habit_difference() -> None:
    data = {
        "data_type": "steps",
        "period_days": 30,
        "summary": {
            "days_with_data": 20,
            "average": 8123.4,
            "maximum": 14000,
            "best_day": "2026-11-30",
        },
        "habits": [
            {"title": "Morning run", "difference_percent": 31.6},
            {"title": "Read", "difference_percent": -40.0},
        ],
    }
    text = describe_data(data)
    assert text.startswith("Over the last 30 days you averaged 8,123 steps a day (20 days")
    assert "You walk 32% more on days you log Morning run." in text
    empty = describe_data({**data, "summary": {"days_with_data": 0}, "habits": []})
    assert "don't have any steps data for the last 30 days" in empty
