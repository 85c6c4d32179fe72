"""Soft token coverage: the TokenStore maths, content pieces, storage and use in indexing and answering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.answering import extractive as answering
from rag.errors import IndexCorrupt
from rag.pipeline import Pipeline
from rag.retrieval.alignment import TokenStore, content_mask
from rag.settings import Settings
from rag.store.generations import load_snapshot, read_manifest
from rag.store.segments import forget_open_segments
from tests.fakes import HashEmbedder, HashTokenEmbedder
from tests.texts import CATS, ROCKETS, plain_article


def unit_rows(rng: np.random.Generator, n: int, d: int = 8) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(question: np.ndarray, rows: list[np.ndarray]) -> np.ndarray:
    return np.array([float((question @ r.T).max(axis=1).mean()) if len(r) else 0.0 for r in rows])


def test_coverage_is_the_mean_best_cosine_of_the_question_pieces() -> None:
    rng = np.random.default_rng(0)
    rows = [unit_rows(rng, n) for n in (3, 0, 5, 1, 4, 2)]
    store = TokenStore.from_rows(rows, 8)
    store = TokenStore(store.vectors.astype(np.float32), store.offsets)
    q = unit_rows(rng, 4)
    stored = [store.row(i) for i in range(len(store))]
    for picked in ([0, 1, 2, 3, 4, 5], [4, 2, 0], [5, 3, 3, 1], [1], []):
        got = store.coverage(q, picked)
        assert got == pytest.approx(brute_force(q, [stored[i] for i in picked]), abs=1e-5)


def test_a_sentence_holding_every_question_piece_covers_it_fully() -> None:
    rng = np.random.default_rng(1)
    q = unit_rows(rng, 3)
    store = TokenStore.from_rows([np.vstack([q, unit_rows(rng, 4)]), unit_rows(rng, 6)], 8)
    full, other = store.coverage(q, [0, 1])
    assert full == pytest.approx(1.0, abs=1e-3) and other < 0.9


def test_token_store_round_trips_rows_as_float16() -> None:
    rng = np.random.default_rng(2)
    rows = [unit_rows(rng, n) for n in (2, 0, 3)]
    store = TokenStore.from_rows(rows, 8)
    assert store.vectors.dtype == np.float16 and store.offsets.tolist() == [0, 2, 2, 5]
    assert [r.shape[0] for r in store.rows()] == [2, 0, 3]
    assert np.allclose(store.row(2), rows[2], atol=1e-3)
    assert len(TokenStore.from_rows([], 8)) == 0


def test_content_pieces_skip_specials_stopwords_and_punctuation() -> None:
    pieces = ["[CLS]", "when", "was", "the", "zor", "##blax", "planted", "?", "[SEP]"]
    keep = content_mask(pieces, frozenset({"[CLS]", "[SEP]"}))
    assert [p for p, k in zip(pieces, keep, strict=True) if k] == ["when", "zor", "##blax", "planted"]
    # only stopwords: every real piece rather than nothing
    assert content_mask(["[CLS]", "is", "it", "[SEP]"], frozenset({"[CLS]", "[SEP]"})).tolist() == [
        False, True, True, False]


def newest_segment(settings: Settings) -> Path:
    """The folder of the live generation's newest segment."""
    index_dir = settings.index.index_dir
    return index_dir / "segments" / read_manifest(index_dir).segments[-1]["name"]


def test_index_stores_token_vectors_and_keeps_them_across_updates(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])
    snap = p.snapshot
    assert snap.sentence_tokens is not None and len(snap.sentence_tokens) == len(snap.sentences)
    cats_rows = {snap.sentences[s].start: snap.sentence_tokens.row(i) for i, s in enumerate(sorted(snap.sentences))}
    p.update(upsert=[plain_article("rockets", ROCKETS)])
    snap = p.snapshot
    assert snap.sentence_tokens is not None and len(snap.sentence_tokens) == len(snap.sentences)
    kept = {snap.sentences[s].start: snap.sentence_tokens.row(i) for i, s in enumerate(sorted(snap.sentences))
            if snap.sentences[s].doc_id == "cats"}
    assert kept.keys() == cats_rows.keys() and all(np.array_equal(kept[k], cats_rows[k]) for k in kept)
    p.update(remove=["cats"])
    snap = p.snapshot
    assert snap.sentence_tokens is not None and len(snap.sentence_tokens) == len(snap.sentences) == 3


