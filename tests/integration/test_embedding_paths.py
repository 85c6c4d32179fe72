"""The int8 embedding path and the embedding batcher with the real bundled model."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.ingest.loaders import load_paths
from rag.ingest.sentences import sentence_spans
from rag.models.batching import BatchingTokenEmbedder, batching
from rag.models.embedding import SentenceTransformerEmbedder
from tests.integration.server import RAG
from tests.paths import ROOT, SEEDS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def int8_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(precision="int8")


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    body = load_paths([SEEDS])[0].body
    return [body[s:e] for s, e in sentence_spans(body)]


def test_int8_model_is_quantised_and_embeds_close_to_float32(
        real_embedder: SentenceTransformerEmbedder, int8_embedder: SentenceTransformerEmbedder,
        seed_sentences: list[str]) -> None:
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

    modules = list(int8_embedder._model.modules())
    quantised = [m for m in modules if isinstance(m, DynamicQuantizedLinear)]
    # 6 layers x (query, key, value, attention output, intermediate, output); BERT's pooler is not loaded.
    assert len(quantised) == 36 and not any(type(m) is torch.nn.Linear for m in modules)
    assert (int8_embedder.precision, int8_embedder.dimension) == ("int8", real_embedder.dimension)
    assert int8_embedder.weights_sha256 == real_embedder.weights_sha256  # the same bundled weights, quantised
    texts = [*seed_sentences, "Who led the Chinese delegation?", "Why did the parade take place?"]
    f32, q8 = real_embedder.embed(texts), int8_embedder.embed(texts)
    assert np.allclose(np.linalg.norm(q8, axis=1), 1.0, atol=1e-5)
    cos = (f32 * q8).sum(axis=1)
    assert float(cos.mean()) > 0.96 and float(cos.min()) > 0.9
    # Nearest neighbours survive: each int8 vector is closest to its own float32 vector.
    assert (np.argmax(q8 @ f32.T, axis=1) == np.arange(len(texts))).all()
    # Token vectors come from the same quantised pass, as many as float32 gives, and close to them.
    _, ft = real_embedder.embed_with_tokens(texts[:5])
    qv, qt = int8_embedder.embed_with_tokens(texts[:5])
    assert np.allclose(qv, int8_embedder.embed(texts[:5]), atol=1e-5)
    for a, b in zip(ft, qt, strict=True):
        assert a.shape == b.shape
        assert float((a.astype(np.float32) * b.astype(np.float32)).sum(axis=1).mean()) > 0.9


def test_batched_questions_get_the_vectors_they_get_alone(real_embedder: SentenceTransformerEmbedder) -> None:
    questions = ["Who led the Chinese delegation?", "Why?", "What did the parade in Pyongyang display to the guests?",
                 "Is there a potential meeting between the two leaders?"] * 2
    alone = [real_embedder.embed_with_tokens([q]) for q in questions]
    b = batching(real_embedder, wait_ms=20)
    assert isinstance(b, BatchingTokenEmbedder)
    got: list = [None] * len(questions)
    threads = [threading.Thread(target=lambda i=i: got.__setitem__(i, b.embed_with_tokens([questions[i]])))
               for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    b.close()
    assert b.batches < len(questions)  # some shared a pass
    for (av, at), (gv, gt) in zip(alone, got, strict=True):
        assert float(av[0] @ gv[0]) > 0.9999  # padding in a batch changes nothing but rounding
        assert at[0].shape == gt[0].shape
        assert np.allclose(at[0].astype(np.float32), gt[0].astype(np.float32), atol=2e-3)


def test_a_float32_index_is_refused_at_int8_in_one_line(seed_index: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {"RAG_EMBEDDING_PRECISION": "int8"}
    r = subprocess.run([str(RAG), "ask", "Who led the Chinese delegation?", "--index-dir", str(seed_index)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "embedded at float32 precision but RAG_EMBEDDING_PRECISION is int8" in lines[0]


def test_at_int8_a_vector_depends_on_its_batch_so_questions_are_not_batched(
        int8_embedder: SentenceTransformerEmbedder, real_embedder: SentenceTransformerEmbedder,
        seed_sentences: list[str]) -> None:
    """Why the pipeline embeds each question alone at int8: one activation scale per forward pass."""
    alone = np.vstack([int8_embedder.embed([t]) for t in seed_sentences[:8]])
    together = int8_embedder.embed(seed_sentences[:8])
    assert float((alone * together).sum(axis=1).min()) < 0.995
    f_alone = np.vstack([real_embedder.embed([t]) for t in seed_sentences[:8]])
    assert float((f_alone * real_embedder.embed(seed_sentences[:8])).sum(axis=1).min()) > 0.9999
