"""Token chunking: offsets, overlap, and the hard model-window guarantee."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from rag.ingest.chunking import TokenChunker, get_encoding
from rag.ingest.sentences import sentence_spans
from rag.types import Article, FaqPair
from tests.fakes import HashEmbedder


def make_article(body: str, faq: tuple[FaqPair, ...] = (), tail: str = "") -> Article:
    text = body + tail
    return Article(
        doc_id="doc",
        title="t",
        text=text,
        body_start=0,
        body_end=len(body),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        faq=faq,
        faq_start=len(body) if faq else None,
    )


def sentences(n: int, words: int = 12) -> str:
    return " ".join(f"Sentence {i} " + " ".join(f"w{i}x{j}" for j in range(words)) + "." for i in range(n))


def chunker(size: int = 60, overlap: int = 10, window: int = 64) -> TokenChunker:
    fake = HashEmbedder(max_tokens=window)
    return TokenChunker(size, overlap, window=window, window_counter=fake.count_tokens)


def test_offsets_point_into_source_text() -> None:
    art = make_article(sentences(30))
    chunks = chunker().chunk(art)
    assert len(chunks) > 3
    for c in chunks:
        assert art.text[c.start : c.end] == c.text
        assert c.kind == "body"


def test_every_chunk_fits_the_model_window() -> None:
    # Words that cost many word pieces: the cl100k budget alone would overflow the window.
    body = " ".join(f"alpha-{i}-beta/gamma.delta" for i in range(400)) + ". " + sentences(20)
    fake = HashEmbedder(max_tokens=48)
    ch = TokenChunker(200, 20, window=48, window_counter=fake.count_tokens)
    chunks = ch.chunk(make_article(body))
    counts = fake.count_tokens([c.text for c in chunks])
    assert max(counts) <= 48
    assert len(chunks) > 10


def test_chunks_respect_token_budget_and_cover_every_sentence() -> None:
    art = make_article(sentences(40))
    chunks = chunker(size=60, overlap=10, window=10_000).chunk(art)
    enc = get_encoding()
    # A chunk may exceed the budget only when it is a single over-long sentence.
    assert all(len(enc.encode_ordinary(c.text)) <= 60 for c in chunks)
    for s, e in sentence_spans(art.text):
        assert any(c.start <= s and e <= c.end for c in chunks), art.text[s:e]


def test_consecutive_chunks_overlap_by_whole_sentences() -> None:
    chunks = chunker(size=60, overlap=25, window=10_000).chunk(make_article(sentences(30, words=3)))
    shared = [a.end > b.start for a, b in itertools.pairwise(chunks)]
    assert all(shared)
    no_overlap = chunker(size=60, overlap=0, window=10_000).chunk(make_article(sentences(30, words=3)))
    assert all(a.end <= b.start for a, b in itertools.pairwise(no_overlap))


def test_sentence_longer_than_budget_is_cut_at_token_boundaries() -> None:
    body = " ".join(f"word{i}" for i in range(500))  # one sentence, no punctuation
    chunks = chunker(size=50, overlap=0, window=10_000).chunk(make_article(body))
    enc = get_encoding()
    assert len(chunks) >= 8
    assert all(len(enc.encode_ordinary(c.text)) <= 51 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "") == body.replace(" ", "")


def test_faq_pairs_become_their_own_chunks() -> None:
    body = sentences(5)
    tail = "\n\nFAQ\n\nWhat is w1x1? It is a token. Who made it? A test."
    faq = (FaqPair("What is w1x1?", "It is a token."), FaqPair("Who made it?", "A test."))
    art = make_article(body, faq, tail)
    chunks = chunker(window=10_000).chunk(art)
    faq_chunks = [c for c in chunks if c.kind == "faq"]
    assert [c.text for c in faq_chunks] == ["What is w1x1? It is a token.", "Who made it? A test."]
    assert all(c.end <= len(body) for c in chunks if c.kind == "body")
    off = TokenChunker(60, 10, window=10_000, window_counter=HashEmbedder().count_tokens, index_faq=False)
    assert all(c.kind == "body" for c in off.chunk(art))


def test_overlap_must_be_smaller_than_size() -> None:
    with pytest.raises(ValueError):
        TokenChunker(50, 50, window=64, window_counter=HashEmbedder().count_tokens)
