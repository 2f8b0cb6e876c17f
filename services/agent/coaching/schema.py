"""The schema of the coaching data files, validated once when the library loads.

A domain file (``domains/<name>.yaml``) holds everything the goal analysis and the sequence
generator know about one kind of goal: the cues that select it, its phase names and habit
blueprints, and its goal profile (default time frame, sub-goals, obstacles, indicators). Texts
may use the placeholders ``{subject}``, ``{Subject}``, ``{free}``, ``{Free}``, ``{cur}`` and
``{pace}``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Anchor = Literal["am", "pm", "wake", "bedtime", "meal"]
DomainGroup = Literal["fitness", "learning", "financial", "wellness", "productivity"]
Issue = Literal["too_hard", "no_time", "forgot", "unmotivated"]
Voice = Literal["empathetic", "celebratory", "encouraging", "neutral", "direct"]

_STRICT = ConfigDict(frozen=True, extra="forbid")
TINY_MINUTES = 2
FOUNDATION_MAX_MINUTES = 10


class HabitBlueprint(BaseModel):
    """A habit of a template; ``per_week`` 7 is daily and 0 monthly."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    minutes: int = Field(ge=1, le=240)
    per_week: int = Field(ge=0, le=7)
    anchor: Anchor
    progression: str = Field(min_length=1)
    rationale: str = Field(min_length=1)
    carry: bool = False  # stays on in every later phase once introduced
    follows: str | None = None  # shares the days of this habit of the same phase


class StageSpec(BaseModel):
    """One stage of a template: what it is for, when it is done, and its habits."""

    model_config = _STRICT
    focus: str = Field(min_length=1)
    criterion: str = Field(min_length=1)
    habits: tuple[HabitBlueprint, ...] = Field(min_length=1)


class FoundationStage(StageSpec):
    """The first stage: daily, short, and with one habit too small to skip."""

    @model_validator(mode="after")
    def _tiny_and_daily(self) -> FoundationStage:
        for habit in self.habits:
            if habit.per_week != 7:
                raise ValueError(f'foundation habit "{habit.name}" must be daily (per_week: 7)')
            if habit.minutes > FOUNDATION_MAX_MINUTES:
                raise ValueError(f'foundation habit "{habit.name}" is over 10 minutes')
        if not any(h.minutes <= TINY_MINUTES for h in self.habits):
            raise ValueError("the foundation needs a habit of two minutes or less")
        return self


class SubjectFacts(BaseModel):
    """What is known about one subject of a domain (e.g. the marathon of running)."""

    model_config = _STRICT
    reference_weeks: int | None = Field(None, ge=1)
    distance_km: float | None = Field(None, gt=0)
    minutes: dict[str, int] = {}  # habit name → minutes, replacing the blueprint's


class Profile(BaseModel):
    """What a goal of this domain involves, for the goal analysis."""

    model_config = _STRICT
    focus: str = Field(min_length=1)
    default_days: int = Field(ge=7, le=3650)
    reference_days: int = Field(ge=7, le=3650)
    sub_goals: tuple[str, ...] = Field(min_length=1)
    dependencies: tuple[str, ...] = ()
    obstacles: tuple[str, ...] = Field(min_length=1)
    indicators: tuple[str, ...] = Field(min_length=1)


class DomainSpec(BaseModel):
    """One domain file."""

    model_config = _STRICT
    group: DomainGroup | None = None  # the broad domain a goal of this kind belongs to
    cues: tuple[str, ...] = ()  # words or phrases in a goal that select this domain
    default_subject: str | None = None
    fallback_subject: str = "your goal"
    phase_names: tuple[str, str, str, str, str]  # foundation, core, build, advanced, sustain
    foundation: FoundationStage
    core: StageSpec
    advanced: StageSpec
    review: HabitBlueprint
    build_focus: str = "Consolidate the core habits: a bit longer, a bit more often"
    sustain_focus: str = "Hold the new level, review weekly and make the habits permanent"
    profile: Profile
    subjects: dict[str, SubjectFacts] = {}
    free_forms: dict[str, str] = {}  # subject → its "-free" form, for quitting goals


class Modifications(BaseModel):
    """``modifications.yaml``: adjustments to suggest per issue a struggling habit has."""

    model_config = _STRICT
    too_hard: tuple[str, ...] = Field(min_length=1)
    no_time: tuple[str, ...] = Field(min_length=1)
    forgot: tuple[str, ...] = Field(min_length=1)
    unmotivated: tuple[str, ...] = Field(min_length=1)


class VoicePhrases(BaseModel):
    """The phrases of one voice: full and short forms of the opener and closer."""

    model_config = _STRICT
    opener: tuple[str, str]
    closer: tuple[str, str]
    emoji: str = ""
    instructions: str = Field(min_length=1)


class TonePhrases(BaseModel):
    """``tone.yaml``: one entry per voice."""

    model_config = _STRICT
    empathetic: VoicePhrases
    celebratory: VoicePhrases
    encouraging: VoicePhrases
    neutral: VoicePhrases
    direct: VoicePhrases


class Anchors(BaseModel):
    """``anchors.yaml``: where chains of habits start and what they stack onto."""

    model_config = _STRICT
    # slot → chronotype ("morning", "evening", "none") → "HH:MM"
    slot_starts: dict[Literal["morning", "evening", "meal", "bedtime"], dict[str, str]]
    first_triggers: dict[Literal["morning", "evening", "meal", "bedtime"], str]
    existing_habit_words: dict[Literal["morning", "evening", "meal", "bedtime"], tuple[str, ...]]
    constraint_obstacles: dict[str, str] = {}


class Overload(BaseModel):
    """``overload.yaml``: how a habit steps up from one phase to the next."""

    model_config = _STRICT
    step_factor: float = Field(gt=1, le=2)
    round_to_minutes: int = Field(ge=1)
    round_from_minutes: int = Field(ge=1)
    extra_day_between: tuple[int, int]
    headroom: dict[str, float]
