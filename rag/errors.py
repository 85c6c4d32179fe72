"""Domain errors; each front end maps them once (CLI exit code, HTTP status)."""

from __future__ import annotations


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
