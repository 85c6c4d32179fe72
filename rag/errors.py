"""Domain errors; each front end maps them once (CLI exit code, HTTP status)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class RagError(Exception):
    """Base class: ``code`` is a stable machine-readable name, ``status`` the HTTP status."""

    code = "rag_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IndexNotFound(RagError):
    """No index at the configured location."""

    code = "index_not_found"
    status = 503


class IndexMismatch(RagError):
    """The index on disk was built with a different model, tokenizer or chunker."""

    code = "index_mismatch"
    status = 409


class IndexCorrupt(RagError):
    """The index files are missing, unreadable or inconsistent (``CURRENT`` naming no generation, a truncated file)."""

    code = "index_corrupt"
    status = 503


class EmptyQuestion(RagError):
    """The question is blank."""

    code = "empty_question"
    status = 422


class InvalidQuestion(RagError):
    """The question is not text a model can read (a lone UTF-16 surrogate, say)."""

    code = "invalid_question"
    status = 422


class QuestionTooLong(RagError):
    """The question exceeds the configured limit."""

    code = "question_too_long"
    status = 413


class UnsupportedDocument(RagError):
    """A file type or payload the loaders cannot read."""

    code = "unsupported_document"
    status = 415


class EmptyDocument(RagError):
    """A document with no text (an empty upload or file)."""

    code = "empty_document"
    status = 422


class DuplicateDocument(RagError):
    """Two different files would get the same document id."""

    code = "duplicate_document"
    status = 409


class DocumentNotFound(RagError):
    """No document with that id in the index."""

    code = "document_not_found"
    status = 404


class ModelUnavailable(RagError):
    """The embedding model cannot be loaded (missing files, wrong hash, offline)."""

    code = "model_unavailable"
    status = 503


class LLMError(RagError):
    """The configured LLM server failed or answered badly."""

    code = "llm_error"
    status = 502


class DamagedFile(Exception):
    """One file of an index segment is missing or cannot be read (the store turns it into ``IndexCorrupt``)."""

    def __init__(self, file: str, reason: str, *, missing: bool = False) -> None:
        super().__init__(f"{file}: {reason}")
        self.file, self.reason, self.missing = file, reason, missing


def guarded(file: str, read: Callable[[], T]) -> T:
    """``read()``, with any failure (a missing file, a bad header, a short file) raised as ``DamagedFile``."""
    try:
        return read()
    except FileNotFoundError:
        raise DamagedFile(file, "missing", missing=True) from None
    except Exception as e:  # whatever a parser raises for a damaged file: never a traceback
        reason = " ".join(str(e).rsplit("Error: ", 1)[-1].split())[:160] or type(e).__name__
        raise DamagedFile(file, reason) from None
