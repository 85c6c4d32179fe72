"""Evaluation datasets: the seed articles' own FAQs, or question-answering JSONL (XQuAD, FairytaleQA)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rag.errors import RagError
from rag.types import Article

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_ENV = "RAG_EVAL_DATA"
#: Named datasets: a folder of articles (relative to the repo) or a JSONL file (relative to the data dir).
NAMED: dict[str, tuple[Literal["repo", "data"], str]] = {
    "seeds": ("repo", "seeds"),
    "xquad": ("data", "xquad/xquad.en.jsonl"),
    "fairytaleqa": ("data", "fairytaleqa/fairytaleqa.val.jsonl"),
}

#: ``faq``: gold answers come from each article's own FAQ section (abstractive, must never be indexed);
#: ``qa``: gold answers come from a QA file (short spans or free-form, quoted from the text by design).
GoldOrigin = Literal["faq", "qa"]


class DatasetNotFound(RagError):
    """A dataset name or path that does not resolve to readable data."""

    code = "dataset_not_found"
    status = 404


@dataclass(frozen=True)
class Question:
    """One question about one article, with every acceptable gold answer."""

    qid: str
    doc_id: str
    question: str
    golds: tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    """Articles (bodies and FAQs) and the questions asked about them."""

    name: str
    source: str
    origin: GoldOrigin
    articles: tuple[Article, ...]
    questions: tuple[Question, ...]

    by_id: dict[str, Article] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {a.doc_id: a for a in self.articles})


def default_data_dir() -> Path:
    """``$RAG_EVAL_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "data"


def resolve(name: str, data_dir: Path | None = None) -> Path:
    """The file or folder a dataset name or path stands for; raises ``DatasetNotFound`` when absent."""
    if name in NAMED:
        where, rel = NAMED[name]
        base = REPO_ROOT if where == "repo" else (data_dir or default_data_dir())
        path = base / rel
        if not path.exists():
            hint = "" if where == "repo" else f" (set --data-dir or ${DATA_ENV}; the data lives in ../shared/data)"
            raise DatasetNotFound(f"dataset {name!r} not found: {path} does not exist{hint}")
        return path
    path = Path(name).expanduser()
    if not path.exists():
        known = ", ".join(NAMED)
        raise DatasetNotFound(f"no dataset {name!r}: not one of {known} and {path} does not exist")
    return path


def dataset_name(name: str) -> str:
    """The short name used for output folders and baselines (``xquad``, or a file's stem)."""
    return name if name in NAMED else Path(name).stem.split(".")[0] or "dataset"


def load(name: str, data_dir: Path | None = None) -> Dataset:
    """Load a named dataset, a JSONL file in the shared format, or a folder of articles with FAQs."""
    path = resolve(name, data_dir)
    if path.is_dir():
        return from_faq_articles(dataset_name(name), str(path), _load_articles(path))
    return from_qa_jsonl(dataset_name(name), path)


def sample(ds: Dataset, n: int, seed: int = 0) -> Dataset:
    """``n`` of the dataset's questions, the same for a given seed, spread evenly over the articles: each article's
    questions in a seeded order, taken one article at a time in turn (articles in id order). Every article stays
    indexed, so retrieval is as hard as on the whole dataset."""
    import random

    if n < 1:
        raise ValueError(f"a sample needs at least one question, got {n}")
    rng = random.Random(seed)
    queues: dict[str, list[Question]] = {}
    for q in ds.questions:
        queues.setdefault(q.doc_id, []).append(q)
    for doc in sorted(queues):
        rng.shuffle(queues[doc])
    picked: list[Question] = []
    while len(picked) < min(n, len(ds.questions)):
        for doc in sorted(queues):
            if queues[doc] and len(picked) < n:
                picked.append(queues[doc].pop(0))
    keep = {q.qid for q in picked}
    return Dataset(f"{ds.name}-sample{n}", ds.source, ds.origin, ds.articles,
                   tuple(q for q in ds.questions if q.qid in keep))


