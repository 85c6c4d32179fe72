"""Offline extractive answering: the best supporting sentences of the retrieved chunks, cited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.sentences import sentence_spans
from rag.types import Citation, Hit

if TYPE_CHECKING:
    import numpy as np

    from rag.protocols import Embedder

ABSTAIN_MESSAGE = "The indexed articles don't contain an answer to that question."


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved chunk, located in its source document."""

    hit: Hit
    start: int
    end: int
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Selection:
    """The sentences chosen to answer, best first, and the evidence score that gates abstention."""

    sentences: tuple[Candidate, ...]
    evidence: float


def candidate_sentences(hits: Sequence[Hit]) -> list[Candidate]:
    """Unique non-question sentences of the hits, tagged with the best-ranked hit holding them."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for hit in hits:
        c = hit.chunk
        for s, e in sentence_spans(c.text):
            text = c.text[s:e]
            key = (c.doc_id, c.start + s)
            if key in seen or text.rstrip("\"'”’)").endswith("?") or len(text.split()) < 3:
                continue
            seen.add(key)
            out.append(Candidate(hit, c.start + s, c.start + e, text))
    return out


def score_candidates(question_vec: np.ndarray, cands: Sequence[Candidate], embedder: Embedder) -> list[Candidate]:
    """Cosine similarity of each sentence to the question with the bi-encoder."""
    from dataclasses import replace

    if not cands:
        return []
    vecs = embedder.embed([c.text for c in cands])
    sims = vecs @ question_vec.reshape(-1)
    return [replace(c, score=float(s)) for c, s in zip(cands, sims, strict=True)]


def select(cands: Sequence[Candidate], *, max_sentences: int, margin: float = 0.08) -> Selection:
    """The best sentence plus up to ``max_sentences - 1`` others scoring within ``margin`` of it."""
    if not cands:
        return Selection((), 0.0)
    ranked = sorted(cands, key=lambda c: -c.score)
    best = ranked[0]
    chosen = [best] + [c for c in ranked[1:max_sentences] if c.score >= best.score - margin]
    return Selection(tuple(chosen), best.score)


def compose(selection: Selection, titles: Mapping[str, str]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text in reading order with a numbered citation after each sentence."""
    doc_rank: dict[str, int] = {}
    for c in selection.sentences:
        doc_rank.setdefault(c.hit.chunk.doc_id, len(doc_rank))
    ordered = sorted(selection.sentences, key=lambda c: (doc_rank[c.hit.chunk.doc_id], c.start))
    parts: list[str] = []
    cites: list[Citation] = []
    for n, c in enumerate(ordered, start=1):
        parts.append(f"{c.text} [{n}]")
        ch = c.hit.chunk
        cites.append(Citation(n, ch.doc_id, titles.get(ch.doc_id, ch.doc_id), ch.chunk_id, c.text,
                              c.start, c.end, round(c.score, 4)))
    return " ".join(parts), tuple(cites)
