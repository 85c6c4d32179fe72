"""Model wrappers: the bi-encoder, an optional cross-encoder, and the OpenAI-compatible chat client."""
