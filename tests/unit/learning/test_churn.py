from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.learning.churn import (
    DayOutcome,
    DetectionConfig,
    HabitActivity,
    Modification,
    NudgeContext,
    NudgeProposal,
    PhaseProgress,
    ReasonCode,
    Status,
    choose_modification,
    decide_nudge,
    detect_signals,
    propose_nudge,
    quiet_hours,
    release_time,
)

TODAY = date(2025, 3, 31)  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")
CODES: dict[str, Status] = {"D": "done", "M": "missed", "S": "skipped"}


def daily(pattern: str, end: date = TODAY, at: time | None = time(7, 0)) -> list[DayOutcome]:
    """Outcomes for consecutive days, the last one on the day before ``end``."""
    first = end - timedelta(days=len(pattern))
    out = []
    for i, code in enumerate(pattern):
        on = first + timedelta(days=i)
        done_at = None
        if code == "D" and at is not None:
            done_at = datetime.combine(on, at, tzinfo=UTC)
        out.append(DayOutcome(on, CODES[code], done_at))
    return out


def activity(pattern: str, **kw) -> HabitActivity:
    kw.setdefault("scheduled_time", time(7, 0))
    return HabitActivity(habit_id="h1", title="Stretching", outcomes=daily(pattern), **kw)


def test_a_steady_habit_raises_nothing():
    assert detect_signals(activity("D" * 40), TODAY) == ()
    assert propose_nudge(activity("D" * 40), TODAY) is None


def test_two_misses_after_a_reliable_month():
    assert detect_signals(activity("D" * 28 + "MM"), TODAY) == ("two_misses_in_a_row",)


def test_two_misses_are_ordinary_for_a_habit_often_missed():
    assert "two_misses_in_a_row" not in detect_signals(activity("DDM" * 9 + "DMM"), TODAY)


def test_two_misses_count_once_and_only_when_fresh():
    assert "two_misses_in_a_row" not in detect_signals(activity("D" * 28 + "MMM"), TODAY)
    # A skip after the pair means the user has logged since; the pair is no longer the news.
    assert "two_misses_in_a_row" not in detect_signals(activity("D" * 28 + "MMS"), TODAY)
    # Skips between the misses do not break the pair.
    assert "two_misses_in_a_row" in detect_signals(activity("D" * 28 + "MSM"), TODAY)


def test_a_new_habit_missed_twice_is_a_warning():
    assert detect_signals(activity("DDMM"), TODAY) == ("two_misses_in_a_row",)


def test_a_weekly_habit_is_judged_on_its_own_long_record():
    sundays = [TODAY - timedelta(days=1 + 7 * k) for k in range(20)][::-1]
    reliable = [DayOutcome(d, "done") for d in sundays[:-2]]
    missed = [DayOutcome(d, "missed") for d in sundays[-2:]]
    signals = detect_signals(HabitActivity("h", "Call mum", reliable + missed), TODAY)
    assert "two_misses_in_a_row" in signals
    patchy = [DayOutcome(d, "done" if k % 2 else "missed") for k, d in enumerate(sundays[:-3])]
    habit = HabitActivity("h", "Call mum", [*patchy, DayOutcome(sundays[-3], "done"), *missed])
    assert detect_signals(habit, TODAY) == ()


def test_a_real_drop_in_the_weekly_rate():
    signals = detect_signals(activity("D" * 21 + "DMDMMDM"), TODAY)
    assert "completion_rate_falling" in signals


def test_a_noisy_week_is_not_a_drop():
    # 5 of 7 after 21 of 21: 20 points down, but a 1-in-12 chance at the monthly rate.
    assert detect_signals(activity("D" * 21 + "DMDDMDD"), TODAY) == ()


def test_rates_need_enough_days():
    assert "completion_rate_falling" not in detect_signals(activity("DDDDDDMMMMDM"), TODAY)


def test_lapse_after_a_long_streak_leads():
    signals = detect_signals(activity("D" * 14 + "MMM"), TODAY)
    assert signals[0] == "lapse_after_streak"
    assert detect_signals(activity("D" * 14 + "MM"), TODAY) == ("two_misses_in_a_row",)
    assert "lapse_after_streak" not in detect_signals(activity("MD" * 4 + "DDDDD" + "MMM"), TODAY)


