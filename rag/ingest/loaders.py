"""Read text, markdown, HTML and JSONL documents into ``Article`` objects."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rag.errors import EmptyDocument, UnsupportedDocument
from rag.ingest.faq import split_article
from rag.ingest.html_text import html_to_text
from rag.ingest.sentences import sentence_spans, skip_dateline
from rag.ingest.textfile import decode, normalise, read_bytes
from rag.ingest.words import has_words
from rag.types import Article, FaqPair

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
TITLE_CHARS = 120

QaItems = list[tuple[str, list[str]]]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<meta>.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_DATE_PREFIX = re.compile(r"\s*date\s*:?[ \t]*(?P<value>\d{4}-\d{2}-\d{2})(?=\s|$)", re.IGNORECASE)
_DATE_LINE = re.compile(r"\s*date[ \t]*:[ \t]*(?P<value>[^\n]*)", re.IGNORECASE)
_H1 = re.compile(r"^[ \t]{0,3}#[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_HEADING = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
_DATE_FORMATS = ("%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%d.%m.%Y")


@dataclass(frozen=True)
class Skipped:
    """A file in a folder that was left out: ``keep`` when it could not be read (its indexed version stays), not
    when it has no text (as good as deleted)."""

    path: Path
    reason: str
    keep: bool


def load_paths(paths: Sequence[Path], skipped: list[Skipped] | None = None) -> list[Article]:
    """Load files and folders (recursively, sorted, hidden entries skipped); doc ids must be unique.

    A file found in a folder that cannot be read (not text, an unsupported encoding, a bad JSONL line) or has no
    text is left out and listed in ``skipped``, when a list is given; otherwise, and for files named directly, it
    is an error.
    """
    articles: list[Article] = []
    for path in paths:
        if path.is_dir():
            for file in _walk(path):
                try:
                    articles.extend(load_path(file, root=path))
                except (UnsupportedDocument, EmptyDocument) as e:
                    if skipped is None:
                        raise
                    skipped.append(Skipped(file, e.message, keep=not isinstance(e, EmptyDocument)))
        elif path.is_file():
            articles.extend(load_path(path))
        else:
            raise UnsupportedDocument(f"{path}: no such file or directory")
    seen: dict[str, str] = {}
    for a in articles:
        if a.doc_id in seen:
            raise UnsupportedDocument(f"duplicate document id {a.doc_id!r}: {seen[a.doc_id]} and {a.source} (the id "
                                      "is the path without its extension: rename one of them)")
        seen[a.doc_id] = a.source
    return articles


def load_path(path: Path, root: Path | None = None) -> list[Article]:
    """Load one file; its doc id is its path relative to ``root`` without extension (else its stem)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedDocument(
            f"{path}: unsupported file type {suffix or '(no extension)'}; expected one of {', '.join(SUFFIXES)}"
        )
    # The absolute path: pruning and the same-id check compare sources from runs started in other folders.
    articles = articles_from_bytes(doc_id_for(path, root), read_bytes(path), suffix, source=str(path.resolve()))
    # A record with no word to search is as good as empty: the index refuses it (``Pipeline.update``).
    articles = [a for a in articles if has_words(a.body)]
    if not articles:
        raise EmptyDocument(f"{path}: no text (no word to search)")
    return articles


def articles_from_bytes(doc_id: str, data: bytes, suffix: str, *, source: str = "") -> list[Article]:
    """Parse raw bytes of a document whose type is given by ``suffix`` (e.g. ``.md``)."""
    suffix = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    text = decode(data, source or doc_id)
    if suffix == ".jsonl":
        return [article for article, _ in _jsonl_records(doc_id, text, source or doc_id)]
    sha = hashlib.sha256(data).hexdigest()
    if suffix in (".html", ".htm"):
        body, title = html_to_text(text)
        return [_build(doc_id, body, sha, source, title=title)]
    if suffix in (".md", ".markdown"):
        body, meta = _front_matter(text)
        return [_build(doc_id, body, sha, source, title=meta.get("title") or None, date=parse_date(meta.get("date")))]
    if suffix == ".txt":
        return [_build(doc_id, text, sha, source)]
    raise UnsupportedDocument(f"{source or doc_id}: unsupported file type {suffix}")


def article_from_text(doc_id: str, text: str, *, title: str | None = None, source: str = "") -> Article:
    """Build an article from already-decoded text (uploads); the FAQ and disclaimer are split off."""
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _build(doc_id, normalise(text), sha, source, title=title)


def load_qa_jsonl(path: Path, root: Path | None = None) -> list[tuple[Article, QaItems]]:
    """Each JSONL record as an article with its (question, all gold answers) list, for evaluation."""
    if path.suffix.lower() != ".jsonl":
        raise UnsupportedDocument(f"{path}: expected a .jsonl file")
    return _jsonl_records(doc_id_for(path, root), decode(read_bytes(path), str(path)), str(path))


