"""How the agent's habits map onto the public API's bodies and back."""

from __future__ import annotations

from services.agent.backend import NewHabit, Schedule
from services.agent.bus_backend import _habit, habit_body


def test_duration_and_quantity_habits_become_quantity_habits_with_a_target() -> None:
    body = habit_body(NewHabit(title="Practice piano", kind="duration", target=20))
    assert body["kind"] == "quantity"
    assert body["target"] == {"value": 20, "unit": "minutes", "direction": "at_least"}
    steps = habit_body(NewHabit(title="Walk", kind="quantity", unit="steps"))
    assert steps["target"] == {"value": 1, "unit": "steps", "direction": "at_least"}
    assert "target" not in habit_body(NewHabit(title="Floss"))


def test_schedules_time_and_description_carry_over() -> None:
    body = habit_body(
        NewHabit(
            title="Run",
            schedule=Schedule(type="weekdays", days=("mon", "wed")),
            time_of_day="07:00",
        ),
        "Phase 1 of your plan.",
    )
    assert body["schedule"] == {"type": "weekdays", "days": ["mon", "wed"]}
    assert body["description"] == "Phase 1 of your plan. Planned time: 07:00."
    weekly = habit_body(NewHabit(title="Call mum", schedule=Schedule(unit="week", times=2)))
    assert weekly["schedule"] == {"type": "interval", "every": 1, "unit": "week", "times": 2}


def test_a_gateway_habit_reads_back() -> None:
    habit = _habit(
        {
            "id": "5b0f7c9e-0000-4000-8000-000000000000",
            "title": "Walk",
            "kind": "quantity",
            "schedule": {"type": "interval", "every": 1, "unit": "year", "times": 3},
            "target": {"value": 8000, "unit": "steps", "direction": "at_least"},
            "sub_habits": [{"id": "x", "title": "shoes on", "position": 0}],
            "tags": ["fitness"],
            "created_at": "2026-12-01T08:00:00+00:00",
        }
    )
    assert (habit.kind, habit.unit, habit.target) == ("quantity", "steps", 8000)
    assert habit.schedule.unit == "year" and habit.schedule.times == 3
    assert habit.sub_habits == ("shoes on",) and habit.tags == ("fitness",)
    assert habit.created_on.isoformat() == "2026-12-01"
