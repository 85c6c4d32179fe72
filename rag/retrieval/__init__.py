"""Retrieval: dense and BM25 pools, fusion, the sentence rerank and token alignment, over one index generation."""
