"""Maximal marginal relevance: trade a little relevance for less redundant passages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[int]:
    """Indices of ``k`` items chosen greedily by ``lam * rel - (1 - lam) * max cosine to chosen``.

    ``relevance`` is rescaled to [0, 1] first so that ``lam`` means the same for any score scale.
    """
    import numpy as np

    n = len(relevance)
    if n == 0:
        return []
    if lam >= 1.0:
        return [int(i) for i in np.argsort(-relevance, kind="stable")[:k]]
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    sims = vectors @ vectors.T
    chosen: list[int] = []
    redundancy = np.zeros(n)
    free = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        score = np.where(free, lam * rel - (1 - lam) * redundancy, -np.inf)
        best = int(np.argmax(score))
        chosen.append(best)
        free[best] = False
        redundancy = np.maximum(redundancy, sims[best])
    return chosen
