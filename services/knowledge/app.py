"""The knowledge service's composition root."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from services.knowledge import handlers
from services.knowledge.config import KnowledgeSettings
from services.knowledge.embedding import Embedder, MiniLMEmbedder, OpenAIEmbedder
from services.knowledge.store import KnowledgeStore
from shared.messaging import create_broker
from shared.service import create_bus_service_app


def create_embedder(settings: KnowledgeSettings) -> Embedder:
    """The configured OpenAI-compatible endpoint, or the bundled MiniLM."""
    if settings.embeddings_base_url:
        return OpenAIEmbedder(
            base_url=settings.embeddings_base_url,
            api_key=settings.embeddings_api_key or "",
            model=settings.embeddings_model,
        )
    return MiniLMEmbedder.from_settings(settings, workers=settings.embedding_workers)


def create_store(settings: KnowledgeSettings) -> KnowledgeStore:
    return KnowledgeStore(
        create_embedder(settings),
        url=settings.qdrant_url,
        api_key=settings.qdrant_api_key,
        path=settings.qdrant_path,
        collection=settings.qdrant_collection,
    )


def create_app(settings: KnowledgeSettings | None = None) -> FastAPI:
    settings = settings or KnowledgeSettings()
    broker = create_broker(settings)
    store = create_store(settings)
    broker.context.set_global("store", store)
    broker.context.set_global("settings", settings)
    broker.include_router(handlers.subscribers.router())

    async def ready() -> bool:
        return await store.count() > 0

    async def warm_up() -> None:
        # Load the weights now, not on the first user's query.
        await asyncio.to_thread(store.embedder.embed, ["warm up"])

    return create_bus_service_app(
        "Habyss knowledge",
        broker,
        checks={"index": ready},
        on_startup=[store.open, warm_up],
        on_shutdown=[store.close],
    )
