"""Habit sequence generation: a goal becomes phases of habits that build on each other.

A plan follows the spec's sequencing principles. Phase 1 (foundation) is daily and tiny, with at
least one habit of two minutes or less, because a habit too small to skip builds the cue before
the effort matters (Fogg's "tiny habits", Clear's two-minute rule). Core and advanced phases add
longer sessions and stack new habits onto ones already in place; progression texts say how the
load grows (progressive overload). Long goals get more phases: an extra "build" phase that
intensifies the core habits, a "sustain" phase that holds the level and adds a weekly review, and
for multi-year goals a second advanced block. Phase lengths add up to the goal's time frame.

Timing follows the chronotype (morning people get morning slots, evening people evening ones;
habits tied to waking, meals or bedtime keep their anchor) and durations are scaled so that no day
asks for more than the minutes the user said they have.

Each domain has its own template (running, strength, weight loss, general fitness; language,
reading, instrument, skill; saving, debt, budgeting, investing; sleep, meditation, hydration,
nutrition, quitting; focus, planning, writing) and there is a generic fallback.

:func:`sequence_checks` states the rules as code; the evaluation runner and tests use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.agent.goals import GoalAnalysis
from services.agent.understanding import match_habits

Anchor = Literal["am", "pm", "wake", "bedtime", "meal"]
Stage = Literal["foundation", "core", "build", "advanced", "advanced2", "sustain"]

WEEKDAY_CODES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES: dict[str, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_CODE_OF_DAY = {name: code for code, name in _DAY_NAMES.items()}
TINY_MINUTES = 2
FOUNDATION_MAX_MINUTES = 10
TIMEFRAME_TOLERANCE = 0.15

_FROZEN = ConfigDict(frozen=True)


class HabitSchedule(BaseModel):
    """The habit's schedule in the public API's shape, ready for ``create_habit``."""

    model_config = _FROZEN

    type: Literal["interval", "weekdays"]
    every: int | None = None
    unit: Literal["day", "week", "month"] | None = None
    times: int | None = None
    days: tuple[str, ...] = ()


class SequenceHabit(BaseModel):
    """One habit of a phase."""

    model_config = _FROZEN

    name: str
    frequency: str
    duration_minutes: int
    time_of_day: str
    stack_trigger: str
    progression: str
    days: tuple[str, ...]
    rationale: str
    time_anchor: Anchor
    schedule: HabitSchedule


class SequencePhase(BaseModel):
    """One phase: a stretch of weeks with its own habits and a bar to clear before moving on."""

    model_config = _FROZEN

    phase_number: int
    name: str
    duration_weeks: int | float
    duration_days: int
    start_date: date
    end_date: date
    focus: str
    success_criteria: tuple[str, ...]
    habits: tuple[SequenceHabit, ...]
    carried_forward: tuple[str, ...] = ()


class HabitSequencePlan(BaseModel):
    """A habit sequence in the JSON shape of the spec's marathon example."""

    model_config = _FROZEN

    name: str
    description: str
    goal: str
    domain: str | None
    category: str
    total_duration_weeks: int | float
    total_duration_days: int
    start_date: date
    end_date: date
    phases: tuple[SequencePhase, ...]


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------

# fmt: off


@dataclass(frozen=True)
class _Habit:
    """A habit blueprint; texts may use {subject}, {Subject}, {free}, {Free}, {cur}, {pace}."""

    name: str
    minutes: int
    per_week: int  # 7 = daily, 0 = monthly
    anchor: Anchor
    progression: str
    rationale: str
    carry: bool = False  # stays on in every later phase once introduced
    follows: str | None = None  # shares the days of this habit of the same phase


@dataclass(frozen=True)
class _Stage:
    focus: str
    criterion: str
    habits: tuple[_Habit, ...]


@dataclass(frozen=True)
class _Template:
    names: tuple[str, str, str, str, str]  # foundation, core, build, advanced, sustain
    foundation: _Stage
    core: _Stage
    advanced: _Stage
    review: _Habit
    build_focus: str = "Consolidate the core habits: a bit longer, a bit more often"
    sustain_focus: str = "Hold the new level, review weekly and make the habits permanent"


H = _Habit

