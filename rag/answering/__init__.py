"""Answering: pick the supporting sentences, cite them or abstain, and find a short answer span inside them."""
