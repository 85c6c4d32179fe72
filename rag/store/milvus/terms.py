"""Corpus-wide BM25 statistics of the sentences stored in Milvus.

The sentence rerank scores a question's candidate sentences with BM25 and term coverage, whose IDF and average
length must be those of every stored sentence (as the FAISS store's segments give them), not of the few candidates
read for one question. Milvus keeps BM25 statistics only inside its own full-text search, so the writer keeps them:
the ``terms`` collection holds, per term, how many stored sentences hold it, and the ``meta`` row ``sentence_stats``
the number of sentences and their summed length. A write adds its new sentences' counts and subtracts those of the
versions it removes. A writer killed half-way can leave them slightly off until the next rebuild; the candidates'
own statistics stand in for a term the collection does not hold.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.store.milvus.collections import MAX_TERM, PLACEHOLDER, Names, in_list, quote

if TYPE_CHECKING:
    from pymilvus import MilvusClient

STATS_KEY = "sentence_stats"


@dataclass(frozen=True)
class SentenceStats:
    """Stored sentences, their summed BM25 length, and the document frequency of some terms."""

    rows: int
    length: int
    df: dict[str, int]


def count(texts: Sequence[str]) -> tuple[int, int, Counter[str]]:
    """(rows, summed length, document frequency by term) of these sentences, tokenized as BM25 tokenizes them."""
    from rag.retrieval.postings import Terms

    if not texts:
        return 0, 0, Counter()
    terms = Terms.build(texts, by_term=False)
    return len(texts), int(terms.lengths.sum()), Counter({t: int(terms.df[i]) for t, i in terms.vocab.items()})


def update(client: MilvusClient, names: Names, added: Sequence[str], removed: Sequence[str], **read: Any) -> None:
    """Add the sentences ``added`` to the statistics and take ``removed`` out of them."""
    n_add, len_add, delta = count(added)
    n_rm, len_rm, gone = count(removed)
    delta.subtract(gone)
    changed = sorted(t for t, d in delta.items() if d and len(t.encode()) <= MAX_TERM)
    stored: dict[str, int] = {}
    for i in range(0, len(changed), 500):
        for r in client.query(names.terms, filter=in_list("term", changed[i : i + 500]),
                              output_fields=["term", "df"], **read):
            stored[r["term"]] = int(r["df"])
    now = {t: stored.get(t, 0) + delta[t] for t in changed}
    rows = [{"term": t, "df": n, "placeholder": PLACEHOLDER} for t, n in now.items() if n > 0]
    for i in range(0, len(rows), 1000):
        client.upsert(names.terms, rows[i : i + 1000])
    dropped = [t for t, n in now.items() if n <= 0 and t in stored]
    for i in range(0, len(dropped), 500):
        client.delete(names.terms, filter=in_list("term", dropped[i : i + 500]))
    before = totals(client, names, **read)
    after = {"rows": max(before[0] + n_add - n_rm, 0), "length": max(before[1] + len_add - len_rm, 0)}
    client.upsert(names.meta, [{"key": STATS_KEY, "value": json.dumps(after), "placeholder": PLACEHOLDER}])


def totals(client: MilvusClient, names: Names, **read: Any) -> tuple[int, int]:
    """(stored sentences, their summed length); zeros before the first write."""
    got = client.query(names.meta, filter=f"key == {quote(STATS_KEY)}", output_fields=["value"], **read)
    if not got:
        return 0, 0
    value = json.loads(got[0]["value"])
    return int(value["rows"]), int(value["length"])


def read(client: MilvusClient, names: Names, terms: Sequence[str], **kw: Any) -> SentenceStats:
    """The totals and the document frequency of ``terms`` (a term no stored sentence holds is absent)."""
    rows, length = totals(client, names, **kw)
    wanted = sorted({t for t in terms if len(t.encode()) <= MAX_TERM})
    df: dict[str, int] = {}
    if wanted:
        for r in client.query(names.terms, filter=in_list("term", wanted), output_fields=["term", "df"], **kw):
            df[r["term"]] = int(r["df"])
    return SentenceStats(rows, length, df)
