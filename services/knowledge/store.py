"""The knowledge store: corpus chunks in Qdrant, searched by dense, BM25 or hybrid queries.

Qdrant is a server when a URL is given, and qdrant-client's local mode (a directory, by default
`./.data/qdrant`) otherwise; only one process may open a local-mode directory, which is why the
knowledge service owns it.

Each chunk is one point whose id derives from the chunk's content hash, so ingestion is
idempotent: a point that exists is left alone, a changed chunk gets a new point, and points whose
chunk disappeared are deleted. A point carries a named dense vector (`dense`, cosine) and a named
sparse vector (`bm25`) whose IDF Qdrant applies at query time (`Modifier.IDF`; see
`services.knowledge.sparse`). Hybrid search prefetches from both with the payload filter applied
in each prefetch, and fuses the two rankings by reciprocal rank fusion (RRF).

Local mode scores every point in Python on each query: its BM25 branch alone takes tens of
milliseconds for a few hundred chunks, too slow for the agent. So in local mode the store keeps an
in-memory mirror of the collection (`MemoryIndex`), loaded from Qdrant, and answers from it with
Qdrant's arithmetic (cosine; BM25 with Qdrant's IDF; RRF with Qdrant's constant). Tests check
that both rank alike. With a server, `query_points` answers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from qdrant_client import AsyncQdrantClient, models
from tqdm import tqdm

from services.knowledge import sparse
from services.knowledge.chunking import Chunk, chunk_corpus
from services.knowledge.corpus import load_corpus
from services.knowledge.embedding import Embedder, Matrix

Mode = Literal["hybrid", "dense", "sparse"]
Backend = Literal["auto", "qdrant", "memory"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")

DENSE = "dense"
BM25 = "bm25"
DEFAULT_COLLECTION = "knowledge"
DEFAULT_LOCAL_PATH = Path(".data/qdrant")

# qdrant_client.hybrid.fusion.DEFAULT_RANKING_CONSTANT_K, also the server's default: the point at
# 0-based position p of a branch scores 1 / (p + 2).
RRF_K = 2

# Never change: point ids are uuid5(namespace, content hash), and a new namespace would make
# every existing store re-ingest.
_POINT_NAMESPACE = uuid.UUID("5b0f3c1e-4d7a-5c43-9a59-6f1c2b7e8d10")
_AVG_LENGTH_KEY = "bm25_avg_length"
_EMBED_BATCH = 128
_SCROLL_PAGE = 1000


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Payload filters; `None` means any value, a sequence matches any of its values."""

    category: str | Sequence[str] | None = None
    domain: str | Sequence[str] | None = None
    verified: bool | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    doc_slug: str
    title: str
    section: str
    category: str
    domain: str
    sources: tuple[str, ...]
    verified: bool
    score: float
    text: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    added: int
    unchanged: int
    removed: int


def point_id(content_hash: str) -> str:
    """The point id of a chunk: a UUID derived from its content hash."""
    return str(uuid.uuid5(_POINT_NAMESPACE, content_hash))


def _values(wanted: str | Sequence[str]) -> list[str]:
    return [wanted] if isinstance(wanted, str) else list(wanted)


def build_filter(filters: SearchFilters | None) -> models.Filter | None:
    """The Qdrant filter for `filters`, or `None` when nothing is filtered."""
    if filters is None:
        return None
    conditions: list[models.Condition] = []
    for key, wanted in (("category", filters.category), ("domain", filters.domain)):
        if wanted is not None:
            conditions.append(
                models.FieldCondition(key=key, match=models.MatchAny(any=_values(wanted)))
            )
    if filters.verified is not None:
        conditions.append(
            models.FieldCondition(key="verified", match=models.MatchValue(value=filters.verified))
        )
    return models.Filter(must=conditions) if conditions else None


def _payload(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_slug": chunk.doc_slug,
        "title": chunk.title,
        "section": chunk.section,
        "category": chunk.category,
        "domain": chunk.domain,
        "sources": list(chunk.sources),
        "verified": chunk.verified,
        "text": chunk.text,
        "content_hash": chunk.content_hash,
    }


def _result(payload: dict[str, Any], score: float) -> SearchResult:
    return SearchResult(
        doc_slug=str(payload["doc_slug"]),
        title=str(payload["title"]),
        section=str(payload["section"]),
        category=str(payload["category"]),
        domain=str(payload["domain"]),
        sources=tuple(str(s) for s in payload.get("sources", ())),
        verified=bool(payload["verified"]),
        score=float(score),
        text=str(payload["text"]),
    )


