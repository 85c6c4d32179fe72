"""Chunk vectors pooled from the vectors of the chunk's sentences, which answering embeds anyway.

The model's own chunk vector is the mean of its token vectors over the chunk. A sentence vector is the same mean
over the sentence's tokens, so the mean of a chunk's sentence vectors weighted by their lengths approximates the
chunk's vector without a second pass of the model over the same text (it loses only the attention across sentence
boundaries). Embedding the chunks was half of ingest time; with the shipped retrieval stack the pooled vectors
rank as well (measured in eval/README.md, "Chunk vectors pooled from sentences").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def pool(members: Sequence[Sequence[int]], weights: np.ndarray, vectors: np.ndarray) -> list[np.ndarray | None]:
    """Per group, the unit-length weighted sum of its member rows of ``vectors``; None for a group without members
    (or whose members cancel out), which the caller embeds on its own.

    ``members``: row indexes per group; ``weights``: one weight per row (the text's length in characters, a proxy
    for its count of word pieces, over which the model means).
    """
    import numpy as np

    out: list[np.ndarray | None] = []
    for rows in members:
        if not rows:
            out.append(None)
            continue
        idx = np.asarray(rows, dtype=np.int64)
        total = (weights[idx, None] * vectors[idx]).sum(axis=0)
        norm = float(np.linalg.norm(total))
        out.append((total / norm).astype(np.float32) if norm > 0 else None)
    return out
