"""The benchmark corpus: the seed folder plus the shared XQuAD and FairytaleQA articles, and a question sample."""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.types import Article

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = REPO_ROOT / "seeds"
#: Same default as ``eval.datasets``: ``$RAG_EVAL_DATA`` or ``../shared/data`` beside the repository.
DATA_DIR = Path(os.environ.get("RAG_EVAL_DATA") or REPO_ROOT.parent / "shared" / "data").expanduser()
XQUAD = Path("xquad/xquad.en.jsonl")
FAIRYTALEQA = Path("fairytaleqa/fairytaleqa.val.jsonl")


class DataMissing(RuntimeError):
    """The shared datasets are not on this machine."""


@dataclass(frozen=True)
class Corpus:
    """Articles to index, and the XQuAD questions (with the XQuAD articles alone, for the query index)."""

    articles: tuple[Article, ...]
    xquad_articles: tuple[Article, ...]
    xquad_questions: tuple[str, ...]

    def describe(self) -> dict[str, int]:
        return {
            "articles": len(self.articles),
            "characters": sum(len(a.body) for a in self.articles),
            "xquad_articles": len(self.xquad_articles),
            "xquad_questions": len(self.xquad_questions),
        }


def require_data(data_dir: Path = DATA_DIR) -> None:
    """Raise ``DataMissing`` with a clear message when the shared datasets are absent."""
    missing = [str(data_dir / p) for p in (XQUAD, FAIRYTALEQA) if not (data_dir / p).is_file()]
    if missing:
        raise DataMissing(
            f"shared datasets not found ({', '.join(missing)}); set RAG_EVAL_DATA to the folder holding "
            "xquad/ and fairytaleqa/ (normally ../shared/data beside the repository)"
        )


def load_corpus(data_dir: Path = DATA_DIR) -> Corpus:
    """Seeds via ``load_paths`` and both JSONL datasets via ``load_qa_jsonl``, in that order."""
    from rag.ingest.loaders import load_paths, load_qa_jsonl

    require_data(data_dir)
    seeds = load_paths([SEEDS]) if SEEDS.is_dir() else []
    xquad = load_qa_jsonl(data_dir / XQUAD)
    fairy = load_qa_jsonl(data_dir / FAIRYTALEQA)
    questions = tuple(q for _, qa in xquad for q, golds in qa if q.strip() and any(g.strip() for g in golds))
    xquad_articles = tuple(a for a, _ in xquad)
    return Corpus(tuple(seeds) + xquad_articles + tuple(a for a, _ in fairy), xquad_articles, questions)


def load_corpus_or_skip(data_dir: Path = DATA_DIR) -> Corpus | None:
    """``load_corpus``, or None after printing ``skipped: ...`` when the shared datasets are absent."""
    try:
        return load_corpus(data_dir)
    except DataMissing as e:
        print(f"skipped: {e}", file=sys.stderr)
        return None


def seed_corpus(questions: tuple[str, ...]) -> Corpus:
    """The seed article alone, as the corpus and as the query index, with ``questions``: what ``--smoke`` runs on."""
    from rag.ingest.loaders import load_paths

    seeds = tuple(load_paths([SEEDS]))
    return Corpus(seeds, seeds, questions)


def sample_questions(questions: tuple[str, ...], n: int, seed: int = 0) -> list[str]:
    """A fixed random sample (all of them when ``n`` is 0 or at least their number)."""
    if n <= 0 or n >= len(questions):
        return list(questions)
    return random.Random(seed).sample(list(questions), n)
