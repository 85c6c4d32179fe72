"""Score fusion: weighted reciprocal rank fusion and weighted z-score fusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def zscores(values: np.ndarray) -> np.ndarray:
    """Standardise one signal over a candidate pool (a constant signal maps to zeros)."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    sd = float(values.std()) if values.size else 0.0
    return (values - values.mean()) / sd if sd > 1e-12 else np.zeros_like(values)


def zscore_fusion(signals: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of standardised signals, each an array over the same candidates."""
    import numpy as np

    total = np.zeros(len(signals[0]) if signals else 0, dtype=np.float64)
    for sig, w in zip(signals, weights, strict=True):
        if w:
            total += w * zscores(sig)
    return total


def rrf_fusion(signals: Sequence[np.ndarray], weights: Sequence[float], k: int = 60) -> np.ndarray:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) with ranks within each signal."""
    import numpy as np

    total = np.zeros(len(signals[0]) if signals else 0, dtype=np.float64)
    for sig, w in zip(signals, weights, strict=True):
        if w:
            ranks = np.empty(len(sig), dtype=np.float64)
            ranks[np.argsort(-np.asarray(sig), kind="stable")] = np.arange(1, len(sig) + 1)
            total += w / (k + ranks)
    return total
