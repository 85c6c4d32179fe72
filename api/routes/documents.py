"""``/documents``: list, read, upload (file or JSON) and delete; each write publishes a new index generation."""

from __future__ import annotations

import re
from collections.abc import Container
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from api import generation
from api.deps import PipelineDep, require_write_key
from api.errors import READS_INDEX, InvalidRequest, documented
from api.schemas import DocumentChange, DocumentIn, DocumentList, DocumentText
from rag.errors import DocumentNotFound, EmptyDocument, IndexNotFound, RagError, UnsupportedDocument
from rag.ingest.words import has_words
from rag.pipeline import Pipeline
from rag.store.indexing import IndexReport
from rag.types import Article

if TYPE_CHECKING:
    from rag.store.snapshot import Snapshot

UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")

router = APIRouter(prefix="/documents", tags=["documents"])

#: What a write can fail with, besides reading the index: a key, the body, the document.
_WRITE_ERRORS = (401, 409, 500, 503)
#: Where a client goes next with a document it has just written (OpenAPI links; the fuzzer follows them too).
_DOC_ID = "$response.body#/doc_id"
_AFTER_WRITE = {
    "ReadIt": {"operationId": "read_document", "parameters": {"doc_id": _DOC_ID}},
    "DeleteIt": {"operationId": "delete_document", "parameters": {"doc_id": _DOC_ID}},
    "AskAboutIt": {"operationId": "ask", "requestBody": {"question": "$response.body#/title"}},
    "SearchForIt": {"operationId": "search", "parameters": {"q": "$response.body#/title"}},
}
_LOCATION = {"Location": {"description": "The document's URL (`GET` reads it, `DELETE` removes it).",
                          "schema": {"type": "string"}}}

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


_READ = {**documented(*READS_INDEX), **generation.documented()}


@router.get("", response_model=DocumentList, responses=_READ)
@router.get("/", response_model=DocumentList, include_in_schema=False)  # not a document with the id ""
async def list_documents(pipeline: PipelineDep, response: Response) -> dict[str, Any]:
    """Every document in the live index."""
    snap = await run_in_threadpool(_live, pipeline)
    docs = [
        {"doc_id": d.doc_id, "title": d.title, "source": d.source, "date": d.date, "chars": len(d.text)}
        for d in sorted(snap.documents.values(), key=lambda d: d.doc_id)
    ]
    gen = generation.stamp(response, snap.path.name)
    return {"documents": docs, "count": len(docs), "chunks": len(snap.chunks), "generation": gen}


@router.get("/{doc_id:path}", response_model=DocumentText, responses={**_READ, **documented(404, *READS_INDEX)})
async def read_document(
    pipeline: PipelineDep, response: Response, doc_id: Annotated[str, Path(description="The document id.")]
) -> dict[str, Any]:
    """One document with its full text; 404 when the index has no such id."""
    snap = await run_in_threadpool(_live, pipeline)
    doc = snap.documents.get(doc_id)
    if doc is None:
        raise DocumentNotFound(f"no document with id {doc_id!r} in the index")
    return {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "date": doc.date, "text": doc.text,
            "generation": generation.stamp(response, snap.path.name)}


def _live(pipeline: Pipeline) -> Snapshot:
    """The live generation, after swapping in one another process published (``rag index`` beside the server)."""
    pipeline.refresh()
    return pipeline.snapshot


@router.post(
    "",
    status_code=201,
    response_model=DocumentChange,
    openapi_extra=_UPLOAD_BODY,
    dependencies=[Depends(require_write_key)],
    responses={**documented(415, 422, *_WRITE_ERRORS),
               **generation.documented(201, links=_AFTER_WRITE, description="The document as indexed.")},
)
async def add_document(request: Request, pipeline: PipelineDep, response: Response) -> dict[str, Any]:
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
    if not has_words(article.body):
        raise EmptyDocument("the document has no word to search (only punctuation, single letters or stop words): "
                            "send text with words")
    async with request.app.state.write_lock:
        report: IndexReport = await run_in_threadpool(lambda: pipeline.update(upsert=[article]))
    status = "added" if report.added else "updated" if report.updated else "unchanged"
    response.headers["Location"] = f"/documents/{quote(article.doc_id)}"
    return _change(pipeline, response, article.doc_id, status, article.title)


@router.delete(
    "/{doc_id:path}",
    response_model=DocumentChange,
    dependencies=[Depends(require_write_key)],
    responses={**documented(404, *_WRITE_ERRORS), **generation.documented()},
)
async def delete_document(
    request: Request,
    pipeline: PipelineDep,
    response: Response,
    doc_id: Annotated[str, Path(description="The document id.")],
) -> dict[str, Any]:
    """Remove a document; 404 when the index has no such id."""
    async with request.app.state.write_lock:
        await run_in_threadpool(lambda: pipeline.update(remove=[doc_id]))
    return _change(pipeline, response, doc_id, "deleted")


def _change(pipeline: Pipeline, response: Response, doc_id: str, status: str, title: str | None = None
            ) -> dict[str, Any]:
    # One generation for every figure: the write's own, or a newer one another process published since.
    snap = pipeline.snapshot
    return {
        "doc_id": doc_id,
        "status": status,
        "title": title,
        "chunks": len(snap.chunks),
        "document_chunks": snap.document_chunks(doc_id),
        "generation": generation.stamp(response, snap.path.name),
    }


def upload_name(filename: str) -> str:
    """An upload's file name without any folder part (``../../x.txt``, ``/etc/x.txt`` and ``C:\\x.txt`` are
    ``x.txt``: the name only ever gives the document id, and nothing is written under it); raises
    ``InvalidRequest`` on a control character such as a NUL byte."""
    if any(ord(c) < 32 or ord(c) == 127 for c in filename):
        raise InvalidRequest("the file name holds a control character (such as a NUL byte): rename the file")
    return PurePosixPath(filename.replace("\\", "/")).name


async def _from_form(request: Request) -> Article:
    from rag.ingest.loaders import articles_from_bytes

    try:
        form = await request.form(max_files=1, max_fields=4)
    except HTTPException as e:
        if e.status_code != 400:  # 413 while reading: the body limit's own answer
            raise
        raise InvalidRequest(f"the multipart form cannot be read: {e.detail}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidRequest("send the document as a multipart form field named `file`")
        name = upload_name(upload.filename)
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise UnsupportedDocument(
                f"unsupported file type {suffix or '(no extension)'}; upload one of {', '.join(UPLOAD_SUFFIXES)}"
            )
        data = await upload.read()
    finally:
        await form.close()
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
    taken: Container[str]
    try:
        taken = pipeline.snapshot.documents
    except IndexNotFound:
        return base
    except RagError:
        taken = set()
    n, doc_id = 1, base
    while doc_id in taken:
        n += 1
        doc_id = f"{base}-{n}"
    return doc_id