def test_lapse_needs_two_missed_scheduled_days():
    # A three-times-a-week habit: three quiet calendar days with one scheduled day in them.
    start = TODAY - timedelta(days=60)
    days = [
        start + timedelta(days=i)
        for i in range(60)
        if (start + timedelta(days=i)).weekday() in (0, 2, 4)
    ]
    outcomes = [DayOutcome(d, "done") for d in days[:-1]] + [DayOutcome(days[-1], "missed")]
    habit = HabitActivity("h", "Run", outcomes)
    # Today is Monday; the last scheduled day, Friday, was missed; last log Wednesday.
    assert "lapse_after_streak" not in detect_signals(habit, TODAY)


def test_skipped_days_are_excused():
    assert detect_signals(activity("D" * 20 + "SSSSS"), TODAY) == ()


def test_today_and_later_are_ignored():
    pending = [DayOutcome(TODAY, "missed"), DayOutcome(TODAY + timedelta(1), "missed")]
    outcomes = [*daily("D" * 30), *pending]
    habit = HabitActivity("h", "Read", outcomes)
    assert detect_signals(habit, TODAY) == ()


def test_phase_stall():
    started = TODAY - timedelta(days=15)
    phase = PhaseProgress(phase=1, started_on=started, duration_days=14, stable_rate=0.8)
    assert "phase_stalled" in detect_signals(
        activity("D" * 10 + "DM" * 7 + "D", phase=phase), TODAY
    )
    assert "phase_stalled" not in detect_signals(activity("D" * 25, phase=phase), TODAY)
    running = PhaseProgress(phase=1, started_on=TODAY - timedelta(days=5), duration_days=14)
    assert "phase_stalled" not in detect_signals(activity("DM" * 12 + "D", phase=running), TODAY)


def test_a_phase_stalls_on_the_window_the_agent_advances_on():
    """The agent advances a phase whose length has passed once the 7-day rate reaches 0.8; the
    stall is that rule failing, judged on the same days, however the phase began."""
    overdue = PhaseProgress(phase=2, started_on=TODAY - timedelta(days=20), duration_days=14)
    # A shaky start, then a steady week: the phase is about to advance, nothing has stalled.
    assert "phase_stalled" not in detect_signals(
        activity("DDM" * 4 + "D" * 8 + "DDDDDDD", phase=overdue), TODAY
    )
    # A steady start, then a week at 4 of 7: overdue and held back by this habit.
    signals = detect_signals(activity("D" * 13 + "DMDMDDM", phase=overdue), TODAY)
    assert "phase_stalled" in signals
    # The planned length is in days: a 10-day phase is overdue on day 10, not day 14.
    short = PhaseProgress(phase=1, started_on=TODAY - timedelta(days=10), duration_days=10)
    assert "phase_stalled" in detect_signals(activity("DDMDDMDDMD", phase=short), TODAY)
    longer = PhaseProgress(phase=1, started_on=TODAY - timedelta(days=10), duration_days=11)
    assert "phase_stalled" not in detect_signals(activity("DDMDDMDDMD", phase=longer), TODAY)
    # Days before the phase began are not its days: a phase with no scheduled day yet is quiet.
    fresh = PhaseProgress(phase=1, started_on=TODAY, duration_days=0)
    assert "phase_stalled" not in detect_signals(activity("MMDMM", phase=fresh), TODAY)


def test_a_stalled_phase_alone_still_makes_a_nudge():
    overdue = PhaseProgress(phase=1, started_on=TODAY - timedelta(days=16), duration_days=14)
    habit = activity("DDM" * 6 + "DD", phase=overdue, duration_minutes=15)
    proposal = propose_nudge(habit, TODAY)
    assert proposal is not None
    assert (proposal.reason, proposal.signals) == ("phase_stalled", ("phase_stalled",))
    assert proposal.message.startswith("Stretching hasn't settled into this phase yet")


def test_completions_far_from_the_plan_suggest_another_time():
    habit = HabitActivity(
        "h", "Yoga", daily("D" * 20 + "MM", at=time(18, 40)), 30, time(7, 0), False
    )
    mod = choose_modification(habit, TODAY, DetectionConfig(zone="UTC"))
    assert mod == Modification("another_time", {"from": "07:00", "to": "18:45"})


def test_completion_times_are_read_in_the_users_zone():
    # 17:40 UTC is 18:40 in Berlin in March (mostly CET): close to a 19:15 plan, far in UTC.
    habit = HabitActivity("h", "Yoga", daily("D" * 20 + "MM", at=time(17, 40)), 5, time(19, 15))
    assert choose_modification(habit, TODAY, DetectionConfig(zone="UTC")).kind == "another_time"
    berlin = choose_modification(habit, TODAY, DetectionConfig(zone="Europe/Berlin"))
    assert berlin.kind == "stack_trigger"
    earlier = HabitActivity("h", "Yoga", daily("D" * 20 + "MM", at=time(17, 40)), 5, time(16, 0))
    moved = choose_modification(earlier, TODAY, DetectionConfig(zone="Europe/Berlin"))
    assert moved.details == {"from": "16:00", "to": "18:45"}


