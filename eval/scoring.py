"""Per-question scores from the pure metrics, then means with article-clustered 95% CIs."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from eval import metrics as m
from eval.bootstrap import bootstrap_ci, bootstrap_percentile_ci
from eval.citations import dropped_share
from rag.ingest.sentences import sentence_spans

if TYPE_CHECKING:
    from eval.citation_judge import CitationCheck
    from eval.harness import Asked, Run
    from rag.protocols import Embedder
    from rag.types import Article, Chunk

N_BOOT = 2000
SEED = 0
#: Sentences scoring within this cosine of the best one also count as gold evidence (at most 3).
EVIDENCE_MARGIN = 0.02
_CITATION = re.compile(r"\s*\[\d+\]")

GoldKind = Literal["span", "evidence"]
#: Citation and LLM metrics, each over the answers it is defined for: citation_* over answers given (not abstained),
#: raw_citation_* and dropped_share over answers the LLM wrote a reply for, fallback over every question.
CITATION_METRICS = ("citation_recall", "citation_precision", "raw_citation_recall", "raw_citation_precision",
                    "raw_marked_share", "dropped_share", "fallback")


@dataclass(frozen=True)
class Scored:
    """One question's scores and the ranks behind them."""

    asked: Asked
    prediction: str
    gold_kind: GoldKind
    evidence: tuple[tuple[int, int], ...]
    gold_rank: int | None
    doc_rank: int | None
    scores: dict[str, float]


@dataclass(frozen=True)
class Aggregate:
    """A metric over the dataset: mean and 95% CI."""

    mean: float
    ci95: tuple[float, float]


def metric_names(k: int) -> list[str]:
    """Every reported metric, retrieval ones spelled with the actual k."""
    return [f"answer_hit@{k}", f"doc_hit@{k}", f"mrr@{k}", f"evidence_hit@{k}", f"evidence_mrr@{k}",
            "evidence_in_top3", "first_sentence_contains", "exact_match", "f1", "contains_answer", "rouge_l",
            "semantic_similarity", "abstained", "oracle_sentence_f1"]


def prediction_text(answer: str, abstained: bool) -> str:
    """The answer as scored: citation markers removed; an abstention is the empty answer."""
    return "" if abstained else _CITATION.sub("", answer).strip()


def body_sentences(article: Article) -> list[tuple[int, int]]:
    """Sentence spans of the article body (the FAQ section is outside it)."""
    return sentence_spans(article.text, article.body_start, article.body_end)


@dataclass(frozen=True)
class ArticleText:
    """An article's body sentences, normalised and tokenised once for all of its questions."""

    article: Article
    spans: list[tuple[int, int]]
    padded: list[str]  # " normalised sentence " for whole-token containment
    tokens: list[list[str]]
    body_padded: str

    @classmethod
    def of(cls, article: Article) -> ArticleText:
        spans = body_sentences(article)
        norm = [m.normalize_answer(article.text[s:e]) for s, e in spans]
        return cls(article, spans, [f" {n} " for n in norm], [n.split() for n in norm],
                   f" {m.normalize_answer(article.body)} ")

    def quotes(self, golds: Sequence[str]) -> bool:
        """Some gold answer occurs in the body (normalised, whole tokens)."""
        return any(n and f" {n} " in self.body_padded for n in map(m.normalize_answer, golds))


def gold_evidence(art: ArticleText | Article, golds: Sequence[str], embedder: Embedder
                  ) -> tuple[GoldKind, list[tuple[int, int]]]:
    """Where the answer is: sentences quoting a gold span, else those most similar to the gold answer."""
    at = art if isinstance(art, ArticleText) else ArticleText.of(art)
    if at.quotes(golds):
        needles = [f" {n} " for n in map(m.normalize_answer, golds) if n]
        return "span", [sp for sp, p in zip(at.spans, at.padded, strict=True) if any(n in p for n in needles)]
    if not at.spans:
        return "evidence", []
    text = at.article.text
    sims = embedder.embed([text[s:e] for s, e in at.spans]) @ embedder.embed(list(golds)).T
    best_per_sentence = sims.max(axis=1)
    best = float(best_per_sentence.max())
    order = np.argsort(-best_per_sentence, kind="stable")[:3]
    return "evidence", sorted(at.spans[i] for i in order if best_per_sentence[i] >= best - EVIDENCE_MARGIN)


