import json
from pathlib import Path

import pytest

from services.knowledge.corpus import load_corpus
from services.knowledge.embedding import HashingEmbedder
from services.knowledge.evaluation import (
    EVAL_DIR,
    EvalSetError,
    Question,
    Score,
    distinct_documents,
    evaluate,
    format_table,
    load_questions,
    recalled,
    reciprocal_rank,
    score,
)
from services.knowledge.store import KnowledgeStore, SearchResult, ingest_corpus

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"
REPOSITORY_CORPUS = Path(__file__).parents[3] / "services" / "knowledge" / "corpus"


def result(slug: str) -> SearchResult:
    return SearchResult(slug, "t", "s", "c", "d", (), True, 1.0, "text")


def question(qid: str, *relevant: str, source: str = "set.jsonl") -> Question:
    return Question(qid, f"question {qid}", frozenset(relevant), source)


def test_distinct_documents_keep_the_rank_of_their_best_chunk() -> None:
    ranked = distinct_documents([result(s) for s in ["a", "b", "a", "c", "b", "d"]])
    assert ranked == ["a", "b", "c", "d"]


def test_recall_at_five_and_reciprocal_rank() -> None:
    ranked = ["a", "b", "c", "d", "e", "f"]
    assert recalled(ranked, frozenset({"e"})) and not recalled(ranked, frozenset({"f"}))
    assert reciprocal_rank(ranked, frozenset({"c", "f"})) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, frozenset({"z"})) == 0.0


def test_score_averages_over_questions() -> None:
    questions = [question("q1", "a"), question("q2", "x"), question("q3", "b", "z")]
    rankings = [["a", "b"], ["a", "b", "c", "d", "e", "x"], ["c", "b"]]
    got = score("hybrid", questions, rankings)
    assert got.questions == 3
    assert got.recall == pytest.approx(2 / 3)
    assert got.mrr == pytest.approx((1 + 1 / 6 + 1 / 2) / 3)
    assert got.misses == ("q2",)


def write_jsonl(path: Path, items: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(i) if not isinstance(i, str) else i for i in items))
    return path


def test_load_questions_validates_every_line(tmp_path: Path) -> None:
    good = {"id": "q1", "question": "How?", "relevant": ["a"]}
    path = write_jsonl(
        tmp_path / "set.jsonl",
        [
            good,
            "{not json",
            {"id": "q2", "question": "Why?", "relevant": []},
            {"id": "q1", "question": "Again?", "relevant": ["a"]},
            {"id": "q3", "question": "Who?", "relevant": ["a", "ghost"]},
        ],
    )
    with pytest.raises(EvalSetError) as info:
        load_questions([path], known_slugs={"a"})
    lines = str(info.value).splitlines()[1:]
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:{n}" for n in (2, 3, 4, 5)]
    assert "not JSON" in lines[0] and "duplicate id 'q1'" in lines[2]
    assert "unknown documents ['ghost']" in lines[3]
    ok = write_jsonl(tmp_path / "ok.jsonl", [good, ""])
    assert load_questions([ok], known_slugs={"a"}) == [
        Question("q1", "How?", frozenset({"a"}), "ok.jsonl")
    ]


def test_format_table_prints_one_row_per_set_and_mode() -> None:
    table = format_table(
        [("habits", [Score("dense", 10, 0.9, 0.75, ()), Score("sparse", 10, 0.8, 0.5, ())])]
    )
    lines = table.splitlines()
    assert lines[0].split() == ["questions", "n", "mode", "recall@5", "MRR"]
    assert lines[1].split() == ["habits", "10", "dense", "0.900", "0.750"]
    assert lines[2].split() == ["habits", "10", "BM25", "0.800", "0.500"]


async def test_evaluate_scores_every_mode_per_set_and_overall(tmp_path: Path) -> None:
    questions = [
        question("h1", "hydration-basics", source="a.jsonl"),
        question("h2", "sprint-intervals", source="b.jsonl"),
    ]
    questions = [
        Question(q.id, text, q.relevant, q.source)
        for q, text in zip(
            questions, ["how much water do adults need", "all-out sprints"], strict=True
        )
    ]
    async with KnowledgeStore(HashingEmbedder(), path=tmp_path / "q") as store:
        await ingest_corpus(store, FIXTURES, progress=False)
        rows = await evaluate(store, questions)
    assert [label for label, _ in rows] == ["a.jsonl", "b.jsonl", "all"]
    for _, scores in rows:
        assert [s.mode for s in scores] == ["dense", "sparse", "hybrid"]
        assert all(s.recall == 1.0 and s.mrr == 1.0 for s in scores)


def test_repository_eval_sets_name_existing_documents() -> None:
    paths = sorted(EVAL_DIR.glob("*.jsonl"))
    if not paths:
        pytest.skip("no evaluation sets yet")
    slugs = {d.slug for d in load_corpus(REPOSITORY_CORPUS)}
    questions = load_questions(paths, known_slugs=slugs)
    assert len(questions) >= 60
