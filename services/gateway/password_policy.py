"""What a new password must be: at least 10 characters and not one of the commonly used ones.

The list is Django's ``common-passwords.txt.gz`` (BSD-3-Clause; 20,000 passwords from Royce
Williams' compilation of breach corpora, lower-cased), shipped in this package so no check
reaches the network. Length beats composition rules (NIST SP 800-63B §3.1.1.2): no "one digit,
one symbol" rules, only a floor and a deny-list.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

MIN_LENGTH = 10
MAX_LENGTH = 200
_LIST = Path(__file__).with_name("common_passwords.txt.gz")


@cache
def common_passwords() -> frozenset[str]:
    """Return the bundled deny-list, lower-cased."""
    with gzip.open(_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str) -> str | None:
    """Return why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    folded = password.strip().lower()
    # "Password123 " and "PASSWORD123" are as guessable as "password123".
    if folded in common_passwords() or "".join(folded.split()) in common_passwords():
        return "this password is too common; choose a less predictable one"
    return None
