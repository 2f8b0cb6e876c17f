from datetime import UTC, datetime, time
from typing import get_args

from services.gateway.schemas import AIPreferencesIn
from services.learning.churn import Modification, NudgeProposal
from services.learning.experiments import assign
from services.learning.nudges import NUDGE_TIMING, NUDGE_TONE, delivery_time, phrase
from services.learning.preferences import _ALLOWED

PROPOSAL = NudgeProposal(
    habit_id="h1",
    reason="two_misses_in_a_row",
    message="You've missed Stretch twice in a row. Missing once is normal; let's keep it from "
    "becoming a pattern. Try a 2-minute version for now.",
    modification=Modification("smaller", {"from_minutes": 15, "to_minutes": 2}),
    signals=("two_misses_in_a_row",),
)
QUIET = (time(22, 0), time(8, 0))


def test_tones_word_the_same_proposal_differently():
    assert phrase(PROPOSAL, "Stretch", "encouraging") == PROPOSAL.message
    direct = phrase(PROPOSAL, "Stretch", "direct")
    assert direct == "Stretch: missed twice in a row. Try a 2-minute version for now."


def test_immediate_timing_sends_now():
    now = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    assert delivery_time("immediate", now, "UTC", time(0), time(18, 0), QUIET) == now


def test_before_usual_time_waits_until_an_hour_before():
    now = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    at = delivery_time("before_usual_time", now, "Europe/Berlin", time(0), time(18, 0), QUIET)
    assert at == datetime(2026, 2, 2, 16, 0, tzinfo=UTC)  # 17:00 in Berlin


def test_before_usual_time_never_waits_into_the_night_or_the_past():
    now = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    args = (now, "UTC", time(0))
    assert delivery_time("before_usual_time", *args, time(23, 30), QUIET) == now  # 22:30: quiet
    assert delivery_time("before_usual_time", *args, time(9, 30), QUIET) == now  # already past
    assert delivery_time("before_usual_time", *args, None, QUIET) == now


def test_experiments_split_users_between_both_arms():
    users = [f"user-{i}" for i in range(400)]
    for exp in (NUDGE_TONE, NUDGE_TIMING):
        arms = {assign(exp, u) for u in users}
        assert arms == {v.key for v in exp.variants}
    # Assignment is stable and the two experiments split independently.
    same = sum(assign(NUDGE_TONE, u) == "direct" for u in users)
    both = sum(
        assign(NUDGE_TONE, u) == "direct" and assign(NUDGE_TIMING, u) == "immediate" for u in users
    )
    assert 150 < same < 250 and 60 < both < 140


def test_the_gateway_accepts_exactly_the_preference_values_learning_knows():
    for name, allowed in _ALLOWED.items():
        annotation = AIPreferencesIn.model_fields[name].annotation
        literal = get_args(annotation)[0]
        values = get_args(literal) if name != "proactive_suggestions" else (True, False)
        assert set(values) == set(allowed), name
