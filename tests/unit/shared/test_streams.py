import itertools

import pytest

from shared.events import ALL_EVENTS
from shared.messaging import MAX_RETRY_DELAY_SECONDS, retry_delay
from shared.streams import ALL_STREAMS, stream_config, stream_for, subject_matches


@pytest.mark.parametrize(
    ("pattern", "subject", "matches"),
    [
        ("habits.>", "habits.log.recorded.v1", True),
        ("habits.>", "habits", False),
        ("chat.turn.requested.*", "chat.turn.requested.v1", True),
        ("chat.turn.requested.*", "chat.turn.completed.v1", False),
        ("chat.turn.requested.*", "chat.turn.requested.v1.extra", False),
        ("a.b", "a.b", True),
    ],
)
def test_subject_matching(pattern: str, subject: str, matches: bool) -> None:
    assert subject_matches(pattern, subject) is matches


def test_every_event_has_exactly_one_stream() -> None:
    for event in ALL_EVENTS:
        owners = [
            s for s in ALL_STREAMS if any(subject_matches(p, event.subject) for p in s.subjects)
        ]
        assert len(owners) == 1, event.subject
        assert stream_for(event.subject) is owners[0]


def test_streams_do_not_overlap_and_declare_their_subjects() -> None:
    samples = ["habits.x.y.v1", "metrics.habit.updated.v1", "chat.turn.requested.v1",
               "chat.turn.completed.v1", "learning.nudge.proposed.v1", "dlq.habits.x"]  # fmt: skip
    for subject in samples:
        assert stream_for(subject).name
    for stream in ALL_STREAMS:
        assert stream_config(stream).subjects == list(stream.subjects)
        assert stream_config(stream).subjects


def test_unknown_subject_has_no_stream() -> None:
    with pytest.raises(LookupError):
        stream_for("nobody.owns.this")


def test_retry_delays_grow_and_are_capped() -> None:
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[0] == 0.5
    assert all(b >= a for a, b in itertools.pairwise(delays))
    assert max(delays) == MAX_RETRY_DELAY_SECONDS
