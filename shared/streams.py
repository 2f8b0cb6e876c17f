"""The JetStream streams, declared here and only here so every service declares the same config."""

from __future__ import annotations

import dataclasses

from faststream.nats import JStream
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

# JetStream drops a re-published message whose Nats-Msg-Id it saw within this window; the outbox
# relay re-publishes only what it failed to mark, within seconds, so two minutes is ample.
DUPLICATE_WINDOW_SECONDS = 120.0
_WEEK = 7 * 24 * 3600.0

HABITS = JStream(
    "HABITS",
    subjects=["habits.>"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    max_age=30 * 24 * 3600.0,
)
METRICS = JStream(
    "METRICS",
    subjects=["metrics.>"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    max_age=_WEEK,
)
CHAT = JStream(
    "CHAT",
    subjects=["chat.turn.completed.*"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    max_age=_WEEK,
)
# Chat turns are work: each is taken by exactly one agent instance.
CHAT_TURNS = JStream(
    "CHAT_TURNS",
    subjects=["chat.turn.requested.*"],
    storage=StorageType.FILE,
    declare=False,
    retention=RetentionPolicy.WORK_QUEUE,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
)
LEARNING = JStream(
    "LEARNING",
    subjects=["learning.>"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    max_age=30 * 24 * 3600.0,
)
REMINDERS = JStream(
    "REMINDERS",
    subjects=["reminders.>"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    # A reminder is worth nothing a day late; the stream is a hand-over, not a history.
    max_age=24 * 3600.0,
)
# Account deletions: every service must see one, even after a long outage, so a month.
ACCOUNTS = JStream(
    "ACCOUNTS",
    subjects=["accounts.>"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    max_age=30 * 24 * 3600.0,
)
SEQUENCES = JStream(
    "SEQUENCES",
    subjects=["sequences.>"],
    storage=StorageType.FILE,
    declare=False,
    duplicate_window=DUPLICATE_WINDOW_SECONDS,
    max_age=_WEEK,
)
# What a consumer could not process after its last try lands here, subject "dlq.<original>".
DEAD_LETTERS = JStream(
    "DEAD_LETTERS",
    subjects=["dlq.>"],
    storage=StorageType.FILE,
    declare=False,
    max_age=30 * 24 * 3600.0,
)

ALL_STREAMS: tuple[JStream, ...] = (
    HABITS,
    METRICS,
    CHAT,
    CHAT_TURNS,
    LEARNING,
    REMINDERS,
    ACCOUNTS,
    SEQUENCES,
    DEAD_LETTERS,
)


def subject_matches(pattern: str, subject: str) -> bool:
    """Tell whether a NATS subject matches a pattern with ``*`` and ``>`` wildcards."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


def stream_for(subject: str) -> JStream:
    """Return the stream whose subjects hold ``subject``."""
    for stream in ALL_STREAMS:
        if any(subject_matches(p, subject) for p in stream.subjects):
            return stream
    raise LookupError(f"no stream holds subject {subject!r}")


def stream_config(stream: JStream) -> StreamConfig:
    """The full JetStream config of a stream, subjects included, for declaring it."""
    return dataclasses.replace(stream.config, subjects=list(stream.subjects))
