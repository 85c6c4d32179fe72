"""Maximal marginal relevance: a near duplicate of a picked item waits behind a different one."""

from __future__ import annotations

import numpy as np

from rag.retrieval.mmr import mmr_order


def test_mmr_skips_a_near_duplicate() -> None:
    v = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    rel = np.array([1.0, 0.99, 0.5])
    assert mmr_order(rel, v, 2, lam=1.0) == [0, 1]
    assert mmr_order(rel, v, 2, lam=0.5) == [0, 2]
