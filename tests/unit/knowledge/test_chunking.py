import itertools
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from services.knowledge.chunking import (
    INTRODUCTION,
    MAX_WORDS,
    chunk_corpus,
    chunk_document,
    sections,
    windows,
)
from services.knowledge.corpus import Document

BODY = """# Title line

An introduction that comes before any section.

## First section

Text of the first section.

### A subsection

Still part of the first section.

```
## not a heading inside a code fence
```

## Empty section

## Second section
- item one
- item two
"""


def document(body: str = BODY, **changes: object) -> Document:
    doc = Document(
        slug="sample-doc",
        title="Sample document",
        category="habit_formation",
        domain="general",
        sources=("A source.",),
        verified=True,
        body=body,
        origin="memory",
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def sentences(count: int, words: int = 10, tag: str = "s") -> str:
    return " ".join(
        " ".join([f"{tag}{i}w{j}" for j in range(words - 1)] + [f"end{i}."]).capitalize()
        for i in range(count)
    )


def test_sections_split_at_level_two_headings() -> None:
    parts = sections(BODY)
    assert [heading for heading, _ in parts] == [INTRODUCTION, "First section", "Second section"]
    intro, first, second = (text for _, text in parts)
    assert intro == "An introduction that comes before any section."
    assert "### A subsection" in first and "Still part of the first section." in first
    assert "## not a heading inside a code fence" in first
    assert second == "- item one\n- item two"
    assert "Title line" not in "".join(text for _, text in parts)


def test_short_text_is_one_window_kept_verbatim() -> None:
    text = "Line one.\n\n- a list item\n- another"
    assert windows(text) == [text]


def test_long_text_is_split_into_overlapping_windows_of_whole_sentences() -> None:
    text = sentences(36)  # 360 words: 3 windows of 150 with 30 shared hold 390
    parts = windows(text, max_words=150, overlap_words=30)
    assert len(parts) == 3
    assert all(len(p.split()) <= 150 for p in parts)
    # Every window is whole sentences, and consecutive windows share the overlap.
    assert all(p[0].isupper() and p.endswith(".") for p in parts)
    for before, after in itertools.pairwise(parts):
        shared = set(before.split(". ")) & set(after.split(". "))
        assert 20 <= sum(len(s.split()) for s in shared) <= 40, (before, after)
    # Nothing is lost: every sentence is in some window.
    for i in range(36):
        assert any(f"end{i}." in p for p in parts)


def test_windows_are_balanced_not_a_full_one_and_a_scrap() -> None:
    parts = windows(sentences(17), max_words=150, overlap_words=30)  # 170 words
    sizes = [len(p.split()) for p in parts]
    assert len(parts) == 2 and min(sizes) >= 80, sizes


def test_a_run_on_sentence_is_still_cut_to_size() -> None:
    text = " ".join(f"word{i}" for i in range(500))
    parts = windows(text, max_words=100, overlap_words=20)
    assert all(len(p.split()) <= 100 for p in parts)
    assert "word0" in parts[0] and "word499" in parts[-1]


@given(
    st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=60),
    st.integers(min_value=40, max_value=200),
)
def test_windows_cover_the_text_within_the_size_limit(lengths: list[int], limit: int) -> None:
    text = " ".join(" ".join(["W"] + ["w"] * (n - 1) + [f"end{i}."]) for i, n in enumerate(lengths))
    parts = windows(text, max_words=limit, overlap_words=limit // 5)
    assert all(len(p.split()) <= limit for p in parts)
    for i in range(len(lengths)):
        assert any(f"end{i}." in p for p in parts)


def test_chunks_carry_the_document_metadata_and_a_headed_text() -> None:
    chunks = chunk_document(document(), index_id="model-a")
    assert [c.section for c in chunks] == [INTRODUCTION, "First section", "Second section"]
    first = chunks[1]
    assert (first.doc_slug, first.title, first.category, first.domain) == (
        "sample-doc",
        "Sample document",
        "habit_formation",
        "general",
    )
    assert first.sources == ("A source.",) and first.verified is True
    assert first.embed_text.startswith("Sample document\nFirst section\n\nText of the first")


def test_long_sections_become_several_chunks_of_the_same_section() -> None:
    body = f"## Long one\n\n{sentences(45)}\n\n## Short one\n\nShort."
    chunks = chunk_document(document(body), index_id="m")
    assert [c.section for c in chunks].count("Long one") == 4
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)


def test_content_hashes_are_stable_and_change_with_content_metadata_or_model() -> None:
    base = chunk_document(document(), index_id="model-a")
    again = chunk_document(document(), index_id="model-a")
    assert [c.content_hash for c in base] == [c.content_hash for c in again]
    assert len({c.content_hash for c in base}) == len(base)

    edited = chunk_document(
        document(BODY.replace("Text of the first", "New text of the first")), index_id="model-a"
    )
    changed = [a.content_hash != b.content_hash for a, b in zip(base, edited, strict=True)]
    assert changed == [False, True, False]

    unverified = chunk_document(document(verified=False), index_id="model-a")
    assert all(a.content_hash != b.content_hash for a, b in zip(base, unverified, strict=True))
    other_model = chunk_document(document(), index_id="model-b")
    assert all(a.content_hash != b.content_hash for a, b in zip(base, other_model, strict=True))


def test_chunk_corpus_keeps_document_order() -> None:
    docs = [document(slug="b-doc"), document(slug="a-doc")]
    slugs = [c.doc_slug for c in chunk_corpus(docs, index_id="m")]
    assert slugs == ["b-doc"] * 3 + ["a-doc"] * 3
