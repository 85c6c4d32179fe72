"""The citation verifier as the judge of ``eval.citations``, and the answer sentences it judges.

The judge is ``rag.generation.verify.Verifier`` at the shipped ``support_threshold``: a set of passages supports a
sentence when the passages, read as one (their sentences in citation order), state its names, numbers and dates and
cover it to the threshold. For the sentences an LLM answer shows this is circular (each passed the same check), so
the harness also judges the LLM's raw reply, before any sentence was dropped or attributed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eval.citations import CitationScores, CitedSentence, citation_scores, marked_share
from rag.generation.answerer import split_sentences
from rag.generation.verify import Evidence, Verifier, split_markers

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.retrieval.live import LoadedIndex
    from rag.types import Answer


class VerifierJudge:
    """``supports(sentence, chunk_ids)`` over one index generation, remembered per question."""

    def __init__(self, embedder: Embedder, loaded: LoadedIndex, threshold: float) -> None:
        self.retriever = loaded.retriever
        self.verifier = Verifier(embedder, self.retriever.sentences, threshold)
        self._seen: dict[tuple[str, frozenset[int]], bool] = {}

    def evidence(self, chunk_ids: Sequence[int]) -> Evidence:
        """The chunks read as one passage, built as ``rag.generation.answerer`` builds a passage's evidence."""
        ret = self.retriever
        rows: list[int] = []
        texts: list[str] = []
        for cid in chunk_ids:
            row = ret.row_of(cid)
            rows += [int(r) for r in ret.sentence_rows(row)]
            texts.append(ret.chunks[row].text)
        return Evidence("\n\n".join(texts), tuple(rows), tuple(ret.sentences.texts[r] for r in rows))

    def supports(self, sentence: str, chunk_ids: frozenset[int]) -> bool:
        key = (sentence, chunk_ids)
        if key not in self._seen:
            ev = self.evidence(sorted(chunk_ids))
            self._seen[key] = bool(chunk_ids) and self.verifier.check([f"{sentence} [1]"], [ev])[0].verified
        return self._seen[key]


def shown_sentences(answer: Answer) -> list[CitedSentence]:
    """The sentences an answer shows, each with the chunks it cites (none for an abstention). An extractive answer
    quotes one sentence per citation, so its citations are its sentences; an LLM answer's sentences each end with
    their markers, so its text is cut after each run of markers (and the full stop after it): a quotation mark or
    bracket before the markers cannot move them to the next sentence."""
    if answer.abstained:
        return []
    ordered = sorted(answer.citations, key=lambda c: c.n)
    if answer.answerer == "extractive":
        return [CitedSentence(c.text, (c.chunk_id,)) for c in ordered]
    chunk_of = [c.chunk_id for c in ordered]
    return [_cited(m.group().strip(), chunk_of) for m in _ENDS_WITH_MARKERS.finditer(answer.answer)
            if m.group().strip()]


#: A sentence as an LLM answer shows it: anything up to a run of markers, and the punctuation right after them.
_ENDS_WITH_MARKERS = re.compile(r".*?(?:\s*\[\d+\])+[.!?]?|.+$", re.DOTALL)


def prompt_passages(answer: Answer) -> list[int]:
    """The chunks the LLM was shown, in prompt order: the retrieved hits less those withheld as instructions."""
    withheld = {f.chunk_id for f in answer.flagged}
    return [h.chunk.chunk_id for h in answer.hits if h.chunk.chunk_id not in withheld]


def reply_sentences(reply: str, passages: Sequence[int]) -> list[CitedSentence]:
    """The LLM's raw reply as it wrote it: its sentences and the prompt passages each one's markers name."""
    return [_cited(s, list(passages)) for s in split_sentences(reply)]


def _cited(sentence: str, chunk_of: Sequence[int]) -> CitedSentence:
    text, cited, _ = split_markers(sentence, len(chunk_of))
    return CitedSentence(text, tuple(dict.fromkeys(chunk_of[i] for i in cited)))


@dataclass(frozen=True)
class CitationCheck:
    """One answer's citations judged: as shown, and (when an LLM was called) as its raw reply wrote them."""

    shown: CitationScores
    raw: CitationScores | None
    written: int  # sentences in the raw reply (0 when the LLM was not called)
    reply: str | None = None
    marked: float = math.nan  # share of the raw reply's sentences with a valid marker


def check_answer(judge: VerifierJudge, answer: Answer, reply: str | None) -> CitationCheck:
    """ALCE citation recall and precision of the shown answer and of the LLM's raw reply, if any."""
    shown = citation_scores(shown_sentences(answer), judge.supports)
    if reply is None:
        return CitationCheck(shown, None, 0)
    raw = reply_sentences(reply, prompt_passages(answer))
    return CitationCheck(shown, citation_scores(raw, judge.supports), len(raw), reply, marked_share(raw))
