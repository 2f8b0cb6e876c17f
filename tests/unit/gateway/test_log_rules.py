import uuid
from datetime import date

import pytest

from services.gateway.habits import check_log
from services.gateway.schemas import LogIn
from shared.db.core import Habit
from shared.errors import ValidationFailed

TODAY = date(2026, 11, 22)


def habit(kind: str) -> Habit:
    return Habit(id=uuid.uuid4(), kind=kind, schedule={"type": "interval"}, start_date=TODAY)


def test_a_plain_log_for_today_is_fine() -> None:
    check_log(habit("boolean"), LogIn(), TODAY, TODAY)
    check_log(habit("quantity"), LogIn(value=3), TODAY, TODAY)
    check_log(habit("quantity"), LogIn(status="skip"), TODAY, TODAY)
    check_log(habit("negative"), LogIn(), date(2026, 1, 1), TODAY)


@pytest.mark.parametrize(
    ("kind", "log", "log_date", "fragment"),
    [
        ("boolean", LogIn(), date(2026, 11, 23), "after your today"),
        ("quantity", LogIn(), TODAY, "needs a value"),
        ("boolean", LogIn(value=1), TODAY, "takes no value"),
        ("negative", LogIn(status="skip"), TODAY, "cannot be skipped"),
    ],
)
def test_rule_breaking_logs(kind: str, log: LogIn, log_date: date, fragment: str) -> None:
    with pytest.raises(ValidationFailed, match=fragment):
        check_log(habit(kind), log, log_date, TODAY)