def halves(ds: Dataset) -> tuple[Dataset, Dataset]:
    """The dataset split in two by article (alternate articles in id order), each half with its own questions.

    Against one half's index, the other half's questions are unanswerable although they come from the same
    kind of text (encyclopaedia articles against encyclopaedia articles): a harder test than another corpus.
    """
    ids = sorted(a.doc_id for a in ds.articles)
    out = []
    for part, name in enumerate(("a", "b")):
        keep = set(ids[part::2])
        out.append(Dataset(f"{ds.name}-{name}", ds.source, ds.origin, tuple(a for a in ds.articles if a.doc_id in keep),
                           tuple(q for q in ds.questions if q.doc_id in keep)))
    return out[0], out[1]


def answer_paragraph_left_out(ds: Dataset, shift: int = 0) -> Dataset:
    """Each article without one of its body's paragraphs (the ``(i + shift) % n``-th of article i, in id order),
    and only the questions whose gold answers that paragraph holds and what is left never says. An article of one
    paragraph, or of no more paragraphs than ``shift``, stays whole and asks nothing (shifts 0 .. n-1 leave out
    each paragraph once).

    The article itself stays indexed, so these questions are about an indexed article that does not answer them:
    the hard case of abstention (SQuAD 2.0's kind), where the article's other sentences share the question's
    topic and words. A gold written in other words may still be answered elsewhere, so only golds quoted from the
    text count (``contains_answer``), and a question is kept only when none of its golds is left.
    """
    from dataclasses import replace

    from eval.metrics import contains_answer

    arts: list[Article] = []
    kept_questions: list[Question] = []
    by_doc: dict[str, list[Question]] = {}
    for q in ds.questions:
        by_doc.setdefault(q.doc_id, []).append(q)
    for i, a in enumerate(sorted(ds.articles, key=lambda a: a.doc_id)):
        paras = a.text[a.body_start : a.body_end].split("\n\n")
        if len(paras) < 2 or shift >= len(paras):
            arts.append(a)
            continue
        drop = (i + shift) % len(paras)
        body = "\n\n".join(p for j, p in enumerate(paras) if j != drop)
        arts.append(replace(a, text=body, body_start=0, body_end=len(body), faq=(), disclaimer=None,
                            sha256=f"{a.sha256}-without-{drop}"))
        kept_questions += [q for q in by_doc.get(a.doc_id, ())
                           if contains_answer(paras[drop], q.golds) and not contains_answer(body, q.golds)]
    return Dataset(f"{ds.name}-answer-paragraph-out", ds.source, ds.origin, tuple(arts), tuple(kept_questions))


def _load_articles(path: Path) -> list[Article]:
    from rag.ingest.loaders import load_paths

    return load_paths([path])


def from_faq_articles(name: str, source: str, articles: list[Article]) -> Dataset:
    """Questions are each article's own FAQ pairs; the FAQ answer is the single gold answer."""
    questions = [
        Question(f"{a.doc_id}#{i}", a.doc_id, pair.question, (pair.answer,))
        for a in articles
        for i, pair in enumerate(a.faq)
        if pair.question.strip() and pair.answer.strip()
    ]
    if not questions:
        raise DatasetNotFound(f"{source}: no article has a parsable FAQ section, so there is nothing to ask")
    return Dataset(name, source, "faq", tuple(articles), tuple(questions))


def from_qa_jsonl(name: str, path: Path) -> Dataset:
    """Questions and gold answers from the shared JSONL format (questions without answers are skipped)."""
    from rag.ingest.loaders import load_qa_jsonl

    records = load_qa_jsonl(path)
    articles = [a for a, _ in records]
    questions = [
        Question(f"{a.doc_id}#{i}", a.doc_id, q, tuple(g for g in golds if g.strip()))
        for a, qa in records
        for i, (q, golds) in enumerate(qa)
        if q.strip() and any(g.strip() for g in golds)
    ]
    if not questions:
        raise DatasetNotFound(f"{path}: no questions with gold answers")
    return Dataset(name, str(path), "qa", tuple(articles), tuple(questions))
