"""Bus entry points of the knowledge service: rpc search and ingest."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from faststream import Context

from services.knowledge.config import KnowledgeSettings
from services.knowledge.store import KnowledgeStore, SearchFilters, ingest_corpus
from shared.contracts.knowledge import (
    INGEST,
    SEARCH,
    IngestReply,
    Passage,
    SearchReply,
    SearchRequest,
)
from shared.messaging import Subscribers
from shared.rpc import rpc_handler

subscribers = Subscribers()
Store = Annotated[KnowledgeStore, Context("store")]
Settings = Annotated[KnowledgeSettings, Context("settings")]
# Queries are embedded in batches by the store; workers let them arrive together.
RPC_WORKERS = 16


@subscribers.subscriber(SEARCH, queue="knowledge", max_workers=RPC_WORKERS)
@rpc_handler
async def on_search(request: SearchRequest, store: Store) -> SearchReply:
    filters = None
    if request.filters is not None:
        filters = SearchFilters(**request.filters.model_dump())
    results = await store.search(request.query, k=request.k, filters=filters, mode=request.mode)
    return SearchReply(results=[Passage(**asdict(r)) for r in results])


@subscribers.subscriber(INGEST, queue="knowledge")
@rpc_handler
async def on_ingest(store: Store, settings: Settings) -> IngestReply:
    report = await ingest_corpus(store, settings.corpus_dir, progress=False)
    return IngestReply(added=report.added, unchanged=report.unchanged, removed=report.removed)
