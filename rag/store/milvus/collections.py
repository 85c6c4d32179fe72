"""The Milvus collections of one index and the connection to them.

Six collections share a prefix (``RAG_MILVUS_PREFIX``):

- ``meta``: the manifest (model, chunker, vector kind: what ``rag.store.compat`` checks) and the generation token;
- ``documents``: one row per document (id, content sha256, source, title, size): the row that makes a version live;
- ``doc_parts``: each document's record (text, dates, FAQ pairs) as JSON, split into parts that fit a VARCHAR;
- ``chunks``: chunk text and offsets, the chunk vector, and a BM25 sparse vector Milvus computes itself from the
  text (an analyzer + a BM25 function), where the server supports it;
- ``sentences``: sentence spans and text, the sentence vector, and the content-token vectors (float16, base64);
- ``terms``: how many stored sentences hold each BM25 term (``rag.store.milvus.terms``): the corpus statistics the
  sentence rerank scores with, as the FAISS store's segments give them.

Milvus requires a vector field in every collection; the four without one of their own carry a 2-d zero vector.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.errors import IndexCorrupt, RagError
from rag.vocabulary import BM25_STOP_WORDS

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from rag.settings import Settings

log = logging.getLogger(__name__)

#: Longest VARCHAR Milvus stores (bytes).
MAX_VARCHAR = 65535
#: Content-token vectors a sentence row holds: 5 fields x 60 float16 vectors of 384 dimensions, base64, each under
#: MAX_VARCHAR (a sentence is at most the model's 256-piece window).
TOKEN_FIELDS = 5
#: Longest BM25 term whose statistics are stored (bytes); a longer one is scored with the candidates' statistics.
MAX_TERM = 256
#: A 2-d zero vector for collections that have no vector of their own.
PLACEHOLDER = [0.0, 0.0]

NO_BM25 = ("hybrid retrieval runs dense-only: this Milvus server has no BM25 full-text search (Milvus 2.5 or later "
           "has it); chunks are ranked by their vectors, then reranked by their sentences")


class MilvusUnavailable(RagError):
    """Milvus cannot be reached, or ``pymilvus`` is not installed."""

    code = "milvus_unavailable"
    status = 503


@dataclass(frozen=True)
class Names:
    """The collection names of one index."""

    meta: str
    documents: str
    doc_parts: str
    chunks: str
    sentences: str
    terms: str

    @classmethod
    def of(cls, prefix: str) -> Names:
        return cls(*(prefix + n for n in ("meta", "documents", "doc_parts", "chunks", "sentences", "terms")))

    def all(self) -> tuple[str, ...]:
        return (self.meta, self.documents, self.doc_parts, self.chunks, self.sentences, self.terms)


def connect(settings: Settings) -> MilvusClient:
    """A client for ``RAG_MILVUS_URI`` (a local path starts embedded Milvus Lite in this process)."""
    s = settings.storage
    with warnings.catch_warnings():
        # milvus-lite 2.5 reads its own version through the deprecated pkg_resources (setuptools is pinned < 81).
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        try:
            from pymilvus import MilvusClient
        except ImportError as e:
            raise MilvusUnavailable("RAG_STORE=milvus needs pymilvus: pip install -e '.[milvus]'") from e
        # Milvus Lite cannot pin a query iterator to a server timestamp; pymilvus warns on every page and falls
        # back to the client's clock, which is what a Strong read does anyway. (Set after pymilvus configured its
        # loggers on import.)
        logging.getLogger("pymilvus.orm.iterator").setLevel(logging.ERROR)
        try:
            return MilvusClient(uri=s.milvus_uri, token=s.milvus_token or "", timeout=s.milvus_timeout_s)
        except Exception as e:
            raise MilvusUnavailable(f"cannot connect to Milvus at {s.milvus_uri}: {e}") from e


def analyzer() -> dict[str, Any]:
    """The BM25 analyzer: words, lower case, the English stopwords BM25 ignores here, Snowball English stems (what
    ``rag.retrieval.lexical`` does with bm25s and PyStemmer)."""
    return {"tokenizer": "standard",
            "filter": ["lowercase", {"type": "stop", "stop_words": sorted(BM25_STOP_WORDS)},
                       {"type": "stemmer", "language": "english"}]}


def create_all(client: MilvusClient, names: Names, settings: Settings, dimension: int) -> bool:
    """Create the collections (dropping any there); returns whether the chunks carry Milvus's own BM25."""
    from pymilvus import DataType

    for name in names.all():
        if client.has_collection(name):
            client.drop_collection(name)
    level = settings.storage.milvus_consistency

    def create(name: str, fields: list[tuple[str, Any, dict[str, Any]]], vectors: dict[str, str],
               bm25: bool = False) -> None:
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        for fname, dtype, kw in fields:
            schema.add_field(fname, dtype, **kw)
        index = client.prepare_index_params()
        for vname, metric in vectors.items():
            if vname == "vector":
                index.add_index(vname, index_type=settings.storage.milvus_index_type, metric_type=metric,
                                params=dict(settings.storage.milvus_index_params))
            else:
                index.add_index(vname, index_type="FLAT", metric_type=metric)
        if bm25:
            from pymilvus import Function, FunctionType

            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                         input_field_names=["search_text"], output_field_names=["sparse"]))
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(name, schema=schema, index_params=index, consistency_level=level)

    text = {"max_length": MAX_VARCHAR}
    key = {"max_length": 1024}
    sha = {"max_length": 64}
    pad = ("placeholder", DataType.FLOAT_VECTOR, {"dim": 2})
    create(names.meta, [("key", DataType.VARCHAR, {"is_primary": True, "max_length": 64}),
                        ("value", DataType.VARCHAR, text), pad], {"placeholder": "L2"})
    create(names.documents, [("doc_id", DataType.VARCHAR, {"is_primary": True, **key}),
                             ("sha256", DataType.VARCHAR, sha), ("source", DataType.VARCHAR, text),
                             ("title", DataType.VARCHAR, text), ("chars", DataType.INT64, {}),
                             ("parts", DataType.INT64, {}), pad], {"placeholder": "L2"})
    create(names.doc_parts, [("part_id", DataType.VARCHAR, {"is_primary": True, "max_length": 1200}),
                             ("doc_id", DataType.VARCHAR, key), ("doc_sha", DataType.VARCHAR, sha),
                             ("part", DataType.INT64, {}), ("body", DataType.VARCHAR, text), pad],
           {"placeholder": "L2"})
    chunk_fields: list[tuple[str, Any, dict[str, Any]]] = [
        ("chunk_id", DataType.INT64, {"is_primary": True}), ("doc_id", DataType.VARCHAR, key),
        ("doc_sha", DataType.VARCHAR, sha), ("ordinal", DataType.INT64, {}),
        ("kind", DataType.VARCHAR, {"max_length": 16}), ("text", DataType.VARCHAR, text),
        ("start", DataType.INT64, {}), ("end", DataType.INT64, {}), ("n_tokens", DataType.INT64, {}),
        ("first_sentence", DataType.INT64, {}), ("last_sentence", DataType.INT64, {}),
        ("vector", DataType.FLOAT_VECTOR, {"dim": dimension})]
    bm25 = _create_chunks(client, create, names.chunks, chunk_fields)
    create(names.sentences, [
        ("sent_id", DataType.INT64, {"is_primary": True}), ("doc_id", DataType.VARCHAR, key),
        ("doc_sha", DataType.VARCHAR, sha), ("position", DataType.INT64, {}), ("start", DataType.INT64, {}),
        ("end", DataType.INT64, {}), ("text", DataType.VARCHAR, text),
        *[(f"tokens{i}", DataType.VARCHAR, text) for i in range(TOKEN_FIELDS)],
        ("sentence_vector", DataType.FLOAT_VECTOR, {"dim": dimension})], {"sentence_vector": "IP"})
    create(names.terms, [("term", DataType.VARCHAR, {"is_primary": True, "max_length": MAX_TERM}),
                         ("df", DataType.INT64, {}), pad], {"placeholder": "L2"})
    return bm25


