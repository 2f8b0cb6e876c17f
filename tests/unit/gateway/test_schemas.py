import pytest
from pydantic import ValidationError

from services.gateway.schemas import (
    HabitIn,
    IntervalSchedule,
    LogIn,
    MePatch,
    RegisterIn,
    WeekdaysSchedule,
    max_times,
)


@pytest.mark.parametrize(
    ("unit", "every", "allowed"),
    [("day", 1, 1), ("day", 3, 3), ("week", 1, 7), ("week", 2, 14), ("month", 1, 28),
     ("year", 1, 365)],
)  # fmt: skip
def test_times_up_to_the_period_length_is_allowed(unit: str, every: int, allowed: int) -> None:
    assert max_times(unit, every) == allowed
    IntervalSchedule(every=every, unit=unit, times=allowed)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="does not fit"):
        IntervalSchedule(every=every, unit=unit, times=allowed + 1)  # type: ignore[arg-type]


def test_default_schedule_is_daily() -> None:
    habit = HabitIn(title="Floss")
    assert habit.schedule.model_dump() == {
        "type": "interval",
        "every": 1,
        "unit": "day",
        "times": 1,
    }


@pytest.mark.parametrize(
    "schedule",
    [
        {"type": "interval", "unit": "fortnight"},
        {"type": "interval", "every": 0},
        {"type": "weekdays", "days": []},
        {"type": "weekdays", "days": ["mon", "mon"]},
        {"type": "weekdays", "days": ["monday"]},
        {"type": "cron", "expr": "* * *"},
    ],
)
def test_bad_schedules(schedule: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HabitIn(title="x", schedule=schedule)  # type: ignore[arg-type]


def test_weekdays_are_kept_in_week_order() -> None:
    assert WeekdaysSchedule(type="weekdays", days=["fri", "mon", "wed"]).days == [
        "mon",
        "wed",
        "fri",
    ]


def test_targets_belong_to_quantity_habits_only() -> None:
    HabitIn(title="Walk", kind="quantity", target={"value": 8000, "unit": "steps"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs a target"):
        HabitIn(title="Walk", kind="quantity")
    for kind in ("boolean", "negative"):
        with pytest.raises(ValidationError, match="takes no target"):
            HabitIn(title="x", kind=kind, target={"value": 1, "unit": "x"})  # type: ignore[arg-type]


def test_at_most_twenty_sub_habits() -> None:
    HabitIn(title="Morning", sub_habits=[f"s{i}" for i in range(20)])
    with pytest.raises(ValidationError):
        HabitIn(title="Morning", sub_habits=[f"s{i}" for i in range(21)])


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        HabitIn(title="x", colour="red")  # type: ignore[call-arg]


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf")])
def test_log_values_must_be_finite_and_non_negative(value: float) -> None:
    with pytest.raises(ValidationError):
        LogIn(value=value)


def test_registration_and_profile_validation() -> None:
    assert RegisterIn(email=" Ada@Example.COM ", password="rather long").email == "ada@example.com"
    with pytest.raises(ValidationError):
        RegisterIn(email="not-an-email", password="rather long")
    with pytest.raises(ValidationError):
        RegisterIn(email="a@b.co", password="short")
    with pytest.raises(ValidationError, match="unknown time zone"):
        RegisterIn(email="a@b.co", password="rather long", timezone="Atlantis/Capital")
    assert MePatch(week_start="Sunday").week_start == "sunday"
    with pytest.raises(ValidationError):
        MePatch(day_start="4am")
