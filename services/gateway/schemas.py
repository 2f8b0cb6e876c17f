"""The public API's request and response bodies, and the validation rules they carry.

Field names are the contract of DESIGN section 4. Rules that need more than one field (a target
only on quantity habits, ``times`` within what a period allows) live in validators here, so the
same rules hold for the HTTP API and for the habit rpc the agent uses.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from services.gateway.fields import (
    ApiDate,
    DisplayName,
    Name,
    PositiveQuantity,
    Quantity,
    ShortName,
    UnitName,
)
from services.gateway.password_policy import MAX_LENGTH, MIN_LENGTH, password_problem
from shared.localtime import WEEKDAYS, is_valid_zone, parse_day_start

MAX_SUB_HABITS = 20
MAX_TAGS = 20
Title = Name
Unit = Literal["day", "week", "month", "year"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_ORDER: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Kind = Literal["boolean", "quantity", "negative"]
Chronotype = Literal["morning", "intermediate", "evening"]

# The fewest days a period of each unit can have: "times" counts distinct dates, so a period can
# never hold more completions than this (February caps a monthly habit at 28 a month).
_MIN_DAYS_PER_UNIT = {"day": 1, "week": 7, "month": 28, "year": 365}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def max_times(unit: str, every: int) -> int:
    """Return the largest ``times`` an ``interval`` schedule of ``every`` ``unit`` allows."""
    return _MIN_DAYS_PER_UNIT[unit] * every


class IntervalSchedule(Body):
    type: Literal["interval"] = "interval"
    every: int = Field(default=1, ge=1, le=366)
    unit: Unit = "day"
    times: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _times_fit_period(self) -> IntervalSchedule:
        limit = max_times(self.unit, self.every)
        if self.times > limit:
            raise ValueError(
                f"times={self.times} does not fit a period of {self.every} {self.unit}(s): "
                f"at most {limit}"
            )
        return self


class WeekdaysSchedule(Body):
    type: Literal["weekdays"]
    days: list[Weekday] = Field(min_length=1, max_length=7)

    @field_validator("days")
    @classmethod
    def _distinct_in_order(cls, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise ValueError("days must not repeat")
        return sorted(days, key=WEEKDAY_ORDER.index)


Schedule = Annotated[IntervalSchedule | WeekdaysSchedule, Field(discriminator="type")]


class Target(Body):
    value: PositiveQuantity
    unit: UnitName
    direction: Literal["at_least", "at_most"] = "at_least"


def check_kind_and_target(kind: str, target: Target | dict[str, Any] | None) -> None:
    """Raise ``ValueError`` unless quantity habits have a target and no other kind has one."""
    if kind == "quantity" and target is None:
        raise ValueError("a quantity habit needs a target {value, unit, direction}")
    if kind != "quantity" and target is not None:
        raise ValueError(f"a {kind} habit takes no target; only quantity habits do")


# --- accounts -------------------------------------------------------------------------------


def _check_zone(zone: str) -> str:
    if not is_valid_zone(zone):
        raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as Europe/Paris")
    return zone


def normalise_email(value: str) -> str:
    """One spelling per address: surrounding spaces dropped, lower case."""
    return value.strip().lower()


def _check_new_password(value: str) -> str:
    problem = password_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


NewPassword = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class RegisterIn(Body):
    email: str = Field(max_length=320)
    password: NewPassword
    timezone: str = "UTC"
    display_name: DisplayName | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = normalise_email(value)
        if not _EMAIL.match(value):
            raise ValueError("not an email address")
        return value

    _zone = field_validator("timezone")(_check_zone)
    _password = field_validator("password")(_check_new_password)


class TokenIn(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=200)

    _email = field_validator("email")(normalise_email)


class RefreshIn(Body):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutIn(Body):
    """Send the refresh token too, to end the whole session and not only this access token."""

    refresh_token: str | None = Field(default=None, max_length=200)


class PasswordChangeIn(Body):
    current_password: str = Field(max_length=200)
    new_password: NewPassword

    _password = field_validator("new_password")(_check_new_password)


class RegisterOut(BaseModel):
    user_id: uuid.UUID
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str | None
    timezone: str
    day_start: str
    week_start: str
    chronotype: Chronotype | None
    preferences: dict[str, Any]


class AIPreferencesIn(BaseModel):
    """The assistant preferences a user may set in ``preferences`` (``null`` clears one).

    Other keys of the free ``preferences`` object are kept as they are; these are checked because
    the learning service reads them (``rpc.learning.preferences.v1``).
    """

    model_config = ConfigDict(extra="allow")
    communication_style: Literal["concise", "detailed", "encouraging", "direct"] | None = None
    detail_level: Literal["minimal", "moderate", "comprehensive"] | None = None
    emoji_preference: Literal["never", "rarely", "sometimes", "often"] | None = None
    notification_frequency: Literal["minimal", "moderate", "active"] | None = None
    proactive_suggestions: StrictBool | None = None


class MePatch(Body):
    display_name: DisplayName | None = None
    timezone: str | None = None
    day_start: str | None = None
    week_start: str | None = None
    chronotype: Chronotype | None = None
    preferences: dict[str, Any] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @field_validator("day_start")
    @classmethod
    def _day_start(cls, value: str | None) -> str | None:
        if value is not None:
            parse_day_start(value)
        return value

    @field_validator("week_start")
    @classmethod
    def _week_start(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in WEEKDAYS:
            raise ValueError(f"week_start must be one of {', '.join(WEEKDAYS)}")
        return None if value is None else value.lower()

    @field_validator("preferences")
    @classmethod
    def _known_preferences(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            AIPreferencesIn.model_validate(value)
        return value


# --- goals ----------------------------------------------------------------------------------

GoalStatus = Literal["active", "completed", "abandoned"]


class GoalIn(Body):
    title: Title
    description: str | None = Field(default=None, max_length=5000)
    target_date: ApiDate | None = None


class GoalPatch(Body):
    title: Title | None = None
    description: str | None = Field(default=None, max_length=5000)
    target_date: ApiDate | None = None
    status: GoalStatus | None = None


class GoalOut(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None
    target_date: date | None
    status: GoalStatus
    created_at: datetime
    updated_at: datetime


# --- habits ---------------------------------------------------------------------------------

SubHabitTitle = Name
TagName = ShortName


class HabitIn(Body):
    title: Title
    description: str | None = Field(default=None, max_length=5000)
    kind: Kind = "boolean"
    schedule: Schedule = Field(default_factory=IntervalSchedule)
    target: Target | None = None
    start_date: ApiDate | None = None
    sub_habits: list[SubHabitTitle] = Field(default_factory=list, max_length=MAX_SUB_HABITS)
    tags: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS)
    goal_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _kind_and_target(self) -> HabitIn:
        check_kind_and_target(self.kind, self.target)
        return self


class HabitPatch(Body):
    """Fields to change; ``kind`` is fixed at creation (its logs would change meaning)."""

    title: Title | None = None
    description: str | None = Field(default=None, max_length=5000)
    schedule: Schedule | None = None
    target: Target | None = None
    start_date: ApiDate | None = None
    sub_habits: list[SubHabitTitle] | None = Field(default=None, max_length=MAX_SUB_HABITS)
    tags: list[TagName] | None = Field(default=None, max_length=MAX_TAGS)
    goal_id: uuid.UUID | None = None


class SubHabitIn(Body):
    title: SubHabitTitle


class SubHabitOut(BaseModel):
    id: uuid.UUID
    title: str
    position: int


class HabitOut(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None
    kind: Kind
    schedule: dict[str, Any]
    target: dict[str, Any] | None
    start_date: date
    sub_habits: list[SubHabitOut]
    tags: list[str]
    goal_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


# --- logs -----------------------------------------------------------------------------------


class LogIn(Body):
    date: ApiDate | None = None
    value: Quantity | None = None
    status: Literal["done", "skip"] = "done"
    note: str | None = Field(default=None, max_length=2000)


class LogOut(BaseModel):
    id: uuid.UUID
    habit_id: uuid.UUID
    date: dt.date
    value: float | None
    status: Literal["done", "skip"]
    note: str | None
    created_at: datetime