def test_an_embedder_without_token_vectors_builds_an_index_without_them(settings: Settings) -> None:
    p = Pipeline(settings.replace(**{"abstain_threshold": 0.0}), HashEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])
    assert p.snapshot.sentence_tokens is None
    gen = newest_segment(settings)
    assert not (gen / "sentence_tokens.npy").exists()
    ans = p.answer("How long do cats sleep?")
    assert not ans.abstained and "sixteen hours" in ans.answer


def test_inconsistent_token_offsets_are_reported_as_corrupt(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])
    gen = newest_segment(settings)
    np.save(gen / "sentence_token_offsets.npy", np.array([0, 1], dtype=np.int64))
    forget_open_segments()
    with pytest.raises(IndexCorrupt, match="inconsistent"):
        load_snapshot(settings.index.index_dir)


def test_answer_candidates_carry_alignment_and_the_evidence_uses_it(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    q = "How many astronauts did the rocket carry?"
    qs, hits = p._retrieve(q, 3, {}, p.loaded)
    # how, many, astronauts, did, rocket, carry: "the" is a stopword, "?" punctuation
    assert qs.qtokens is not None and len(qs.qtokens) == 6
    cands = answering.candidates(hits, p.loaded.retriever, qs, q)
    carried = next(c for c in cands if "four astronauts" in c.text)
    lasted = next(c for c in cands if "lasted ten days" in c.text)
    assert carried.alignment is not None and lasted.alignment is not None
    assert carried.alignment > lasted.alignment  # "astronauts" is matched token for token
    assert answering.evidence(carried, 0.1) == pytest.approx(
        (carried.cos + carried.alignment) / 2 + 0.1 * carried.coverage)
    # without token vectors the cosine stands in for the alignment
    from dataclasses import replace

    assert answering.evidence(replace(carried, alignment=None), 0.0) == pytest.approx(carried.cos)


def test_the_rerank_reads_each_chunks_best_sentence_alignment(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    ret = p.loaded.retriever
    qs, _ = p._retrieve("How many astronauts did the rocket carry?", 3, {}, p.loaded)
    rows = np.arange(len(ret.chunks))
    best = ret._best_alignment(rows, qs)
    for j, r in enumerate(rows):
        srows = ret.sentence_rows(int(r))
        per_sentence = ret.sentences.alignment(qs.qtokens, srows)
        assert per_sentence is not None
        assert best[j] == pytest.approx(per_sentence.max() if srows.size else 0.0)
    rocket_chunk = next(j for j, c in enumerate(ret.chunks) if c.doc_id == "rockets")
    cat_chunk = next(j for j, c in enumerate(ret.chunks) if c.doc_id == "cats")
    assert best[rocket_chunk] > best[cat_chunk]


def test_alignment_joins_the_rerank_and_the_answer_fusion(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    q = "How many astronauts did the rocket carry?"
    qs = p.query_scores(q)
    ret = p.loaded.retriever
    on = ret.search(qs, 3, settings)
    off = ret.search(qs, 3, settings.replace(**{"rerank_alignment_weight": 0.0}))
    assert [h.rerank for h in on] != [h.rerank for h in off]  # the signal changes the rerank scores
    with_align = answering.candidates(on, ret, qs, q, alignment_weight=2.0)
    without = answering.candidates(on, ret, qs, q, alignment_weight=0.0)
    assert [c.score for c in with_align] != [c.score for c in without]


def test_token_vectors_are_read_as_float16_from_the_mapped_files(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])
    tokens = p.loaded.retriever.sentences.tokens
    assert tokens is not None and tokens.vectors.dtype == np.float16 and isinstance(tokens.vectors, np.memmap)


def test_an_index_and_an_embedder_that_disagree_on_token_vectors_need_a_rebuild(settings: Settings) -> None:
    from rag.errors import IndexMismatch

    Pipeline(settings, HashEmbedder()).update(upsert=[plain_article("cats", CATS)])
    with pytest.raises(IndexMismatch, match="token_vectors"):
        Pipeline(settings, HashTokenEmbedder()).update(upsert=[plain_article("rockets", ROCKETS)])
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)], rebuild=True)
    assert p.snapshot.sentence_tokens is not None


def test_decreasing_offsets_or_a_wrong_width_are_corrupt(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS)])
    gen = newest_segment(settings)
    good_off = np.load(gen / "sentence_token_offsets.npy")
    good_vec = np.load(gen / "sentence_tokens.npy")
    bad = good_off.copy()
    bad[1], bad[2] = bad[2], bad[1]
    np.save(gen / "sentence_token_offsets.npy", bad)
    forget_open_segments()
    with pytest.raises(IndexCorrupt):
        load_snapshot(settings.index.index_dir)
    np.save(gen / "sentence_token_offsets.npy", good_off)
    np.save(gen / "sentence_tokens.npy", good_vec[:, :8])
    forget_open_segments()
    with pytest.raises(IndexCorrupt):
        load_snapshot(settings.index.index_dir)


