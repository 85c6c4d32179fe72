"""Conversation: turn a follow-up into a standalone question."""
