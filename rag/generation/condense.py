"""Condensing a follow-up with the LLM: the conversation goes in fenced as data, and a rewrite that brings in words
the conversation never said is refused (the search must never run on text the model made up)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.conversation.condense import Turn, content_words, mentioned
from rag.errors import LLMError
from rag.generation.hygiene import strip_invisible
from rag.generation.prompts import condense_messages, new_boundary

if TYPE_CHECKING:
    from rag.models.llm import ChatClient

log = logging.getLogger(__name__)

#: Tokens a rewrite may take: a standalone question is short.
MAX_REWRITE_TOKENS = 64


def rewrite(turns: Sequence[Turn], client: ChatClient) -> str | None:
    """The LLM's standalone question for the last user turn, or None (the offline rule then condenses) when the
    call fails, the reply is empty, or it says something the conversation did not."""
    pairs = [(t.role, strip_invisible(t.content.strip())) for t in turns if t.role in ("user", "assistant")]
    try:
        reply = client.complete(condense_messages(pairs, new_boundary()), max_tokens=MAX_REWRITE_TOKENS)
    except LLMError as e:
        log.warning("LLM condensing failed (%s); using the offline rule", e.message)
        return None
    lines = [line.strip().strip('"') for line in strip_invisible(reply).splitlines() if line.strip()]
    question = lines[0] if lines else ""
    if not question:
        return None
    extra = invented(question, " ".join(text for _, text in pairs))
    if extra:
        log.warning("LLM condensing invented %s; using the offline rule", ", ".join(extra))
        return None
    return question


def invented(question: str, conversation: str) -> list[str]:
    """The rewrite's content words the conversation never says (by their first five letters, as follow-ups are
    matched: "Russia" ~ "Russian")."""
    return [w for w in content_words(question) if not mentioned([w], conversation)]
