from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.learning.churn import DayOutcome
from services.learning.outcomes import (
    Calendar,
    HabitFacts,
    LogFact,
    UserFacts,
    category_of,
    chronotype_of,
    clamp_start,
    closed_outcomes,
    completion_instant,
    draft_profile,
    duration_of,
    habit_profile,
    history_as_of,
    in_southern_hemisphere,
    next_scheduled_day,
    streak_before,
    times_per_week,
    usual_time,
)

MON = date(2026, 2, 2)  # a Monday
UTC_CAL = Calendar()


def habit(**kw) -> HabitFacts:
    kw.setdefault("habit_id", "h1")
    kw.setdefault("title", "Stretch")
    kw.setdefault("kind", "boolean")
    kw.setdefault("schedule", {"type": "interval", "every": 1, "unit": "day", "times": 1})
    kw.setdefault("start_date", MON)
    return HabitFacts(**kw)


def done(on: date, at: datetime | None = None, value: float | None = None) -> LogFact:
    return LogFact(on, "done", value, at)


def statuses(outcomes: list[DayOutcome]) -> str:
    return "".join(o.status[0].upper() for o in outcomes)


def test_daily_outcomes_through_the_last_closed_day():
    logs = [done(MON), LogFact(MON + timedelta(days=2), "skip"), done(MON + timedelta(days=3))]
    out = closed_outcomes(habit(), logs, MON + timedelta(days=4), UTC_CAL)
    assert statuses(out) == "DMSDM"
    assert [o.on for o in out] == [MON + timedelta(days=i) for i in range(5)]


def test_nothing_is_closed_before_the_start():
    assert closed_outcomes(habit(), [], MON - timedelta(days=1), UTC_CAL) == []


def test_a_done_log_beats_a_skip_on_the_same_day():
    logs = [LogFact(MON, "skip"), done(MON)]
    assert statuses(closed_outcomes(habit(), logs, MON, UTC_CAL)) == "D"


def test_weekday_schedules_only_count_listed_days():
    h = habit(schedule={"type": "weekdays", "days": ["mon", "wed", "fri"]})
    logs = [done(MON), done(MON + timedelta(days=1)), done(MON + timedelta(days=4))]
    out = closed_outcomes(h, logs, MON + timedelta(days=6), UTC_CAL)
    assert [o.on.weekday() for o in out] == [0, 2, 4]
    assert statuses(out) == "DMD"


def test_quantity_days_meet_their_target():
    h = habit(kind="quantity", target={"value": 5000, "unit": "steps"})
    logs = [done(MON, value=3000), done(MON, value=2500), done(MON + timedelta(days=1), value=10)]
    assert statuses(closed_outcomes(h, logs, MON + timedelta(days=1), UTC_CAL)) == "DM"
    at_most = habit(kind="quantity", target={"value": 2, "unit": "coffees", "direction": "at_most"})
    logs = [done(MON, value=3)]
    assert statuses(closed_outcomes(at_most, logs, MON + timedelta(days=1), UTC_CAL)) == "MD"


def test_weekly_periods_give_one_outcome_on_their_last_day():
    h = habit(schedule={"type": "interval", "every": 1, "unit": "week", "times": 3})
    # Week 1: three completions; week 2: two completions and one skip (asks for two); week 3:
    # one completion; week 4 still open.
    logs = [done(MON + timedelta(days=d)) for d in (0, 2, 4, 7, 9, 14)]
    logs.append(LogFact(MON + timedelta(days=10), "skip"))
    out = closed_outcomes(h, logs, MON + timedelta(days=23), UTC_CAL)
    assert [o.on for o in out] == [MON + timedelta(days=6 + 7 * i) for i in range(3)]
    assert statuses(out) == "DDM"


def test_monthly_periods_follow_the_calendar():
    h = habit(schedule={"type": "interval", "every": 1, "unit": "month", "times": 2})
    logs = [done(date(2026, 2, 3)), done(date(2026, 2, 20)), done(date(2026, 3, 1))]
    out = closed_outcomes(h, logs, date(2026, 4, 15), UTC_CAL)
    assert [(o.on, o.status) for o in out] == [
        (date(2026, 2, 28), "done"),
        (date(2026, 3, 31), "missed"),
    ]


def test_negative_habits_succeed_on_slip_free_days():
    h = habit(kind="negative")
    out = closed_outcomes(h, [done(MON + timedelta(days=1))], MON + timedelta(days=2), UTC_CAL)
    assert statuses(out) == "DMD"


