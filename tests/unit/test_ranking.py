"""Fusion, MMR, sentence splitting and short answers: the pure pieces of ranking and answering."""

from __future__ import annotations

import numpy as np
import pytest

from rag.fusion import rrf_fusion, zscore_fusion, zscores
from rag.mmr import mmr_order
from rag.sentences import sentence_spans
from rag.short_answer import answer_type, has_typed_span, short_answer


def test_zscores_standardise_and_tolerate_constants() -> None:
    z = zscores(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert np.all(zscores(np.array([4.0, 4.0])) == 0.0)


def test_zscore_fusion_keeps_margins_that_rank_fusion_drops() -> None:
    # Signal a barely prefers item 0; signal b strongly prefers item 1.
    a = np.array([1.01, 1.00, 0.0])
    b = np.array([0.0, 10.0, 0.1])
    fused = zscore_fusion([a, b], [1.0, 1.0])
    assert int(np.argmax(fused)) == 1
    # RRF sees only ranks, so with a third run agreeing with a, item 0 would win there.
    assert int(np.argmax(rrf_fusion([a, b, a], [1.0, 1.0, 1.0], k=60))) == 0


def test_rrf_weights_and_zero_weight_signal() -> None:
    a = np.array([3.0, 2.0, 1.0])
    b = np.array([1.0, 2.0, 3.0])
    assert rrf_fusion([a, b], [1.0, 0.0])[0] == pytest.approx(1 / 61)
    assert int(np.argmax(rrf_fusion([a, b], [1.0, 2.0]))) == 2


def test_mmr_skips_a_near_duplicate() -> None:
    v = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    rel = np.array([1.0, 0.99, 0.5])
    assert mmr_order(rel, v, 2, lam=1.0) == [0, 1]
    assert mmr_order(rel, v, 2, lam=0.5) == [0, 2]


def test_sentence_spans_keep_offsets_and_abbreviations() -> None:
    text = "Dr. Smith met Mr. Lee at No. 5 Main St. yesterday. Was it late? No. It was 3.5 hours early!\n\nNew para"
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["Dr. Smith met Mr. Lee at No. 5 Main St. yesterday.", "Was it late?", "No.",
                   "It was 3.5 hours early!", "New para"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [("How many points did they score?", "number"), ("When did the war end?", "date"),
     ("Who led the delegation?", "entity"), ("Which player was criticized?", "named"),
     ("Why did it happen?", "phrase")],
)
def test_answer_type(question: str, kind: str) -> None:
    assert answer_type(question) == kind


def test_short_answers_pick_the_typed_span_near_the_question_words() -> None:
    s = "China’s Vice Premier Liu Guozhong led the Chinese delegation, while Russia sent a dance group."
    assert short_answer("Who led the Chinese delegation?", s) == "China’s Vice Premier Liu Guozhong"
    assert short_answer("How many points did the defense give up?",
                        "The defense gave up just 308 points, ranking sixth.") == "308"
    assert short_answer("When did the war end?", "The war ended in 1945 after six years.") == "1945"
    assert short_answer("Why did Kim invite them?", "Kim invited them to strengthen ties.") is None
    assert has_typed_span("How many eggs?", "The queen lays 2,000 eggs a day.")
    assert not has_typed_span("How many eggs?", "The queen lays eggs every day.")
