"""Turn new articles into index rows: chunks, their unique sentences, and every vector the index keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.ingest.chunking import TokenChunker, with_header
from rag.ingest.sentences import sentence_spans, skip_dateline
from rag.protocols import TokenEmbedder
from rag.store.pooling import pooled_chunk_vectors
from rag.types import Article, Chunk, Sentence

if TYPE_CHECKING:
    from rag.protocols import Embedder
    from rag.settings import Settings
    from rag.store.contents import IndexContents


def make_chunker(settings: Settings, embedder: Embedder) -> TokenChunker:
    """The chunker for these settings, bounded by the embedder's own window."""
    c = settings.chunking
    return TokenChunker(
        c.chunk_tokens,
        c.chunk_overlap,
        window=embedder.max_tokens,
        window_counter=embedder.count_tokens,
        index_faq=settings.index.index_faq,
        title_header=c.title_header,
    )


def add_articles(contents: IndexContents, articles: Sequence[Article], settings: Settings, embedder: Embedder,
                 progress: bool = False) -> list[Chunk]:
    """Chunk and embed the articles into ``contents`` (new ids after the highest kept), and store their records.

    The sentences are embedded once (with their token vectors when the embedder gives them); chunk vectors are
    pooled from them, or encoded from the chunk text with ``chunk_vectors=encoded``.
    """
    new_chunks = chunk_all(make_chunker(settings, embedder), articles, start_id=contents.next_chunk_id())
    texts = {a.doc_id: a.text for a in articles}
    new_sents, members = sentences_of(new_chunks, texts, contents.next_sentence_id())
    if new_chunks:
        sent_texts = [texts[x.doc_id][x.start : x.end] for x in new_sents]
        if contents.sentence_tokens is not None:
            assert isinstance(embedder, TokenEmbedder)
            fresh, toks = embedder.embed_with_tokens(sent_texts, progress=progress)
            contents.sentence_tokens.update((x.sent_id, t) for x, t in zip(new_sents, toks, strict=True))
        else:
            fresh = embedder.embed(sent_texts, progress=progress)
        for x, v in zip(new_sents, fresh, strict=True):
            contents.sentences[x.sent_id] = x
            contents.sentence_vectors[x.sent_id] = v
        header = settings.chunking.title_header
        titles = {a.doc_id: a.title if header else None for a in articles}
        made = (pooled_chunk_vectors(embedder, new_chunks, members, sent_texts, fresh, titles)
                if settings.chunking.chunk_vectors == "pooled"
                else embedder.embed([with_header(titles[c.doc_id], c.text) for c in new_chunks], progress=progress))
        for c, v in zip(new_chunks, made, strict=True):
            contents.chunks[c.chunk_id] = c
            contents.vectors[c.chunk_id] = v
    for art in articles:
        contents.put_document(art)
    return new_chunks


def chunk_all(chunker: TokenChunker, articles: Sequence[Article], start_id: int) -> list[Chunk]:
    """Every article's chunks, numbered from ``start_id``."""
    out: list[Chunk] = []
    for art in articles:
        for c in chunker.chunk(art):
            out.append(replace(c, chunk_id=start_id + len(out)))
    return out


def sentences_of(chunks: Sequence[Chunk], texts: dict[str, str], start_id: int
                 ) -> tuple[list[Sentence], list[list[int]]]:
    """Unique sentence spans inside the chunks (overlapping chunks share sentences), datelines left out, and per
    chunk the positions of its sentences in that list."""
    seen: dict[tuple[str, int, int], int] = {}
    out: list[Sentence] = []
    members: list[list[int]] = []
    for c in chunks:
        text = texts[c.doc_id]
        mine: list[int] = []
        for s, e in sentence_spans(text, c.start, c.end):
            s = skip_dateline(text, s, e)
            if (c.doc_id, s, e) not in seen:
                seen[(c.doc_id, s, e)] = len(out)
                out.append(Sentence(start_id + len(out), c.doc_id, s, e))
            mine.append(seen[(c.doc_id, s, e)])
        members.append(mine)
    return out, members