def covers(chunk: Chunk, doc_id: str, evidence: Sequence[tuple[int, int]]) -> bool:
    """The chunk holds at least half of some evidence sentence of the question's own article."""
    if chunk.doc_id != doc_id:
        return False
    return any(min(chunk.end, e) - max(chunk.start, s) >= (e - s) / 2 for s, e in evidence)


def answer_flags(chunks: Sequence[Chunk], doc_id: str, golds: Sequence[str], kind: GoldKind,
                 evidence: Sequence[tuple[int, int]]) -> list[bool]:
    """Per retrieved chunk: does it hold the answer (the gold text itself, or else the gold evidence sentence)?

    For abstractive golds the text itself is only ever found in an FAQ chunk (the ``--with-faq`` upper bound):
    the leakage check guarantees no body chunk holds it.
    """
    has_gold = [bool(m.contains_answer(c.text, golds)) for c in chunks]
    if kind == "span":
        return has_gold
    return [g or covers(c, doc_id, evidence) for g, c in zip(has_gold, chunks, strict=True)]


def score_run(run: Run) -> list[Scored]:
    """Score every asked question (semantic similarity with the run's own embedder)."""
    ds, k, emb = run.dataset, run.k, run.embedder
    preds = [prediction_text(a.answer.answer, a.answer.abstained) for a in run.asked]
    semantic = semantic_similarity(preds, [a.question.golds for a in run.asked], emb)
    texts: dict[str, ArticleText] = {}
    has_short = any(a.answer.short_answer is not None for a in run.asked)
    rows: list[Scored] = []
    for asked, pred, sem in zip(run.asked, preds, semantic, strict=True):
        q, ans = asked.question, asked.answer
        if q.doc_id not in texts:
            texts[q.doc_id] = ArticleText.of(ds.by_id[q.doc_id])
        art = texts[q.doc_id]
        kind, evidence = gold_evidence(art, q.golds, emb)
        hits = [h.chunk for h in ans.hits]
        # answer_hit/mrr: a retrieved chunk contains a gold answer (answer recall as other systems report it,
        # so comparable across them); evidence_hit/mrr: it holds the gold text or the gold evidence sentence.
        flags = [bool(m.contains_answer(c.text, q.golds)) for c in hits]
        ev_flags = answer_flags(hits, q.doc_id, q.golds, kind, evidence)
        deep = [h.chunk for h in asked.ranking]
        gold_rank = m.first_hit_rank(answer_flags(deep, q.doc_id, q.golds, kind, evidence))
        first = ans.citations[0].text if ans.citations and not ans.abstained else ""
        doc_rank = m.first_hit_rank([c.doc_id == q.doc_id for c in deep])
        scores = {
            f"answer_hit@{k}": float(any(flags[:k])),
            f"doc_hit@{k}": m.doc_hit([c.doc_id for c in hits], q.doc_id, k),
            f"mrr@{k}": m.reciprocal_rank(flags, k),
            f"evidence_hit@{k}": float(any(ev_flags[:k])),
            f"evidence_mrr@{k}": m.reciprocal_rank(ev_flags, k),
            "evidence_in_top3": float(any(ev_flags[:3])),
            "first_sentence_contains": m.contains_answer(first, q.golds) if first else 0.0,
            "exact_match": m.exact_match(pred, q.golds),
            "f1": m.f1_score(pred, q.golds),
            "contains_answer": m.contains_answer(pred, q.golds),
            "rouge_l": m.rouge_l(pred, q.golds),
            "semantic_similarity": sem,
            "abstained": float(ans.abstained),
            "oracle_sentence_f1": m.oracle_sentence_f1_tokens(art.tokens, q.golds),
            "latency_ms": asked.latency_ms,
        }
        if asked.citations is not None:
            scores.update(citation_scores(ans.abstained, ans.fallback, ans.dropped_sentences, asked.citations))
        if has_short:  # once the answerer gives short answers, a missing one scores as empty
            short = "" if ans.abstained or ans.short_answer is None else ans.short_answer
            scores["short_exact_match"] = m.exact_match(short, q.golds)
            scores["short_f1"] = m.f1_score(short, q.golds)
            scores["short_contains_answer"] = m.contains_answer(short, q.golds)
        rows.append(Scored(asked, pred, kind, tuple(evidence), gold_rank, doc_rank, scores))
    return rows


