"""Scored intent cue patterns: the rule layer the trained classifier is blended with."""

from __future__ import annotations

import re

from services.agent.nlu.domains import QUIT_OBJECT
from services.agent.nlu.schema import Domain, HabitAction, Intent, ScheduleHint, Sentiment
from services.agent.nlu.scope import QUESTION_START
from services.agent.nlu.text import FIRST_PERSON, RECURRENCE, WEEKDAY_RE

# Intent
# --------------------------------------------------------------------------------------------

_INTENT_CUES: tuple[tuple[Intent, HabitAction | None, str, float], ...] = (
    # goal setting
    (
        "goal_setting",
        None,
        r"\b(?:habit sequence|sequence of habits|habit plan|training plan|action plan|game plan"
        r"|step[- ]by[- ]step plan|\d+[- ](?:week|month|day)[- ](?:plan|program|programme))\b",
        4.0,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:create|make|build|design|give me|generate|put together|draft|need|want)\b.{0,30}\b"
        r"(?:plan|program|programme|sequence|roadmap)\b",
        3.5,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:i want to|i wanna|i'?d like to|i would like to|i'?d love to|i hope to|i'?m hoping to"
        r"|my goal is|my goal for|goal is to|i need to|i plan to|i'?m planning to|i'?m trying to"
        r"|i am trying to|i'?m going to|i will|i aim to|i'?m aiming to|help me"
        r"|how (?:can|do|should)"
        r" i|i wish i could|i should|i must|teach me to|get me to|i want (?:a|an|more|better)"
        r"|i'?m determined to|i'?d like (?:a|an|more|better)|i'?m ready to|i have decided to"
        r"|i'?ve decided to|this year i|i'?m training for)\b",
        2.0,
    ),
    (
        "goal_setting",
        None,
        r"^(?:please )?(?:learn|run|lose|save|read|quit|stop|get|become|build|improve|start|train"
        r"|pay off|write|meditate|sleep|drink|eat|cut|reduce|increase|gain|finish|master|practice"
        r"|practise|study|walk|exercise|begin|prepare for|be more|be able)\b",
        2.0,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:quit|stop|give up|kick|cut (?:out|back|down))\b.{0,20}" + QUIT_OBJECT,
        3.0,
    ),
    (
        "goal_setting",
        None,
        r"\b(?:get (?:fit|healthy|healthier|in shape|stronger|better at|back into)|become (?:a )?"
        r"(?:morning person|runner|reader|writer|early riser)|train for)\b",
        2.5,
    ),
    # habit actions
    (
        "habit_action",
        "create",
        r"\b(?:create|add|make|set ?up|start|begin|build|establish|new)\b(?:(?!\b(?:sequence|plan"
        r"|program|programme)\b).){0,40}\b(?:habit|routine|ritual|checklist|tracker)\b",
        3.0,
    ),
    (
        "habit_action",
        "create",
        r"(?<!stop )(?<!no longer )\b(?:track|tracking|keep track of)\s+"
        r"(?:when|how|my|each|every|the|daily|whether|if|how"
        r" often|it)\b",
        3.0,
    ),
    (
        "habit_action",
        "log",
        r"^(?:please )?(?:log|record|mark|check off|tick off)\b|\b(?:log|record|mark)\b.{0,40}\b"
        r"(?:done|complete|completed|for today|today|yesterday|as done)\b",
        3.5,
    ),
    (
        "habit_action",
        "log",
        r"\bi (?:just |already |have |'ve )?(?:did|done|finished|completed|ran|walked|jogged|read"
        r"|meditated|journaled|journalled|stretched|studied|practi[cs]ed|drank|went|worked out"
        r"|lifted|swam|cycled|biked|hiked|wrote|saved|cooked|slept)\b",
        2.5,
    ),
    ("habit_action", "log", r"\bi (?:just |already )?(?:skipped|missed)\b", 2.0),
    ("habit_action", "log", r"\bjust (?:finished|completed|did|got back from)\b", 2.5),
    (
        "habit_action",
        "log",
        r"^(?:just |i )?(?:did|done with|finished|completed)\b(?! it\b| i\b| you\b| we\b)"
        r"(?!.*\?)|^done\b",
        3.0,
    ),
    (
        "habit_action",
        "add_sub_habits",
        r"\badd\b.{1,60}\b(?:to|into) (?:my|the)\b.{0,30}\b(?:routine|habit|stack|checklist)\b",
        3.5,
    ),
    ("habit_action", "add_sub_habits", r"\bsub-?habits?\b", 3.5),
    (
        "habit_action",
        "assign_tags",
        r"\b(?:tag|label|categori[sz]e)\b.{0,40}\b(?:as|with|under)\b|\badd (?:the |a |an )?[\w-]+"
        r" (?:tag|label)\b|\btags?\b.{0,30}\b(?:to|on) (?:my|the)\b|\b(?:tag|label) (?:my|it|this"
        r"|the)\b",
        4.0,
    ),
    (
        "habit_action",
        "suggest_tags",
        r"\b(?:suggest|recommend|propose|what|which|come up with|give me|any|ideas for)\b.{0,25}\b"
        r"(?:tags|labels|categories)\b",
        4.5,
    ),
    (
        "habit_action",
        "remind",
        r"\bremind me\b|\breminders?\b|\bnotify me\b|\balert me\b|\bnudge me\b|\bping me\b",
        2.5,
    ),
    # Managing an existing reminder ("stop reminding me…", "move my … reminder to 9pm") is a
    # reminder request, not a habit to quit or a schedule question.
    (
        "habit_action",
        "remind",
        r"\b(?:stop|quit|cancel|turn off|switch off|disable|delete|remove|no more)\b.{0,30}"
        r"\bremind(?:ing|ers?)?\b|\b(?:move|change|shift|reschedule|update|switch|push)\b.{0,30}"
        r"\breminders?\b",
        4.0,
    ),
    (
        "habit_action",
        "update",
        r"\b(?:rename|edit|update|change|modify|increase|decrease|lower|raise|bump)\b.{0,30}\b"
        r"(?:habit|target|goal|name|title|amount)\b",
        2.2,
    ),
    (
        "habit_action",
        "delete",
        r"\b(?:delete|remove|archive|pause|stop tracking|get rid of|drop)\b.{0,30}\b"
        r"(?:habit|routine"
        r"|tracking|tracker)s?\b",
        3.0,
    ),
    (
        "habit_action",
        "delete",
        r"\bstop tracking\b|\bno longer track\b|\bdon'?t (?:want to )?track\b",
        3.5,
    ),
    (
        "habit_action",
        "update",
        r"\b(?:make|set|turn)\b.{0,30}\b(?:shorter|longer|easier|harder|smaller|bigger|lighter)\b",
        3.2,
    ),
    # progress
    (
        "progress_analysis",
        None,
        r"\bhow (?:am|have) i (?:been )?(?:doing|going|progressing|tracking|getting on)\b",
        3.5,
    ),
    ("progress_analysis", None, r"\bhow'?s my\b|\bhow is my\b|\bhow are my\b", 2.5),
    ("progress_analysis", None, r"\bprogress\b", 2.5),
    ("progress_analysis", None, r"\b(?:am|are) (?:i|we) on track\b", 3.0),
    (
        "progress_analysis",
        None,
        r"\bcompletion rate\b|\bsuccess rate\b|\bhow consistent\b|\bhow often (?:did|have) i\b"
        r"|\bhow many (?:times|days|workouts|sessions)\b",
        3.0,
    ),
    (
        "progress_analysis",
        None,
        r"\b(?:review|analy[sz]e|check|assess|evaluate|summari[sz]e|recap)\b.{0,20}\b(?:habits?"
        r"|progress|week|month|performance|streaks?|consistency)\b",
        3.0,
    ),
    (
        "progress_analysis",
        None,
        r"\bwhat'?s my\b.{0,30}\bstreaks?\b|\bhow long is my\b.{0,20}\bstreak\b|\bhow did i do\b"
        r"|\bdid i do (?:better|worse|well|ok)\b|\bthan last (?:week|month|year)\b"
        r"|\bcompared (?:to|with) last\b",
        3.0,
    ),
    ("progress_analysis", None, r"\b(?:weekly|monthly) (?:summary|recap|review)\b", 2.5),
    (
        "progress_analysis",
        None,
        r"\b(?:show|give|tell)(?: me)? my (?:streaks?|progress|stats|habits|consistency)\b",
        3.0,
    ),
    # troubleshooting
    (
        "troubleshooting",
        None,
        r"\b(?:missed|skipped|forgot|failed|broke|slipped|blew)\b.{0,40}\bagain\b",
        3.0,
    ),
    (
        "troubleshooting",
        None,
        r"\bkeep (?:on )?(?:skipping|missing|forgetting|failing|breaking|snoozing|hitting snooze"
        r"|quitting|giving up|slipping|falling off|procrastinating|putting off|blowing)\b",
        3.5,
    ),
    (
        "troubleshooting",
        None,
        r"\b(?:can'?t|cannot|can not|couldn'?t|unable to)\b.{0,12}\b(?:seem to|stick|stay|keep"
        r"|get myself|make myself|manage|find (?:the )?time|make time|stop|wake up)\b",
        3.0,
    ),
    ("troubleshooting", None, r"\bstruggl\w*", 2.5),
    (
        "troubleshooting",
        None,
        r"\bstreak (?:broke|ended|reset|is gone|died)\b|\bbroke my streak\b|\blost my streak\b"
        r"|\bstreak\b.{0,10}\b(?:broke|broken|reset|gone)\b",
        3.5,
    ),
    ("troubleshooting", None, r"\bwhy do i (?:always|keep|never)\b|\bwhy can'?t i\b", 3.0),
    ("troubleshooting", None, r"\bfail(?:ed|ing|s)? (?:at|to)\b|\bfailing\b", 2.0),
    (
        "troubleshooting",
        None,
        r"\btoo (?:hard|difficult|much|ambitious|long)\b|\bno time\b|\bnot enough time\b"
        r"|\btoo busy\b"
        r"|\boverwhelm\w*",
        2.0,
    ),
    (
        "troubleshooting",
        None,
        r"\bfell off\b|\bfall(?:ing)? off\b|\boff track\b|\bback on track\b|\brelaps\w*"
        r"|\bslipp(?:ed|ing)\b|\bkeep forgetting\b|\bforgot\b",
        2.5,
    ),
    (
        "troubleshooting",
        None,
        r"\bnot working\b|\bisn'?t working\b|\bdoesn'?t work\b|\bhard to\b|\bdifficult to\b"
        r"|\bstuck\b|\bplateau\w*",
        1.5,
    ),
    (
        "troubleshooting",
        None,
        r"\bwhat (?:should|can) i do (?:when|if|about)\b|\bhow (?:do|can) i stop (?:skipping"
        r"|missing|forgetting|procrastinating)\b",
        2.5,
    ),
    # motivation (achievements are scored from the sentiment pass, see score_intent)
    (
        "motivation",
        None,
        r"\bunmotivated\b|\bdemotivated\b|\bno motivation\b|\bnot motivated\b"
        r"|\black(?:ing)? (?:of )?"
        r"motivation\b|\bmotivat(?:e|ion) me\b|\bneed (?:some )?motivation\b|\bpep talk\b"
        r"|\bencourag\w*|\binspir\w*|\bfeel(?:ing)? like giving up\b|\bwant to give up\b"
        r"|\bgive up\b(?! (?:smok|drink|alcohol|sugar|caffeine|soda|vap|social|coffee))|\blazy\b"
        r"|\bdiscouraged\b|\bburn(?:ed|t)[ -]?out\b|\blosing steam\b|\bwhat'?s the point\b"
        r"|\bhopeless\b|\bcheer me\b|\bkeep me going\b|\bmotivation\b|\bproud\b",
        3.0,
    ),
    ("motivation", None, r"\bfinally\b|\bi'?m so happy\b|\bexcited\b", 1.0),
    ("motivation", None, r"\bdisappointed in myself\b|\bdisappointed\b|\bashamed\b", 2.5),
    # schedule adjustment
    (
        "schedule_adjustment",
        None,
        r"\b(?:move|reschedule|shift|switch|change|swap|push|set|put)\b.{0,40}\b(?:to|into|for)\b"
        r"(?: the)? (?:mornings?|evenings?|afternoons?|nights?|night ?time|weekends?|weekdays?"
        r"|" + WEEKDAY_RE + r"|\d{1,2}(?::\d{2})? ?(?:am|pm)|\d{1,2}:\d{2}|earlier|later|lunch"
        r"|lunchtime"
        r"|bedtime|before|after)\b",
        3.5,
    ),
    (
        "schedule_adjustment",
        None,
        r"\breschedul\w*|\bdifferent (?:time|day)s?\b|\banother (?:time|day)\b|\bearlier in the day"
        r"\b|\blater in the day\b|\bmove (?:it|them)\b",
        3.0,
    ),
    (
        "schedule_adjustment",
        None,
        r"\b(?:best|optimal|ideal|right|good|better) time\b|\bwhen should i\b|\bwhat time should\b"
        r"|\bwhat time (?:is best|works best)\b|\bwhen is the best\b|\bbest days?\b",
        3.5,
    ),
    ("schedule_adjustment", None, r"\btoo early\b|\btoo late\b", 2.0),
    (
        "schedule_adjustment",
        None,
        r"\b(?:i'?d rather|i would rather|i prefer to|i'?d prefer to|can i|could i|let me)"
        r" (?:do|have|move|switch|practice|practise)\b.{0,40}\b(?:mornings?|evenings?|afternoons?"
        r"|nights?|weekends?|weekdays?|lunch(?:time)?|"
        + WEEKDAY_RE
        + r"|\d{1,2}(?::\d{2})? ?(?:am|pm))\b",
        3.2,
    ),
    (
        "schedule_adjustment",
        None,
        r"\b(?:change|adjust|update|rearrange|modify)\b.{0,20}\b(?:schedule|time|days|timing"
        r"|reminder time)\b",
        3.2,
    ),
    # integration
    (
        "integration",
        None,
        r"\b(?:fitbit|apple health|healthkit|google fit|garmin|strava|oura|whoop|apple watch"
        r"|smart ?watch|my watch|fitness tracker|my tracker|myfitnesspal|samsung health"
        r"|health connect|withings|peloton|google calendar|outlook calendar|my calendar|ynab"
        r"|plaid|my bank|my phone'?s? (?:step|health)|health app|step counter|pedometer)\b",
        2.5,
    ),
    (
        "integration",
        None,
        r"\b(?:connect|sync|link|integrat\w*|import|pull (?:in )?(?:my )?data|disconnect|unlink"
        r"|hook up)\b",
        1.5,
    ),
    ("integration", None, r"\baccording to my (?:watch|tracker|phone|fitbit|app|garmin)\b", 3.5),
    ("integration", None, r"\b(?:heart rate|hrv|resting hr|step count|sleep data|vo2)\b", 1.5),
    # insights
    ("insights", None, r"\binsights?\b", 3.5),
    (
        "insights",
        None,
        r"\b(?:patterns?|trends?|charts?|graphs?|plot|visuali[sz]\w*|heat ?map|dashboard|report"
        r"|stats|statistics|analytics|correlat\w*|breakdown)\b",
        3.5,
    ),
    (
        "insights",
        None,
        r"\bwill i (?:actually |really |ever |be able to )?(?:stick|keep|manage|make it|succeed"
        r"|reach|hit|achieve|last|follow through|do it)\b|\bchances?\b|\blikel(?:y|ihood)\b"
        r"|\bpredict\w*|\bprobability\b|\bodds\b|\bforecast\b|\bis (?:it|this|that) realistic\b"
        r"|\bcan i realistically\b|\bam i likely\b",
        3.5,
    ),
    (
        "insights",
        None,
        r"\b(?:which|what)(?:'?s| is| are)? (?:my )?(?:best|worst|strongest|weakest|most|least)"
        r" (?:habit|day|time|consistent|performing)",
        2.8,
    ),
    (
        "insights",
        None,
        r"\bhabit (?:stacking|loop|formation|science)\b|\b2[- ]minute rule\b|\bhow long (?:does it"
        r" take|to form|to build|until)\b|\bimplementation intentions?\b|\batomic habits\b"
        r"|\bcue.{0,20}reward\b|\bscience (?:says|behind)\b|\bresearch (?:says|on)\b",
        3.0,
    ),
)
_COMPILED_INTENT_CUES = tuple((i, a, re.compile(p), w) for i, a, p, w in _INTENT_CUES)
_PRIORITY: tuple[Intent, ...] = (
    "habit_action",
    "schedule_adjustment",
    "troubleshooting",
    "integration",
    "insights",
    "progress_analysis",
    "motivation",
    "goal_setting",
)


