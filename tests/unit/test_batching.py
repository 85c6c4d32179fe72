"""The embedding batcher: concurrent small calls share one forward pass, each caller gets its own rows and errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from rag.models.batching import BatchingEmbedder, BatchingTokenEmbedder, batching
from rag.protocols import TokenEmbedder
from rag.settings import Settings
from tests.fakes import HashEmbedder, HashTokenEmbedder


class GatedEmbedder(HashTokenEmbedder):
    """Counts forward passes and the texts of each; the first pass blocks until released, so that the calls made
    meanwhile queue up behind it; a text holding "boom" fails its whole pass."""

    def __init__(self) -> None:
        super().__init__()
        self.passes: list[list[str]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def _forward(self, texts: Sequence[str]) -> None:
        self.passes.append(list(texts))
        if len(self.passes) == 1:
            self.first_started.set()
            assert self.release.wait(10)
        if any("boom" in t for t in texts):
            raise ValueError(f"cannot embed {[t for t in texts if 'boom' in t]}")

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self._forward(texts)
        return HashEmbedder.embed(self, texts)

    def embed_with_tokens(self, texts: Sequence[str], *, progress: bool = False
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        self._forward(texts)
        vecs = HashEmbedder.embed(self, texts)
        return vecs, [np.full((i + 1, self.dimension), i, dtype=np.float16) for i in range(len(texts))]


def concurrently(fns: list, timeout: float = 10) -> list:
    """Run each function on its own thread; their results (or the exceptions they raised), in order."""
    out: list = [None] * len(fns)

    def run(i: int) -> None:
        try:
            out[i] = fns[i]()
        except Exception as e:
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive()
    return out


def blocked_batcher(wait_ms: float = 0.5) -> tuple[GatedEmbedder, BatchingEmbedder]:
    """A batcher whose first forward pass is running (and blocked) when this returns."""
    inner = GatedEmbedder()
    b = batching(inner, wait_ms)
    assert isinstance(b, BatchingTokenEmbedder)
    first = threading.Thread(target=b.embed, args=(["the first question"],))
    first.start()
    assert inner.first_started.wait(10)
    b._first = first  # type: ignore[attr-defined]
    return inner, b


def test_calls_that_arrive_during_a_pass_share_the_next_one() -> None:
    inner, b = blocked_batcher()
    questions = [f"question number {i} about cats" for i in range(6)]
    fns = [lambda q=q: b.embed([q]) for q in questions]
    started = threading.Thread(target=lambda: results.extend(concurrently(fns)))
    results: list = []
    started.start()
    while b._queue.qsize() < len(questions):  # every caller is waiting behind the blocked pass
        threading.Event().wait(0.005)
    inner.release.set()
    started.join(10)
    b._first.join(10)  # type: ignore[attr-defined]
    assert len(inner.passes) == 2 and sorted(inner.passes[1]) == sorted(questions)
    for q, got in zip(questions, results, strict=True):
        np.testing.assert_allclose(got, HashEmbedder().embed([q]), atol=1e-6)  # each caller gets its own row
    assert (b.batches, b.batched_calls) == (2, 7)
    b.close()


def test_token_vectors_go_to_their_caller_and_plain_calls_share_the_pass() -> None:
    inner, b = blocked_batcher()
    assert isinstance(b, BatchingTokenEmbedder)
    fns = [lambda: b.embed_with_tokens(["a", "b"]), lambda: b.embed(["c"]), lambda: b.embed_with_tokens(["d"])]
    results: list = []
    t = threading.Thread(target=lambda: results.extend(concurrently(fns)))
    t.start()
    while b._queue.qsize() < 3:
        threading.Event().wait(0.005)
    inner.release.set()
    t.join(10)
    assert len(inner.passes) == 2 and len(inner.passes[1]) == 4
    order = inner.passes[1]
    (vab, tab), vc, (vd, td) = results
    assert vab.shape == (2, 64) and vc.shape == (1, 64) and vd.shape == (1, 64)
    # The fake gives the i-th text of a pass i+1 token rows filled with i: each caller gets its own texts' rows.
    assert [int(x[0, 0]) for x in tab] == [order.index("a"), order.index("b")]
    assert [len(x) for x in td] == [order.index("d") + 1]
    b.close()


def test_an_error_reaches_only_the_caller_whose_text_caused_it() -> None:
    inner, b = blocked_batcher()
    fns = [lambda: b.embed(["fine one"]), lambda: b.embed(["boom here"]), lambda: b.embed(["fine two"])]
    results: list = []
    t = threading.Thread(target=lambda: results.extend(concurrently(fns)))
    t.start()
    while b._queue.qsize() < 3:
        threading.Event().wait(0.005)
    inner.release.set()
    t.join(10)
    assert isinstance(results[1], ValueError) and "boom here" in str(results[1])
    assert isinstance(results[0], np.ndarray) and isinstance(results[2], np.ndarray)
    np.testing.assert_allclose(results[0], HashEmbedder().embed(["fine one"]), atol=1e-6)
    # The batch failed once, then each call ran alone.
    assert len(inner.passes) == 5
    b.close()


def test_a_lone_caller_never_waits_for_company() -> None:
    inner = GatedEmbedder()
    inner.release.set()
    b = batching(inner, wait_ms=5000)  # would be obvious if spent
    t0 = time.perf_counter()
    for i in range(5):
        b.embed([f"q{i}"])
    assert time.perf_counter() - t0 < 2.5
    assert len(inner.passes) == 5
    assert isinstance(b, BatchingEmbedder)
    b.close()


def test_after_a_shared_batch_the_worker_waits_for_stragglers() -> None:
    inner, b = blocked_batcher(wait_ms=300)
    fns = [lambda: b.embed(["x"]), lambda: b.embed(["y"])]
    results: list = []
    t = threading.Thread(target=lambda: results.extend(concurrently(fns)))
    t.start()
    while b._queue.qsize() < 2:
        threading.Event().wait(0.005)
    inner.release.set()
    t.join(10)
    assert sorted(inner.passes[1]) == ["x", "y"]
    # Requests are arriving together now: calls made a little apart still share a pass.
    late = concurrently([lambda: b.embed(["p"]), lambda: (threading.Event().wait(0.05), b.embed(["q"]))[1]])
    assert all(isinstance(r, np.ndarray) for r in late)
    assert sorted(inner.passes[2]) == ["p", "q"] and len(inner.passes) == 3
    b.close()


def test_large_calls_bypass_the_worker() -> None:
    inner = GatedEmbedder()
    inner.release.set()
    b = batching(inner, wait_ms=2)
    texts = [f"sentence {i}" for i in range(100)]
    vecs, toks = b.embed_with_tokens(texts)  # type: ignore[attr-defined]
    assert vecs.shape == (100, 64) and len(toks) == 100
    assert b._worker is None  # type: ignore[attr-defined]


def test_zero_wait_turns_batching_off_and_the_wrapper_keeps_the_embedders_kind() -> None:
    plain, tokens = HashEmbedder(), HashTokenEmbedder()
    assert batching(plain, 0) is plain
    assert not isinstance(batching(plain, 2), TokenEmbedder)
    wrapped = batching(tokens, 2)
    assert isinstance(wrapped, TokenEmbedder)
    assert (wrapped.model_id, wrapped.dimension, wrapped.weights_sha256) == ("fake-hash", 64, "0" * 64)
    assert wrapped.count_tokens(["two words"]) == tokens.count_tokens(["two words"])


def test_close_stops_the_worker_and_a_later_call_starts_another() -> None:
    b = batching(HashTokenEmbedder(), 1)
    assert isinstance(b, BatchingEmbedder)
    b.embed(["one"])
    worker = b._worker
    assert worker is not None and worker.is_alive()
    b.close()
    assert not worker.is_alive()
    np.testing.assert_allclose(b.embed(["two"]), HashEmbedder().embed(["two"]), atol=1e-6)
    b.close()


@pytest.mark.parametrize("callers", [16])
def test_many_threads_get_their_own_vectors(callers: int) -> None:
    b = batching(HashTokenEmbedder(), 2)
    questions = [f"what colour is the {i}th door" for i in range(callers)]
    results = concurrently([lambda q=q: b.embed_with_tokens([q]) for q in questions] * 3)  # type: ignore[attr-defined]
    expected = HashTokenEmbedder()
    for q, (vecs, toks) in zip(questions * 3, results, strict=True):
        want_v, want_t = expected.embed_with_tokens([q])
        np.testing.assert_allclose(vecs, want_v, atol=1e-6)
        np.testing.assert_array_equal(toks[0], want_t[0])
    assert isinstance(b, BatchingEmbedder)
    b.close()


@pytest.mark.parametrize(("precision", "wait_ms", "batched"),
                         [("float32", 2.0, True), ("float32", 0.0, False), ("int8", 2.0, False)])
def test_the_pipeline_model_is_loaded_at_its_precision_behind_the_batcher(
        monkeypatch: pytest.MonkeyPatch, precision: str, wait_ms: float, batched: bool) -> None:
    import rag.models.embedding
    from rag.models.loading import Models

    made: list[dict] = []

    def fake_model(model: str | None, **kwargs: object) -> HashTokenEmbedder:
        made.append(kwargs)
        return HashTokenEmbedder()

    monkeypatch.setattr(rag.models.embedding, "SentenceTransformerEmbedder", fake_model)
    models = Models(Settings(embedding_precision=precision, embed_batch_wait_ms=wait_ms))
    e = models.embedder
    assert made[0]["precision"] == precision
    assert isinstance(e, BatchingTokenEmbedder) is batched and isinstance(e, TokenEmbedder)
    models.close()


def test_metrics_show_the_batchers_counts(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag.pipeline import Pipeline
    from tests.texts import ROCKETS, plain_article

    embedder = batching(HashTokenEmbedder(), 2)
    p = Pipeline(settings, embedder)
    p.update(upsert=[plain_article("rockets", ROCKETS)])
    with TestClient(create_app(pipeline=p)) as client:
        for _ in range(3):
            assert client.post("/ask", json={"question": "When did the rocket launch?"}).status_code == 200
        text = client.get("/metrics").text
    assert isinstance(embedder, BatchingEmbedder)
    passes = [line for line in text.splitlines() if line.startswith("rag_embedding_batches ")]
    calls = [line for line in text.splitlines() if line.startswith("rag_embedding_batched_calls ")]
    assert float(passes[0].split()[1]) == embedder.batches >= 3
    assert float(calls[0].split()[1]) == embedder.batched_calls >= 3