def _create_chunks(client: MilvusClient, create: Any, name: str, fields: list[tuple[str, Any, dict[str, Any]]]
                   ) -> bool:
    """The chunks collection with Milvus's BM25 when the server runs it (probed with a search), else without."""
    from pymilvus import DataType

    with_text = [*fields, ("search_text", DataType.VARCHAR,
                           {"max_length": MAX_VARCHAR, "enable_analyzer": True, "analyzer_params": analyzer()})]
    try:
        create(name, with_text, {"vector": "IP"}, bm25=True)
        return True
    except Exception as e:  # an older server: no analyzer, no BM25 function, or no BM25 metric
        log.warning("%s (%s)", NO_BM25, str(e)[:200])
        if client.has_collection(name):
            client.drop_collection(name)
    plain = [*fields, ("search_text", DataType.VARCHAR, {"max_length": MAX_VARCHAR})]
    create(name, plain, {"vector": "IP"})
    return False


def has_bm25(client: MilvusClient, names: Names) -> bool:
    """Whether the chunks collection carries Milvus's BM25 sparse vectors."""
    info = client.describe_collection(names.chunks)
    return any(f.get("name") == "sparse" for f in info.get("fields", []))


def exists(client: MilvusClient, names: Names) -> bool:
    """Whether every collection of the index is there."""
    present = [client.has_collection(n) for n in names.all()]
    if any(present) and not all(present):
        missing = [n for n, p in zip(names.all(), present, strict=True) if not p]
        raise IndexCorrupt(f"the Milvus index is incomplete (no collection {', '.join(missing)}): rebuild it with "
                           "`rag index --rebuild`")
    return all(present)


def quote(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_list(field: str, values: Any) -> str:
    """``field in [...]`` for strings or integers."""
    items = [quote(v) if isinstance(v, str) else str(int(v)) for v in values]
    return f"{field} in [{', '.join(items)}]"