def test_completion_instant_only_for_logs_written_that_day():
    berlin = Calendar(zone="Europe/Berlin")
    same_day = datetime(2026, 2, 2, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
    assert completion_instant(done(MON, same_day), berlin) == same_day
    backfilled = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    assert completion_instant(done(MON, backfilled), berlin) is None
    assert completion_instant(LogFact(MON, "skip", None, same_day), berlin) is None
    # With day_start 04:00, a log at 01:30 belongs to the day before.
    owl = Calendar(zone="UTC", day_start=time(4, 0))
    assert completion_instant(done(MON, datetime(2026, 2, 3, 1, 30, tzinfo=UTC)), owl)


def test_usual_time_is_a_circular_median_to_the_quarter_hour():
    zone = "Asia/Tokyo"  # UTC+9
    around_midnight = [
        datetime(2026, 2, d, h, m, tzinfo=UTC) for d, h, m in ((2, 14, 50), (3, 15, 5), (4, 15, 20))
    ]
    assert usual_time(around_midnight, zone) == time(0, 0)
    assert usual_time(around_midnight[:2], zone) is None


def test_words_give_category_duration_outdoor_and_anchor():
    run = habit(title="Morning run 30 min", description="after coffee")
    profile = habit_profile(run)
    assert profile.category == "exercise"
    assert profile.duration_minutes == 30
    assert profile.outdoor and profile.has_stack_trigger
    assert profile.times_per_week == 7
    plain = habit_profile(habit(title="Floss"))
    assert (plain.category, plain.duration_minutes, plain.outdoor) == ("general", 10.0, False)
    assert not plain.has_stack_trigger
    assert duration_of(habit(title="Read", description="1.5 hours")) == 90
    minutes = habit(kind="quantity", target={"value": 20, "unit": "minutes"})
    assert duration_of(minutes) == 20
    assert category_of(habit(title="Evening thing", tags=("yoga",))) == "exercise"


def test_stated_facts_override_guesses():
    profile = habit_profile(
        habit(title="Run 30 min"), overrides={"duration_minutes": 5, "category": "Meditation"}
    )
    assert profile.duration_minutes == 5 and profile.category == "meditation"
    draft = draft_profile({"title": "Gym", "schedule": {"type": "weekdays", "days": ["mon"]}})
    assert draft.times_per_week == 1 and draft.category == "exercise" and draft.habit_id is None


def test_times_per_week():
    assert times_per_week({"type": "weekdays", "days": ["mon", "thu"]}) == 2
    assert times_per_week({"type": "interval", "every": 2, "unit": "day", "times": 1}) == 3.5
    assert times_per_week({"type": "interval", "every": 1, "unit": "week", "times": 3}) == 3
    assert times_per_week({"type": "interval", "every": 1, "unit": "month", "times": 4}) == (
        pytest.approx(0.92, abs=0.01)
    )


def test_history_looks_only_before_the_day():
    outcomes = {
        "h1": [DayOutcome(MON + timedelta(days=i), s) for i, s in enumerate(["done"] * 5)],
        "h2": [DayOutcome(MON + timedelta(days=i), "missed") for i in range(5)],
        "h3": [DayOutcome(MON + timedelta(days=i), "done") for i in range(5)],
    }
    categories = {"h1": "exercise", "h2": "reading", "h3": "exercise"}
    user = UserFacts("u1", Calendar(zone="Australia/Sydney"), chronotype="morning")
    on = MON + timedelta(days=5)
    history = history_as_of(user, "h1", on, outcomes, categories)
    assert history.completion_rate == pytest.approx(10 / 15)
    assert history.similar_habit_rate == 1.0  # h3 only: h1 itself is not "similar"
    assert history.current_streak == 5
    assert history.southern_hemisphere and history.social_support == 0.5
    early = history_as_of(user, "h1", MON + timedelta(days=1), outcomes, categories)
    assert early.completion_rate is None and early.current_streak == 1


def test_streaks_skip_excused_days():
    days = [DayOutcome(MON + timedelta(days=i), s) for i, s in enumerate(
        ["missed", "done", "skipped", "done", "done"]
    )]  # fmt: skip
    assert streak_before(days, MON + timedelta(days=5)) == 3
    assert streak_before(days, MON + timedelta(days=2)) == 1


def test_clamping_keeps_periods_aligned():
    every_three = habit(schedule={"type": "interval", "every": 3, "unit": "day", "times": 1})
    assert clamp_start(every_three, MON + timedelta(days=4)).start_date == MON + timedelta(days=6)
    weekly = habit(schedule={"type": "interval", "every": 1, "unit": "week", "times": 2})
    assert clamp_start(weekly, MON + timedelta(days=10)).start_date == MON + timedelta(days=14)
    assert clamp_start(habit(), MON - timedelta(days=3)).start_date == MON


def test_next_scheduled_day_and_small_mappings():
    h = habit(schedule={"type": "weekdays", "days": ["fri"]})
    assert next_scheduled_day(h, MON) == MON + timedelta(days=4)
    assert next_scheduled_day(habit(), MON + timedelta(days=1)) == MON + timedelta(days=1)
    assert chronotype_of("intermediate") == "neutral"
    assert chronotype_of("evening") == "evening" and chronotype_of(None) is None
    assert in_southern_hemisphere("America/Argentina/Buenos_Aires")
    assert not in_southern_hemisphere("Europe/Berlin")