_TEMPLATES: dict[str, _Template] = {
    "running": _Template(
        names=("Foundation", "Base building", "Build", "Race preparation", "Peak and taper"),
        foundation=_Stage(
            "Make daily movement automatic and get your legs ready for running",
            "Walk on at least 12 of 14 days",
            (
                H("Put on your running shoes", 1, 7, "am",
                  "Once it's automatic, step outside straight after",
                  "A two-minute gateway: showing up is the habit before the workout is",
                  carry=True),
                H("Brisk walk", 10, 7, "am", "Add 2 minutes every few days, up to 20",
                  "Builds a walking base before running"),
                H("Dynamic stretching", 5, 7, "am", "Add one new mobility drill each week",
                  "Injury prevention and flexibility", carry=True),
            ),
        ),
        core=_Stage(
            "Build an aerobic base with run/walk intervals and strength work",
            "Run/walk three times a week for three weeks in a row without pain",
            (
                H("Run/walk intervals", 25, 3, "am",
                  "Add about 10% running time each week and shorten the walk breaks",
                  "Builds your cardiovascular base safely"),
                H("Strength training for runners", 20, 2, "am",
                  "Add a set or a little load every two weeks (legs, core, stability)",
                  "Prevents injury and improves running economy", carry=True),
                H("Log your run", 2, 3, "am", "Add notes on effort and how your legs feel",
                  "Tracking distance shows progress and prevents overtraining", carry=True,
                  follows="Run/walk intervals"),
            ),
        ),
        advanced=_Stage(
            "Build endurance towards the {subject} distance",
            "Complete the longest planned long run comfortably",
            (
                H("Long run", 60, 1, "am",
                  "Add about 1 mile (1.5 km) each week; cut back every fourth week",
                  "Builds the endurance for race distance"),
                H("Tempo run", 30, 1, "am",
                  "Extend the tempo segment by 5 minutes every two weeks",
                  "Raises your lactate threshold so race pace feels easier"),
                H("Easy recovery run", 30, 2, "am",
                  "Keep it conversational; add 5 minutes when it feels easy",
                  "Active recovery that keeps weekly mileage up"),
            ),
        ),
        review=H("Weekly running mileage review", 10, 1, "pm",
                 "Keep weekly increases under 10%",
                 "Prevents overtraining and shows how far you've come"),
        build_focus="Extend the run/walk sessions and add a fourth weekly run",
        sustain_focus="Hold peak training, then taper so you arrive at race day fresh",
    ),
    "strength": _Template(
        names=("Foundation", "Technique", "Progressive loading", "Strength building",
               "Consolidate"),
        foundation=_Stage(
            "Make a tiny daily strength practice automatic",
            "Do the daily set on at least 12 of 14 days",
            (
                H("One easy set of push-ups", 2, 7, "am", "Add one rep every few days",
                  "Too small to skip, and it builds the daily cue"),
                H("Bodyweight squats", 3, 7, "am", "Add two reps a week",
                  "Legs are the biggest muscles: quick early strength gains"),
                H("Mobility warm-up", 5, 7, "am", "Add one drill a week",
                  "Prepares joints for loading", carry=True),
            ),
        ),
        core=_Stage(
            "Learn good form on the basic lifts with full-body strength workouts",
            "Three full-body workouts a week for three weeks running",
            (
                H("Full-body strength workout", 30, 3, "am",
                  "Add one rep per set each session; add load at the top of the rep range",
                  "Full-body sessions are the fastest route to strength for beginners"),
                H("Plank and core work", 5, 3, "am", "Add 10 seconds per hold each week",
                  "A strong core protects your back under load"),
                H("Log your lifts", 2, 3, "am", "Note sets, reps and load every session",
                  "What gets logged gets progressed", carry=True,
                  follows="Full-body strength workout"),
            ),
        ),
        advanced=_Stage(
            "Split training to add volume and load",
            "Key lifts up in reps or load every two weeks",
            (
                H("Upper-body strength session", 40, 2, "am",
                  "Add 2.5 kg or one rep when every set feels solid",
                  "More volume per muscle group drives further strength gains"),
                H("Lower-body strength session", 40, 2, "am",
                  "Add 2.5 kg or one rep when every set feels solid",
                  "Legs and glutes drive overall strength"),
                H("Protein with breakfast", 5, 7, "meal", "Aim for about 30 g protein per meal",
                  "Muscles need protein to rebuild stronger"),
            ),
        ),
        review=H("Weekly strength progress review", 10, 1, "pm",
                 "Compare lifts with last week and plan next week's loads",
                 "Progressive overload needs a plan"),
    ),
    "weight_loss": _Template(
        names=("Foundation", "Core habits", "Build", "Optimise", "Maintain"),
        foundation=_Stage(
            "Build awareness of weight and food with tiny daily habits",
            "Weigh-in and meal log on at least 12 of 14 days",
            (
                H("Morning weigh-in", 1, 7, "wake",
                  "Keep it daily; judge the weekly average, not single days",
                  "Daily weighing makes the trend visible and keeps you accountable", carry=True),
                H("Log one meal", 2, 7, "meal",
                  "Log one more meal each week until every meal is logged",
                  "Awareness comes before change"),
                H("10-minute walk", 10, 7, "pm", "Add 5 minutes each week",
                  "Easy daily movement burns calories without strain"),
            ),
        ),
        core=_Stage(
            "Create a steady calorie deficit and start regular exercise",
            "Meals logged on 5 of 7 days and three cardio sessions a week",
            (
                H("Track every meal", 5, 7, "meal",
                  "Find one swap each week (drinks, snacks, portions)",
                  "A moderate deficit of about 500 kcal a day loses about a pound a week"),
                H("Cardio session (brisk walk, bike or swim)", 25, 3, "pm",
                  "Add 5 minutes every two weeks", "Burns calories and improves heart health"),
                H("Strength training", 20, 2, "pm", "Add reps or load every two weeks",
                  "Keeps muscle while you lose fat", carry=True),
                H("Lights out for 7-8 hours of sleep", 1, 7, "bedtime",
                  "Move bedtime 15 minutes earlier until you get 7-8 hours",
                  "Short sleep increases hunger and cravings", carry=True),
            ),
        ),
        advanced=_Stage(
            "Raise intensity and make healthy eating effortless",
            "Weekly average weight trending down at {pace}",
            (
                H("Cardio intervals", 35, 3, "pm", "Add one interval every two weeks",
                  "Intervals raise fitness and calorie burn"),
                H("Strength training", 30, 2, "pm", "Add reps or load every two weeks",
                  "More muscle raises your daily energy use"),
                H("Weekly meal prep", 60, 1, "pm", "Prep one more meal each week",
                  "Prepared meals beat takeaway on busy days"),
            ),
        ),
        review=H("Weekly weigh-in review", 10, 1, "wake",
                 "Adjust portions if the weekly average stalls for two weeks",
                 "Trends, not single days, guide adjustments"),
    ),
    "general_fitness": _Template(
        names=("Foundation", "Consistency", "Build", "Challenge", "Sustain"),
        foundation=_Stage(
            "Make moving every day automatic",
            "Move on at least 12 of 14 days",
            (
                H("Put on your workout clothes", 1, 7, "am",
                  "Once it's automatic, start moving straight after",
                  "A two-minute gateway habit: the cue comes before the effort", carry=True),
                H("Short walk", 10, 7, "am", "Add 2 minutes every few days",
                  "Daily movement builds an exercise identity"),
                H("Stretch", 3, 7, "am", "Add one new stretch each week", "Keeps you mobile",
                  carry=True),
            ),
        ),
        core=_Stage(
            "Three short workouts a week",
            "Three workouts a week for three weeks running",
            (
                H("Home workout (exercise circuit)", 20, 3, "am",
                  "Add one round every two weeks", "Short full-body circuits fit any schedule"),
                H("Brisk walk", 20, 2, "am", "Add 5 minutes a week",
                  "Low-impact cardio on the days between workouts"),
            ),
        ),
        advanced=_Stage(
            "Longer, harder sessions mixing cardio and strength",
            "Four sessions a week with rising intensity",
            (
                H("Full workout", 35, 3, "am", "Add weight, reps or rounds every two weeks",
                  "Progressive overload keeps results coming"),
                H("Cardio session", 30, 1, "am", "Add 5 minutes or a faster pace every two weeks",
                  "Builds endurance"),
                H("Active recovery walk", 20, 1, "am", "Keep it easy and enjoyable",
                  "Recovery makes the hard days possible"),
            ),
        ),
        review=H("Weekly workout check-in", 10, 1, "pm",
                 "Plan next week's sessions around your calendar",
                 "Planning ahead protects workout time"),
    ),
    "language": _Template(
        names=("Foundation", "Core study", "Build", "Conversation practice",
               "Fluency maintenance"),
        foundation=_Stage(
            "Touch {Subject} every day, even for two minutes",
            "Vocabulary review on at least 12 of 14 days",
            (
                H("Review 5 {Subject} vocabulary flashcards", 2, 7, "am",
                  "Add 2 new words a day once the review takes under 2 minutes",
                  "Spaced repetition makes words stick", carry=True),
                H("{Subject} app lesson", 10, 7, "am", "Move to 15 minutes after two weeks",
                  "Structured lessons build grammar step by step"),
                H("Listen to {Subject} for 5 minutes", 5, 7, "pm",
                  "Pick slightly longer clips each week", "Gets your ear used to the sounds"),
            ),
        ),
        core=_Stage(
            "Daily lessons plus listening and grammar",
            "Lessons on 6 of 7 days for three weeks",
            (
                H("{Subject} lesson", 20, 7, "am", "Add 5 minutes every two weeks",
                  "Daily study is the backbone of language learning"),
                H("{Subject} podcast listening", 15, 5, "pm",
                  "Move from learner podcasts to native content",
                  "Trains your ear for natural speech"),
                H("{Subject} grammar practice", 15, 2, "am", "One new tense or structure a week",
                  "Grammar turns words into sentences"),
            ),
        ),
        advanced=_Stage(
            "Speak: conversation sessions and real-world input",
            "A conversation session every week for three weeks running",
            (
                H("{Subject} conversation session with a tutor", 60, 1, "pm",
                  "Speak for longer each session and use less English",
                  "Speaking practice is what makes you conversational"),
                H("{Subject} speaking practice (shadowing)", 15, 4, "am",
                  "Shadow longer clips each week", "Builds pronunciation and fluency"),
                H("Read or watch something in {Subject}", 20, 3, "pm",
                  "Choose slightly harder material every two weeks",
                  "Real content builds vocabulary in context"),
            ),
        ),
        review=H("Weekly {Subject} progress check", 10, 1, "pm",
                 "Note new words and topics you can now talk about",
                 "Seeing progress keeps motivation up through plateaus"),
        sustain_focus="Keep speaking every week and make {Subject} part of daily life",
    ),
    "reading": _Template(
        names=("Foundation", "Daily reading", "Build", "Deep reading", "Sustain"),
        foundation=_Stage(
            "Make opening a book a daily reflex",
            "Read on at least 12 of 14 days",
            (
                H("Read one page", 2, 7, "bedtime", "Keep going if you want to; one page counts",
                  "Too small to skip; the cue gets stronger every night"),
                H("Phone away, book out", 1, 7, "bedtime",
                  "Put the phone away 10 minutes earlier each week",
                  "Removes reading's main competitor", carry=True),
                H("10-minute reading session", 10, 7, "am", "Add 5 minutes each week",
                  "A second daily slot doubles your reading time"),
            ),
        ),
        core=_Stage(
            "A daily reading session that grows",
            "Read 20 minutes on 6 of 7 days",
            (
                H("Reading session", 20, 7, "pm", "Add 5 minutes a week, aiming for {pace}",
                  "Daily reading is how books get finished"),
                H("Log pages read", 1, 7, "pm", "Check your pace against the target weekly",
                  "Seeing pages add up is motivating", carry=True),
                H("Audiobook on your walk or commute", 20, 3, "am",
                  "Alternate genres to keep it fresh", "Turns dead time into reading time"),
            ),
        ),
        advanced=_Stage(
            "Longer sessions and reflection",
            "On pace for your reading target for three weeks",
            (
                H("Deep reading session", 30, 7, "pm", "Add 5 minutes every two weeks",
                  "Longer sessions finish books faster and deepen focus"),
                H("Weekly book notes", 15, 1, "pm", "Write a short summary of what you read",
                  "Reflection makes reading stick"),
                H("Choose your next book", 5, 1, "pm", "Keep a list of three next books",
                  "No gaps between books"),
            ),
        ),
        review=H("Weekly reading pace review", 10, 1, "pm",
                 "Compare books finished with your target", "Keeps the goal in view"),
    ),
    "instrument": _Template(
        names=("Foundation", "Daily practice", "Build", "Repertoire", "Sustain"),
        foundation=_Stage(
            "Make picking up the {subject} a daily reflex",
            "Play on at least 12 of 14 days",
            (
                H("Pick up your {subject} and play one scale", 2, 7, "pm",
                  "Play on once you've started; two minutes counts",
                  "Lowering the start-up cost is what makes daily practice happen"),
                H("{Subject} warm-up", 5, 7, "pm", "Add one exercise a week",
                  "Builds technique and finger strength", carry=True),
            ),
        ),
        core=_Stage(
            "Deliberate daily practice of technique and theory",
            "Practice on 5 of 7 days for three weeks",
            (
                H("{Subject} practice session", 20, 5, "pm", "Add 5 minutes every two weeks",
                  "Deliberate practice is what builds skill"),
                H("{Subject} technique drill", 10, 3, "pm",
                  "Raise the tempo a little when it's clean",
                  "Isolating hard parts speeds progress"),
                H("Ear training or music theory", 10, 2, "pm", "One new concept a week",
                  "Understanding music makes learning songs faster"),
            ),
        ),
        advanced=_Stage(
            "Learn complete songs and play them for others",
            "A full song or piece learned every few weeks",
            (
                H("{Subject} song practice", 30, 5, "pm", "Start a new song when one is solid",
                  "Playing real music keeps motivation high"),
                H("Record yourself playing the {subject}", 10, 1, "pm",
                  "Compare with last week's recording", "Hearing yourself shows what to fix"),
                H("Play a piece for someone", 15, 1, "pm", "Play a longer piece each time",
                  "Performing builds confidence"),
            ),
        ),
        review=H("Weekly {subject} practice review", 10, 1, "pm",
                 "Pick next week's focus from what felt hardest",
                 "Directs practice where it matters"),
    ),
    "skill": _Template(
        names=("Foundation", "Core study", "Build", "Applied practice", "Sustain"),
        foundation=_Stage(
            "Touch {subject} every day",
            "Study on at least 12 of 14 days",
            (
                H("Review one {subject} note or flashcard", 2, 7, "am",
                  "Add cards as you learn new concepts", "Retrieval practice makes learning stick",
                  carry=True),
                H("{Subject} mini lesson", 10, 7, "am", "Move to 15 minutes after two weeks",
                  "Small daily doses beat occasional marathons"),
            ),
        ),
        core=_Stage(
            "Structured study plus hands-on practice",
            "Study sessions on 5 of 7 days for three weeks",
            (
                H("{Subject} study session (25-minute focus block)", 25, 5, "am",
                  "Add a second block once one feels easy",
                  "Focused blocks beat long, distracted ones"),
                H("{Subject} practice exercises", 20, 3, "pm",
                  "Pick slightly harder problems each week",
                  "Doing, not just reading, builds the skill"),
            ),
        ),
        advanced=_Stage(
            "Apply {subject} to a real project",
            "Project milestones met every week",
            (
                H("{Subject} project work", 45, 3, "pm", "Take on a bigger piece each week",
                  "Real projects reveal the gaps that courses miss"),
                H("Explain a {subject} concept in writing", 15, 1, "pm",
                  "Pick a harder concept each time", "Teaching is the best test of understanding"),
                H("{Subject} self-test", 30, 1, "am", "Test yourself on everything learned so far",
                  "Testing shows what to review"),
            ),
        ),
        review=H("Weekly {subject} learning review", 10, 1, "pm",
                 "Plan next week's topics from the gaps you found", "Keeps learning on course"),
    ),
    "saving": _Template(
        names=("Foundation", "Budget and tracking", "Build", "Automate and grow", "Sustain"),
        foundation=_Stage(
            "Build money awareness with tiny daily habits",
            "Expenses logged on at least 12 of 14 days",
            (
                H("Log today's expenses", 2, 7, "pm", "Add categories once logging is automatic",
                  "You can't cut what you don't see", carry=True),
                H("Tiny daily savings transfer ({cur}5)", 1, 7, "pm",
                  "Raise the amount as expense cuts free up money",
                  "Saving something every day builds the identity of a saver"),
            ),
        ),
        core=_Stage(
            "A budget, weekly reviews and regular savings transfers",
            "Weekly budget review held three weeks running",
            (
                H("Weekly budget review", 20, 1, "pm",
                  "Compare spending to budget and choose one change for next week",
                  "Regular review keeps the budget real"),
                H("Weekly savings transfer", 5, 1, "pm",
                  "Increase it by {cur}10 every two weeks, towards {pace}",
                  "Paying yourself first makes saving automatic"),
                H("24-hour rule before non-essential purchases", 1, 7, "pm",
                  "Extend it to every purchase over {cur}50", "Cuts impulse spending", carry=True),
            ),
        ),
        advanced=_Stage(
            "Cut big expenses, boost income and automate savings",
            "Savings on pace for {pace}",
            (
                H("Cut one recurring expense", 20, 1, "pm",
                  "Work through subscriptions, bills and insurance one by one",
                  "Recurring cuts pay off every month"),
                H("Income boost session", 45, 1, "pm",
                  "Side work, selling unused items or preparing a raise request",
                  "More income speeds up saving"),
                H("Monthly financial check-in", 30, 0, "pm",
                  "Raise the automatic savings transfer whenever you can",
                  "Shows progress towards the goal"),
            ),
        ),
        review=H("Weekly savings progress check", 10, 1, "pm",
                 "Compare the balance with where it should be", "Keeps the target in view"),
    ),
    "debt": _Template(
        names=("Foundation", "Budget and tracking", "Build", "Accelerate payoff", "Stay debt-free"),
        foundation=_Stage(
            "Stop new debt and see where the money goes",
            "Expenses logged on at least 12 of 14 days",
            (
                H("Log today's expenses", 2, 7, "pm", "Add categories once logging is automatic",
                  "You can't cut what you don't see", carry=True),
                H("Pause before any card purchase", 1, 7, "pm",
                  "Switch to debit or cash for daily spending",
                  "Stops new debt while you pay off the old"),
            ),
        ),
        core=_Stage(
            "A budget that frees up money for extra debt payments",
            "Weekly budget review held and an extra payment made three weeks running",
            (
                H("Weekly budget review", 20, 1, "pm",
                  "Find one expense to cut each week", "Frees money for debt payments"),
                H("Extra debt payment", 5, 1, "pm",
                  "Send every freed-up {cur} to the highest-interest debt (or smallest balance)",
                  "Extra payments shorten payoff time and cut interest"),
                H("Debt balance update", 5, 1, "pm", "Record every balance in one list",
                  "Watching balances fall keeps you going"),
            ),
        ),
        advanced=_Stage(
            "Accelerate payoff with lower costs and more income",
            "Total debt down every month, at {pace}",
            (
                H("Cut one recurring expense", 20, 1, "pm",
                  "Work through subscriptions and bills", "Every cut goes to the debt"),
                H("Side-income session", 45, 1, "pm", "Grow it a little each week",
                  "More income means faster payoff"),
                H("Negotiate a lower interest rate or bill", 30, 0, "pm",
                  "Call one lender or provider a month",
                  "Lower interest means more goes to principal"),
            ),
        ),
        review=H("Weekly debt payoff review", 10, 1, "pm",
                 "Celebrate each balance paid off", "Progress you can see keeps motivation up"),
    ),
    "budgeting": _Template(
        names=("Foundation", "Budget and tracking", "Build", "Optimise", "Sustain"),
        foundation=_Stage(
            "See where the money goes with tiny daily habits",
            "Expenses logged on at least 12 of 14 days",
            (
                H("Log today's expenses", 2, 7, "pm", "Add categories once logging is automatic",
                  "You can't manage what you don't see", carry=True),
                H("Check your account balance", 1, 7, "am", "Note anything unexpected",
                  "Daily awareness prevents surprises"),
            ),
        ),
        core=_Stage(
            "A budget with weekly reviews",
            "Weekly budget review held three weeks running",
            (
                H("Weekly budget review", 20, 1, "pm", "Adjust one category each week",
                  "Keeps the budget realistic"),
                H("Plan the week's spending", 10, 1, "pm", "Set a limit for flexible spending",
                  "Plans beat willpower at the till"),
                H("24-hour rule before purchases", 1, 7, "pm",
                  "Extend it to everything non-essential", "Cuts impulse spending", carry=True),
            ),
        ),
        advanced=_Stage(
            "Trim costs and put the difference to work",
            "Spending within budget in most categories for a month",
            (
                H("Monthly budget reset", 45, 0, "pm", "Set next month's budget from this month's",
                  "A budget that learns stays usable"),
                H("Cut one recurring expense", 20, 1, "pm", "One bill or subscription a week",
                  "Recurring cuts add up"),
                H("Payday savings transfer", 5, 1, "pm", "Raise it by 1% of income each month",
                  "Turns budget savings into real savings"),
            ),
        ),
        review=H("Weekly spending review", 10, 1, "pm", "Compare spending to plan",
                 "Catches drift early"),
    ),
    "investing": _Template(
        names=("Foundation", "Learn and budget", "Build", "Invest regularly", "Sustain"),
        foundation=_Stage(
            "Learn the basics a little every day and see where your money goes",
            "Learning and expense log on at least 12 of 14 days",
            (
                H("Learn one investing term", 2, 7, "am", "Move on to short articles after a week",
                  "Understanding beats guessing"),
                H("Log today's expenses", 2, 7, "pm", "Add categories once logging is automatic",
                  "Finds money to invest", carry=True),
            ),
        ),
        core=_Stage(
            "Learn the essentials and start regular contributions",
            "Contribution made every week for three weeks",
            (
                H("Investing lesson (index funds, fees, risk)", 20, 2, "am",
                  "One topic a week", "Knowledge keeps you calm when markets move"),
                H("Weekly budget review", 20, 1, "pm", "Find money to invest",
                  "Budget first, invest second"),
                H("Weekly investment contribution", 5, 1, "pm", "Automate it once it's routine",
                  "Regular contributions harness compounding"),
            ),
        ),
        advanced=_Stage(
            "Grow contributions and review calmly",
            "Contributions growing every month",
            (
                H("Monthly portfolio check-in", 20, 0, "pm", "Rebalance once a year",
                  "Calm reviews beat daily checking"),
                H("Raise your contribution by 1%", 5, 0, "pm", "Repeat every month you can",
                  "Small raises compound over years"),
                H("Investment research session", 30, 1, "am", "One fund or topic a week",
                  "Informed decisions avoid costly mistakes"),
            ),
        ),
        review=H("Weekly investing journal", 10, 1, "pm", "Note decisions and why",
                 "A journal prevents emotional decisions"),
    ),
    "sleep": _Template(
        names=("Foundation", "Wind-down routine", "Build", "Optimise", "Sustain"),
        foundation=_Stage(
            "Anchor your body clock with fixed wake and bed times",
            "Wake time kept on at least 12 of 14 days",
            (
                H("Get up at the same time every day", 1, 7, "wake",
                  "Keep it on weekends too", "A fixed wake time is the strongest sleep anchor",
                  carry=True),
                H("Phone on the charger outside the bedroom", 1, 7, "bedtime",
                  "Do it 30 minutes before bed, then 60 once that's easy",
                  "Screen light and content delay sleep", carry=True),
                H("Lights out at your target bedtime", 1, 7, "bedtime",
                  "Move it 15 minutes earlier each week until you get {pace}",
                  "Consistent bedtimes make falling asleep easier"),
            ),
        ),
        core=_Stage(
            "A calming wind-down routine and daylight in the morning",
            "Lights out within 30 minutes of target on 6 of 7 nights",
            (
                H("Wind-down routine (reading or stretching)", 15, 7, "bedtime",
                  "Add one calming step each week", "Signals the brain that sleep is coming"),
                H("Morning daylight walk", 10, 7, "wake", "Add 5 minutes each week",
                  "Morning light sets your circadian rhythm"),
                H("No caffeine after 2 pm", 1, 7, "meal",
                  "Move the cut-off earlier if sleep is light",
                  "Caffeine lingers for hours"),
            ),
        ),
        advanced=_Stage(
            "Fine-tune your sleep environment and track quality",
            "Feeling rested on most mornings for three weeks",
            (
                H("Sleep diary", 2, 7, "wake", "Look for patterns each week",
                  "Shows what helps and what hurts your sleep"),
                H("Cool, dark bedroom check", 2, 7, "bedtime", "Fix one thing each week",
                  "Environment matters for deep sleep"),
                H("Evening relaxation (breathing or body scan)", 10, 7, "bedtime",
                  "Add 2 minutes a week", "Lowers arousal before sleep"),
            ),
        ),
        review=H("Weekly sleep review", 10, 1, "am", "Adjust bedtime by the diary's patterns",
                 "Data beats guesswork"),
    ),
    "meditation": _Template(
        names=("Foundation", "Daily practice", "Build", "Deepen", "Sustain"),
        foundation=_Stage(
            "Make a tiny daily meditation automatic",
            "Meditate on at least 12 of 14 days",
            (
                H("Three mindful breaths", 1, 7, "wake", "Do it before picking up your phone",
                  "The smallest possible start", carry=True),
                H("2-minute meditation", 2, 7, "am", "Add a minute every few days",
                  "Two minutes is too small to skip"),
            ),
        ),
        core=_Stage(
            "A daily guided meditation and gratitude",
            "Meditation on 6 of 7 days for three weeks",
            (
                H("Guided meditation", 10, 7, "am", "Add 2 minutes each week",
                  "Guidance helps when the mind wanders"),
                H("Gratitude note", 2, 7, "bedtime", "Write one more line each week",
                  "Gratitude shifts attention to what's going well", carry=True),
                H("Mindful walk", 15, 2, "pm", "Add 5 minutes a week",
                  "Mindfulness in motion, away from screens"),
            ),
        ),
        advanced=_Stage(
            "Longer, unguided practice and reflection",
            "20-minute sessions on most days",
            (
                H("Meditation session", 20, 7, "am", "Add unguided minutes each week",
                  "Longer sessions deepen calm and focus"),
                H("Body-scan before bed", 10, 3, "bedtime", "Slow the scan down each week",
                  "Releases tension and helps sleep"),
                H("Weekly reflection journal", 15, 1, "pm", "Note how stress changed",
                  "Shows the effect of practice"),
            ),
        ),
        review=H("Weekly mindfulness check-in", 10, 1, "pm", "Rate stress 1-10 and compare",
                 "Seeing calm grow keeps you practising"),
    ),
    "hydration": _Template(
        names=("Foundation", "Routine", "Build", "Optimise", "Sustain"),
        foundation=_Stage(
            "Tie water to the start of your day",
            "Morning water on at least 12 of 14 days",
            (
                H("Glass of water after waking", 1, 7, "wake", "Keep it before coffee",
                  "Rehydrates after the night", carry=True),
                H("Fill your water bottle", 1, 7, "am", "Keep it in sight all day",
                  "Visible water gets drunk"),
            ),
        ),
        core=_Stage(
            "Water with every meal and regular sips",
            "Six glasses a day on 6 of 7 days",
            (
                H("Glass of water with each meal", 2, 7, "meal", "Add a glass mid-afternoon",
                  "Meals are reliable cues", carry=True),
                H("Water break every two hours", 1, 7, "am", "Set fewer reminders as it sticks",
                  "Spreads intake through the day"),
                H("Log water glasses", 1, 7, "pm", "Compare with your target weekly",
                  "Tracking shows the gap"),
            ),
        ),
        advanced=_Stage(
            "Hit your full daily target with less effort",
            "Water target met on 6 of 7 days for three weeks",
            (
                H("Drink {pace}", 2, 7, "pm", "Keep it up on weekends and busy days",
                  "The full target, built on the earlier cues"),
                H("Swap one sugary drink for water", 1, 7, "meal", "Swap another after two weeks",
                  "Cuts sugar and raises intake"),
            ),
        ),
        review=H("Weekly hydration review", 5, 1, "pm", "Spot the days you fell short",
                 "Patterns show where to add cues"),
    ),
    "nutrition": _Template(
        names=("Foundation", "Core habits", "Build", "Optimise", "Sustain"),
        foundation=_Stage(
            "Small daily upgrades to what you eat",
            "A vegetable added on at least 12 of 14 days",
            (
                H("Add one vegetable to a meal", 2, 7, "meal", "Add one to a second meal later",
                  "Adding is easier than cutting", carry=True),
                H("Log what you ate", 2, 7, "pm", "Note how you felt after meals",
                  "Awareness comes before change"),
            ),
        ),
        core=_Stage(
            "Cook more at home and plan meals ahead",
            "Four home-cooked meals a week for three weeks",
            (
                H("Home-cooked meal", 30, 4, "pm", "Learn one new recipe each week",
                  "Home cooking means whole foods and sensible portions"),
                H("Plan tomorrow's meals", 5, 7, "pm", "Plan two days ahead once it's easy",
                  "Plans beat hungry decisions"),
                H("Fruit instead of a processed snack", 1, 7, "meal", "Swap a second snack later",
                  "Easy swap with big payoff"),
            ),
        ),
        advanced=_Stage(
            "Make healthy eating the default",
            "Home-cooked meals on most days",
            (
                H("Weekly meal prep", 60, 1, "pm", "Prep one more meal each week",
                  "Prepared food wins on busy days"),
                H("Healthy grocery list", 10, 1, "pm", "Shop from the list only",
                  "What's in the house is what you eat"),
                H("Mindful meal without screens", 20, 5, "meal", "Eat slowly, put the fork down",
                  "Slower eating helps you notice fullness"),
            ),
        ),
        review=H("Weekly nutrition review", 10, 1, "pm", "Pick one upgrade for next week",
                 "Steady small upgrades"),
    ),
    "quitting": _Template(
        names=("Foundation: awareness", "Cut down", "Build", "Quit", "Stay free"),
        foundation=_Stage(
            "Understand your {subject} triggers before changing anything",
            "Urges logged on at least 12 of 14 days",
            (
                H("Log each {subject} urge", 1, 7, "am",
                  "Note time, place and feeling; look for patterns weekly",
                  "Knowing your triggers is the first step to beating them", carry=True),
                H("Two-minute urge breathing", 2, 7, "am",
                  "Use it at every urge before deciding",
                  "Urges peak and pass within minutes"),
            ),
        ),
        core=_Stage(
            "Cut down step by step and replace the habit",
            "{Free} window growing every week",
            (
                H("Extend your {free} window", 1, 7, "wake",
                  "Add 30 minutes a day until it covers the whole day",
                  "Gradual reduction eases withdrawal"),
                H("Walk when a craving hits", 5, 7, "pm", "Have a replacement for each trigger",
                  "A replacement routine keeps the cue but changes the behaviour", carry=True),
                H("Remove one {subject} trigger", 10, 1, "pm",
                  "Clear one cue from home, car or routine each week",
                  "Fewer cues, fewer urges"),
            ),
        ),
        advanced=_Stage(
            "Quit completely and build support",
            "Seven {free} days in a row",
            (
                H("{Free} day", 1, 7, "wake", "Count the days and celebrate each week",
                  "Every free day weakens the habit"),
                H("Check in with a support buddy", 10, 2, "pm",
                  "Keep it up through the first months",
                  "Social support doubles quit success"),
                H("Weekly money-saved review", 10, 1, "pm", "Spend some of it on a reward",
                  "A visible reward reinforces quitting"),
            ),
        ),
        review=H("Weekly {free} streak review", 10, 1, "pm", "Plan for next week's risky moments",
                 "Planning ahead prevents relapse"),
        sustain_focus="Stay {free}: plan for risky situations and keep your support close",
    ),
    "focus": _Template(
        names=("Foundation", "Core habits", "Build", "Deep work", "Sustain"),
        foundation=_Stage(
            "Start each day knowing what matters most",
            "Top task written on at least 12 of 14 days",
            (
                H("Write tomorrow's top task", 2, 7, "pm", "Add the first step of that task",
                  "Deciding the night before removes morning friction", carry=True),
                H("10-minute focus sprint", 10, 7, "am", "Add 5 minutes each week",
                  "Trains attention like a muscle"),
            ),
        ),
        core=_Stage(
            "Protected deep-work blocks and clear priorities",
            "Deep-work blocks on 5 workdays for three weeks",
            (
                H("Daily top-3 priorities", 5, 7, "am", "Finish the first before email",
                  "Priorities turn busy days into productive ones"),
                H("Deep-work focus block", 45, 5, "am", "Add 15 minutes every two weeks",
                  "Uninterrupted time is where real work gets done"),
                H("Phone in another room while working", 1, 5, "am", "Extend to the whole block",
                  "Out of sight is out of mind"),
            ),
        ),
        advanced=_Stage(
            "Longer deep work and a weekly planning rhythm",
            "Top priority finished on most workdays",
            (
                H("Extended deep-work block", 90, 5, "am", "Protect it in your calendar",
                  "Longer blocks allow the hardest work"),
                H("Weekly review and planning", 30, 1, "pm", "Plan next week's deep-work blocks",
                  "A weekly plan keeps priorities on track"),
                H("Shutdown ritual", 5, 5, "pm", "Write tomorrow's first task, then stop",
                  "A clear end to work protects focus tomorrow"),
            ),
        ),
        review=H("Weekly focus review", 10, 1, "pm", "Count deep-work hours and adjust",
                 "What gets measured improves"),
    ),
    "planning": _Template(
        names=("Foundation", "Daily planning", "Build", "Systems", "Sustain"),
        foundation=_Stage(
            "A tiny daily planning ritual",
            "Top task written on at least 12 of 14 days",
            (
                H("Write tomorrow's top task", 2, 7, "pm", "Add two more tasks once it's automatic",
                  "Deciding ahead removes morning friction", carry=True),
                H("Clear your desk", 3, 7, "pm", "Extend to your inbox after two weeks",
                  "A clean start reduces decision fatigue"),
            ),
        ),
        core=_Stage(
            "A daily plan and a weekly planning session",
            "Daily plan on 5 of 7 days for three weeks",
            (
                H("Time-block your day", 10, 7, "am", "Block the hardest task first",
                  "A plan for every hour keeps the day on track"),
                H("Weekly planning session", 30, 1, "pm", "Review last week before planning",
                  "Weekly planning connects days to goals"),
                H("Inbox processing", 15, 3, "am", "Aim for an empty inbox",
                  "One trusted list stops things slipping"),
            ),
        ),
        advanced=_Stage(
            "Systems that keep life organised",
            "Weekly and monthly reviews held on time",
            (
                H("Monthly goals review", 45, 0, "pm", "Set next month's three priorities",
                  "Keeps long-term goals in view"),
                H("Evening shutdown review", 10, 5, "pm", "Move unfinished tasks deliberately",
                  "Nothing falls through the cracks"),
                H("Batch errands and chores", 30, 1, "am", "Batch one more category each month",
                  "Batching saves time and attention"),
            ),
        ),
        review=H("Weekly plan retrospective", 10, 1, "pm", "Note what slipped and why",
                 "Learning from each week improves the system"),
    ),
    "writing": _Template(
        names=("Foundation", "Daily writing", "Build", "Drafting and revision", "Sustain"),
        foundation=_Stage(
            "Write something every day, however small",
            "Write on at least 12 of 14 days",
            (
                H("Write one sentence", 2, 7, "am", "Keep going if it flows; one sentence counts",
                  "Beats the blank page every day"),
                H("Capture one idea", 1, 7, "pm", "Review the list weekly",
                  "A full idea list means you never start from nothing", carry=True),
            ),
        ),
        core=_Stage(
            "A daily writing session with a word-count target",
            "Writing sessions on 5 of 7 days for three weeks",
            (
                H("Writing session", 25, 5, "am", "Add 100 words to the target every two weeks",
                  "Regular sessions build volume and skill"),
                H("Log your word count", 1, 5, "am", "Track the weekly total",
                  "Seeing words add up is motivating", carry=True, follows="Writing session"),
                H("Read as a writer", 15, 2, "pm", "Study one technique per session",
                  "Reading good writing improves your own"),
            ),
        ),
        advanced=_Stage(
            "Longer drafting sessions plus revision and feedback",
            "Drafts finished on schedule",
            (
                H("Long writing session", 45, 5, "am", "Add 10 minutes every two weeks",
                  "Longer sessions get drafts finished"),
                H("Edit yesterday's pages", 20, 3, "pm", "Edit more deeply each week",
                  "Revision is where writing gets good"),
                H("Share a draft for feedback", 15, 1, "pm", "Ask one specific question each time",
                  "Feedback shows what readers see"),
            ),
        ),
        review=H("Weekly writing review", 10, 1, "pm", "Set next week's word target",
                 "Keeps the project moving"),
    ),
    "general": _Template(
        names=("Foundation", "Core habits", "Build", "Advanced", "Sustain"),
        foundation=_Stage(
            "A tiny daily start on {subject}",
            "Start on at least 12 of 14 days",
            (
                H("Two-minute start on {subject}", 2, 7, "am",
                  "Keep going if you want to; two minutes counts",
                  "Too small to skip; builds the daily cue"),
                H("Write down one next step", 3, 7, "pm", "Make each step smaller and clearer",
                  "Clear next steps prevent stalling", carry=True),
            ),
        ),
        core=_Stage(
            "Regular focused practice",
            "Practice on 5 of 7 days for three weeks",
            (
                H("Focused practice session", 20, 5, "am", "Add 5 minutes every two weeks",
                  "Regular practice drives progress"),
                H("Track your progress", 2, 5, "pm", "Review the numbers weekly",
                  "Seeing progress keeps motivation up", carry=True),
            ),
        ),
        advanced=_Stage(
            "Deeper practice and stretch challenges",
            "Clear weekly progress for three weeks",
            (
                H("Deep practice session", 40, 4, "am", "Tackle a harder piece every two weeks",
                  "Deliberate practice at the edge of ability"),
                H("Stretch challenge", 30, 1, "am", "Pick a slightly bigger challenge each week",
                  "Challenges show how far you've come"),
            ),
        ),
        review=H("Weekly progress review", 10, 1, "pm", "Plan next week from what worked",
                 "Keeps the plan on course"),
    ),
}

