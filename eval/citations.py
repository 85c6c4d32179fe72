"""Pure citation metrics (ALCE, Gao et al. 2023) and the LLM answerer's bookkeeping, over any support judge.

ALCE's definitions, per answer:

- citation recall: the share of the answer's sentences whose cited passages, together, support them (a sentence
  citing nothing is unsupported);
- citation precision: the share of the answer's citations that are relevant. A citation of a supported sentence
  is relevant when it supports the sentence alone, or when the sentence's other citations no longer support it
  without it; a sentence citing one passage has a relevant citation exactly when it is supported; the citations of
  an unsupported sentence are all irrelevant. An answer with sentences but no citation has precision 0.

The judge is any ``supports(sentence, passages) -> bool``; the harness passes the citation verifier
(``eval.citation_judge``). ALCE used an NLI model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Does this set of passages (by id) support this sentence?
Judge = Callable[[str, frozenset[int]], bool]


@dataclass(frozen=True)
class CitedSentence:
    """One answer sentence (markers removed) and the passages it cites, by id."""

    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class CitationScores:
    """One answer's ALCE citation recall and precision (NaN when the answer has no sentence), with the judgements."""

    recall: float
    precision: float
    supported: tuple[bool, ...]  # per sentence
    relevant: tuple[tuple[bool, ...], ...]  # per sentence, per citation

    @property
    def citations(self) -> int:
        return sum(len(r) for r in self.relevant)


def citation_scores(sentences: Sequence[CitedSentence], supports: Judge) -> CitationScores:
    """ALCE citation recall and precision of one answer, asking ``supports`` as ALCE asks its NLI model."""
    supported: list[bool] = []
    relevant: list[tuple[bool, ...]] = []
    for s in sentences:
        cited = tuple(dict.fromkeys(s.cited))
        joint = bool(cited) and supports(s.text, frozenset(cited))
        supported.append(joint)
        if not joint:
            relevant.append((False,) * len(cited))
        elif len(cited) == 1:
            relevant.append((True,))
        else:
            relevant.append(tuple(supports(s.text, frozenset((c,))) or
                                  not supports(s.text, frozenset(cited) - {c}) for c in cited))
    n_cites = sum(len(r) for r in relevant)
    if not sentences:
        return CitationScores(math.nan, math.nan, (), ())
    recall = sum(supported) / len(supported)
    precision = sum(sum(r) for r in relevant) / n_cites if n_cites else 0.0
    return CitationScores(recall, precision, tuple(supported), tuple(relevant))


def marked_share(sentences: Sequence[CitedSentence]) -> float:
    """The share of sentences that cite a passage at all (NaN for none): a reply without markers has ALCE recall 0
    whatever it says."""
    return sum(bool(s.cited) for s in sentences) / len(sentences) if sentences else math.nan


def dropped_share(dropped: int, written: int) -> float:
    """The share of an LLM reply's sentences the verifier dropped; NaN when it wrote none."""
    if dropped < 0 or dropped > written:
        raise ValueError(f"{dropped} dropped of {written} written")
    return dropped / written if written else math.nan


def pooled_share(dropped: Sequence[int], written: Sequence[int]) -> float:
    """Dropped sentences over written sentences across answers (NaN when none was written)."""
    total = sum(written)
    return sum(dropped) / total if total else math.nan
