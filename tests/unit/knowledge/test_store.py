import asyncio
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from services.knowledge.chunking import Chunk, chunk_corpus
from services.knowledge.corpus import load_corpus
from services.knowledge.embedding import HashingEmbedder, Matrix
from services.knowledge.store import (
    MODES,
    KnowledgeStore,
    Mode,
    SearchFilters,
    build_filter,
    ingest_corpus,
)

FIXTURES = Path(__file__).parent / "fixtures" / "corpus"


class CountingEmbedder(HashingEmbedder):
    """HashingEmbedder that records every batch it embeds."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.batches: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.batches.append(list(texts))
        return super().embed(texts)

    @property
    def embedded(self) -> list[str]:
        return [text for batch in self.batches for text in batch]


def corpus_chunks(store: KnowledgeStore, root: Path = FIXTURES) -> list[Chunk]:
    return chunk_corpus(load_corpus(root), index_id=store.index_id)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[KnowledgeStore]:
    async with KnowledgeStore(CountingEmbedder(), path=tmp_path / "qdrant") as opened:
        yield opened


async def test_ingestion_is_idempotent(store: KnowledgeStore, corpus: Path) -> None:
    first = await ingest_corpus(store, corpus, progress=False)
    total = len(corpus_chunks(store, corpus))
    assert (first.added, first.unchanged, first.removed) == (total, 0, 0)
    embedder = store._embedder
    assert isinstance(embedder, CountingEmbedder)
    calls = len(embedder.batches)

    again = await ingest_corpus(store, corpus, progress=False)
    assert (again.added, again.unchanged, again.removed) == (0, total, 0)
    assert len(embedder.batches) == calls  # nothing embedded the second time
    assert await store.count() == total


async def test_a_changed_document_re_embeds_only_its_changed_chunks(
    store: KnowledgeStore, corpus: Path
) -> None:
    await ingest_corpus(store, corpus, progress=False)
    embedder = store._embedder
    assert isinstance(embedder, CountingEmbedder)
    embedder.batches.clear()
    path = corpus / "domain-guides" / "hydration-basics.md"
    path.write_text(path.read_text().replace("refill it at lunch", "refill it at noon"))

    report = await ingest_corpus(store, corpus, progress=False)

    assert (report.added, report.removed) == (1, 1)
    assert len(embedder.embedded) == 1 and "refill it at noon" in embedder.embedded[0]
    hits = await store.search("refill the water bottle at noon", k=1)
    assert hits[0].doc_slug == "hydration-basics" and "noon" in hits[0].text
    assert all("lunch" not in hit.text for hit in await store.search("lunch", k=20))


async def test_removed_documents_disappear(store: KnowledgeStore, corpus: Path) -> None:
    await ingest_corpus(store, corpus, progress=False)
    before = await store.count()
    (corpus / "domain-guides" / "sprint-intervals.md").unlink()

    report = await ingest_corpus(store, corpus, progress=False)

    assert report.added == 0 and report.removed == 2
    assert await store.count() == before - 2
    for mode in MODES:
        hits = await store.search("sprint interval training", k=20, mode=mode)
        assert "sprint-intervals" not in {h.doc_slug for h in hits}


async def test_a_reopened_store_keeps_its_points(tmp_path: Path, corpus: Path) -> None:
    path = tmp_path / "persisted"
    async with KnowledgeStore(HashingEmbedder(), path=path) as first:
        added = (await ingest_corpus(first, corpus, progress=False)).added
    async with KnowledgeStore(HashingEmbedder(), path=path) as reopened:
        assert await reopened.count() == added
        assert (await reopened.search("water bottle", k=1))[0].doc_slug == "hydration-basics"
        report = await ingest_corpus(reopened, corpus, progress=False)
        assert report.added == 0 and report.unchanged == added


async def test_a_new_embedder_dimension_recreates_the_collection(
    tmp_path: Path, corpus: Path
) -> None:
    path = tmp_path / "resized"
    async with KnowledgeStore(HashingEmbedder(32), path=path) as small:
        await ingest_corpus(small, corpus, progress=False)
    async with KnowledgeStore(HashingEmbedder(48), path=path) as large:
        assert await large.count() == 0
        report = await ingest_corpus(large, corpus, progress=False)
        assert report.added == await large.count() > 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how many litres of water should adults drink", "hydration-basics"),
        ("all-out sprints with easy recovery", "sprint-intervals"),
        ("I missed a day, did I break my habit?", "missed-days"),
        ("make the habit take two minutes", "two-minute-rule"),
    ],
)
async def test_search_puts_the_answering_document_first(
    store: KnowledgeStore, corpus: Path, mode: Mode, query: str, expected: str
) -> None:
    await ingest_corpus(store, corpus, progress=False)
    hits = await store.search(query, k=3, mode=mode)
    assert hits[0].doc_slug == expected
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_results_carry_the_chunk_and_its_document(
    store: KnowledgeStore, corpus: Path
) -> None:
    await ingest_corpus(store, corpus, progress=False)
    top = (await store.search("how much water do adults need", k=1))[0]
    assert top.doc_slug == "hydration-basics"
    assert top.title == "Drinking enough water"
    assert top.section == "How much water adults need"
    assert (top.category, top.domain, top.verified) == ("domain_guide", "wellness", True)
    assert top.sources[0].startswith("EFSA Panel (2010)")
    assert "2.5 litres" in top.text and top.score > 0


@pytest.mark.parametrize("mode", MODES)
async def test_filters_by_category_domain_and_verified(
    store: KnowledgeStore, corpus: Path, mode: Mode
) -> None:
    await ingest_corpus(store, corpus, progress=False)
    query = "habit training water day minutes"

    async def slugs(filters: SearchFilters) -> set[str]:
        return {h.doc_slug for h in await store.search(query, k=20, filters=filters, mode=mode)}

    assert await slugs(SearchFilters(category="domain_guide")) == {
        "hydration-basics",
        "sprint-intervals",
    }
    assert await slugs(SearchFilters(domain="general")) == {"missed-days", "two-minute-rule"}
    assert await slugs(SearchFilters(domain=["fitness", "wellness"])) == {
        "hydration-basics",
        "sprint-intervals",
    }
    assert await slugs(SearchFilters(verified=False)) == {"sprint-intervals"}
    assert await slugs(SearchFilters(category="domain_guide", verified=True)) == {
        "hydration-basics"
    }
    assert await slugs(SearchFilters(category="obstacles")) == set()
    assert len(await slugs(SearchFilters())) == 4


def test_build_filter() -> None:
    assert build_filter(None) is None and build_filter(SearchFilters()) is None
    built = build_filter(SearchFilters(category="motivation", verified=True))
    assert built is not None and built.must is not None and len(built.must) == 2  # type: ignore[arg-type]


QUERIES = [
    "how much water",
    "sprint recovery warm up",
    "missing a day habit formation",
    "two minutes",
    "zzz unknown words",
    "the",
]
FILTERS = [
    None,
    SearchFilters(domain="general"),
    SearchFilters(category="domain_guide", verified=True),
]


async def test_the_memory_index_ranks_exactly_like_qdrant(tmp_path: Path, corpus: Path) -> None:
    path = tmp_path / "shared"
    async with KnowledgeStore(HashingEmbedder(), path=path, search_backend="qdrant") as qdrant:
        await ingest_corpus(qdrant, corpus, progress=False)
        expected = {
            (query, i, mode): await qdrant.search(query, k=6, filters=filters, mode=mode)
            for query in QUERIES
            for i, filters in enumerate(FILTERS)
            for mode in MODES
        }
    async with KnowledgeStore(HashingEmbedder(), path=path, search_backend="memory") as memory:
        for (query, i, mode), want in expected.items():
            got = await memory.search(query, k=6, filters=FILTERS[i], mode=mode)
            label = (query, FILTERS[i], mode)
            assert [(h.doc_slug, h.section) for h in got] == [
                (h.doc_slug, h.section) for h in want
            ], label
            assert [h.score for h in got] == pytest.approx([h.score for h in want], rel=1e-5)
    assert any(expected[key] for key in expected)


async def test_concurrent_searches_share_embedding_batches(
    store: KnowledgeStore, corpus: Path
) -> None:
    await ingest_corpus(store, corpus, progress=False)
    embedder = store._embedder
    assert isinstance(embedder, CountingEmbedder)
    queries = [f"{q} {i}" for i in range(4) for q in QUERIES[:4]]
    alone = [await store.search(q, k=3) for q in queries]
    embedder.batches.clear()

    together = await asyncio.gather(*(store.search(q, k=3) for q in queries))

    assert together == alone
    assert len(embedder.batches) < len(queries) / 2


class FailingEmbedder(HashingEmbedder):
    def embed(self, texts: Sequence[str]) -> Matrix:
        if any("explode" in t for t in texts):
            raise OSError("model unavailable")
        return super().embed(texts)


async def test_an_embedding_failure_reaches_every_caller_of_the_batch(
    tmp_path: Path, corpus: Path
) -> None:
    async with KnowledgeStore(FailingEmbedder(), path=tmp_path / "q") as store:
        await ingest_corpus(store, corpus, progress=False)
        outcomes = await asyncio.gather(
            store.search("explode"), store.search("water"), return_exceptions=True
        )
        assert all(isinstance(o, OSError) for o in outcomes)
        # The batcher recovers: the next batch works.
        assert (await store.search("water bottle", k=1))[0].doc_slug == "hydration-basics"


async def test_searching_with_no_indexable_words(store: KnowledgeStore, corpus: Path) -> None:
    await ingest_corpus(store, corpus, progress=False)
    assert await store.search("the and of", mode="sparse") == []
    # Hybrid falls back to the dense branch alone.
    assert len(await store.search("the and of", k=2, mode="hybrid")) == 2


async def test_misuse_is_refused(tmp_path: Path) -> None:
    closed = KnowledgeStore(HashingEmbedder(), path=tmp_path / "never-opened")
    with pytest.raises(RuntimeError, match="not open"):
        await closed.search("water", mode="sparse")
    async with KnowledgeStore(HashingEmbedder(), path=tmp_path / "open") as store:
        with pytest.raises(ValueError, match="unknown search mode"):
            await store.search("water", mode="fuzzy")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="k must be at least 1"):
            await store.search("water", k=0)
