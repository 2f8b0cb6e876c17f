import dataclasses
import json
from datetime import time

from services.learning.churn import Modification, NudgeProposal
from services.learning.insights import HabitInsightInput, build_insights
from services.learning.prediction import Factor, Prediction, Recommendation
from services.learning.timing import TimeWindow, TimingAdvice


def prediction(p: float) -> Prediction:
    return Prediction(
        probability=p,
        confidence=0.7,
        top_success_factors=(Factor("streak", "your current streak", 0.4),),
        top_risk_factors=(Factor("duration", "how long it takes", -0.9),),
        recommendations=(Recommendation("start_smaller", "duration", "Start with 2 minutes."),),
    )


NUDGE = NudgeProposal(
    "run",
    "completion_rate_falling",
    "Running has been harder this week. Try a 5-minute version for now.",
    Modification("smaller", {"from_minutes": 30, "to_minutes": 5}),
    ("completion_rate_falling",),
)

EVENING = TimingAdvice(
    windows=(
        TimeWindow("18:30", "19:30", 0.8, "You've done it 14 times around this time."),
        TimeWindow("06:30", "07:30", 0.3, "Morning types have the most drive for exercise early."),
    ),
    explanation="Based on 14 completions in your own record, 18:30–19:30 works best for you.",
    source="history",
)


def test_an_at_risk_habit_leads_with_its_nudge():
    report = build_insights(
        [
            HabitInsightInput("read", "Reading", current_streak=12),
            HabitInsightInput("run", "Running", nudge=NUDGE, prediction=prediction(0.3)),
        ]
    )
    first = report.insights[0]
    assert (first.kind, first.habit_id) == ("at_risk", "run")
    assert "dropped this week" in first.message
    suggestion = report.suggestions[0]
    assert suggestion.kind == "modify_habit" and suggestion.habit_id == "run"
    assert suggestion.details["kind"] == "smaller"
    assert suggestion.details["details"] == {"from_minutes": 30, "to_minutes": 5}
    # The nudge already covers this habit, so no second "looks hard" line or recommendation.
    assert [i.kind for i in report.insights if i.habit_id == "run"] == ["at_risk"]
    assert [s.kind for s in report.suggestions] == ["modify_habit"]
    assert any(i.kind == "strong_streak" and "12 in a row" in i.message for i in report.insights)


def test_rising_rates_and_overview():
    report = build_insights(
        [
            HabitInsightInput("a", "Water", completion_rate_week=0.9, completion_rate_month=0.6),
            HabitInsightInput("b", "Floss", completion_rate_week=0.5, completion_rate_month=0.5),
        ]
    )
    kinds = [i.kind for i in report.insights]
    assert kinds == ["improving", "overview"]
    assert "90% this week against 60%" in report.insights[0].message
    assert "2 active habits" in report.insights[1].message and "55%" in report.insights[1].message


def test_a_better_time_is_suggested_only_on_the_users_own_evidence():
    habit = HabitInsightInput("gym", "Gym", scheduled_time=time(7, 0), timing=EVENING)
    report = build_insights([habit])
    assert [i.kind for i in report.insights] == ["better_time"]
    move = report.suggestions[0]
    assert move.kind == "move_time" and move.details == {
        "from": "07:00",
        "to": "18:30",
        "window_end": "19:30",
    }
    defaults = dataclasses.replace(EVENING, source="defaults")
    assert build_insights([dataclasses.replace(habit, timing=defaults)]).suggestions == ()
    already = dataclasses.replace(habit, scheduled_time=time(19, 0))
    assert build_insights([already]).suggestions == ()
    close = TimingAdvice(
        (TimeWindow("18:30", "19:30", 0.5, "r"), TimeWindow("06:30", "07:30", 0.45, "r")),
        "e",
        "history",
    )
    assert build_insights([dataclasses.replace(habit, timing=close)]).suggestions == ()


def test_predictions_riskiest_first_with_outlook_and_recommendation():
    report = build_insights(
        [
            HabitInsightInput("a", "Meditate", prediction=prediction(0.85)),
            HabitInsightInput("b", "Run", prediction=prediction(0.35)),
            HabitInsightInput("c", "Read", prediction=prediction(0.55)),
        ]
    )
    assert [p.habit_id for p in report.predictions] == ["b", "c", "a"]
    assert report.predictions[0].risk_factors == ("how long it takes",)
    hard = [i for i in report.insights if i.kind == "hard_outlook"]
    assert [i.habit_id for i in hard] == ["b"]
    assert "35% chance" in hard[0].message and "how long it takes" in hard[0].message
    recs = [s for s in report.suggestions if s.kind == "recommendation"]
    assert [s.habit_id for s in recs] == ["b", "c"]  # the harder outlook first
    assert recs[0].details == {"code": "start_smaller", "factor": "duration"}


def test_items_are_capped_and_json_ready():
    habits = [
        HabitInsightInput(f"h{i}", f"Habit {i}", current_streak=10 + i, prediction=prediction(0.3))
        for i in range(5)
    ]
    report = build_insights(habits, max_items=3)
    assert len(report.insights) == 3 and len(report.suggestions) == 3
    assert len(report.predictions) == 5
    body = json.loads(json.dumps(dataclasses.asdict(report)))
    assert set(body) == {"insights", "suggestions", "predictions"}


def test_no_habits_no_items():
    report = build_insights([])
    assert report.insights == ()
    assert report.suggestions == ()
    assert report.predictions == ()