# fmt: on

_LONG_RUN_MINUTES: dict[str, int] = {
    "5K": 30,
    "10K": 45,
    "half marathon": 60,
    "marathon": 75,
    "ultramarathon": 90,
}
_FREE_FORMS: dict[str, str] = {
    "smoking": "smoke-free",
    "vaping": "vape-free",
    "drinking": "alcohol-free",
    "sugar": "sugar-free",
    "soda": "soda-free",
    "caffeine": "caffeine-free",
    "social media": "social-media-free",
    "phone use": "phone-free",
    "screen time": "screen-free",
    "junk food": "junk-food-free",
}

# --------------------------------------------------------------------------------------------
# Phase lengths
# --------------------------------------------------------------------------------------------


def _phase_count(total_days: int) -> int:
    weeks = total_days / 7
    if weeks <= 16:
        return 3
    if weeks <= 39:
        return 4
    if weeks <= 104:
        return 5
    return 6


def _largest_remainder(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights``, each at least ``minimum``."""
    spare = total - minimum * len(weights)
    raw = [spare * w / sum(weights) for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def _phase_days(total_days: int, count: int) -> list[int]:
    """Phase lengths in days, adding up exactly to the time frame.

    From four weeks per phase up, every phase but the last is whole weeks and the last takes the
    remaining days, so the plan ends on the goal's deadline; shorter plans are cut in days.
    """
    rest_weights = [1 + 0.2 * i for i in range(count - 1)]
    total_days = max(total_days, count)
    weeks = total_days // 7
    if weeks >= 4 * count:
        # The spec's foundation is two weeks; very long plans get a little more.
        foundation = min(4, max(2, round(weeks * 0.1)))
        rest = _largest_remainder(weeks - foundation, rest_weights, 1)
        lengths = [7 * w for w in [foundation, *rest]]
        lengths[-1] += total_days - 7 * weeks
        return lengths
    foundation = max(1, round(total_days * 0.2))
    return [foundation, *_largest_remainder(total_days - foundation, rest_weights, 1)]


def _weeks_value(days: int) -> int | float:
    return days // 7 if days % 7 == 0 else round(days / 7, 2)


# --------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------

_DAY_PATTERNS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (("sun",), ("sat",), ("wed",), ("thu",)),
    2: (("tue", "thu"), ("mon", "thu"), ("wed", "sat"), ("sat", "sun")),
    3: (("mon", "wed", "fri"), ("tue", "thu", "sat"), ("mon", "wed", "sat"), ("sun", "tue", "thu")),
    4: (("mon", "tue", "thu", "sat"), ("mon", "wed", "fri", "sun"), ("tue", "wed", "fri", "sun")),
    5: (
        ("mon", "tue", "wed", "thu", "fri"),
        ("mon", "tue", "thu", "fri", "sat"),
        ("sun", "mon", "wed", "thu", "sat"),
    ),
    6: (("mon", "tue", "wed", "thu", "fri", "sat"), ("tue", "wed", "thu", "fri", "sat", "sun")),
}


@dataclass(frozen=True)
class _Planned:
    """A habit being placed into a phase, before times and triggers are resolved."""

    name: str
    minutes: int
    per_week: int
    anchor: Anchor
    progression: str
    rationale: str
    carry: bool
    follows: str | None = None
    days: tuple[str, ...] = ()


def _assign_days(habits: list[_Planned], fixed_load: dict[str, int]) -> list[_Planned]:
    """Give each non-daily habit the weekday pattern that keeps the busiest day lightest."""
    load = dict(fixed_load)
    own = dict.fromkeys(WEEKDAY_CODES, 0)  # this phase's non-daily habits per day
    placed: list[_Planned] = []
    days_of: dict[str, tuple[str, ...]] = {}
    for habit in habits:
        followed = days_of.get(habit.follows or "")
        if habit.per_week >= 7:
            days = WEEKDAY_CODES
        elif followed is not None and len(followed) == max(1, habit.per_week):
            days = followed
        else:
            options = _DAY_PATTERNS[max(1, habit.per_week)]
            # Spread this phase's sessions over different days first (two runs on one day is
            # worse than a longer day), then keep the busiest day as light as possible.
            days = min(
                options,
                key=lambda pattern: (
                    max(own[d] for d in pattern),
                    max(load[d] for d in pattern),
                    sum(load[d] for d in pattern),
                ),
            )
            for d in days:
                own[d] += 1
        days_of[habit.name] = tuple(days)
        for d in days:
            load[d] += habit.minutes
        placed.append(replace(habit, days=tuple(days)))
    return placed


def _day_loads(habits: Sequence[_Planned], carried: Sequence[_Planned]) -> dict[str, int]:
    load = dict.fromkeys(WEEKDAY_CODES, 0)
    for habit in [*habits, *carried]:
        for d in habit.days:
            load[d] += habit.minutes
    return load


def _fit_budget(
    habits: list[_Planned],
    carried: list[_Planned],
    budget: int | None,
    keep: str | None,
    frozen: frozenset[str] = frozenset(),
) -> tuple[list[_Planned], list[_Planned]]:
    """Shrink, then drop, habits until no day needs more than ``budget`` minutes.

    Tiny habits keep their length; longer ones shrink proportionally (never below a minute);
    then carried-forward habits go (the smallest last), then this phase's last habits, always
    keeping ``keep`` (the foundation's two-minute habit), the ``frozen`` ones (already at a dose
    that fitted) and at least one habit.
    """
    if budget is None:
        return habits, carried
    for _ in range(4 * (len(habits) + len(carried)) + 4):
        load = _day_loads(habits, carried)
        if max(load.values()) <= budget:
            return habits, carried

        def scalable(h: _Planned) -> bool:
            return h.minutes > TINY_MINUTES and h.name not in frozen

        factors: dict[str, float] = {}
        for d in WEEKDAY_CODES:
            fixed = sum(h.minutes for h in [*habits, *carried] if d in h.days) - sum(
                h.minutes for h in habits if d in h.days and scalable(h)
            )
            flexible = sum(h.minutes for h in habits if d in h.days and scalable(h))
            factors[d] = 1.0 if flexible == 0 else max(0.0, (budget - fixed) / flexible)
        shrunk = []
        for h in habits:
            factor = min(factors[d] for d in h.days)
            if scalable(h) and factor < 1:
                h = replace(h, minutes=max(1, math.floor(h.minutes * factor)))
            shrunk.append(h)
        if shrunk != habits:
            habits = shrunk
            continue
        # Keep the smallest carried habit longest: it is what ties this phase to the last one.
        if len(carried) > 1:
            carried = sorted(carried, key=lambda h: h.minutes)[:-1]
            continue
        droppable = [h for h in habits if h.name != keep and h.name not in frozen]
        if len(habits) > 1 and droppable:
            worst = max(WEEKDAY_CODES, key=lambda d: load[d])
            on_worst = [h for h in droppable if worst in h.days] or droppable
            victim = on_worst[-1]
            habits = [h for h in habits if h is not victim]
            continue
        if carried:
            carried = []
            continue
        habits = [replace(h, minutes=max(1, min(h.minutes, budget))) for h in habits]
    return habits, carried


# --------------------------------------------------------------------------------------------
# Times and triggers
# --------------------------------------------------------------------------------------------


def _slot(anchor: Anchor, chronotype: str | None) -> str:
    if anchor == "am":
        return "evening" if chronotype == "evening" else "morning"
    if anchor == "pm":
        return "morning" if chronotype == "morning" else "evening"
    return {"wake": "morning", "bedtime": "bedtime", "meal": "meal"}[anchor]


def _slot_start(slot: str, chronotype: str | None) -> int:
    """Minutes after midnight where a slot's chain of habits starts."""
    table = {
        "morning": {"morning": 6 * 60 + 15, "evening": 8 * 60 + 30, None: 7 * 60},
        "evening": {"morning": 17 * 60 + 30, "evening": 19 * 60, None: 18 * 60 + 30},
        "meal": {"morning": 12 * 60, "evening": 13 * 60, None: 12 * 60 + 30},
        "bedtime": {"morning": 21 * 60 + 30, "evening": 23 * 60, None: 22 * 60 + 15},
    }
    return table[slot][chronotype if chronotype in ("morning", "evening") else None]


_FIRST_TRIGGERS: dict[str, str] = {
    "morning": "After your morning coffee",
    "evening": "When you get home in the evening",
    "meal": "When you sit down to eat",
    "bedtime": "After brushing your teeth at night",
}


def _clock(minutes: int) -> str:
    minutes = max(0, min(minutes, 23 * 60 + 59))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _existing_anchor(slot: str, existing: Sequence[str]) -> str | None:
    words = {
        "morning": r"\b(?:morning|wake|breakfast|coffee)\b",
        "evening": r"\b(?:evening|dinner|after work)\b",
        "bedtime": r"\b(?:night|bed|bedtime|sleep)\b",
        "meal": r"\b(?:lunch|meal|breakfast|dinner)\b",
    }[slot]
    for title in existing:
        if re.search(words, title.lower()):
            return title
    return None


def _resolve(
    planned: list[_Planned],
    chronotype: str | None,
    earlier_by_slot: dict[str, tuple[str, int]],
    existing: Sequence[str],
    first_phase: bool,
) -> list[tuple[_Planned, str, str]]:
    """Clock times and stack triggers: each habit follows the one before it in its slot."""
    order = {"wake": 0, "am": 1, "meal": 2, "pm": 3, "bedtime": 4}
    slots: dict[str, list[_Planned]] = {}
    for habit in sorted(planned, key=lambda h: order[h.anchor]):
        slots.setdefault(_slot(habit.anchor, chronotype), []).append(habit)
    resolved: dict[str, tuple[str, str]] = {}
    for slot, chain in slots.items():
        start = _slot_start(slot, chronotype)
        if slot == "bedtime":
            # The bedtime chain ends at bedtime, starting on a round five minutes.
            start -= sum(h.minutes for h in chain if h.per_week >= 7)
            start -= start % 5
        ends: list[tuple[_Planned, int]] = []
        for habit in chain:
            earlier = [(h, end) for h, end in ends if set(h.days) & set(habit.days)]
            begin = max([end for _, end in earlier], default=start)
            if earlier:
                previous = max(earlier, key=lambda pair: pair[1])[0]
                trigger = f'After "{previous.name}"'
            elif not first_phase and slot in earlier_by_slot and slot != "bedtime":
                anchor_name, anchor_end = earlier_by_slot[slot]
                trigger = f'After "{anchor_name}"'
                begin = max(begin, anchor_end)
            elif habit.anchor == "wake":
                trigger = "Right after you get out of bed"
            elif (anchor := _existing_anchor(slot, existing)) is not None:
                trigger = f'After your existing "{anchor}" habit'
            else:
                trigger = _FIRST_TRIGGERS[slot]
            resolved[habit.name] = (_clock(begin), trigger)
            ends.append((habit, begin + habit.minutes))
    return [(habit, *resolved[habit.name]) for habit in planned]


def _end_minute(time: str, minutes: int) -> int:
    hours, mins = time.split(":")
    return int(hours) * 60 + int(mins) + minutes


def _frequency(per_week: int) -> str:
    if per_week >= 7:
        return "daily"
    if per_week == 0:
        return "monthly"
    if per_week == 1:
        return "weekly"
    return f"{per_week}x weekly"


def _schedule(per_week: int, days: tuple[str, ...]) -> HabitSchedule:
    if per_week >= 7:
        return HabitSchedule(type="interval", every=1, unit="day", times=1)
    if per_week == 0:
        return HabitSchedule(type="interval", every=1, unit="month", times=1)
    return HabitSchedule(type="weekdays", days=days)


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def _fields(goal: GoalAnalysis) -> dict[str, str]:
    """Values for the template placeholders, from the goal's subject and metrics."""
    defaults = {
        "running": "race",
        "language": "the language",
        "instrument": "instrument",
        "skill": "the skill",
        "quitting": "the habit",
        "general": "your goal",
    }
    subject = goal.subject or defaults.get(goal.category, "your goal")
    currency = "$"
    pace = "your target"
    for metric in goal.target_metrics:
        if metric.unit in ("usd", "eur", "gbp"):
            currency = {"usd": "$", "eur": "€", "gbp": "£"}[metric.unit]
    by_name = {m.name: m for m in goal.target_metrics}
    if "monthly saving" in by_name:
        pace = f"{currency}{by_name['monthly saving'].value:,} a month"
    elif "monthly payment" in by_name:
        pace = f"{currency}{by_name['monthly payment'].value:,} a month"
    elif "weekly pace" in by_name:
        m = by_name["weekly pace"]
        pace = f"about {m.value} {m.unit} a week"
    elif "pages per day" in by_name:
        pace = f"about {by_name['pages per day'].value} pages a day"
    elif goal.category == "hydration":
        glasses = next((m for m in goal.target_metrics if m.unit == "glasses"), None)
        pace = f"{glasses.value} glasses of water a day" if glasses else "8 glasses of water a day"
    elif goal.category == "sleep":
        hours = next((m for m in goal.target_metrics if m.unit == "hours"), None)
        pace = f"{hours.value} hours of sleep" if hours else "7-8 hours of sleep"
    elif goal.category == "weight_loss":
        pace = "about 1 lb (0.5 kg) a week"
    free = _FREE_FORMS.get(subject, f"{subject}-free")
    return {
        "subject": subject,
        "Subject": subject[:1].upper() + subject[1:],
        "free": free,
        "Free": free[:1].upper() + free[1:],
        "cur": currency,
        "pace": pace,
    }


def _plan_habit(blueprint: _Habit, fields: dict[str, str], goal: GoalAnalysis) -> _Planned:
    minutes = blueprint.minutes
    if goal.category == "running" and blueprint.name == "Long run":
        minutes = _LONG_RUN_MINUTES.get(goal.subject or "", minutes)
    return _Planned(
        name=blueprint.name.format(**fields),
        minutes=minutes,
        per_week=blueprint.per_week,
        anchor=blueprint.anchor,
        progression=blueprint.progression.format(**fields),
        rationale=blueprint.rationale.format(**fields),
        carry=blueprint.carry,
        follows=blueprint.follows.format(**fields) if blueprint.follows else None,
    )


def _progressed(habit: _Planned, more_days: bool) -> _Planned:
    """The same habit one step harder: about 25% longer and, if allowed, one more day a week.

    Under a daily time budget an extra day tends to land on a day that is already full, so
    then the step up is in minutes only.
    """
    minutes = habit.minutes
    if minutes > TINY_MINUTES:
        minutes = math.ceil(minutes * 1.25)
        if minutes >= 10:
            minutes = 5 * math.ceil(minutes / 5)
    per_week = habit.per_week + 1 if more_days and 2 <= habit.per_week <= 5 else habit.per_week
    return replace(habit, minutes=minutes, per_week=per_week, follows=habit.follows)


def _stages(count: int) -> list[Stage]:
    if count <= 3:
        return ["foundation", "core", "advanced"]
    if count == 4:
        return ["foundation", "core", "build", "advanced"]
    if count == 5:
        return ["foundation", "core", "build", "advanced", "sustain"]
    return ["foundation", "core", "build", "advanced", "advanced2", "sustain"]


def _matches_existing(name: str, existing: Sequence[str]) -> str | None:
    found = match_habits(name.lower(), existing)
    return found[0] if found else None


@dataclass(frozen=True)
class _PhaseSpec:
    stage: Stage
    name: str
    focus: str
    criterion: str
    habits: tuple[_Planned, ...]


def _phase_spec(
    stage: Stage,
    template: _Template,
    planned: dict[str, list[_Planned]],
    latest: dict[str, _Planned],
    fields: dict[str, str],
    more_days: bool,
) -> _PhaseSpec:
    """What a phase of the given stage holds, before days, budget and times are worked out."""
    steady = "Every habit of this phase done on at least 80% of its days for two weeks"
    if stage == "foundation":
        stage_text = template.foundation
        spec = (template.names[0], stage_text.focus, stage_text.criterion, planned["foundation"])
    elif stage == "core":
        stage_text = template.core
        spec = (template.names[1], stage_text.focus, stage_text.criterion, planned["core"])
    elif stage == "build":
        habits = [_progressed(latest.get(h.name, h), more_days) for h in planned["core"]]
        spec = (template.names[2], template.build_focus, steady, habits)
    elif stage == "advanced":
        stage_text = template.advanced
        spec = (template.names[3], stage_text.focus, stage_text.criterion, planned["advanced"])
    elif stage == "advanced2":
        habits = [_progressed(latest.get(h.name, h), more_days) for h in planned["advanced"]]
        spec = (
            f"{template.names[3]} II",
            f"{template.advanced.focus}, one level up",
            template.advanced.criterion,
            habits,
        )
    else:
        habits = [latest.get(h.name, h) for h in planned["advanced"]] + planned["review"]
        spec = (
            template.names[4],
            template.sustain_focus,
            "All habits kept for four weeks running with no more than one miss in a row",
            habits,
        )
    name, focus, criterion, habits = spec
    return _PhaseSpec(
        stage=stage,
        name=name,
        focus=focus.format(**fields),
        criterion=criterion.format(**fields),
        habits=tuple(habits),
    )


def _backslides(habits: Sequence[_Planned], latest: dict[str, _Planned]) -> bool:
    """Whether a returning habit came out shorter or rarer than it was last phase."""
    return any(
        h.name in latest
        and (h.minutes < latest[h.name].minutes or h.per_week < latest[h.name].per_week)
        for h in habits
    )


def _progression_text(
    habit: _Planned, stage: Stage, previous: _Planned | None, previous_phase: int | None
) -> str:
    if previous is None or previous_phase is None:
        return habit.progression
    if stage == "sustain":
        return f"Hold this level. {habit.progression}"
    if habit.minutes == previous.minutes and habit.per_week == previous.per_week:
        return f"Keep it going at the phase {previous_phase} level. {habit.progression}"
    change = f"up from {previous.minutes} min"
    if habit.per_week != previous.per_week:
        change += f", {_frequency(previous.per_week)}"
    return f"Step up ({change} in phase {previous_phase}). {habit.progression}"


def generate_sequence(
    goal: GoalAnalysis,
    chronotype: str | None,
    minutes_available: int | None,
    existing_habits: Sequence[str],
    today: date,
) -> HabitSequencePlan:
    """Generate a phased habit sequence for an analysed goal.

    Args:
        goal: The goal, from :func:`services.agent.goals.analyze_goal`.
        chronotype: ``"morning"`` or ``"evening"`` to place flexible habits in that part of the
            day; None for sensible defaults per habit.
        minutes_available: Free minutes per day; no day of any phase asks for more. None for no
            limit.
        existing_habits: Titles of the user's current habits: new habits are stacked onto a
            matching one where it fits, and a habit that upgrades an existing one says so.
        today: The plan's start date.

    Returns:
        The plan: at least three phases (foundation → core → advanced, more for long goals),
        whose lengths add up to the goal's time frame.
    """
    template = _TEMPLATES.get(goal.category, _TEMPLATES["general"])
    fields = _fields(goal)
    budget = max(1, minutes_available) if minutes_available is not None else None
    if chronotype not in ("morning", "evening"):
        chronotype = None

    total_days = max(3, goal.timeframe_days)
    stages = _stages(_phase_count(total_days))
    lengths = _phase_days(total_days, len(stages))
    planned = {
        "foundation": [_plan_habit(h, fields, goal) for h in template.foundation.habits],
        "core": [_plan_habit(h, fields, goal) for h in template.core.habits],
        "advanced": [_plan_habit(h, fields, goal) for h in template.advanced.habits],
        "review": [_plan_habit(template.review, fields, goal)],
    }
    tiny_name = next(h.name for h in planned["foundation"] if h.minutes <= TINY_MINUTES)

    phases: list[SequencePhase] = []
    latest: dict[str, _Planned] = {}  # each habit as last scheduled
    latest_phase: dict[str, int] = {}
    carried: dict[str, _Planned] = {}
    anchors_by_slot: dict[str, list[tuple[str, int]]] = {}
    start = today
    for number, (stage, days) in enumerate(zip(stages, lengths, strict=True), start=1):
        spec = _phase_spec(stage, template, planned, latest, fields, more_days=budget is None)
        names = {h.name for h in spec.habits}
        carry_list = [h for n, h in carried.items() if n not in names]
        keep = tiny_name if stage == "foundation" else None
        # Core and advanced phases leave some of the budget free, so the phase that steps them
        # up has room to grow.
        headroom = {"core": 0.8, "advanced": 0.85}.get(stage, 1.0)
        stage_budget = None if budget is None else max(1, math.floor(budget * headroom))
        habits = _assign_days(list(spec.habits), _day_loads([], carry_list))
        fitted, fitted_carry = _fit_budget(habits, carry_list, stage_budget, keep)
        if _backslides(fitted, latest):
            # The time budget can't take the step up: returning habits keep last phase's dose
            # (which fitted), and only the new ones are shrunk or dropped.
            again = {h.name: latest[h.name] for h in spec.habits if h.name in latest}
            fresh = _assign_days(
                [h for h in spec.habits if h.name not in again],
                _day_loads(list(again.values()), carry_list),
            )
            by_name = {**again, **{h.name: h for h in fresh}}
            fitted, fitted_carry = _fit_budget(
                [by_name[h.name] for h in spec.habits],
                carry_list,
                stage_budget,
                keep,
                frozenset(again),
            )
        habits, carry_list = fitted, fitted_carry

        kept = [h.name for h in carry_list]
        anchors: dict[str, tuple[str, int]] = {}
        for slot, candidates in anchors_by_slot.items():
            alive = [c for c in candidates if c[0] in kept]
            if alive:
                anchors[slot] = alive[-1]
            elif not kept:
                anchors[slot] = candidates[0]
        resolved = _resolve(habits, chronotype, anchors, existing_habits, number == 1)
        if phases and not kept and not any(f'"{n}"' in t for _, _, t in resolved for n in latest):
            # A budget of a minute or two leaves room for nothing carried: the new habit takes
            # over the previous phase's slot, which is what it builds on.
            previous = phases[-1].habits[0]
            habit, time, _ = resolved[0]
            if _slot(habit.anchor, chronotype) == _slot(previous.time_anchor, chronotype):
                time = previous.time_of_day
            resolved[0] = (habit, time, f'In place of "{previous.name}"')

        out: list[SequenceHabit] = []
        for habit, time, trigger in resolved:
            rationale = habit.rationale
            match = _matches_existing(habit.name, existing_habits)
            if match is not None:
                rationale += f' (Builds on your existing "{match}" habit.)'
            out.append(
                SequenceHabit(
                    name=habit.name,
                    frequency=_frequency(habit.per_week),
                    duration_minutes=habit.minutes,
                    time_of_day=time,
                    stack_trigger=trigger,
                    progression=_progression_text(
                        habit, stage, latest.get(habit.name), latest_phase.get(habit.name)
                    ),
                    days=tuple(_DAY_NAMES[d] for d in habit.days),
                    rationale=rationale,
                    time_anchor=habit.anchor,
                    schedule=_schedule(habit.per_week, habit.days),
                )
            )
        end = start + timedelta(days=days - 1)
        criteria = [spec.criterion]
        if stage == "foundation":
            criteria.append(f'Never miss "{tiny_name}" twice in a row')
        criteria.append(
            "Move on when this phase's habits are done on at least 80% of scheduled days for two"
            " weeks in a row, not just when the calendar says so"
        )
        phases.append(
            SequencePhase(
                phase_number=number,
                name=spec.name,
                duration_weeks=_weeks_value(days),
                duration_days=days,
                start_date=start,
                end_date=end,
                focus=spec.focus,
                success_criteria=tuple(criteria),
                habits=tuple(out),
                carried_forward=tuple(kept),
            )
        )
        # Later phases stack onto the latest daily habit that stays on in each part of the day,
        # or, when none survives the time budget, onto the foundation's habit there.
        for habit, time, _ in resolved:
            latest[habit.name] = habit
            latest_phase[habit.name] = number
            slot = _slot(habit.anchor, chronotype)
            anchor = (habit.name, _end_minute(time, habit.minutes))
            if habit.carry:
                carried[habit.name] = habit
            if (habit.carry and habit.per_week >= 7) or (
                stage == "foundation" and slot not in anchors_by_slot
            ):
                anchors_by_slot.setdefault(slot, []).append(anchor)
        start = end + timedelta(days=1)

    total = sum(lengths)
    weeks_label = f"{round(total / 7)}-week" if total >= 14 else f"{total}-day"
    return HabitSequencePlan(
        name=f"{goal.primary_focus}: {weeks_label} plan",
        description=(
            f'{len(phases)} phases for "{goal.objective}": '
            + " → ".join(p.name for p in phases)
            + ". It starts with daily habits of a few minutes and adds more only once they are"
            " stable."
        ),
        goal=goal.objective,
        domain=goal.domain,
        category=goal.category,
        total_duration_weeks=_weeks_value(total),
        total_duration_days=total,
        start_date=today,
        end_date=today + timedelta(days=total - 1),
        phases=tuple(phases),
    )


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _minutes_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def sequence_checks(
    plan: HabitSequencePlan,
    timeframe_days: int | None,
    *,
    min_phases: int = 3,
    keywords_any: Sequence[str] = (),
    chronotype: str | None = None,
    minutes_available: int | None = None,
) -> list[str]:
    """List the ways a plan breaks the sequencing rules; an empty list means it meets them.

    Args:
        plan: The plan to check.
        timeframe_days: The goal's time frame; phase lengths must add up to it within 15%.
            None skips that check.
        min_phases: The least number of phases.
        keywords_any: When given, some habit name must contain one of them (case-insensitive).
        chronotype: When given, flexible habits must sit in the morning (before noon) for
            ``"morning"`` or in the evening (from 17:00) for ``"evening"``.
        minutes_available: When given, no day of any phase may need more minutes than this.

    Returns:
        Human-readable problems, empty when the plan is fine.
    """
    problems: list[str] = []
    phases = plan.phases
    if len(phases) < max(3, min_phases):
        problems.append(f"only {len(phases)} phases, need at least {max(3, min_phases)}")
    if [p.phase_number for p in phases] != list(range(1, len(phases) + 1)):
        problems.append("phase numbers are not 1..n in order")
    if not phases:
        return problems

    first = phases[0]
    if not first.habits:
        problems.append("phase 1 has no habits")
    if not any(h.duration_minutes <= TINY_MINUTES for h in first.habits):
        problems.append("phase 1 has no habit of two minutes or less")
    for habit in first.habits:
        if habit.frequency != "daily":
            problems.append(f'phase 1 habit "{habit.name}" is not daily')
        if habit.duration_minutes > FOUNDATION_MAX_MINUTES:
            problems.append(f'phase 1 habit "{habit.name}" is longer than 10 minutes')

    seen: dict[str, SequenceHabit] = {h.name: h for h in first.habits}
    for phase in phases[1:]:
        if not phase.habits:
            problems.append(f"phase {phase.phase_number} has no habits")
        builds = bool(phase.carried_forward) or any(
            any(f'"{name}"' in h.stack_trigger for name in seen) for h in phase.habits
        )
        if not builds:
            problems.append(f"phase {phase.phase_number} does not build on earlier habits")
        for habit in phase.habits:
            if not habit.progression.strip():
                problems.append(f'habit "{habit.name}" has no progression')
        seen.update({h.name: h for h in phase.habits})

    for phase in phases:
        for habit in phase.habits:
            if habit.duration_minutes < 1 or not habit.rationale.strip() or not habit.name.strip():
                problems.append(f'habit "{habit.name}" lacks a duration, name or rationale')

    total_days = sum(p.duration_weeks for p in phases) * 7
    if (
        timeframe_days is not None
        and timeframe_days > 0
        and abs(total_days - timeframe_days) > TIMEFRAME_TOLERANCE * timeframe_days
    ):
        problems.append(f"phases add up to {round(total_days)} days, not {timeframe_days} (±15%)")

    if keywords_any:
        names = " ".join(h.name.lower() for p in phases for h in p.habits)
        if not any(k.lower() in names for k in keywords_any):
            problems.append(f"no habit name contains any of {list(keywords_any)}")

    if chronotype in ("morning", "evening"):
        for phase in phases:
            for habit in phase.habits:
                if habit.time_anchor not in ("am", "pm"):
                    continue
                minute = _minutes_of(habit.time_of_day)
                if chronotype == "morning" and minute >= 12 * 60:
                    problems.append(f'"{habit.name}" is not in the morning for a morning person')
                if chronotype == "evening" and minute < 17 * 60:
                    problems.append(f'"{habit.name}" is not in the evening for an evening person')

    if minutes_available is not None:
        latest: dict[str, SequenceHabit] = {}
        for phase in phases:
            load = dict.fromkeys(_DAY_NAMES.values(), 0)
            in_phase = [*phase.habits, *(latest[n] for n in phase.carried_forward if n in latest)]
            for habit in in_phase:
                for day in habit.days:
                    load[day] += habit.duration_minutes
            busiest = max(load.values())
            if busiest > minutes_available:
                problems.append(
                    f"phase {phase.phase_number} needs {busiest} minutes on its busiest day, "
                    f"more than {minutes_available}"
                )
            latest.update({h.name: h for h in phase.habits})
    return problems