def _to_qdrant(vector: sparse.SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=list(vector.indices), values=list(vector.values))


def qdrant_idf(document_frequency: npt.NDArray[np.float64], total: int) -> npt.NDArray[np.float64]:
    """Qdrant's `Modifier.IDF`: ln((N − df + 0.5) / (df + 0.5) + 1)."""
    return np.log((total - document_frequency + 0.5) / (document_frequency + 0.5) + 1.0)


Ranking = list[tuple[int, float]]


class MemoryIndex:
    """An in-memory copy of the collection that scores queries as Qdrant does.

    Dense: dot products of unit vectors (cosine). Sparse: the sum over query terms of
    `idf · weight`, over points that share at least one term, with IDF from all points. Hybrid:
    RRF over each branch's top `prefetch_limit`; equal fused scores keep dense-then-sparse order,
    as qdrant-client's fusion does.
    """

    def __init__(self, points: Sequence[models.Record], dim: int) -> None:
        self._payloads = [dict(p.payload or {}) for p in points]
        self._size = len(points)
        dense = np.zeros((self._size, dim), dtype=np.float32)
        postings: dict[int, tuple[list[int], list[float]]] = {}
        for row, point in enumerate(points):
            vectors = point.vector if isinstance(point.vector, dict) else {}
            vector = vectors.get(DENSE)
            if isinstance(vector, list) and len(vector) == dim:
                dense[row] = np.asarray(vector, dtype=np.float32)
            terms = vectors.get(BM25)
            if isinstance(terms, models.SparseVector):
                for index, value in zip(terms.indices, terms.values, strict=True):
                    rows, values = postings.setdefault(index, ([], []))
                    rows.append(row)
                    values.append(value)
        # Qdrant normalises the vectors of a cosine collection on insert; so does this.
        self._dense = dense / np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-12)
        self._postings = {
            index: (np.asarray(rows, dtype=np.int64), np.asarray(values, dtype=np.float64))
            for index, (rows, values) in postings.items()
        }
        self._category = np.asarray([str(p.get("category")) for p in self._payloads], object)
        self._domain = np.asarray([str(p.get("domain")) for p in self._payloads], object)
        self._verified = np.asarray([bool(p.get("verified")) for p in self._payloads], bool)

    def __len__(self) -> int:
        return self._size

    def mask(self, filters: SearchFilters | None) -> npt.NDArray[np.bool_]:
        """Rows that pass `filters`."""
        mask = np.ones(self._size, dtype=bool)
        if filters is None:
            return mask
        for column, wanted in ((self._category, filters.category), (self._domain, filters.domain)):
            if wanted is not None:
                mask &= np.isin(column, _values(wanted))
        if filters.verified is not None:
            mask &= self._verified == filters.verified
        return mask

    @staticmethod
    def _top(rows: npt.NDArray[np.int64], scores: npt.NDArray[Any], limit: int) -> Ranking:
        if len(rows) > limit:
            # Partition first: only the best `limit` (and any ties with the last) get sorted.
            cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= cut
            rows, scores = rows[keep], scores[keep]
        # Best first; equal scores in row order, so results are reproducible.
        order = np.lexsort((rows, -scores))[:limit]
        return [(int(rows[i]), float(scores[i])) for i in order]

    def rank_dense(self, query: Matrix, mask: npt.NDArray[np.bool_], limit: int) -> Ranking:
        """Rows and cosine scores of the best `limit` rows within `mask`."""
        rows = np.flatnonzero(mask)
        # Scoring every row and picking afterwards beats copying the selected rows out.
        scores = self._dense @ query.astype(np.float32)
        return self._top(rows, scores[rows], limit)

    def rank_sparse(
        self, query: sparse.SparseVector, mask: npt.NDArray[np.bool_], limit: int
    ) -> Ranking:
        """Rows and BM25 scores of the best `limit` rows within `mask` sharing a query term."""
        weights = dict(zip(query.indices, query.values, strict=True))
        known = [index for index in query.indices if index in self._postings]
        if not known:
            return []
        df = np.asarray([len(self._postings[index][0]) for index in known], dtype=np.float64)
        scores = np.zeros(self._size, dtype=np.float64)
        hit = np.zeros(self._size, dtype=bool)
        for index, idf in zip(known, qdrant_idf(df, self._size), strict=True):
            rows, values = self._postings[index]
            scores[rows] += weights[index] * idf * values
            hit[rows] = True
        candidates = np.flatnonzero(hit & mask)
        return self._top(candidates, scores[candidates], limit)

    def search(
        self,
        dense_query: Matrix | None,
        sparse_query: sparse.SparseVector,
        *,
        mode: Mode,
        k: int,
        filters: SearchFilters | None,
        prefetch_limit: int,
    ) -> list[tuple[dict[str, Any], float]]:
        """Payloads and scores of the best `k` points, best first, as `query_points` ranks."""
        mask = self.mask(filters)
        if mode == "sparse":
            ranked = self.rank_sparse(sparse_query, mask, k)
        elif dense_query is None:
            raise ValueError(f"{mode} search needs a dense query vector")
        elif mode == "dense" or not sparse_query.indices:
            ranked = self.rank_dense(dense_query, mask, k)
        else:
            fused: dict[int, float] = {}
            for branch in (
                self.rank_dense(dense_query, mask, prefetch_limit),
                self.rank_sparse(sparse_query, mask, prefetch_limit),
            ):
                for position, (row, _) in enumerate(branch):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (position + RRF_K)
            ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)[:k]
        return [(self._payloads[row], score) for row, score in ranked]


