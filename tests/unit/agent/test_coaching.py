"""The coaching data: every domain file loads and yields a valid plan; a coach adds a domain by
adding one file; a broken file is refused with its name and the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.agent import goals, sequences
from services.agent.coaching.library import CoachingDataError, library, load_library
from services.agent.goals import analyze_goal
from services.agent.sequence_checks import sequence_checks
from services.agent.sequences import generate_sequence

TODAY = date(2026, 12, 4)
ORIGINAL = {
    "running", "strength", "weight_loss", "general_fitness", "language", "reading", "instrument",
    "skill", "saving", "debt", "budgeting", "investing", "sleep", "meditation", "hydration",
    "nutrition", "quitting", "focus", "planning", "writing", "general",
}  # fmt: skip

PLANT_CARE = """
group: wellness
cues: [bonsai]
default_subject: bonsai
phase_names: [Foundation, Shaping, Build, Styling, Sustain]
foundation:
  focus: Look at your {subject} every day
  criterion: Checked on 12 of 14 days
  habits:
    - {name: Check the bonsai soil, minutes: 1, per_week: 7, anchor: am,
       progression: Mist the leaves too, rationale: Bonsai dry out fast, carry: true}
core:
  focus: Prune and wire
  criterion: Pruned weekly for three weeks
  habits:
    - {name: Bonsai pruning session, minutes: 20, per_week: 1, anchor: pm,
       progression: One branch more each week, rationale: Shape comes from steady pruning}
advanced:
  focus: Style the tree
  criterion: A styled tree
  habits:
    - {name: Bonsai wiring session, minutes: 30, per_week: 1, anchor: pm,
       progression: Wire a thicker branch, rationale: Wiring sets the form}
review: {name: Weekly bonsai review, minutes: 10, per_week: 1, anchor: pm,
         progression: Photograph the tree, rationale: Shows slow change}
profile:
  focus: Bonsai care
  default_days: 56
  reference_days: 56
  sub_goals: [Daily checks, Weekly pruning]
  obstacles: [Over-watering]
  indicators: [Tree healthy after eight weeks]
"""


def test_at_least_ten_domains_were_added_to_the_original_ones() -> None:
    names = set(library().domains)
    assert names >= ORIGINAL
    assert len(names - ORIGINAL) >= 10


@pytest.mark.parametrize("name", sorted(library().domains))
def test_every_domain_yields_a_plan_that_meets_the_sequencing_rules(name: str) -> None:
    goal = analyze_goal("I want to make a change in 3 months", TODAY)
    goal = goal.model_copy(update={"category": name, "subject": None})
    for chronotype, minutes in ((None, None), ("evening", 30), ("morning", 15)):
        plan = generate_sequence(goal, chronotype, minutes, [], TODAY)
        assert plan.category == name
        problems = sequence_checks(
            plan, goal.timeframe_days, chronotype=chronotype, minutes_available=minutes
        )
        assert problems == [], (name, chronotype, minutes, problems)


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("I want to get my sugar intake below 25 grams a day", "sugar"),
        ("Help me stop doomscrolling and cut my screen time", "screen_time"),
        ("I want to keep my houseplants alive", "gardening"),
        ("I'm caring for my elderly parent", "caregiving"),
        ("Get to inbox zero and unsubscribe from junk", "digital_declutter"),
        ("I want to give a talk at a conference without stage fright", "public_speaking"),
    ],
)
def test_a_goal_is_routed_by_the_domain_files_cues(text: str, domain: str) -> None:
    assert analyze_goal(text, TODAY).category == domain


def test_without_a_cue_the_understandings_domain_is_kept() -> None:
    lib = library()
    assert lib.select("run a marathon", "running") == "running"
    assert lib.select("something vague", None) == "general"
    assert lib.select("something vague", "not-a-domain") == "general"


def test_a_new_domain_is_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bonsai.yaml").write_text(PLANT_CARE)
    extended = load_library([tmp_path])
    assert "bonsai" in extended.domains and "bonsai" not in library().domains
    monkeypatch.setattr(goals, "library", lambda: extended)
    monkeypatch.setattr(sequences, "library", lambda: extended)
    goal = analyze_goal("I want to grow a bonsai tree", TODAY)
    assert goal.category == "bonsai" and goal.domain == "wellness"
    plan = generate_sequence(goal, None, None, [], TODAY)
    names = {h.name for p in plan.phases for h in p.habits}
    assert {"Check the bonsai soil", "Bonsai pruning session", "Bonsai wiring session"} <= names
    assert sequence_checks(plan, goal.timeframe_days) == []


def test_a_broken_domain_file_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    broken = PLANT_CARE.replace("minutes: 20,", "minutes: lots,").replace(
        "per_week: 7, anchor: am", "per_week: 3, anchor: am"
    )
    (tmp_path / "bonsai.yaml").write_text(broken)
    with pytest.raises(CoachingDataError) as caught:
        load_library([tmp_path])
    message = str(caught.value)
    assert str(tmp_path / "bonsai.yaml") in message
    assert "core.habits.0.minutes" in message
    assert "must be daily" in message


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bonsai.yaml").write_text(PLANT_CARE + "colour: green\n")
    with pytest.raises(CoachingDataError, match=r"bonsai\.yaml: colour: Extra inputs"):
        load_library([tmp_path])
