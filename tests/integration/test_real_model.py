"""The hard guarantees with the real bundled model and tokenizer."""

from __future__ import annotations

import pytest

from rag.ingest.loaders import load_paths, load_qa_jsonl
from rag.models.embedding import SentenceTransformerEmbedder
from rag.settings import BUNDLED_MODEL_SHA256, Settings
from rag.store.encoding import make_chunker
from tests.paths import SEEDS, SHARED_DATA

pytestmark = pytest.mark.integration


def test_bundled_model_is_verified_and_offline(real_embedder: SentenceTransformerEmbedder) -> None:
    assert real_embedder.weights_sha256 == BUNDLED_MODEL_SHA256
    assert real_embedder.dimension == 384 and real_embedder.max_tokens == 256
    vecs = real_embedder.embed(["North Korea held a parade.", "A parade took place in Pyongyang."])
    assert abs(float((vecs**2).sum(axis=1)[0]) - 1.0) < 1e-5
    assert float(vecs[0] @ vecs[1]) > 0.5


@pytest.mark.parametrize("chunk_tokens", [200, 256, 400])
def test_every_seed_chunk_fits_the_model_window(real_embedder: SentenceTransformerEmbedder, chunk_tokens: int) -> None:
    settings = Settings(chunk_tokens=chunk_tokens, chunk_overlap=32)
    chunker = make_chunker(settings, real_embedder)
    chunks = [c for a in load_paths([SEEDS]) for c in chunker.chunk(a)]
    counts = real_embedder.count_tokens([c.text for c in chunks])
    assert chunks and max(counts) <= real_embedder.max_tokens


def test_every_shared_dataset_chunk_fits_the_model_window(real_embedder: SentenceTransformerEmbedder) -> None:
    files = sorted(SHARED_DATA.glob("*/*.jsonl"))
    if not files:
        pytest.skip(f"shared evaluation data not found under {SHARED_DATA}")
    chunker = make_chunker(Settings(chunk_tokens=400, chunk_overlap=40), real_embedder)
    texts = [c.text for f in files for a, _ in load_qa_jsonl(f) for c in chunker.chunk(a)]
    assert len(texts) > 500
    assert max(real_embedder.count_tokens(texts)) <= real_embedder.max_tokens


def test_token_vectors_come_from_the_same_pass_and_credit_paraphrases(
        real_embedder: SentenceTransformerEmbedder) -> None:
    from rag.retrieval.alignment import TokenStore

    question = "Who founded the company?"
    sentences = ["The firm was started by two brothers in 1921.", "Rain fell over the harbour all afternoon."]
    vecs, toks = real_embedder.embed_with_tokens([question, *sentences])
    assert abs(vecs - real_embedder.embed([question, *sentences])).max() < 1e-5  # the same sentence vectors
    assert len(toks[0]) == 3  # who, founded, company: [CLS], "the", "?" and [SEP] are dropped
    assert all(abs(float((t.astype("float32") ** 2).sum(axis=1).max()) - 1.0) < 1e-2 for t in toks)
    store = TokenStore.from_rows(toks[1:], real_embedder.dimension)
    started, rain = store.coverage(toks[0].astype("float32"), [0, 1])
    assert started > rain + 0.1  # "founded ... company" ~ "started ... firm", with no word in common


def test_pooled_chunk_vectors_stand_for_their_chunks(real_embedder: SentenceTransformerEmbedder, tmp_path) -> None:
    """A chunk's vector pooled from its sentences is nearer the model's own vector of that chunk than of any other."""
    import numpy as np

    from rag.pipeline import Pipeline
    from rag.store.generations import all_vectors

    p = Pipeline(Settings(index_dir=tmp_path / "index"), real_embedder)
    p.update(upsert=load_paths([SEEDS]))
    chunks = sorted(p.snapshot.chunks.values(), key=lambda c: c.chunk_id)
    pooled = all_vectors(p.snapshot.vectors)
    encoded = real_embedder.embed([c.text for c in chunks])
    sims = np.stack([pooled[c.chunk_id] for c in chunks]) @ encoded.T
    assert len(chunks) >= 5
    assert (sims.argmax(axis=1) == np.arange(len(chunks))).all()
    assert float(np.diag(sims).min()) > 0.8
