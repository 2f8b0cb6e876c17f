from collections.abc import Callable
from pathlib import Path

import pytest

from services.knowledge.corpus import CorpusError, load_corpus, parse_document

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
REPOSITORY_CORPUS = Path(__file__).parents[3] / "services" / "knowledge" / "corpus"

VALID = """---
title: "Habit stacking"
category: habit_formation
domain: general
sources:
  - "Clear, J. (2018). Atomic Habits."
verified: true
---
# Habit stacking

## How it works

After I pour my coffee, I will meditate for one minute.
"""


def test_a_valid_document_parses() -> None:
    doc = parse_document(VALID, slug="habit-stacking", origin="x.md")
    assert (doc.slug, doc.title, doc.category, doc.domain) == (
        "habit-stacking",
        "Habit stacking",
        "habit_formation",
        "general",
    )
    assert doc.sources == ("Clear, J. (2018). Atomic Habits.",)
    assert doc.verified is True
    assert doc.body.startswith("# Habit stacking") and "## How it works" in doc.body


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('title: "Habit stacking"\n', ""), "missing required field 'title'"),
        (lambda t: t.replace("verified: true\n", ""), "missing required field 'verified'"),
        (lambda t: t.replace("verified: true", 'verified: "true"'), "'verified' must be true"),
        (lambda t: t.replace("habit_formation", "habits"), "'category' is 'habits'; allowed:"),
        (lambda t: t.replace("domain: general", "domain: cooking"), "'domain' is 'cooking'"),
        (lambda t: t.replace('  - "Clear, J. (2018). Atomic Habits."\n', ""), "'sources' must"),
        (lambda t: t.replace('title: "Habit stacking"', "title: ''"), "'title' must be"),
        (lambda t: t.replace("## How it works", "How it works"), "no '## ' section"),
        (lambda t: t.replace("---\n", "", 1), "no YAML front matter"),
        (lambda t: t.replace("domain: general", "domain: [general"), "not valid YAML"),
        (lambda t: t.replace('title: "Habit stacking"', "- just\n- a list"), "not valid YAML"),
    ],
)
def test_invalid_documents_are_refused_naming_the_file(
    edit: Callable[[str], str], message: str
) -> None:
    with pytest.raises(CorpusError) as info:
        parse_document(edit(VALID), slug="habit-stacking", origin="corpus/x/habit-stacking.md")
    assert message in str(info.value)
    assert str(info.value).startswith("corpus/x/habit-stacking.md: ")


def test_front_matter_must_be_a_mapping() -> None:
    with pytest.raises(CorpusError, match=r"f\.md: front matter must be a YAML mapping"):
        parse_document("---\n- a\n- b\n---\n## S\n\ntext\n", slug="s", origin="f.md")


def test_every_problem_of_a_document_is_reported_at_once() -> None:
    text = VALID.replace("habit_formation", "nope").replace("verified: true", "verified: 1")
    with pytest.raises(CorpusError) as info:
        parse_document(text, slug="Bad Slug", origin="f.md")
    lines = str(info.value).splitlines()
    assert len(lines) == 3 and all(line.startswith("f.md: ") for line in lines)


def test_load_corpus_reads_category_folders_sorted_by_slug() -> None:
    docs = load_corpus(FIXTURES)
    assert [d.slug for d in docs] == [
        "hydration-basics",
        "missed-days",
        "sprint-intervals",
        "two-minute-rule",
    ]
    assert {d.origin for d in docs} == {str(p) for p in FIXTURES.glob("*/*.md")}


def test_load_corpus_lists_every_bad_file_and_duplicate_slugs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "good.md").write_text(VALID)
    (tmp_path / "a" / "broken.md").write_text(VALID.replace("domain: general", "domain: x"))
    (tmp_path / "b" / "good.md").write_text(VALID)
    (tmp_path / "b" / "latin1.md").write_bytes(VALID.replace("Clear", "Cl\xe9ar").encode("latin-1"))
    (tmp_path / "README.md").write_text("not a document")
    with pytest.raises(CorpusError) as info:
        load_corpus(tmp_path)
    message = str(info.value)
    assert f"{tmp_path / 'a' / 'broken.md'}: 'domain' is 'x'" in message
    assert f"{tmp_path / 'b' / 'good.md'}: slug 'good' is already used" in message
    assert f"{tmp_path / 'b' / 'latin1.md'}: not UTF-8 text" in message
    assert "README" not in message


def test_the_repository_corpus_is_valid_large_enough_and_cited() -> None:
    docs = load_corpus(REPOSITORY_CORPUS)
    # The bar: at least 60 documents, every one citing where its advice comes from.
    assert len(docs) >= 60
    uncited = [d.slug for d in docs if not d.sources or not all(s.strip() for s in d.sources)]
    assert uncited == []
