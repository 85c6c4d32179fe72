"""Plain dataclasses passed between pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChunkKind = Literal["body", "faq"]


@dataclass(frozen=True)
class FaqPair:
    """One question/answer pair from an article's own FAQ section."""

    question: str
    answer: str


@dataclass(frozen=True)
class Article:
    """A parsed source document.

    ``text`` is the full normalised source text; ``body_start``/``body_end`` delimit the
    body inside it (the FAQ section and trailing disclaimer are outside that span), so
    every character offset a chunk or citation carries points into ``text``.
    """

    doc_id: str
    title: str
    text: str
    body_start: int
    body_end: int
    sha256: str
    source: str = ""
    date: str | None = None
    faq: tuple[FaqPair, ...] = ()
    faq_start: int | None = None
    disclaimer: str | None = None

    @property
    def body(self) -> str:
        return self.text[self.body_start : self.body_end]


@dataclass(frozen=True)
class Chunk:
    """A searchable passage; ``start``/``end`` are character offsets into its article's text."""

    chunk_id: int
    doc_id: str
    ordinal: int
    kind: ChunkKind
    text: str
    start: int
    end: int
    n_tokens: int


@dataclass(frozen=True)
class Sentence:
    """A sentence span inside a document, embedded on its own for answer selection."""

    sent_id: int
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with the scores that ranked it (``None`` where a retriever did not see it)."""

    chunk: Chunk
    score: float
    dense: float | None = None
    bm25: float | None = None
    fused: float | None = None
    rerank: float | None = None
    rank: int = 0


@dataclass(frozen=True)
class Citation:
    """A numbered piece of evidence an answer rests on."""

    n: int
    doc_id: str
    title: str
    chunk_id: int
    text: str
    start: int
    end: int
    score: float
    #: Whether the cited passage was checked to support the sentence: an extractive answer quotes it verbatim; an
    #: LLM's sentence passed ``rag.generation.verify`` (names, numbers and dates stated, support score reached).
    verified: bool = True
    #: The verifier's support score for an LLM's sentence; None for a verbatim quote.
    support: float | None = None


@dataclass(frozen=True)
class Flagged:
    """A retrieved passage that reads like instructions to a model, withheld from the LLM's prompt."""

    doc_id: str
    chunk_id: int
    kind: str
    excerpt: str


@dataclass(frozen=True)
class Answer:
    """What ``rag.answer`` returns to every front end."""

    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    short_answer: str | None = None
    #: "high" when the sentence itself settles the short answer, "low" when it was chosen among rivals
    #: (``rag.answering.short_answer.ShortAnswer``); None without a short answer.
    short_answer_confidence: str | None = None
    hits: tuple[Hit, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: Which answerer wrote the text: "extractive" (quoted sentences) or "llm".
    answerer: str = "extractive"
    #: Why an LLM answer fell back to the extractive one (its reply failed verification, the call failed, ...).
    fallback: str | None = None
    #: Retrieved passages withheld from the LLM as instruction-like.
    flagged: tuple[Flagged, ...] = ()
    #: Sentences of the LLM's reply dropped because no passage supported them.
    dropped_sentences: int = 0
    #: The index generation the answer was drawn from, whole (its folder name under ``generations/``).
    generation: str = ""

    def to_dict(self, *, explain: bool = False) -> dict[str, object]:
        """The JSON shape shared by the CLI (``--json``) and the API."""
        out: dict[str, object] = {
            "question": self.question,
            "answer": self.answer,
            "short_answer": self.short_answer,
            "short_answer_confidence": self.short_answer_confidence,
            "abstained": self.abstained,
            "citations": [c.__dict__.copy() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "answerer": self.answerer,
            "fallback": None if self.fallback is None else {"reason": self.fallback},
            "flagged": [f.__dict__.copy() for f in self.flagged],
            "dropped_sentences": self.dropped_sentences,
            "generation": self.generation,
        }
        if explain:
            out["hits"] = [hit_to_dict(h) for h in self.hits]
        return out


def hit_to_dict(hit: Hit) -> dict[str, object]:
    """A search hit as JSON (used by ``/search`` and ``ask --explain``)."""
    c = hit.chunk
    return {
        "rank": hit.rank,
        "chunk_id": c.chunk_id,
        "doc_id": c.doc_id,
        "kind": c.kind,
        "text": c.text,
        "start": c.start,
        "end": c.end,
        "score": round(hit.score, 6),
        "dense": None if hit.dense is None else round(hit.dense, 6),
        "bm25": None if hit.bm25 is None else round(hit.bm25, 6),
        "fused": None if hit.fused is None else round(hit.fused, 6),
        "rerank": None if hit.rerank is None else round(hit.rerank, 6),
    }
