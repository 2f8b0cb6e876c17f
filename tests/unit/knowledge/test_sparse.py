import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.knowledge.sparse import (
    K1,
    SCHEME,
    B,
    average_length,
    document_vector,
    query_vector,
    stem,
    term_index,
    tokenize,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("habits", "habit"),
        ("habit", "habit"),
        ("running", "run"),
        ("runs", "run"),
        ("studies", "studi"),
        ("study", "studi"),
        ("formed", "form"),
        ("forming", "form"),
        ("agreed", "agree"),
        ("hopping", "hop"),
        ("filing", "file"),
        ("stresses", "stress"),
        ("focus", "focus"),
        ("analysis", "analysis"),
        ("sleep", "sleep"),
        ("10000", "10000"),
    ],
)
def test_stem_folds_inflections(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_tokenize_lowercases_folds_accents_and_drops_stop_words() -> None:
    assert tokenize("How do I build HABITS that stick?") == ["build", "habit", "stick"]
    assert tokenize("Wood & Rünger's naïve café") == ["wood", "runger", "naive", "cafe"]
    assert tokenize("The and of to") == []
    assert tokenize("10,000 steps") == ["10", "000", "step"]


def test_term_index_is_a_stable_unsigned_32_bit_hash() -> None:
    # Pinned: stored sparse vectors depend on it. Changing it (or the tokenizer) needs a new
    # sparse.SCHEME, which changes every content hash and so re-encodes every chunk.
    assert term_index("habit") == 1414426440
    assert SCHEME == "bm25-porter1-blake2b32-v1"
    assert 0 <= term_index("anything at all") < 2**32
    assert term_index("habit") != term_index("habits")


def test_document_vector_holds_bm25_term_frequency_saturation() -> None:
    text = "walking walking daily"
    vector = document_vector(text, avg_length=3.0)
    expected = {
        term_index("walk"): 2 * (K1 + 1) / (2 + K1),  # length == average: norm is k1
        term_index("daili"): 1 * (K1 + 1) / (1 + K1),
    }
    assert dict(zip(vector.indices, vector.values, strict=True)) == pytest.approx(expected)
    assert list(vector.indices) == sorted(vector.indices)


def test_longer_documents_weigh_each_occurrence_less() -> None:
    short = document_vector("sleep", avg_length=10.0)
    long = document_vector("sleep " + "filler " * 29, avg_length=10.0)
    index = long.indices.index(term_index("sleep"))
    assert short.values[0] > long.values[index]
    norm_long = K1 * (1 - B + B * 30 / 10)
    assert long.values[index] == pytest.approx((K1 + 1) / (1 + norm_long))


def test_query_vector_weighs_each_distinct_term_once() -> None:
    vector = query_vector("water water, drink more water!")
    assert sorted(vector.indices) == list(vector.indices)
    assert set(vector.indices) == {term_index("water"), term_index("drink")}
    assert set(vector.values) == {1.0}
    assert query_vector("what is the").indices == ()


def test_empty_document_has_no_terms() -> None:
    assert document_vector("", avg_length=5.0).indices == ()


def test_average_length_counts_indexed_tokens() -> None:
    assert average_length(["habit loop", "the cue and the reward of habits"]) == 2.5
    assert average_length([]) == 1.0


@given(st.text(max_size=300), st.floats(min_value=1.0, max_value=500.0))
def test_document_vectors_are_sorted_distinct_and_saturated(text: str, avg: float) -> None:
    vector = document_vector(text, avg_length=avg)
    assert list(vector.indices) == sorted(set(vector.indices))
    assert len(vector.indices) == len(vector.values)
    # Saturation caps a term at k1 + 1 (a hash collision could add two terms' parts).
    assert all(0 < v <= 2 * (K1 + 1) + 1e-9 for v in vector.values)
    assert all(not math.isnan(v) for v in vector.values)