def test_an_answer_uses_one_index_generation_even_if_a_reload_lands_mid_question(settings: Settings) -> None:
    class ReloadMidQuestion(Pipeline):
        """Publishes and swaps in a new generation right after the question is scored."""

        armed = False

        def query_scores(self, q, timings=None, loaded=None):  # type: ignore[no-untyped-def]
            qs = super().query_scores(q, timings, loaded)
            if self.armed:
                self.armed = False
                Pipeline(settings, HashTokenEmbedder()).update(remove=["rockets"])
                self.reload()
            return qs

    p = ReloadMidQuestion(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    before = p.snapshot.manifest.generation
    p.armed = True
    ans = p.answer("How many astronauts did the rocket carry?")
    assert p.snapshot.manifest.generation != before  # the reload happened mid-question
    assert not ans.abstained and "four astronauts" in ans.answer  # answered from the generation it started on


def test_alignment_with_the_previous_sentence_matches_each_piece_in_either(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS)])
    idx = p.loaded.retriever.sentences
    qs = p.query_scores("How long did the rocket mission with four astronauts last?")
    assert idx.tokens is not None and qs.qtokens is not None
    rows = np.arange(len(idx.rows))
    got = idx.alignment(qs.qtokens, rows, with_previous=True)
    alone = idx.alignment(qs.qtokens, rows)
    assert got is not None and alone is not None
    for r in rows.tolist():
        before = int(idx.previous[r])
        own = (qs.qtokens @ idx.tokens.row(r).T).max(axis=1)
        if before >= 0:
            own = np.maximum(own, (qs.qtokens @ idx.tokens.row(before).T).max(axis=1))
        assert got[r] == pytest.approx(float(own.mean()), abs=1e-5)
    # "The mission lasted ten days." gains "rocket" and "astronauts" from the sentence before it
    lasted = next(r for r in rows.tolist() if idx.texts[r].startswith("The mission lasted"))
    assert got[lasted] > alone[lasted]
    first = idx.previous[rows] == -1
    assert got[first].tolist() == pytest.approx(alone[first].tolist(), abs=1e-6)  # read alone, never clipped


# Neighbouring sentences share words, so their vectors are not orthogonal and the stored pair cosine matters.
LAUNCH = ("The rocket launched from Florida in March. The rocket carried four astronauts to orbit. "
          "Four astronauts spent ten days in orbit.")


def test_cosine_with_the_previous_sentence_is_the_cosine_of_the_pair_vector(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS), plain_article("launch", LAUNCH)])
    idx = p.loaded.retriever.sentences
    qs = p.query_scores("How long did the rocket mission with four astronauts last?")
    rows = np.arange(len(idx.rows))
    got = idx.cosine_with_previous(qs.sentence_cos, rows)
    for r in rows.tolist():
        expected = float(qs.sentence_cos[r])
        before = int(idx.previous[r])
        if before >= 0:
            pair = idx.vectors[r] + idx.vectors[before]
            expected = max(expected, float(pair @ qs.qvec / np.linalg.norm(pair)))
        assert got[r] == pytest.approx(expected, abs=1e-5)
    cos = qs.sentence_cos[rows]
    assert (got >= cos - 1e-9).all() and (got > cos + 1e-6).any()
    has = idx.previous[rows] >= 0
    # neighbours that share words: the pair cosine is no sqrt(2)
    assert np.abs(p.snapshot.adjacent(rows[has])).max() > 0.1


def test_the_rerank_reads_sentences_with_the_one_before_them_only_when_asked(settings: Settings) -> None:
    p = Pipeline(settings, HashTokenEmbedder())
    p.update(upsert=[plain_article("cats", CATS), plain_article("rockets", ROCKETS),
                     plain_article("probe", "A probe launched in May. It carried no astronauts. It lasted a year.")])
    qs = p.query_scores("How long did the rocket mission with four astronauts last?")
    ret = p.loaded.retriever
    rows = np.arange(len(ret.chunks))
    alone_cos, _, _ = ret._best_sentence(rows, qs)
    pair_cos, _, _ = ret._best_sentence(rows, qs, with_previous=True)
    assert (pair_cos >= alone_cos - 1e-9).all()
    on = ret.search(qs, 3, settings)
    off = ret.search(qs, 3, settings.replace(**{"rerank_with_previous": False}))
    assert [h.rerank for h in on] != [h.rerank for h in off]
