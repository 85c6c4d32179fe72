"""The index at scale: disk and memory per chunk, dense search, answer() and one-document writes, by index size.

Synthetic corpora: the benchmark corpus's real texts (``corpus.py``) chunked once and repeated, each copy a document
of its own, with synthetic vectors written straight into the store's format (``rag.store.generations.publish``)
without running the model. Each copy's chunk and sentence vectors are its template's random unit vectors
perturbed with noise, so copies of one text cluster as paraphrases would; token vectors repeat the template's.
Questions are XQuAD's, embedded by the real model; a dense-search query is a perturbed chunk vector.

Per size, in a fresh process: RSS (RssAnon and RssFile of /proc/self/status) after the model is loaded, after the
index is opened, and after the questions; dense search p50 and recall@10 against exact search; ``answer()`` p50;
adding and deleting one document (an embedder that returns ready vectors: the write's cost beyond embedding).

    .venv/bin/python bench/scale.py --sizes 1000 10000 100000 --out scale
    .venv/bin/python bench/scale.py --sizes 1000000 --no-token-vectors --tile-template 10000 --out scale-1m
    .venv/bin/python bench/scale.py --smoke     # seconds: 300 chunks of the seed article, HNSW, nothing written
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import Corpus, load_corpus_or_skip, sample_questions, seed_corpus
from bench.measure import machine_state, percentile, rag_fingerprint, write_results

DIM = 384
NOISE = 0.35  # how far a copy's vectors stray from its template's (cosine ~0.94)
#: ``--smoke``: the whole script on a tiny index, segments small enough to get HNSW graphs, a few of everything.
SMOKE = {"sizes": [300], "hnsw_threshold": 100, "segment_chunks": 200, "tile_template": 0, "questions": 2,
         "searches": 5, "writes": 1}


class ReadyEmbedder:
    """The bundled model's identity with ready vectors: a write timed with it costs everything but embedding."""

    def __init__(self, tokens: bool, seed: int = 0) -> None:
        import numpy as np

        from rag.models.embedding import resolve_model

        ref = resolve_model(None)
        self.model_id, self.weights_sha256, self.dimension, self.max_tokens = ref.model_id, ref.weights_sha256, DIM, 256
        self._rng = np.random.default_rng(seed)
        if tokens:
            self.embed_with_tokens = self._with_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) * 4 // 3 + 2 for t in texts]

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Any:
        return unit(self._rng.standard_normal((len(texts), DIM)))

    def _with_tokens(self, texts: Sequence[str], *, progress: bool = False) -> tuple[Any, list[Any]]:
        import numpy as np

        toks = [unit(self._rng.standard_normal((max(len(t.split()) // 2, 1), DIM))).astype(np.float16) for t in texts]
        return self.embed(texts), toks


class WithoutTokens:
    """The real embedder serving an index built without token vectors (its question vectors only)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.model_id, self.weights_sha256 = inner.model_id, inner.weights_sha256
        self.dimension, self.max_tokens = inner.dimension, inner.max_tokens

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Any:
        return self._inner.embed(texts, progress=progress)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return list(self._inner.count_tokens(texts))


def unit(m: Any) -> Any:
    import numpy as np

    m = np.asarray(m, dtype=np.float32)
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def bench_corpus(args: argparse.Namespace) -> Corpus | None:
    """The seed article and its questions under ``--smoke``, else the benchmark corpus (None when it is absent)."""
    if args.smoke:
        from bench.api_latency import QUESTIONS

        return seed_corpus(QUESTIONS)
    return load_corpus_or_skip()


def settings_for(index_dir: Path, args: argparse.Namespace) -> Any:
    from rag.settings import Settings

    return Settings(index_dir=index_dir, index_faq=False, hnsw_threshold=args.hnsw_threshold,
                    sentence_vectors_float16=args.sentence_float16, hnsw_ef_search=args.ef_search)


def build_tiled(index_dir: Path, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """An index of ``size`` chunks as segments of ``--segment-chunks``, each tiled from one template segment of
    ``--tile-template`` chunks (``bench/scale_tiles.py``)."""
    from dataclasses import replace

    from bench.scale_tiles import tile_segment
    from rag.store.generations import new_name, publish, read_manifest, write_lock
    from rag.store.indexing import dense_layout

    t0 = time.perf_counter()
    template = index_dir.parent / f"{index_dir.name}-template"
    template.mkdir()
    build(template, args.tile_template, argparse.Namespace(**{**vars(args), "tile_template": 0}))
    src_manifest = read_manifest(template)
    src = template / "segments" / src_manifest.segments[0]["name"]
    manifest = replace(src_manifest, segments=[], documents={}, chunks=0, next_chunk_id=0, next_sentence_id=0)
    (index_dir / "segments").mkdir(parents=True)
    made, k = 0, 0
    while made < size:
        copies = min(args.segment_chunks, size - made) // args.tile_template
        name = new_name()
        meta = tile_segment(src, index_dir / "segments" / name, copies, manifest.next_chunk_id,
                            manifest.next_sentence_id, NOISE, (args.hnsw_threshold, 32, 80), seed=k, tag=f"~{k}.")
        manifest.segments.append({"name": name, "chunks": meta["chunks"], "sentences": meta["sentences"],
                                  "dense": meta["dense"], "deleted": []})
        manifest.documents |= {f"{d}~{k}.{c}": sha for d, sha in src_manifest.documents.items() for c in range(copies)}
        manifest.chunks += meta["chunks"]
        manifest.next_chunk_id += meta["chunks"]
        manifest.next_sentence_id += meta["sentences"]
        made += meta["chunks"]
        k += 1
        print(f"  tiled {made} chunks ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    with write_lock(index_dir):
        publish(index_dir, manifest, None, dense_layout(settings_for(index_dir, args)))
    shutil.rmtree(template, ignore_errors=True)
    return {"build_s": round(time.perf_counter() - t0, 1), "documents": len(manifest.documents),
            "tiled_from": args.tile_template}


def build(index_dir: Path, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Write an index of ``size`` chunks: templates repeated, in segments of at most ``--segment-chunks``."""
    if args.tile_template and size > args.tile_template:
        return build_tiled(index_dir, size, args)
    import numpy as np

    from rag.store.compat import expected_manifest
    from rag.store.contents import IndexContents
    from rag.store.encoding import chunk_all, make_chunker, sentences_of
    from rag.store.generations import publish, write_lock
    from rag.store.indexing import dense_layout
    from rag.types import Article

    corpus = bench_corpus(args)
    assert corpus is not None
    settings = settings_for(index_dir, args)
    emb = ReadyEmbedder(args.token_vectors)
    chunker = make_chunker(settings, emb)
    rng = np.random.default_rng(1)
    templates = []
    for art in corpus.articles:
        chunks = chunk_all(chunker, [art], 0)
        if not chunks:
            continue
        sents, _ = sentences_of(chunks, {art.doc_id: art.text}, 0)
        toks = ([unit(rng.standard_normal((max(len(art.text[s.start:s.end].split()) // 2, 1), DIM)))
                 .astype(np.float16) for s in sents] if args.token_vectors else None)
        templates.append((art, chunks, sents, unit(rng.standard_normal((len(chunks), DIM))),
                          unit(rng.standard_normal((len(sents), DIM))), toks))
    wanted = expected_manifest(settings, emb.model_id, emb.weights_sha256, DIM, args.token_vectors)
    t0, made, copy = time.perf_counter(), 0, 0
    manifest = wanted
    with write_lock(index_dir):
        while made < size:
            part = IndexContents(sentence_tokens={} if args.token_vectors else None,
                                 first_chunk_id=manifest.next_chunk_id, first_sentence_id=manifest.next_sentence_id)
            while made + len(part.chunks) < size and len(part.chunks) < args.segment_chunks:
                art, chunks, sents, cvec, svec, toks = templates[copy % len(templates)]
                doc_id = f"{art.doc_id}~{copy}"
                c0, s0 = part.next_chunk_id(), part.next_sentence_id()
                noise_c = unit(cvec + NOISE * rng.standard_normal(cvec.shape) / np.sqrt(DIM))
                noise_s = unit(svec + NOISE * rng.standard_normal(svec.shape) / np.sqrt(DIM))
                for i, c in enumerate(chunks[: size - made - len(part.chunks)]):
                    part.chunks[c0 + i] = type(c)(c0 + i, doc_id, c.ordinal, c.kind, c.text, c.start, c.end,
                                                  c.n_tokens)
                    part.vectors[c0 + i] = noise_c[i]
                for i, s in enumerate(sents):
                    part.sentences[s0 + i] = type(s)(s0 + i, doc_id, s.start, s.end)
                    part.sentence_vectors[s0 + i] = noise_s[i]
                    if part.sentence_tokens is not None and toks is not None:
                        part.sentence_tokens[s0 + i] = toks[i]
                part.put_document(Article(doc_id=doc_id, title=f"{art.title} ({copy})", text=art.text,
                                          body_start=art.body_start, body_end=art.body_end, sha256=f"{copy:064x}",
                                          source="synthetic"))
                copy += 1
            manifest = manifest.__class__(**{**manifest.__dict__})
            manifest.chunks += len(part.chunks)
            manifest.documents = {**manifest.documents, **{d: r.sha256 for d, r in part.documents.items()}}
            manifest.next_chunk_id, manifest.next_sentence_id = part.next_chunk_id(), part.next_sentence_id()
            made += len(part.chunks)
            publish(index_dir, manifest, part, dense_layout(settings))
            print(f"  wrote {made} chunks ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return {"build_s": round(time.perf_counter() - t0, 1), "documents": copy, "templates": len(templates)}


def rss() -> dict[str, int]:
    """RssAnon and RssFile of this process, in bytes."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) * 1024
    return out


def measure(index_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """In this (fresh) process: memory, dense search, answer() and one-document writes over the index."""
    import numpy as np

    from rag.pipeline import Pipeline
    from rag.store.indexing import update_index
    from rag.types import Article

    settings = settings_for(index_dir, args)
    corpus = bench_corpus(args)
    assert corpus is not None
    questions = sample_questions(corpus.xquad_questions, args.questions)
    pipeline = Pipeline(settings)  # the bundled model: questions are embedded for real
    if not args.token_vectors:
        pipeline = Pipeline(settings, WithoutTokens(pipeline.embedder))
    pipeline.embedder.embed(["warm up"])
    before = rss()
    snap = pipeline.loaded.retriever.snapshot
    opened = rss()
    out: dict[str, Any] = {"chunks": snap.chunk_rows.live, "sentences": snap.sentence_rows.live,
                           "segments": [s["dense"] for s in snap.manifest.segments]}
    # Dense search against exact search, over perturbed chunk vectors.
    dense = pipeline.loaded.retriever.dense
    rng = np.random.default_rng(7)
    rows = rng.choice(snap.chunk_rows.size, size=args.searches, replace=False)
    queries = unit(snap.chunk_vectors(np.sort(rows)) + 0.5 * rng.standard_normal((rows.size, DIM)) / np.sqrt(DIM))
    exact = []
    for start in range(0, len(queries), 64):
        block = np.concatenate([np.asarray(seg.chunk_vectors) @ queries[start:start + 64].T
                                for seg in snap.segments])
        exact += [set(np.argpartition(-col, 9)[:10].tolist()) for col in block.T]
    times, recall, pool_times = [], [], []
    for q, truth in zip(queries, exact, strict=True):
        t = time.perf_counter()
        top, _ = dense.search(q, 10)
        times.append(time.perf_counter() - t)
        recall.append(len(truth & set(top.tolist())) / 10)
        t = time.perf_counter()
        dense.search(q, settings.search.candidates)
        pool_times.append(time.perf_counter() - t)
    out["dense_search_ms"] = ms_summary(times)
    out["dense_pool_search_ms"] = ms_summary(pool_times)
    out["recall_at_10"] = round(float(np.mean(recall)), 4)
    answer_times, search_times, answer_cpu, embed_times = [], [], [], []
    for q in questions:
        t = time.perf_counter()
        pipeline.embedder.embed([q])
        embed_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        pipeline.search(q)
        search_times.append(time.perf_counter() - t)
        t, c = time.perf_counter(), time.process_time()
        pipeline.answer(q)
        answer_times.append(time.perf_counter() - t)
        answer_cpu.append(time.process_time() - c)
    out["embed_question_ms"] = ms_summary(embed_times)
    out["search_ms"] = ms_summary(search_times)
    out["answer_ms"] = ms_summary(answer_times)
    out["answer_cpu_ms"] = ms_summary(answer_cpu)  # this process's CPU time, all threads: steadier under load
    out["load_average"] = os.getloadavg()
    asked = rss()
    out["rss"] = {"model_loaded": before, "index_opened": opened, "after_questions": asked}
    n = out["chunks"]
    out["rss_growth_per_chunk"] = {k: round((asked[k] - before[k]) / n, 1) for k in before}
    # One-document writes, beyond embedding.
    ready = ReadyEmbedder(bool(snap.manifest.token_vectors), seed=5)
    template = corpus.articles[min(1, len(corpus.articles) - 1)]
    adds, deletes, add_cpu, delete_cpu = [], [], [], []
    for i in range(args.writes):
        art = Article(doc_id=f"written-{i}", title=template.title, text=template.text, body_start=template.body_start,
                      body_end=template.body_end, sha256=f"{i + 10**6:064x}", source="upload")
        t, c = time.perf_counter(), time.process_time()
        update_index(settings, ready, upsert=[art])
        adds.append(time.perf_counter() - t)
        add_cpu.append(time.process_time() - c)
    for i in range(args.writes):
        t, c = time.perf_counter(), time.process_time()
        update_index(settings, ready, remove=[f"written-{i}"])
        deletes.append(time.perf_counter() - t)
        delete_cpu.append(time.process_time() - c)
    out["add_one_document_ms"] = ms_summary(adds)
    out["delete_one_document_ms"] = ms_summary(deletes)
    out["add_one_document_cpu_ms"] = ms_summary(add_cpu)
    out["delete_one_document_cpu_ms"] = ms_summary(delete_cpu)
    t = time.perf_counter()
    pipeline.reload()
    out["reload_after_writes_ms"] = round((time.perf_counter() - t) * 1e3, 1)
    return out


def ms_summary(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1e3 for s in seconds]
    return {"p50": round(percentile(ms, 50), 3), "p95": round(percentile(ms, 95), 3), "n": len(ms)}


def disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--token-vectors", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--sentence-float16", action="store_true")
    ap.add_argument("--hnsw-threshold", type=int, default=200_000)
    ap.add_argument("--ef-search", type=int, default=128)
    ap.add_argument("--segment-chunks", type=int, default=250_000)
    ap.add_argument("--tile-template", type=int, default=0,
                    help="build larger indexes by tiling a template segment of this many chunks")
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--searches", type=int, default=200)
    ap.add_argument("--writes", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--keep", action="store_true", help="keep the built indexes")
    ap.add_argument("--out", default="scale")
    ap.add_argument("--smoke", action="store_true",
                    help="the whole script on 300 chunks of the seed article (HNSW segments), nothing written")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: measure this index, print JSON
    args = ap.parse_args()
    if args.smoke:  # the --measure process gets --smoke too (it is handed this process's arguments)
        for key, value in SMOKE.items():
            setattr(args, key, value)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args)))
        return 0
    if bench_corpus(args) is None:
        return 0
    results: dict[str, Any] = {"machine_before": machine_state(), "rag_sources_sha256": rag_fingerprint(),
                               "settings": {k: v for k, v in vars(args).items() if k not in ("workdir", "measure")},
                               "sizes": {}}
    results["settings"]["workdir"] = "(temporary)"
    per_chunk_disk = None
    for size in args.sizes:
        free = shutil.disk_usage(args.workdir).free
        if per_chunk_disk is not None and per_chunk_disk * size > free / 2:
            print(f"skipping {size}: ~{per_chunk_disk * size / 1e9:.1f} GB > half the free {free / 1e9:.1f} GB",
                  file=sys.stderr)
            results["sizes"][str(size)] = {"skipped": "disk"}
            continue
        index_dir = Path(tempfile.mkdtemp(prefix=f"scale-{size}-", dir=args.workdir))
        try:
            print(f"building {size} chunks in {index_dir}", file=sys.stderr, flush=True)
            row = build(index_dir, size, args)
            row["disk_bytes"] = disk_bytes(index_dir)
            row["disk_bytes_per_chunk"] = round(row["disk_bytes"] / size, 1)
            per_chunk_disk = row["disk_bytes_per_chunk"]
            cmd = [sys.executable, __file__, "--measure", str(index_dir), *sys.argv[1:]]
            env = {**os.environ, "HF_HUB_OFFLINE": "1"}
            got = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            if got.returncode != 0:
                print(got.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"measuring {size} chunks failed")
            row |= json.loads(got.stdout.strip().splitlines()[-1])
            results["sizes"][str(size)] = row
            print(json.dumps(row), file=sys.stderr, flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(index_dir, ignore_errors=True)
    sizes = [(int(k), v) for k, v in results["sizes"].items() if "rss" in v]
    results["rss_slope_bytes_per_chunk"] = {
        f"{a}->{b}": {k: round((vb["rss"]["after_questions"][k] - va["rss"]["after_questions"][k]) / (b - a), 1)
                      for k in ("RssAnon", "RssFile")}
        for (a, va), (b, vb) in itertools.pairwise(sizes)}
    results["machine_after"] = machine_state()
    if args.smoke:
        row = results["sizes"][str(args.sizes[0])]
        if "hnsw" not in row["segments"]:
            print(f"smoke: no HNSW segment in {row['segments']}", file=sys.stderr)
            return 1
        print(f"smoke: ok ({row['chunks']} chunks, segments {row['segments']})", file=sys.stderr)
        return 0
    print(write_results(args.out, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
