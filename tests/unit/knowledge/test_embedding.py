import json
from pathlib import Path

import httpx2
import numpy as np
import pytest

from services.knowledge.embedding import (
    MINILM_DIM,
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
    OpenAIEmbedder,
)

REFERENCE = json.loads((Path(__file__).parent / "reference_vectors.json").read_text("utf-8"))
TEXTS = [item["text"] for item in REFERENCE["items"]]
VECTORS = np.asarray([item["vector"] for item in REFERENCE["items"]], dtype=np.float32)


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    embedder = MiniLMEmbedder()
    embedder.load()
    return embedder


def test_reference_vectors_come_from_sentence_transformers() -> None:
    produced = REFERENCE["produced_with"]
    assert "sentence-transformers" in produced and "torch" in produced
    assert REFERENCE["max_seq_length"] == MiniLMEmbedder.MAX_TOKENS
    assert VECTORS.shape == (len(TEXTS), MINILM_DIM) and len(TEXTS) >= 10


def test_minilm_matches_reference_model_in_a_batch(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed(TEXTS)
    cosines = np.sum(vectors * VECTORS, axis=1) / np.linalg.norm(VECTORS, axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5), strict=True))


def test_minilm_matches_reference_model_one_text_at_a_time(minilm: MiniLMEmbedder) -> None:
    for text, reference in zip(TEXTS, VECTORS, strict=True):
        vector = minilm.embed([text])[0]
        cosine = float(vector @ reference / np.linalg.norm(reference))
        assert cosine >= 0.999, text


def test_minilm_truncates_long_text_at_256_tokens(minilm: MiniLMEmbedder) -> None:
    long_text = max(TEXTS, key=len)
    assert len(long_text.split()) > 300
    # Words past the 256th token cannot change the vector.
    extended = long_text + " Completely unrelated words about quantum chromodynamics."
    vectors = minilm.embed([long_text, extended])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)


def test_minilm_output_is_unit_float32_in_input_order(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed(["walking", "a much longer sentence about walking to work", ""])
    assert vectors.dtype == np.float32 and vectors.shape == (3, MINILM_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    alone = minilm.embed(["a much longer sentence about walking to work"])[0]
    np.testing.assert_allclose(vectors[1], alone, atol=1e-5)
    assert minilm.embed([]).shape == (0, MINILM_DIM)


def test_minilm_with_workers_and_small_batches_gives_the_same_vectors(
    minilm: MiniLMEmbedder,
) -> None:
    parallel = MiniLMEmbedder(batch_tokens=64, workers=2)
    try:
        np.testing.assert_allclose(parallel.embed(TEXTS), minilm.embed(TEXTS), atol=1e-5)
    finally:
        parallel.close()


def test_minilm_ranks_paraphrases_above_unrelated_text(minilm: MiniLMEmbedder) -> None:
    query, paraphrase, unrelated = minilm.embed(
        [
            "How long does it take to build a habit?",
            "Forming a new habit takes about two months on average.",
            "Index funds have low fees.",
        ]
    )
    assert query @ paraphrase > query @ unrelated + 0.2


def test_embedders_satisfy_the_protocol(minilm: MiniLMEmbedder) -> None:
    assert isinstance(minilm, Embedder)
    assert isinstance(HashingEmbedder(), Embedder)
    assert minilm.model_id != HashingEmbedder().model_id


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashingEmbedder(dim=32)
    first = embedder.embed(["drink water daily", "run in the park", ""])
    again = HashingEmbedder(dim=32).embed(["drink water daily", "run in the park", ""])
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first[:2], axis=1), 1.0, atol=1e-6)
    assert not first[2].any()
    assert (
        first[0] @ embedder.embed(["drinking water"])[0]
        > first[1] @ embedder.embed(["drinking water"])[0]
    )


def _fake_endpoint(dim: int, seen: list[dict[str, object]]) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        seen.append({"path": request.url.path, **body})
        inputs = body["input"]
        data = [
            {
                "object": "embedding",
                "index": i,
                # Unnormalised vectors whose direction encodes the input's position.
                "embedding": [float(i + 1)] + [float(len(inputs[i]))] * (dim - 1),
            }
            for i in range(len(inputs))
        ]
        data.reverse()  # out of order on purpose: `index` is what counts
        return httpx2.Response(
            200,
            json={
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def test_openai_embedder_batches_orders_and_normalises() -> None:
    seen: list[dict[str, object]] = []
    embedder = OpenAIEmbedder(
        base_url="http://embeddings.test/v1",
        api_key="k",
        model="text-embedding-test",
        batch_size=2,
        http_client=_fake_endpoint(4, seen),
    )
    texts = ["a", "bb", "ccc"]
    vectors = embedder.embed(texts)
    assert [s["input"] for s in seen] == [["a", "bb"], ["ccc"]]
    assert all(s["path"] == "/v1/embeddings" and s["model"] == "text-embedding-test" for s in seen)
    assert vectors.shape == (3, 4) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    expected = np.asarray([[1, 1, 1, 1], [2, 2, 2, 2], [1, 3, 3, 3]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert embedder.dim == 4 and embedder.model_id == "openai:text-embedding-test"


def test_openai_embedder_probes_its_dimension_and_rejects_a_mismatch() -> None:
    seen: list[dict[str, object]] = []
    probing = OpenAIEmbedder(
        base_url="http://embeddings.test/v1",
        api_key="k",
        model="m",
        http_client=_fake_endpoint(6, seen),
    )
    assert probing.dim == 6 and len(seen) == 1
    fixed = OpenAIEmbedder(
        base_url="http://embeddings.test/v1",
        api_key="k",
        model="m",
        dim=8,
        http_client=_fake_endpoint(6, []),
    )
    with pytest.raises(ValueError, match="expected 8-d"):
        fixed.embed(["x"])
