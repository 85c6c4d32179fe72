"""Score fusion: z-score fusion keeps the margins that reciprocal-rank fusion drops."""

from __future__ import annotations

import numpy as np
import pytest

from rag.retrieval.fusion import rrf_fusion, zscore_fusion, zscores


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
