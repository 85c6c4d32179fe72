"""Ingest throughput: our full ``Pipeline.update`` against the bare embedding floor on the same texts.

.venv/bin/python bench/ingest.py              # 2 interleaved rounds, writes bench/results/ingest.json
.venv/bin/python bench/ingest.py --rounds 1   # quicker
.venv/bin/python bench/ingest.py --threads 1 --out ingest-threads1   # one intra-op thread
.venv/bin/python bench/ingest.py --smoke      # seconds: one round over the seed article, nothing written

Each round times (a) ``Pipeline(Settings(index_dir=tmp, index_faq=False), embedder).update(upsert=articles)``
with the model already loaded, (b) ``model.encode`` on exactly the chunk texts that index holds, and
(c) ``model.encode`` on its sentence texts. The index embeds the sentences and pools the chunk vectors from them
(``chunk_vectors="pooled"``, the default), so its own floor is (c); with ``--chunk-vectors encoded`` it embeds
both, and its floor is (b) + (c). The order rotates from round to round, and ratios are taken within a round,
because the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from corpus import load_corpus_or_skip, seed_corpus
from measure import Timer, machine_state, ratio, set_torch_threads, torch_threads, write_results

BATCH_SIZE = 64
#: Module-level functions timed as stages of one update: (stage, module, name); missing ones are skipped. Pooling
#: the chunk vectors is not one: it may call the embedder (titles), which is timed as embedding already.
STAGES = (("chunking", "rag.store.encoding", "chunk_all"), ("sentence_split", "rag.store.encoding", "sentences_of"),
          ("assemble", "rag.store.segment_writing", "segment_rows"), ("write", "rag.store.indexing", "publish"))


def _timed(fn: Callable[..., Any], sink: list[float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - t0)

    return wrapper


@contextmanager
def stage_timers(embedder: Any, pipeline: Any) -> Iterator[dict[str, list[float]]]:
    """Wrap the indexing stages, the embedder and the post-update reload with timers; undo on exit."""
    import importlib

    spent: dict[str, list[float]] = defaultdict(list)
    patched: list[tuple[Any, str, Any]] = []
    for stage, module, attr in STAGES:
        mod = importlib.import_module(module)
        fn = getattr(mod, attr, None)
        if callable(fn):
            patched.append((mod, attr, fn))
            setattr(mod, attr, _timed(fn, spent[stage]))
    embedder.embed = _timed(embedder.embed, spent["embed_chunks"])  # instance attributes shadow the methods
    embedder.embed_with_tokens = _timed(embedder.embed_with_tokens, spent["embed_sentences"])
    pipeline.index.reload = _timed(pipeline.index.reload, spent["reload"])  # what update() calls
    try:
        yield spent
    finally:
        for mod, attr, fn in patched:
            setattr(mod, attr, fn)
        del embedder.embed, embedder.embed_with_tokens, pipeline.index.reload


def run_ours(embedder: Any, settings: Any, articles: Sequence[Any]) -> dict[str, Any]:
    """One full ingest into a fresh folder; wall time plus per-stage seconds."""
    from rag.pipeline import Pipeline

    pipe = Pipeline(settings, embedder)
    with stage_timers(embedder, pipe) as spent, Timer() as t:
        report = pipe.update(upsert=articles)
    stages = {k: round(sum(v), 3) for k, v in spent.items()}
    if "write" in stages:  # publishing assembles the segment it writes: "write" is the rest of it
        stages["write"] = round(stages["write"] - stages.get("assemble", 0.0), 3)
    stages["other"] = round(t.seconds - sum(stages.values()), 3)
    return {"seconds": round(t.seconds, 3), "cpu_s": round(t.cpu_seconds, 3), "chunks": report.total_chunks,
            "stages_s": stages}


def index_texts(root: Path) -> tuple[list[str], list[str]]:
    """The chunk texts and sentence texts an index generation holds, in id order."""
    from rag.store.generations import load_snapshot

    snap = load_snapshot(root)
    chunks = [snap.chunks[i].text for i in sorted(snap.chunks)]
    docs = snap.documents
    sents = [docs[s.doc_id].text[s.start : s.end] for s in (snap.sentences[i] for i in sorted(snap.sentences))]
    return chunks, sents


def run_floor(model: Any, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one bare ``encode`` call."""
    with Timer() as t:
        model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True)
    return round(t.seconds, 3), round(t.cpu_seconds, 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default="ingest", help="Result name under bench/results/ (without .json).")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 keeps torch's default).")
    ap.add_argument("--chunk-vectors", choices=("pooled", "encoded"), default="pooled",
                    help="How the index makes chunk vectors (RAG_CHUNK_VECTORS).")
    ap.add_argument("--smoke", action="store_true", help="One round over the seed article, nothing written.")
    args = ap.parse_args()
    set_torch_threads(args.threads)
    if args.smoke:
        corpus = seed_corpus(())
        args.rounds = 1
    else:
        corpus = load_corpus_or_skip()
    if corpus is None:
        return 0
    before = machine_state()

    with Timer() as t_import:
        import torch  # noqa: F401  (import cost reported apart from the model load; the bundled model needs no more)
    from rag.models.embedding import SentenceTransformerEmbedder

    with Timer() as t_load:
        embedder = SentenceTransformerEmbedder()
    model = embedder._model
    model.encode(["warm up the kernels"] * 8, batch_size=BATCH_SIZE)

    from rag.settings import Settings

    rounds: list[dict[str, Any]] = []
    settings = Settings(index_faq=False, chunk_vectors=args.chunk_vectors)
    encoded = settings.chunking.chunk_vectors == "encoded"
    texts: tuple[list[str], list[str]] | None = None
    for r in range(args.rounds):
        row: dict[str, Any] = {"loadavg_1m": None, "cpu_s": {}}
        order = ["ours", "floor_chunks", "floor_sentences"] if r % 2 == 0 or texts is None else \
            ["floor_sentences", "floor_chunks", "ours"]
        for step in order:
            if step == "ours":
                with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
                    here = settings.replace(**{"index_dir": Path(tmp) / "index"})
                    row["ours"] = run_ours(embedder, here, corpus.articles)
                    texts = texts or index_texts(here.index.index_dir)
            elif texts is not None:
                chunk_texts, sent_texts = texts
                row[step], row["cpu_s"][step] = run_floor(model, chunk_texts if step == "floor_chunks"
                                                          else sent_texts)
        ours = row["ours"]["seconds"]
        row["floor_all"] = round(row["floor_chunks"] + row["floor_sentences"], 3)
        row["ratio_ours_over_floor_chunks"] = ratio(ours, row["floor_chunks"])
        row["ratio_ours_over_floor_chunks_sentences"] = ratio(ours, row["floor_all"])
        cpu = row["cpu_s"] | {"ours": row["ours"]["cpu_s"]}
        row["cpu_ratio_ours_over_floor_chunks"] = ratio(cpu["ours"], cpu["floor_chunks"])
        row["cpu_ratio_ours_over_floor_chunks_sentences"] = ratio(cpu["ours"],
                                                                  cpu["floor_chunks"] + cpu["floor_sentences"])
        # What this index embeds: its sentences, and its chunks too when their vectors are encoded.
        row["ratio_ours_over_own_floor"] = ratio(ours, row["floor_all"] if encoded else row["floor_sentences"])
        row["cpu_ratio_ours_over_own_floor"] = ratio(
            cpu["ours"], cpu["floor_sentences"] + (cpu["floor_chunks"] if encoded else 0.0))
        row["loadavg_1m"] = machine_state()["loadavg"][0]
        rounds.append(row)
        print(f"round {r + 1}: ours {ours:.1f}s  floor(chunks) {row['floor_chunks']:.1f}s  "
              f"floor(chunks+sentences) {row['floor_all']:.1f}s  "
              f"ratios {row['ratio_ours_over_floor_chunks']}x / {row['ratio_ours_over_floor_chunks_sentences']}x / "
              f"own floor {row['ratio_ours_over_own_floor']}x  "
              f"(cpu {row['cpu_ratio_ours_over_floor_chunks']}x / "
              f"{row['cpu_ratio_ours_over_floor_chunks_sentences']}x)  "
              f"load {row['loadavg_1m']}  stages {ours and row['ours']['stages_s']}", flush=True)

    assert texts is not None
    n_chunks, n_sents = len(texts[0]), len(texts[1])
    def median(values: Iterable[float]) -> float:
        return round(statistics.median(values), 3)

    med_ours = median(r["ours"]["seconds"] for r in rounds)
    med_fc = median(r["floor_chunks"] for r in rounds)
    med_fs = median(r["floor_sentences"] for r in rounds)
    med_fa = median(r["floor_all"] for r in rounds)
    # Word pieces (the model's own tokens) show what each floor has to chew through.
    pieces = {"chunk_wordpieces": sum(embedder.count_tokens(texts[0])),
              "sentence_wordpieces": sum(embedder.count_tokens(texts[1]))}
    stage_names = sorted({k for r in rounds for k in r["ours"]["stages_s"]})
    result: dict[str, Any] = {
        "benchmark": "ingest",
        "machine_before": before,
        "machine_after": machine_state(),
        "torch_threads": torch_threads(),
        "corpus": corpus.describe() | {"chunks": n_chunks, "sentences": n_sents} | pieces,
        "settings": {"index_faq": False, "batch_size": BATCH_SIZE, "chunk_tokens": settings.chunking.chunk_tokens,
                     "chunk_overlap": settings.chunking.chunk_overlap,
                     "chunk_vectors": settings.chunking.chunk_vectors},
        "model_import_s": round(t_import.seconds, 3),
        "model_load_s": round(t_load.seconds, 3),
        "rounds": rounds,
        "median": {
            "ours_s": med_ours,
            "floor_chunks_s": med_fc,
            "floor_sentences_s": med_fs,
            "floor_chunks_sentences_s": med_fa,
            "ours_chunks_per_s": round(n_chunks / med_ours, 1),
            "floor_chunks_per_s": round(n_chunks / med_fc, 1),
            "ratio_ours_over_floor_chunks": median(r["ratio_ours_over_floor_chunks"] for r in rounds),
            "ratio_ours_over_floor_chunks_sentences": median(
                r["ratio_ours_over_floor_chunks_sentences"] for r in rounds),
            "cpu_ratio_ours_over_floor_chunks": median(
                r["cpu_ratio_ours_over_floor_chunks"] for r in rounds),
            "cpu_ratio_ours_over_floor_chunks_sentences": median(
                r["cpu_ratio_ours_over_floor_chunks_sentences"] for r in rounds),
            "ratio_ours_over_own_floor": median(r["ratio_ours_over_own_floor"] for r in rounds),
            "cpu_ratio_ours_over_own_floor": median(r["cpu_ratio_ours_over_own_floor"] for r in rounds),
            "stages_s": {k: median(r["ours"]["stages_s"].get(k, 0.0) for r in rounds)
                         for k in stage_names},
        },
    }
    path = None if args.smoke else write_results(args.out, result)
    m = result["median"]
    print(f"\n{n_chunks} chunks, {n_sents} sentences; model load {t_load.seconds:.1f}s (excluded)")
    print(f"median ours {m['ours_s']}s ({m['ours_chunks_per_s']} chunks/s); floor chunks {m['floor_chunks_s']}s, "
          f"chunks+sentences {m['floor_chunks_sentences_s']}s")
    print(f"ours/floor(chunks) {m['ratio_ours_over_floor_chunks']}x   "
          f"ours/floor(chunks+sentences) {m['ratio_ours_over_floor_chunks_sentences']}x   "
          f"ours/own floor ({'chunks+sentences' if encoded else 'sentences'}) {m['ratio_ours_over_own_floor']}x")
    print(f"cpu time: ours/floor(chunks) {m['cpu_ratio_ours_over_floor_chunks']}x   "
          f"ours/floor(chunks+sentences) {m['cpu_ratio_ours_over_floor_chunks_sentences']}x")
    print(f"stages (median s): {m['stages_s']}")
    print(f"load {before['loadavg']} -> {result['machine_after']['loadavg']}; wrote {path or 'nothing'}")
    if args.smoke:
        print("smoke: ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
