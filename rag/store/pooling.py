"""Chunk vectors pooled from the vectors of the chunk's sentences, which answering embeds anyway.

The model's own chunk vector is the mean of its token vectors over the chunk. A sentence vector is the same mean
over the sentence's tokens, so the mean of a chunk's sentence vectors weighted by their lengths approximates the
chunk's vector without a second pass of the model over the same text (it loses only the attention across sentence
boundaries). Embedding the chunks was half of ingest time; with the shipped retrieval stack the pooled vectors
rank as well (docs/evaluation.md, "What was tried").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.ingest.chunking import with_header

if TYPE_CHECKING:
    import numpy as np

    from rag.protocols import Embedder
    from rag.types import Chunk


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


def pooled_chunk_vectors(embedder: Embedder, chunks: Sequence[Chunk], members: Sequence[Sequence[int]],
                         sent_texts: Sequence[str], sent_vectors: np.ndarray, titles: dict[str, str | None]
                         ) -> list[np.ndarray]:
    """Each chunk's vector pooled from its sentences' (``members``: positions in ``sent_texts``/``sent_vectors``),
    with its title's when chunks carry a title header (``titles``: per document, None without one); a chunk
    without a sentence (or whose pool is empty) is embedded on its own."""
    import numpy as np

    rows, weights = np.asarray(sent_vectors, dtype=np.float32), [float(len(t)) for t in sent_texts]
    heads = sorted({t for t in titles.values() if t})
    if heads:
        at = {t: len(sent_texts) + i for i, t in enumerate(heads)}
        rows = np.vstack([rows, embedder.embed(heads)])
        weights += [float(len(t)) for t in heads]
        members = [[*m, at[t]] if (t := titles[c.doc_id]) and m else m for c, m in zip(chunks, members, strict=True)]
    made = pool(members, np.asarray(weights), rows)
    alone = [i for i, v in enumerate(made) if v is None]
    if alone:
        for i, v in zip(alone, embedder.embed([with_header(titles[chunks[i].doc_id], chunks[i].text) for i in alone]),
                        strict=True):
            made[i] = v
    return [v for v in made if v is not None]
