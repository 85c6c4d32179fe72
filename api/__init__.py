"""HTTP front end: thin FastAPI routes over ``rag.pipeline.Pipeline`` plus the chat page (``create_app``)."""