def citation_scores(abstained: bool, fallback: str | None, dropped: int, check: CitationCheck) -> dict[str, float]:
    """One answer's citation and LLM scores; a metric an answer does not define is left out, not scored 0."""
    out = {"fallback": float(fallback is not None)}
    if not abstained and not math.isnan(check.shown.recall):
        out["citation_recall"] = check.shown.recall
        out["citation_precision"] = check.shown.precision
    if check.raw is not None and check.written:
        out["raw_citation_recall"] = check.raw.recall
        out["raw_citation_precision"] = check.raw.precision
        out["raw_marked_share"] = check.marked
        out["dropped_share"] = dropped_share(dropped, check.written)
    return out


def semantic_similarity(preds: Sequence[str], golds: Sequence[Sequence[str]], embedder: Embedder) -> list[float]:
    """Cosine of each answer with its closest gold answer; 0.0 for an empty (abstained) answer."""
    flat = [g for gs in golds for g in gs]
    if not preds:
        return []
    pv = embedder.embed([p or " " for p in preds])
    gv = embedder.embed(flat)
    out: list[float] = []
    pos = 0
    for i, (p, gs) in enumerate(zip(preds, golds, strict=True)):
        block = gv[pos : pos + len(gs)]
        pos += len(gs)
        sims = m.cosine_rows(np.repeat(pv[i : i + 1], len(gs), axis=0), block)
        out.append(float(sims.max()) if p else 0.0)
    return out


def groups_for(rows: Sequence[Scored]) -> tuple[list[str], str]:
    """Bootstrap units: articles; a one-article dataset falls back to questions (else the CI is a point)."""
    docs = [r.asked.question.doc_id for r in rows]
    if len(set(docs)) > 1:
        return docs, "article"
    return [r.asked.question.qid for r in rows], "question"


def aggregate(rows: Sequence[Scored], names: Sequence[str]) -> dict[str, Aggregate]:
    """Mean and cluster-bootstrap CI of each metric, plus latency p50/p95 with their CIs."""
    groups, _ = groups_for(rows)
    out: dict[str, Aggregate] = {}
    for name in names:  # over the rows that define the metric (every row, for the answer and retrieval metrics)
        have = [i for i, r in enumerate(rows) if name in r.scores]
        if not have:
            continue
        res = m.mean_metric([rows[i].scores[name] for i in have])
        out[name] = Aggregate(res.mean, bootstrap_ci(res.scores, [groups[i] for i in have], n_boot=N_BOOT, seed=SEED))
    latencies = [r.scores["latency_ms"] for r in rows]
    if latencies:
        for q, value in m.percentiles(latencies, (50, 95)).items():
            ci = bootstrap_percentile_ci(latencies, groups, float(q[1:]), n_boot=N_BOOT, seed=SEED)
            out[f"latency_{q}_ms"] = Aggregate(value, ci)
    return out


def hit_curve(rows: Sequence[Scored], depth: int) -> dict[str, list[float]]:
    """answer_hit@d and doc_hit@d for d = 1..depth (from the deep ranking)."""
    n = len(rows) or 1

    def curve(ranks: list[int | None]) -> list[float]:
        return [sum(1 for r in ranks if r is not None and r <= d) / n for d in range(1, depth + 1)]

    return {"answer_hit": curve([r.gold_rank for r in rows]), "doc_hit": curve([r.doc_rank for r in rows])}


def per_article(rows: Sequence[Scored], k: int) -> dict[str, dict[str, float]]:
    """Retrieval and answer quality of each article's questions."""
    by: dict[str, list[Scored]] = {}
    for r in rows:
        by.setdefault(r.asked.question.doc_id, []).append(r)
    keys = (f"answer_hit@{k}", f"doc_hit@{k}", f"mrr@{k}", "f1", "contains_answer")
    out: dict[str, dict[str, float]] = {}
    for doc, rs in by.items():
        stats: dict[str, float] = {"questions": float(len(rs))}
        for key in keys:
            stats[key] = math.fsum(r.scores[key] for r in rs) / len(rs)
        out[doc] = stats
    return out
