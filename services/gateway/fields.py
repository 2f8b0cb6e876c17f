"""Field types that carry the API's input limits, so every route states them the same way.

Names are 1–200 characters of printable text; dates lie within 1900–2200 (a year 9999 log or a
year 1 start date is a typo or a probe, and either overflows date arithmetic downstream);
quantities are finite and bounded.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, BeforeValidator, Field

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2200, 12, 31)
MAX_QUANTITY = 1e9


def _no_controls(value: str) -> str:
    # Control characters (NUL, escapes; bidi overrides are format characters, also refused)
    # break logs, terminals and CSV exports, and can disguise a name.
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _printable(value: str) -> str:
    _no_controls(value)
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _iso_text(value: object) -> object:
    # Pydantic's lax mode would read 0 as 1970-01-01 (a Unix timestamp): a date is ISO text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


def _in_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
ShortName = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(_printable)]
UnitName = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_printable)]
DisplayName = Annotated[str, Field(max_length=100), AfterValidator(_no_controls)]
ApiDate = Annotated[date, BeforeValidator(_iso_text), AfterValidator(_in_range)]
Quantity = Annotated[float, Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]
PositiveQuantity = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
FromDate = Annotated[
    ApiDate | None, Query(alias="from", description="first local date (inclusive)")
]
ToDate = Annotated[ApiDate | None, Query(description="last local date (inclusive)")]
