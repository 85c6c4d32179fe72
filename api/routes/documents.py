"""``/documents``: list, read, upload (file or JSON) and delete; each write publishes a new index generation."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import PipelineDep, require_write_key
from api.errors import InvalidRequest
from api.schemas import DocumentChange, DocumentIn, DocumentList
from rag.errors import DocumentNotFound, EmptyDocument, IndexNotFound, RagError, UnsupportedDocument
from rag.pipeline import Pipeline
from rag.store.indexing import IndexReport
from rag.types import Article

UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")

router = APIRouter(prefix="/documents", tags=["documents"])


class DocumentText(BaseModel):
    """``GET /documents/{doc_id}``: a document's full text, which citations' ``start``/``end`` index."""

    doc_id: str
    title: str
    source: str
    date: str | None
    text: str


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "A .txt, .md or .html file."}
                    },
                }
            },
            "application/json": {"schema": DocumentIn.model_json_schema()},
        },
    }
}


@router.get("", response_model=DocumentList)
@router.get("/", response_model=DocumentList, include_in_schema=False)  # not a document with the id ""
async def list_documents(pipeline: PipelineDep) -> dict[str, Any]:
    """Every document in the live index."""
    snap = await run_in_threadpool(lambda: pipeline.snapshot)
    docs = [
        {"doc_id": d.doc_id, "title": d.title, "source": d.source, "date": d.date, "chars": len(d.text)}
        for d in sorted(snap.documents.values(), key=lambda d: d.doc_id)
    ]
    return {"documents": docs, "count": len(docs), "chunks": len(snap.chunks)}


@router.get(
    "/{doc_id:path}",
    response_model=DocumentText,
    responses={404: {"description": "No document with that id (`document_not_found`)."}},
)
async def read_document(
    pipeline: PipelineDep, doc_id: Annotated[str, Path(description="The document id.")]
) -> dict[str, Any]:
    """One document with its full text; 404 when the index has no such id."""
    snap = await run_in_threadpool(lambda: pipeline.snapshot)
    doc = snap.documents.get(doc_id)
    if doc is None:
        raise DocumentNotFound(f"no document with id {doc_id!r} in the index")
    return {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "date": doc.date, "text": doc.text}


@router.post(
    "",
    status_code=201,
    response_model=DocumentChange,
    openapi_extra=_UPLOAD_BODY,
    dependencies=[Depends(require_write_key)],
)
async def add_document(request: Request, pipeline: PipelineDep) -> dict[str, Any]:
    """Add or replace a document: multipart ``file`` (doc id = file name stem) or JSON ``{"title", "text"}``."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        article = await _from_form(request)
    elif ctype == "application/json":
        article = await _from_json(request, pipeline)
    else:
        raise UnsupportedDocument(
            f"unsupported content type {ctype or '(none)'}: send multipart/form-data with a `file` field "
            "or application/json with `title` and `text`"
        )
    if not article.body.strip():
        raise EmptyDocument("the document has no text")
    async with request.app.state.write_lock:
        report: IndexReport = await run_in_threadpool(lambda: pipeline.update(upsert=[article]))
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    return _change(pipeline, article.doc_id, status, report, article.title)


@router.delete("/{doc_id:path}", response_model=DocumentChange, dependencies=[Depends(require_write_key)])
async def delete_document(
    request: Request, pipeline: PipelineDep, doc_id: Annotated[str, Path(description="The document id.")]
) -> dict[str, Any]:
    """Remove a document; 404 when the index has no such id."""
    async with request.app.state.write_lock:
        report: IndexReport = await run_in_threadpool(lambda: pipeline.update(remove=[doc_id]))
    return _change(pipeline, doc_id, "deleted", report)


def _change(
    pipeline: Pipeline, doc_id: str, status: str, report: IndexReport, title: str | None = None
) -> dict[str, Any]:
    snap = pipeline.snapshot
    return {
        "doc_id": doc_id,
        "status": status,
        "title": title,
        "chunks": len(snap.chunks),
        "document_chunks": sum(c.doc_id == doc_id for c in snap.chunks.values()),
        "generation": report.generation or snap.path.name,
    }


async def _from_form(request: Request) -> Article:
    from rag.ingest.loaders import articles_from_bytes

    async with request.form(max_files=1, max_fields=4) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidRequest("send the document as a multipart form field named `file`")
        name = PurePosixPath(upload.filename.replace("\\", "/")).name
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise UnsupportedDocument(
                f"unsupported file type {suffix or '(no extension)'}; upload one of {', '.join(UPLOAD_SUFFIXES)}"
            )
        data = await upload.read()
    doc_id = _slug(PurePosixPath(name).stem, keep="._-")
    articles = articles_from_bytes(doc_id, data, suffix, source=f"upload:{name}")
    if len(articles) != 1:
        raise UnsupportedDocument("expected exactly one document in the upload")
    return articles[0]


async def _from_json(request: Request, pipeline: Pipeline) -> Article:
    from rag.ingest.loaders import article_from_text

    try:
        doc = DocumentIn.model_validate_json(await request.body())
    except ValidationError as e:
        raise RequestValidationError(e.errors()) from None
    doc_id = doc.doc_id if doc.doc_id else await run_in_threadpool(_unique, pipeline, _slug(doc.title))
    return article_from_text(doc_id, doc.text, title=doc.title, source="upload:json")


def _slug(text: str, keep: str = "-") -> str:
    allowed = re.escape(keep)
    slug = re.sub(rf"[^A-Za-z0-9{allowed}]+", "-", text.lower() if keep == "-" else text).strip("-._")
    return slug[:80].rstrip("-._") or "document"


def _unique(pipeline: Pipeline, base: str) -> str:
    try:
        taken = pipeline.snapshot.documents
    except IndexNotFound:
        return base
    except RagError:
        taken = {}
    n, doc_id = 1, base
    while doc_id in taken:
        n += 1
        doc_id = f"{base}-{n}"
    return doc_id