def doc_id_for(path: Path, root: Path | None = None) -> str:
    """A stable id: the path relative to ``root`` without extension, '/'-separated (else the stem)."""
    if root is not None:
        try:
            return path.relative_to(root).with_suffix("").as_posix()
        except ValueError:
            pass
    return path.stem


def parse_date(value: str | None) -> str | None:
    """An ISO ``YYYY-MM-DD`` string for common date spellings, else ``None``."""
    value = (value or "").strip().strip("\"'").strip()
    if re.match(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    """Collapse whitespace and cut at a word boundary with '…' when longer than ``limit``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:—–-") + "…"


def _build(doc_id: str, text: str, sha: str, source: str, *, title: str | None = None,
           date: str | None = None) -> Article:
    prefix_date, start = _date_prefix(text)
    split = split_article(text, start)
    title = _clean_title(title) or _heading_title(text, split.body_start, split.body_end) or _first_sentence(
        text, split.body_start, split.body_end
    )
    return Article(
        doc_id=doc_id, title=title or doc_id, text=text, body_start=split.body_start, body_end=split.body_end,
        sha256=sha, source=source, date=date or prefix_date, faq=split.faq, faq_start=split.faq_start,
        disclaimer=split.disclaimer,
    )


def _date_prefix(text: str) -> tuple[str | None, int]:
    """A leading ``date 2023-11-11`` token or ``Date: ...`` line: its ISO date and where the body starts."""
    m = _DATE_PREFIX.match(text)
    if m and (iso := parse_date(m.group("value"))):
        return iso, m.end()
    m = _DATE_LINE.match(text)
    if m:
        return parse_date(m.group("value")), m.end()
    return None, 0


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
    m = _FRONT_MATTER.match(text)
    if m is None:
        return text, {}
    meta: dict[str, str] = {}
    for line in m.group("meta").split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip() and not line[0].isspace():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return text[m.end() :], meta


def _heading_title(text: str, start: int, end: int) -> str | None:
    m = _H1.search(text, start, end)
    if m is None:
        line_end = text.find("\n", start, end)
        m = _HEADING.match(text, start, end if line_end < 0 else line_end)
    return _clean_title(m.group("title")) if m else None


def _first_sentence(text: str, start: int, end: int) -> str | None:
    sentences = sentence_spans(text, start, end)
    if not sentences:
        return None
    s, e = sentences[0]
    return shorten(text[skip_dateline(text, s, e) : e])


def _clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    return shorten(re.sub(r"\*\*|__|`", "", title).strip("#*_ \t")) or None


def _jsonl_records(prefix: str, text: str, source: str) -> list[tuple[Article, QaItems]]:
    out: list[tuple[Article, QaItems]] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnsupportedDocument(f"{where}: invalid JSON ({exc.msg})") from exc
        rid, body, title, qa = _validate(record, where)
        if rid in seen:
            raise UnsupportedDocument(f"{where}: duplicate id {rid!r}")
        seen.add(rid)
        canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        body = normalise(body)
        faq = tuple(FaqPair(q, answers[0]) for q, answers in qa if answers)
        article = Article(
            doc_id=f"{prefix}:{rid}", title=title or _first_sentence(body, 0, len(body)) or rid, text=body,
            body_start=0, body_end=len(body), sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
            source=source, faq=faq,
        )
        out.append((article, qa))
    return out


def _validate(record: Any, where: str) -> tuple[str, str, str | None, QaItems]:
    if not isinstance(record, dict):
        raise UnsupportedDocument(f"{where}: expected a JSON object")
    rid, body, title = record.get("id"), record.get("text"), record.get("title")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or str(rid) == "":
        raise UnsupportedDocument(f"{where}: missing or invalid 'id'")
    if not isinstance(body, str):
        raise UnsupportedDocument(f"{where}: missing or invalid 'text'")
    if title is not None and not isinstance(title, str):
        raise UnsupportedDocument(f"{where}: 'title' must be a string")
    qa: QaItems = []
    items = record.get("qa", [])
    if not isinstance(items, list):
        raise UnsupportedDocument(f"{where}: 'qa' must be a list")
    for item in items:
        question = item.get("question") if isinstance(item, dict) else None
        answers = item.get("answers", []) if isinstance(item, dict) else None
        if not isinstance(question, str) or not isinstance(answers, list) or not all(
            isinstance(a, str) for a in answers
        ):
            raise UnsupportedDocument(f"{where}: each 'qa' item needs a 'question' string and an 'answers' list")
        qa.append((question, list(answers)))
    return str(rid), body, title, qa


def _walk(folder: Path) -> list[Path]:
    files: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            path = Path(dirpath) / name
            if not name.startswith(".") and path.suffix.lower() in SUFFIXES:
                files.append((path.relative_to(folder).as_posix(), path))
    return [path for _, path in sorted(files)]
