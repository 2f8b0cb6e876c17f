"""BM25 sparse vectors, split between this module and Qdrant.

A document vector holds, per term, BM25's saturated term frequency
`tf·(k1+1) / (tf + k1·(1 − b + b·len/avg_len))`; a query vector holds 1.0 per distinct term.
Qdrant multiplies each query term by its IDF when the sparse vector is configured with
`Modifier.IDF`, so the dot product of the two is the BM25 score, and IDF stays current as
documents come and go without re-encoding anything.

Terms map to indices through a 32-bit BLAKE2b hash: stable across processes and releases
(Python's `hash` is salted per process), with no vocabulary to store.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

K1 = 1.2
B = 0.75

# Names the tokenizer, stemmer, stop words and term hash. Stored vectors depend on all of them,
# so chunk content hashes include it: change any of them, change this, and ingestion re-encodes.
SCHEME = "bm25-porter1-blake2b32-v1"

# A short English list: BM25's IDF already discounts common words, so this only keeps the
# vectors small and stops "how do i" questions from matching every document a little.
_STOP_WORDS_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
s t d ll m re ve
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SparseVector:
    """Sorted, distinct term indices and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]


def _fold(text: str) -> str:
    # "Rünger" and "Runger", "naïve" and "naive" are the same word to a searcher.
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_consonant(word: str, i: int) -> bool:
    ch = word[i]
    if ch in "aeiou":
        return False
    if ch == "y":
        return i == 0 or not _is_consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """Porter's m: the number of vowel-consonant sequences in `stem`."""
    m = 0
    previous_vowel = False
    for i in range(len(stem)):
        consonant = _is_consonant(stem, i)
        if consonant and previous_vowel:
            m += 1
        previous_vowel = not consonant
    return m


def _has_vowel(stem: str) -> bool:
    return any(not _is_consonant(stem, i) for i in range(len(stem)))


def _ends_cvc(word: str) -> bool:
    return (
        len(word) >= 3
        and _is_consonant(word, len(word) - 3)
        and not _is_consonant(word, len(word) - 2)
        and _is_consonant(word, len(word) - 1)
        and word[-1] not in "wxy"
    )


@functools.lru_cache(maxsize=1 << 16)  # a corpus has a few thousand distinct words
def stem(word: str) -> str:
    """Fold inflections with steps 1a-1c of Porter's (1980) stemmer.

    Only the inflectional steps: plurals, -ed and -ing, and a final y, so "habits", "habit";
    "running", "runs", "run"; "studies", "study" meet, while derivations such as "meditation"
    and "meditate" stay apart, which keeps the stems readable and the errors few.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    # Step 1a: plurals.
    if word.endswith("sses") or word.endswith("ies"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        # Porter strips these too ("focus" -> "focu"); keeping -us and -is whole is kinder to
        # "focus", "stimulus", "analysis" and costs nothing, as they have no -s plural.
        word = word[:-1]
    # Step 1b: -eed, -ed, -ing.
    if word.endswith("eed"):
        if _measure(word[:-3]) > 0:
            word = word[:-1]
    else:
        for suffix in ("ed", "ing"):
            base = word[: -len(suffix)]
            if word.endswith(suffix) and _has_vowel(base):
                word = base
                if word.endswith(("at", "bl", "iz")):
                    word += "e"
                elif (
                    len(word) >= 2
                    and word[-1] == word[-2]
                    and _is_consonant(word, len(word) - 1)
                    and word[-1] not in "lsz"
                ):
                    word = word[:-1]
                elif _measure(word) == 1 and _ends_cvc(word):
                    word += "e"
                break
    # Step 1c: a final y after a vowel-bearing stem becomes i ("study", "studies" -> "studi").
    if word.endswith("y") and _has_vowel(word[:-1]):
        word = word[:-1] + "i"
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded, stemmed word tokens without stop words."""
    return [stem(token) for token in _TOKEN.findall(_fold(text)) if token not in STOP_WORDS]


def term_index(term: str) -> int:
    """Stable 32-bit index of `term` (Qdrant sparse indices are u32)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little")


def _vector(weights: dict[int, float]) -> SparseVector:
    ordered = sorted(weights.items())
    return SparseVector(
        indices=tuple(index for index, _ in ordered),
        values=tuple(value for _, value in ordered),
    )


def document_vector(text: str, *, avg_length: float, k1: float = K1, b: float = B) -> SparseVector:
    """BM25 term-frequency part of a document's weights (IDF comes from Qdrant).

    Args:
        text: The document (here: a chunk as embedded, title and section included).
        avg_length: Average token count of the collection's documents.
        k1: Term-frequency saturation.
        b: Strength of the length normalisation.
    """
    tokens = tokenize(text)
    if not tokens:
        return SparseVector(indices=(), values=())
    norm = k1 * (1.0 - b + b * len(tokens) / max(avg_length, 1.0))
    weights: dict[int, float] = {}
    for term, tf in Counter(tokens).items():
        index = term_index(term)
        # Two terms that hash alike share a dimension; adding keeps both contributions.
        weights[index] = weights.get(index, 0.0) + tf * (k1 + 1.0) / (tf + norm)
    return _vector(weights)


def query_vector(text: str) -> SparseVector:
    """Weight 1.0 per distinct query term, so the score is the sum of matched IDF·TF parts."""
    return _vector({term_index(term): 1.0 for term in set(tokenize(text))})


def average_length(texts: Iterable[str]) -> float:
    """Mean token count of `texts`, the `avg_length` that `document_vector` needs."""
    lengths = [len(tokenize(text)) for text in texts]
    return sum(lengths) / len(lengths) if lengths else 1.0
