"""Search the corpus through the real NATS, as the agent does: rpc.knowledge.search.v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.nats import NatsBroker

from services.gateway.config import GatewaySettings
from services.knowledge.app import create_app
from services.knowledge.config import KnowledgeSettings
from shared.contracts.knowledge import INGEST, SEARCH, IngestReply, SearchReply
from shared.errors import ValidationFailed
from shared.messaging import create_broker
from shared.rpc import call

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "knowledge" / "fixtures" / "corpus"


@pytest.fixture(scope="module")
async def broker(
    settings: GatewaySettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[NatsBroker]:
    knowledge = KnowledgeSettings(
        nats_url=settings.nats_url,
        qdrant_path=tmp_path_factory.mktemp("qdrant"),
        corpus_dir=FIXTURES,
        embedding_workers=1,
    )
    app = create_app(knowledge)
    client = create_broker(settings)
    async with app.router.lifespan_context(app):
        await client.connect()
        try:
            yield client
        finally:
            await client.stop()


async def test_ingest_is_idempotent_and_search_cites_sources(broker: NatsBroker) -> None:
    first = IngestReply.model_validate(await call(broker, INGEST, {}, timeout=120))
    again = IngestReply.model_validate(await call(broker, INGEST, {}, timeout=120))
    assert first.added > 0
    assert (again.added, again.removed, again.unchanged) == (0, 0, first.added + first.unchanged)

    reply = SearchReply.model_validate(
        await call(broker, SEARCH, {"query": "how long until a new habit feels automatic", "k": 3})
    )
    assert reply.results
    top = reply.results[0]
    assert top.sources and top.title and top.section
    assert [r.score for r in reply.results] == sorted(
        (r.score for r in reply.results), reverse=True
    )


async def test_filters_and_bad_requests(broker: NatsBroker) -> None:
    await call(broker, INGEST, {}, timeout=120)
    everything = SearchReply.model_validate(await call(broker, SEARCH, {"query": "habit", "k": 20}))
    domains = {r.domain for r in everything.results}
    some_domain = sorted(domains)[0]
    filtered = SearchReply.model_validate(
        await call(broker, SEARCH, {"query": "habit", "k": 20, "filters": {"domain": some_domain}})
    )
    assert filtered.results and {r.domain for r in filtered.results} == {some_domain}
    with pytest.raises(ValidationFailed):
        await call(broker, SEARCH, {"query": "", "k": 3})