def test_completion_drift_is_measured_around_midnight():
    habit = HabitActivity("h", "Read", daily("D" * 20 + "MM", at=time(0, 10)), 5, time(23, 50))
    assert choose_modification(habit, TODAY).kind == "stack_trigger"


def test_a_run_of_misses_is_not_a_weekday_pattern():
    habit = HabitActivity("h", "Walk", daily("D" * 25 + "MMM", at=None), 5, time(7, 0), True)
    assert choose_modification(habit, TODAY).kind == "smaller"


def test_misses_bunched_on_weekends_suggest_another_time():
    outcomes = []
    for i in range(28):
        on = TODAY - timedelta(days=28 - i)
        outcomes.append(DayOutcome(on, "missed" if on.weekday() >= 5 else "done"))
    habit = HabitActivity("h", "Walk", outcomes, 5, time(7, 0), True)
    mod = choose_modification(habit, TODAY)
    assert mod.kind == "another_time"
    assert mod.details["avoid_weekdays"] == ["sat", "sun"]


@pytest.mark.parametrize(
    ("minutes", "anchored", "kind", "details"),
    [
        (15, True, "smaller", {"from_minutes": 15, "to_minutes": 2}),
        (30, False, "smaller", {"from_minutes": 30, "to_minutes": 5}),
        (90, True, "smaller", {"from_minutes": 90, "to_minutes": 10}),
        (5, False, "stack_trigger", {"anchor": "after your morning coffee"}),
        (6, True, "smaller", {"from_minutes": 6, "to_minutes": 3}),
    ],
)
def test_modification_follows_the_cause(minutes, anchored, kind, details):
    habit = HabitActivity("h", "Plank", daily("DM" * 10, at=None), minutes, time(7, 0), anchored)
    assert choose_modification(habit, TODAY) == Modification(kind, details)


def test_anchor_matches_the_time_of_day():
    evening = HabitActivity("h", "Floss", daily("DM" * 10, at=None), 2, time(22, 0), False)
    assert (
        choose_modification(evening, TODAY).details["anchor"]
        == "after brushing your teeth at night"
    )


def test_proposal_carries_message_modification_and_signals():
    proposal = propose_nudge(activity("D" * 14 + "MMM", duration_minutes=20), TODAY)
    assert proposal is not None
    assert proposal.habit_id == "h1"
    assert proposal.reason == "lapse_after_streak"
    assert proposal.signals[0] == "lapse_after_streak"
    assert "Stretching" in proposal.message and "2-minute" in proposal.message
    assert proposal.modification.kind == "smaller"


# --- send policy ---------------------------------------------------------------------------


def nudge(habit_id: str, reason: ReasonCode = "two_misses_in_a_row") -> NudgeProposal:
    return NudgeProposal(habit_id, reason, "msg", Modification("smaller", {}), (reason,))


def at_berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def test_quiet_hours_follow_chronotype_day_start_and_settings():
    assert quiet_hours(NudgeContext("UTC")) == (time(22, 0), time(8, 0))
    assert quiet_hours(NudgeContext("UTC", chronotype="morning")) == (time(21, 0), time(7, 0))
    assert quiet_hours(NudgeContext("UTC", chronotype="evening")) == (time(23, 30), time(9, 30))
    assert quiet_hours(NudgeContext("UTC", day_start=time(3, 0))) == (time(1, 0), time(11, 0))
    explicit = NudgeContext("UTC", quiet_start=time(20, 0), quiet_end=time(6, 0))
    assert quiet_hours(explicit) == (time(20, 0), time(6, 0))


def test_never_during_the_night():
    ctx = NudgeContext("Europe/Berlin")
    decision = decide_nudge([nudge("a")], at_berlin(TODAY, 23, 15), ctx)
    assert decision.verdict == "quiet_hours" and decision.proposal is None
    assert decision.retry_at == at_berlin(TODAY + timedelta(days=1), 8)
    early = decide_nudge([nudge("a")], at_berlin(TODAY, 7, 59), ctx)
    assert early.verdict == "quiet_hours" and early.retry_at == at_berlin(TODAY, 8)
    assert decide_nudge([nudge("a")], at_berlin(TODAY, 8, 0), ctx).verdict == "send"