def score_intent(
    text: str,
    *,
    domain: Domain | None,
    has_target: bool,
    known_habit_hit: bool,
    schedule: ScheduleHint | None,
    sentiment: Sentiment,
    achievement: bool,
) -> tuple[Intent, float, HabitAction | None]:
    scores: dict[Intent, float] = {}
    action_scores: dict[HabitAction, float] = {}
    for intent, cue_action, pattern, weight in _COMPILED_INTENT_CUES:
        if pattern.search(text):
            scores[intent] = max(scores.get(intent, 0.0), weight) + 0.1 * min(
                scores.get(intent, 0.0), weight
            )
            if cue_action is not None:
                action_scores[cue_action] = max(action_scores.get(cue_action, 0.0), weight)

    aspiring = scores.get("goal_setting", 0.0) >= 2.0
    if domain is not None and aspiring:
        scores["goal_setting"] = scores.get("goal_setting", 0.0) + (1.5 if has_target else 0.5)
    if action_scores.get("log", 0.0) >= 2.5 and re.search(
        r"\b(?:today|yesterday|this morning|tonight|this evening|just now)\b", text
    ):
        scores["habit_action"] = scores.get("habit_action", 0.0) + 1.0
    if action_scores.get("remind") and RECURRENCE.search(text):
        scores["habit_action"] = scores.get("habit_action", 0.0) + 1.0
    if (
        re.search(r"\binstead\b", text)
        and schedule is not None
        and (schedule.days or schedule.time_of_day)
    ):
        scores["schedule_adjustment"] = max(scores.get("schedule_adjustment", 0.0), 3.0)
    if (
        RECURRENCE.search(text)
        and re.search(r"\b(?:every|each|daily|weekly|nightly|on " + WEEKDAY_RE + r")\b", text)
        and max(scores.values(), default=0.0) < 2.5
    ):
        scores["habit_action"] = max(scores.get("habit_action", 0.0), 2.4)
        action_scores.setdefault("create", 2.4)
    if achievement:
        bonus = 0.5 if sentiment.label == "positive" else 0.0
        scores["motivation"] = max(scores.get("motivation", 0.0), 3.0) + bonus
    if sentiment.frustration and scores.get("troubleshooting"):
        scores["troubleshooting"] += 0.5

    if not scores or max(scores.values()) < 1.5:
        # No cue fired: a question is a request for knowledge (answered from the habit-science
        # corpus), a bare goal domain is a goal, and small talk gets a supportive reply.
        if sentiment.label == "negative":
            return "motivation", 0.4, None
        if QUESTION_START.search(text) and not FIRST_PERSON.search(text):
            return "insights", 0.4, None
        if domain is not None:
            return "goal_setting", 0.45, None
        if known_habit_hit:
            return "progress_analysis", 0.4, None
        if QUESTION_START.search(text):
            return "insights", 0.35, None
        return "motivation", 0.3, None

    best = max(scores, key=lambda i: (scores[i], -_PRIORITY.index(i) if i in _PRIORITY else -99))
    ranked = sorted(scores.values(), reverse=True)
    margin = ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)
    confidence = round(min(0.97, 0.45 + 0.08 * ranked[0] + 0.06 * margin), 2)
    if best != "habit_action":
        return best, confidence, None
    if not action_scores:
        return best, confidence, "create"
    chosen: HabitAction = max(action_scores, key=action_scores.__getitem__)
    return best, confidence, chosen


# --------------------------------------------------------------------------------------------