class _QueryBatcher:
    """Embeds concurrent queries together, off the event loop.

    Eight short queries in one forward pass cost far less than eight passes (fewer, larger
    matmuls), so queries that arrive while a batch is being embedded make up the next batch.
    The model runs in a worker thread; onnxruntime and NumPy release the GIL while they compute.
    """

    def __init__(self, embedder: Embedder, max_batch: int = 32) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._pending: list[tuple[str, asyncio.Future[Matrix]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def embed(self, text: str) -> Matrix:
        future: asyncio.Future[Matrix] = asyncio.get_running_loop().create_future()
        self._pending.append((text, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[str, asyncio.Future[Matrix]]] = []
        try:
            while self._pending:
                # One turn of the loop lets callers started together join this batch.
                await asyncio.sleep(0)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    vectors = await asyncio.to_thread(self._embedder.embed, [t for t, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), vector in zip(batch, vectors, strict=True):
                    if not future.done():  # its caller may have been cancelled meanwhile
                        future.set_result(vector)
        finally:
            # Cancelled (at shutdown): nobody else would ever answer these callers.
            for _, future in [*batch, *self._pending]:
                if not future.done():
                    future.cancel()
            self._pending.clear()


class KnowledgeStore:
    """Corpus chunks in a Qdrant collection; `open()` before use, `close()` after.

    `search` is what the `rpc.knowledge.search.v1` handler calls.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: Path = DEFAULT_LOCAL_PATH,
        collection: str = DEFAULT_COLLECTION,
        prefetch_limit: int = 50,
        search_backend: Backend = "auto",
    ) -> None:
        """Configure the store; nothing is opened yet.

        Args:
            embedder: Embeds chunks and queries.
            url: Qdrant server URL; when `None`, local mode under `path`.
            api_key: Qdrant server API key, if it needs one.
            path: Local-mode directory (unused with a `url`).
            collection: Collection name.
            prefetch_limit: Candidates each hybrid branch hands to the fusion.
            search_backend: Who answers searches: `qdrant` (`query_points`), `memory` (the
                in-memory mirror), or `auto`: the mirror in local mode, Qdrant with a server.
        """
        self._embedder = embedder
        self._url = url
        self._api_key = api_key
        self._path = path
        self._collection = collection
        self._prefetch_limit = prefetch_limit
        self._use_memory = search_backend == "memory" or (search_backend == "auto" and not url)
        self._client: AsyncQdrantClient | None = None
        self._avg_length: float | None = None
        self._index: MemoryIndex | None = None
        self._batcher = _QueryBatcher(embedder)

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def client(self) -> AsyncQdrantClient:
        if self._client is None:
            raise RuntimeError("KnowledgeStore is not open")
        return self._client

    @property
    def index_id(self) -> str:
        """What chunk hashes include: the embedding model and the sparse scheme.

        Chunks hashed with another id get new points, so a new model re-ingests everything.
        """
        return f"{self._embedder.model_id}+{sparse.SCHEME}"

    async def __aenter__(self) -> KnowledgeStore:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect (or open the local directory) and make sure the collection fits the embedder."""
        if self._client is not None:
            return
        if self._url:
            self._client = AsyncQdrantClient(url=self._url, api_key=self._api_key)
        else:
            self._path.mkdir(parents=True, exist_ok=True)
            self._client = AsyncQdrantClient(path=str(self._path))
        await self._ensure_collection()
        if self._use_memory:
            await self._load_index()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._index = None

    async def _ensure_collection(self) -> None:
        client = self.client
        if await client.collection_exists(self._collection):
            info = await client.get_collection(self._collection)
            if self._compatible(info):
                avg = (info.config.metadata or {}).get(_AVG_LENGTH_KEY)
                self._avg_length = float(avg) if isinstance(avg, (int, float)) else None
                return
            # Another vector size or sparse scheme: no point can be reused, so start afresh;
            # the next ingestion fills the collection again.
            await client.delete_collection(self._collection)
        await client.create_collection(
            self._collection,
            vectors_config={
                DENSE: models.VectorParams(size=self._embedder.dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={BM25: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if self._url:
            # Local mode has no payload indexes (it only warns about them).
            for field, schema in (
                ("category", models.PayloadSchemaType.KEYWORD),
                ("domain", models.PayloadSchemaType.KEYWORD),
                ("verified", models.PayloadSchemaType.BOOL),
            ):
                await client.create_payload_index(self._collection, field, field_schema=schema)
        self._avg_length = None

    def _compatible(self, info: models.CollectionInfo) -> bool:
        vectors = info.config.params.vectors
        sparse_vectors = info.config.params.sparse_vectors or {}
        if not isinstance(vectors, dict) or DENSE not in vectors or BM25 not in sparse_vectors:
            return False
        return (
            vectors[DENSE].size == self._embedder.dim
            and vectors[DENSE].distance == models.Distance.COSINE
            and sparse_vectors[BM25].modifier == models.Modifier.IDF
        )

    async def _scroll(self, *, with_data: bool) -> list[models.Record]:
        points: list[models.Record] = []
        offset: models.ExtendedPointId | None = None
        while True:
            page, offset = await self.client.scroll(
                self._collection,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=with_data,
                with_vectors=with_data,
            )
            points.extend(page)
            if offset is None:
                return points

    async def _load_index(self) -> None:
        points = await self._scroll(with_data=True)
        # Swapped in whole, so a search in flight keeps the index it started with.
        self._index = MemoryIndex(points, self._embedder.dim)

    async def count(self) -> int:
        """Number of chunks in the store."""
        return (await self.client.count(self._collection, exact=True)).count

    async def ingest(self, chunks: Iterable[Chunk], *, progress: bool = True) -> IngestReport:
        """Make the collection hold exactly `chunks`, embedding only those it lacks.

        New points are written before stale ones are deleted, so an edited document stays
        searchable throughout.

        Args:
            chunks: The whole corpus, chunked; points of chunks not in it are removed.
            progress: Show a tqdm progress bar while embedding.
        """
        wanted: dict[str, Chunk] = {}
        for chunk in chunks:
            wanted.setdefault(point_id(chunk.content_hash), chunk)
        existing = {str(p.id) for p in await self._scroll(with_data=False)}
        new = [(pid, chunk) for pid, chunk in wanted.items() if pid not in existing]
        stale = sorted(existing - wanted.keys())

        if self._avg_length is None or not existing:
            # BM25's average length is fixed when an empty collection is filled, so that later
            # ingestions never re-encode unchanged chunks. The chunker bounds chunk sizes, so
            # the true average drifts little as the corpus grows.
            self._avg_length = sparse.average_length(c.embed_text for c in wanted.values())
            await self.client.update_collection(
                self._collection, metadata={_AVG_LENGTH_KEY: self._avg_length}
            )
        avg_length = self._avg_length

        batches = [new[i : i + _EMBED_BATCH] for i in range(0, len(new), _EMBED_BATCH)]
        with tqdm(
            total=len(new), desc="knowledge: embedding", unit="chunk", disable=not progress
        ) as bar:
            # The next batch is embedded (in threads) while this one is written: local mode
            # commits point by point, which would otherwise leave the CPU idle.
            upcoming = self._embed_soon(batches[0]) if batches else None
            try:
                for number, batch in enumerate(batches):
                    assert upcoming is not None
                    vectors = await upcoming
                    upcoming = (
                        self._embed_soon(batches[number + 1]) if number + 1 < len(batches) else None
                    )
                    await self._upsert(batch, vectors, avg_length)
                    bar.update(len(batch))
            finally:
                if upcoming is not None:  # a write failed: let the embedding finish, unused
                    await asyncio.gather(upcoming, return_exceptions=True)
        if stale:
            await self.client.delete(
                self._collection, points_selector=models.PointIdsList(points=stale), wait=True
            )
        if self._use_memory and (new or stale or self._index is None):
            await self._load_index()
        return IngestReport(added=len(new), unchanged=len(wanted) - len(new), removed=len(stale))

    def _embed_soon(self, batch: Sequence[tuple[str, Chunk]]) -> asyncio.Task[Matrix]:
        texts = [chunk.embed_text for _, chunk in batch]
        return asyncio.create_task(asyncio.to_thread(self._embedder.embed, texts))

    async def _upsert(
        self, batch: Sequence[tuple[str, Chunk]], vectors: Matrix, avg_length: float
    ) -> None:
        points = [
            models.PointStruct(
                id=pid,
                vector={
                    DENSE: vector.tolist(),
                    BM25: _to_qdrant(
                        sparse.document_vector(chunk.embed_text, avg_length=avg_length)
                    ),
                },
                payload=_payload(chunk),
            )
            for (pid, chunk), vector in zip(batch, vectors, strict=True)
        ]
        await self.client.upsert(self._collection, points=points, wait=True)

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
    ) -> list[SearchResult]:
        """The `k` chunks that best answer `query`, best first.

        Args:
            query: A question or keywords, in English.
            k: Number of chunks; several may come from one document.
            filters: Category, domain and verified filters.
            mode: `hybrid` (dense and BM25 fused by RRF), `dense`, or `sparse` (BM25 alone).
                A hybrid query without a single indexable word is answered densely.
        """
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; expected one of {MODES}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        sparse_query = sparse.query_vector(query)
        if mode == "sparse" and not sparse_query.indices:
            return []
        dense_query = None if mode == "sparse" else await self._batcher.embed(query)
        if not self._use_memory:
            points = await self._query_points(dense_query, sparse_query, mode, k, filters)
            return [_result(p.payload or {}, p.score) for p in points]
        if self._index is None:
            raise RuntimeError("KnowledgeStore is not open")
        hits = self._index.search(
            dense_query,
            sparse_query,
            mode=mode,
            k=k,
            filters=filters,
            prefetch_limit=max(self._prefetch_limit, k),
        )
        return [_result(payload, score) for payload, score in hits]

    async def _query_points(
        self,
        dense_query: Matrix | None,
        sparse_query: sparse.SparseVector,
        mode: Mode,
        k: int,
        filters: SearchFilters | None,
    ) -> list[models.ScoredPoint]:
        query_filter = build_filter(filters)
        if mode == "sparse":
            response = await self.client.query_points(
                self._collection,
                query=_to_qdrant(sparse_query),
                using=BM25,
                query_filter=query_filter,
                limit=k,
                with_payload=True,
            )
            return response.points
        if dense_query is None:
            raise ValueError(f"{mode} search needs a dense query vector")
        if mode == "dense" or not sparse_query.indices:
            response = await self.client.query_points(
                self._collection,
                query=dense_query.tolist(),
                using=DENSE,
                query_filter=query_filter,
                limit=k,
                with_payload=True,
            )
            return response.points
        limit = max(self._prefetch_limit, k)
        response = await self.client.query_points(
            self._collection,
            prefetch=[
                models.Prefetch(
                    query=dense_query.tolist(), using=DENSE, filter=query_filter, limit=limit
                ),
                models.Prefetch(
                    query=_to_qdrant(sparse_query), using=BM25, filter=query_filter, limit=limit
                ),
            ],
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            limit=k,
            with_payload=True,
        )
        return response.points


async def ingest_corpus(
    store: KnowledgeStore, corpus_dir: Path, *, progress: bool = True
) -> IngestReport:
    """Load, validate and chunk the corpus under `corpus_dir`, then ingest it into `store`.

    Raises:
        CorpusError: when a document is invalid; nothing is ingested then.
    """
    documents = await asyncio.to_thread(load_corpus, corpus_dir)
    return await store.ingest(chunk_corpus(documents, index_id=store.index_id), progress=progress)