def test_at_most_one_nudge_per_local_day():
    ctx = NudgeContext("Europe/Berlin", last_nudge_at=at_berlin(TODAY, 9))
    decision = decide_nudge([nudge("a")], at_berlin(TODAY, 18), ctx)
    assert decision.verdict == "already_nudged_today"
    # The next local day starts at midnight, inside quiet hours, so the retry is at 08:00.
    assert decision.retry_at == at_berlin(TODAY + timedelta(days=1), 8)
    yesterday_evening = NudgeContext(
        "Europe/Berlin", last_nudge_at=at_berlin(TODAY - timedelta(1), 21)
    )
    assert decide_nudge([nudge("a")], at_berlin(TODAY, 9), yesterday_evening).verdict == "send"


def test_local_day_respects_day_start():
    # With the day starting at 04:00, a nudge at 02:30 belonged to the day before.
    ctx = NudgeContext(
        "Europe/Berlin",
        day_start=time(4, 0),
        quiet_start=time(3, 0),
        quiet_end=time(9, 0),
        last_nudge_at=at_berlin(TODAY, 2, 30),
    )
    assert decide_nudge([nudge("a")], at_berlin(TODAY, 10), ctx).verdict == "send"


def test_same_habit_waits_for_its_cooldown_and_the_most_severe_wins():
    now = at_berlin(TODAY, 12)
    ctx = NudgeContext("Europe/Berlin", last_nudge_by_habit={"a": now - timedelta(days=2)})
    picked = decide_nudge(
        [
            nudge("a", "lapse_after_streak"),
            nudge("b", "two_misses_in_a_row"),
            nudge("c", "phase_stalled"),
        ],
        now,
        ctx,
    )
    assert picked.verdict == "send"
    assert picked.proposal is not None and picked.proposal.habit_id == "b"
    blocked = decide_nudge([nudge("a")], now, ctx)
    assert blocked.verdict == "habit_cooldown"
    assert blocked.retry_at == now - timedelta(days=2) + timedelta(days=3)
    free = NudgeContext("Europe/Berlin")
    best = decide_nudge([nudge("b"), nudge("a", "lapse_after_streak")], now, free)
    assert best.proposal is not None and best.proposal.habit_id == "a"


def test_no_proposal_and_naive_clock():
    ctx = NudgeContext("UTC")
    assert decide_nudge([], datetime(2025, 3, 31, 12, tzinfo=UTC), ctx).verdict == "no_proposal"
    with pytest.raises(ValueError):
        decide_nudge([nudge("a")], datetime(2025, 3, 31, 12), ctx)


def test_quiet_hours_end_is_local_across_a_dst_change():
    # New York leaves daylight time at 02:00 on 2 November 2025; 06:30 UTC is 01:30 EST.
    ctx = NudgeContext("America/New_York")
    decision = decide_nudge([nudge("a")], datetime(2025, 11, 2, 6, 30, tzinfo=UTC), ctx)
    assert decision.verdict == "quiet_hours"
    assert decision.retry_at == datetime(2025, 11, 2, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_a_nudge_published_late_waits_out_the_users_night():
    ctx = NudgeContext(zone="Europe/Berlin")  # a neutral night: 22:00 to 08:00
    evening = datetime(2025, 3, 31, 21, 59, tzinfo=BERLIN)
    assert release_time(evening, ctx) == evening
    late = datetime(2025, 3, 31, 23, 30, tzinfo=BERLIN)
    assert release_time(late, ctx) == datetime(2025, 4, 1, 8, 0, tzinfo=BERLIN)
    small_hours = datetime(2025, 4, 1, 3, 0, tzinfo=BERLIN)
    assert release_time(small_hours, ctx) == datetime(2025, 4, 1, 8, 0, tzinfo=BERLIN)
    # The night of the spring-forward is an hour shorter; the morning is still 08:00 local.
    dst = datetime(2025, 3, 30, 1, 30, tzinfo=BERLIN)
    assert release_time(dst, ctx).astimezone(BERLIN) == datetime(2025, 3, 30, 8, 0, tzinfo=BERLIN)
    # A night owl's quiet hours are later; their day_start moves them later still.
    owl = NudgeContext(zone="Europe/Berlin", chronotype="evening", day_start=time(2, 0))
    start, end = quiet_hours(owl)
    assert (start, end) == (time(1, 30), time(11, 30))
    assert release_time(late, owl) == late
    assert release_time(small_hours, owl) == datetime(2025, 4, 1, 11, 30, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="aware"):
        release_time(datetime(2025, 4, 1, 3, 0), ctx)
