"""The index kept in Milvus (``RAG_STORE=milvus``): collections, writes, and the per-question candidate view.

Nothing here is imported unless the settings ask for Milvus, so ``pymilvus`` is an optional dependency.
"""
