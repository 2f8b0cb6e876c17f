"""Loop Habit Tracker's CSV layout, read and written (no servers)."""

from __future__ import annotations

from datetime import date

import pytest

from services.gateway.portability import loop_csv
from services.gateway.portability.loop_csv import LoopFormatError

TODAY = date(2026, 12, 7)
HABITS = (
    "Position,Name,Question,Description,NumRepetitions,Interval,Color\n"
    "001,Meditate,Did you meditate today?,,1,1,#FF8F00\n"
    "002,Gym,,Lift weights,3,7,#3F51B5\n"
    "003,Call mom,,,1,30,#000000\n"
    "004,Odd,,,5,3,#000000\n"
    "005,,,,1,1,#000000\n"
)


def test_habits_map_to_schedules_and_report_what_cannot_map() -> None:
    rows = loop_csv.read_habits(HABITS)
    meditate, gym, mom, odd, nameless = rows
    assert meditate.body == {
        "title": "Meditate",
        "description": "Did you meditate today?",
        "kind": "boolean",
        "schedule": {"type": "interval", "every": 1, "unit": "day", "times": 1},
    }
    assert meditate.position == 1
    assert gym.body is not None
    assert gym.body["schedule"] == {"type": "interval", "every": 1, "unit": "week", "times": 3}
    assert mom.body is not None and mom.body["schedule"]["unit"] == "month"
    assert odd.body is None and "frequency" in (odd.skip_reason or "")
    assert nameless.body is None and nameless.skip_reason == "the habit has no name"


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        (1, 1, ("day", 1, 1)),
        (2, 3, ("day", 3, 2)),
        (1, 14, ("week", 2, 1)),
        (4, 31, ("month", 1, 4)),
        (10, 365, ("year", 1, 10)),
    ],
)
def test_frequency_round_trips(num: int, den: int, expected: tuple[str, int, int]) -> None:
    schedule = loop_csv.schedule_of(num, den)
    assert (schedule["unit"], schedule["every"], schedule["times"]) == expected
    if den not in (31,):
        assert loop_csv.frequency_of(schedule) == (num, den)


def test_numerical_habit_reads_unit_and_target() -> None:
    text = (
        "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
        "Color,Unit,Target Type,Target Value,Archived?\n"
        "001,Run,1,,,1,7,#fff,km,0,15.5,false\n"
        "002,Sugar,1,,,1,1,#fff,g,1,30,true\n"
        "003,Broken,1,,,1,1,#fff,g,0,,false\n"
    )
    run, sugar, broken = loop_csv.read_habits(text)
    assert run.numeric and run.body is not None
    assert run.body["target"] == {"value": 15.5, "unit": "km", "direction": "at_least"}
    assert sugar.archived and sugar.body is not None
    assert sugar.body["target"]["direction"] == "at_most"
    assert broken.body is None and "target" in (broken.skip_reason or "")


def test_unknown_and_missing_columns_are_named() -> None:
    with pytest.raises(LoopFormatError) as caught:
        loop_csv.read_habits("Position,Nme,Streak\n001,x,3\n")
    assert caught.value.details[0]["unknown"] == ["Nme", "Streak"]
    assert caught.value.details[0]["missing"] == ["Name"]
    with pytest.raises(LoopFormatError):
        loop_csv.read_checkmarks("Date,Value,Mood\n2026-01-01,2,happy\n", "001 x/Checkmarks.csv")


def test_bad_date_names_file_and_line() -> None:
    with pytest.raises(LoopFormatError) as caught:
        loop_csv.read_checkmarks("Date,Value\n2026-01-01,2\n2026-02-30,2\n", "f.csv")
    assert caught.value.details[0]["line"] == 3


def _plan(values: list[tuple[str, str]], numeric: bool = False) -> loop_csv.HabitPlan:
    habit = loop_csv.LoopHabit(2, 1, "x", {"title": "x"}, False, numeric)
    text = "Date,Value,Notes\n" + "".join(f"{d},{v},\n" for d, v in values)
    return loop_csv.plan_logs(habit, loop_csv.read_checkmarks(text, "f.csv"), "f.csv", TODAY)


def test_boolean_codes() -> None:
    plan = _plan(
        [
            ("2026-12-01", "2"),
            ("2026-12-02", "1"),
            ("2026-12-03", "0"),
            ("2026-12-04", "3"),
            ("2026-12-05", "-1"),
            ("2026-12-06", "YES_MANUAL"),
            ("2026-12-08", "2"),
        ]
    )
    assert [(log.day.day, log.status) for log in plan.logs] == [
        (1, "done"),
        (4, "skip"),
        (6, "done"),
    ]
    assert plan.implicit == 1
    assert plan.skipped[0]["reason"].startswith("after your today")


def test_numerical_values_are_thousandths_and_three_is_skip() -> None:
    plan = _plan(
        [("2026-12-01", "1500"), ("2026-12-02", "3"), ("2026-12-03", "0"), ("2026-12-04", "2.5")],
        numeric=True,
    )
    assert [(log.status, log.value) for log in plan.logs] == [
        ("done", 1.5),
        ("skip", None),
        ("done", 2.5),
    ]


def test_a_value_that_is_no_code_is_an_error() -> None:
    with pytest.raises(LoopFormatError):
        _plan([("2026-12-01", "maybe")])
    with pytest.raises(LoopFormatError):
        _plan([("2026-12-01", "7")])


def test_folder_names_match_positions() -> None:
    assert loop_csv.folder_position("001 Meditate/Checkmarks.csv") == 1
    assert loop_csv.folder_position("012 Gym/Scores.csv") is None
    assert loop_csv.folder_position("Checkmarks.csv") is None
    assert loop_csv.folder_name(3, "Run 5k! 🏃") == "003 Run 5k"


def test_written_files_read_back() -> None:
    habits = [
        {
            "title": "Run",
            "description": None,
            "kind": "quantity",
            "schedule": {"type": "interval", "every": 1, "unit": "week", "times": 3},
            "target": {"value": 20, "unit": "km", "direction": "at_least"},
            "archived": False,
        }
    ]
    (row,) = loop_csv.read_habits(loop_csv.write_habits(habits))
    assert row.body is not None
    assert row.body["schedule"] == habits[0]["schedule"]
    assert row.body["target"] == habits[0]["target"]
    logs = [
        (date(2026, 12, 1), "done", 2.0, None),
        (date(2026, 12, 1), "done", 1.5, "evening"),
        (date(2026, 12, 2), "skip", None, None),
    ]
    text = loop_csv.write_checkmarks("quantity", logs)
    assert text.splitlines()[1:] == ["2026-12-02,3,", "2026-12-01,3500,evening"]
    plan = loop_csv.plan_logs(row, loop_csv.read_checkmarks(text, "f"), "f", TODAY)
    assert [(log.status, log.value) for log in plan.logs] == [("done", 3.5), ("skip", None)]
