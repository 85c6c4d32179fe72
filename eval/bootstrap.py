"""Article-clustered bootstrap: CIs for means, paired deltas and percentiles.

Questions about one article are not independent, so every resample draws whole articles (groups)
with replacement and pools their questions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def cluster_bootstrap_means(
    scores: Sequence[float], groups: Sequence[str], *, n_boot: int = 2000, seed: int = 0
) -> NDArray[np.float64]:
    """``n_boot`` resampled means: draw groups with replacement, pool their questions, average.

    Questions within a group (an article) are not independent, so whole groups are resampled;
    each resample's statistic weights groups by their question count.
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(groups):
        raise ValueError(f"{values.size} scores but {len(groups)} group labels")
    if values.size == 0:
        raise ValueError("cannot bootstrap zero scores")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    _, group_index = np.unique(np.asarray(groups), return_inverse=True)
    sums = np.bincount(group_index, weights=values)
    counts = np.bincount(group_index).astype(np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, sums.size, size=(n_boot, sums.size))
    means: NDArray[np.float64] = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return means


def bootstrap_ci(
    scores: Sequence[float],
    groups: Sequence[str],
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile ``1 - alpha`` interval of the pooled mean under the group (cluster) bootstrap."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    means = cluster_bootstrap_means(scores, groups, n_boot=n_boot, seed=seed)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2], method="linear")
    return float(lo), float(hi)


def paired_bootstrap_delta(
    a_scores: Sequence[float],
    b_scores: Sequence[float],
    groups: Sequence[str],
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Mean of ``b - a`` (paired by position) and its cluster-bootstrap CI: (delta, lo, hi)."""
    a = np.asarray(a_scores, dtype=np.float64)
    b = np.asarray(b_scores, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired scores differ in length: {a.size} vs {b.size}")
    diffs = b - a
    lo, hi = bootstrap_ci(diffs.tolist(), groups, n_boot=n_boot, alpha=alpha, seed=seed)
    return float(diffs.mean()), lo, hi


def bootstrap_percentile_ci(
    values: Sequence[float],
    groups: Sequence[str],
    q: float,
    *,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Cluster-bootstrap ``1 - alpha`` interval of the ``q``-th percentile of the pooled values."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or len(x) != len(groups):
        raise ValueError(f"{x.size} values but {len(groups)} group labels")
    if x.size == 0:
        raise ValueError("cannot bootstrap zero values")
    _, group_index = np.unique(np.asarray(groups), return_inverse=True)
    members = [x[group_index == g] for g in range(int(group_index.max()) + 1)]
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot, dtype=np.float64)
    for i, draw in enumerate(rng.integers(0, len(members), size=(n_boot, len(members)))):
        stats[i] = np.percentile(np.concatenate([members[g] for g in draw]), q)
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2], method="linear")
    return float(lo), float(hi)
