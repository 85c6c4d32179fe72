"""The bundled model in plain torch (``rag.models.minilm``) against the same weights through sentence-transformers,
and what a cold ``ask`` imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.ingest.loaders import load_paths
from rag.ingest.sentences import sentence_spans
from rag.models.embedding import SentenceTransformerEmbedder, resolve_model
from rag.models.minilm import MiniLM
from tests.paths import ROOT, SEEDS

pytestmark = pytest.mark.integration

ODD_TEXTS = ["", "x", "Who led the Chinese delegation?", "Ünïcode naïve café, “quotes” and 北京.",
             "a longer text than the model reads " * 60]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    body = load_paths([SEEDS])[0].body
    return [body[s:e] for s, e in sentence_spans(body)] + ODD_TEXTS


@pytest.fixture(scope="module")
def reference() -> Any:
    """The bundled model loaded through sentence-transformers, as it was loaded before ``MiniLM``."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model(None).location, device="cpu")


def test_the_bundled_model_loads_without_sentence_transformers(real_embedder: SentenceTransformerEmbedder) -> None:
    assert isinstance(real_embedder._model, MiniLM)
    assert (real_embedder.dimension, real_embedder.max_tokens) == (384, 256)


def test_sentence_vectors_match_sentence_transformers(real_embedder: SentenceTransformerEmbedder, reference: Any,
                                                      texts: list[str]) -> None:
    ours = real_embedder.embed(texts)
    theirs = reference.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    alone = real_embedder.embed([texts[0]])  # padding in a batch changes nothing
    assert np.abs(alone[0] - ours[0]).max() < 1e-5


def test_token_vectors_and_word_pieces_match_sentence_transformers(
        real_embedder: SentenceTransformerEmbedder, reference: Any, texts: list[str]) -> None:
    from rag.retrieval.alignment import content_mask

    vecs, tokens = real_embedder.embed_with_tokens(texts)
    outs = reference.encode(texts, batch_size=64, output_value=None)
    specials = frozenset(reference.tokenizer.all_special_tokens)
    assert frozenset(real_embedder._model.tokenizer.all_special_tokens) == specials
    for i, o in enumerate(outs):
        n = int(o["attention_mask"].sum())
        pieces = reference.tokenizer.convert_ids_to_tokens(o["input_ids"][:n].tolist())
        assert n <= 256
        t = o["token_embeddings"][:n].float().numpy()[content_mask(pieces, specials)]
        t = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
        assert tokens[i].shape == t.shape
        if len(t):  # "" and "x" have no content word piece
            assert np.abs(tokens[i].astype(np.float32) - t).max() < 2e-3  # float16 storage
        v = o["sentence_embedding"].float().numpy()
        assert np.abs(vecs[i] - v / np.linalg.norm(v)).max() < 1e-5


def test_token_counts_match_the_transformers_tokenizer(real_embedder: SentenceTransformerEmbedder, reference: Any,
                                                       texts: list[str]) -> None:
    assert real_embedder.count_tokens(texts) == [len(ids) for ids in reference.tokenizer(texts)["input_ids"]]
    assert max(real_embedder.count_tokens(texts)) > 256  # counted, not clipped


def test_a_cold_ask_imports_neither_sentence_transformers_nor_the_web_stack(seed_index: Path) -> None:
    code = ("import sys\nfrom rag.cli import ask_entry\n"
            f"sys.argv = ['ask', 'Who led the Chinese delegation?', '--index-dir', {str(seed_index)!r}]\n"
            "try:\n    ask_entry()\nexcept SystemExit:\n    pass\n"
            "heavy = ('sentence_transformers', 'transformers', 'sklearn', 'pandas', 'fastapi', 'uvicorn', 'torch')\n"
            "print('imported:', *[m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Liu Guozhong" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "imported: torch", out.stdout
