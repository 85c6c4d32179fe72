"""Turn a follow-up in a conversation into a standalone question before retrieval."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rag.vocabulary import (
    CONVERSATION_STOP_WORDS,
    EXISTENTIAL_VERBS,
    FOLLOW_UP_LEADS,
    MESSAGE_WORD,
    POINTING_WORDS,
    POSSESSIVE,
    TOPIC_PREPOSITIONS,
    alternation,
)

if TYPE_CHECKING:
    from rag.models.llm import ChatClient

log = logging.getLogger(__name__)

Role = Literal["system", "user", "assistant"]

#: A question this short that names nothing leans on the conversation ("Which year?", "How big is it?").
SHORT_WORDS = 6
#: At most this many context words are carried over from earlier questions.
MAX_CARRIED = 10

# A follow-up opening ("And what about ...?"): it leans on the conversation, and is dropped from the question.
_LEADS = re.compile(rf"^\s*(?:{alternation(FOLLOW_UP_LEADS)})\b[\s,]*", re.IGNORECASE)

CONDENSE_PROMPT = (
    "Rewrite the user's last message as one standalone question that can be understood without the "
    "conversation. Resolve pronouns and ellipsis from the earlier turns. Reply with the question only."
)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: Role
    content: str


def last_user_message(turns: Sequence[Turn]) -> str:
    """The content of the last user turn ('' when there is none)."""
    for t in reversed(turns):
        if t.role == "user":
            return t.content
    return ""


def is_follow_up(question: str) -> bool:
    """True for questions opening with 'and/what about', or leaning on the conversation: a pronoun with no name
    before it in the question, or six words or fewer and no name.

    "Who led the Danish crew?" after a question about ferry fares stands on its own, and so do "Who is Orla
    Brix?", "What does Orla owe to her coach?" (her: Orla) and "Is there a ferry ...?" (an existential
    "there"): carrying the earlier topic into them would only pull the answer back to that topic.
    """
    words = MESSAGE_WORD.findall(question)
    if not words:
        return False
    if _LEADS.match(question):
        return True
    named = [_is_name(w) for w in words]
    if len(words) <= SHORT_WORDS and not any(named):
        return True
    for i, w in enumerate(words):
        lower = w.lower()
        if lower not in POINTING_WORDS or any(named[:i]):
            continue
        after = words[i + 1].lower() if i + 1 < len(words) else ""
        if lower == "there" and (after in EXISTENTIAL_VERBS or (i == 1 and words[0].lower() in EXISTENTIAL_VERBS)):
            continue  # "there are ...", "Is there a ...?": nothing is pointed at (unlike "Who was there in 1900?")
        return True
    return False


def _is_name(word: str) -> bool:
    """A capitalised word that is no stop word (a question's "What", "Is", "Tell" are), or a number: what a
    question names."""
    return any(ch.isdigit() for ch in word) or (word[:1].isupper() and word.lower() not in CONVERSATION_STOP_WORDS)


def content_words(text: str) -> list[str]:
    """Salient words in order: capitalised names and non-stopwords, without duplicates."""
    seen: set[str] = set()
    out: list[str] = []
    for w in MESSAGE_WORD.findall(text):
        key = w.lower()
        if key in CONVERSATION_STOP_WORDS or key in seen or (len(key) < 3 and not w[:1].isupper()):
            continue
        seen.add(key)
        out.append(w)
    return out


def condense_offline(turns: Sequence[Turn]) -> str:
    """The last user question, with the salient words of earlier questions prepended when it is a follow-up."""
    users = [t.content.strip() for t in turns if t.role == "user" and t.content.strip()]
    if not users:
        return ""
    standalone = users[0]
    for question in users[1:]:
        standalone = _resolve(question, standalone)
    return standalone


def _resolve(question: str, previous: str) -> str:
    if not is_follow_up(question):
        return question
    lead = _LEADS.match(question)
    stripped = question[lead.end() :].strip() if lead else question.strip()
    stripped = stripped or question.strip()
    own = {w.lower() for w in MESSAGE_WORD.findall(stripped)}
    carried = [w for w in content_words(previous) if w.lower() not in own]
    if lead and "about" in lead.group(0).lower() and _names(stripped):
        # "What about Orla?" asks the same thing of a new entity: keep the earlier topic (the phrase after
        # the last preposition), drop the earlier focus and what was said of it.
        topic = [w for w in content_words(_after_last_preposition(previous)) if w.lower() not in own]
        focus = next((w for w in carried if w[:1].isupper()), None)
        carried = topic or [w for w in carried if w != focus]
    carried = carried[:MAX_CARRIED]
    if not carried:
        return stripped
    return f"{' '.join(carried)}: {stripped[:1].upper()}{stripped[1:]}"


def own_words(question: str) -> list[str]:
    """The content words a follow-up says itself (no lead, pronoun or stop word): "Where did she watch the regatta
    from?" -> watch, regatta."""
    lead = _LEADS.match(question)
    return [w for w in content_words(question[lead.end():] if lead else question) if w.lower() not in POINTING_WORDS]


def own_names(question: str) -> list[str]:
    """The names and numbers a follow-up says of its own: "And what is the capital of Velkaria?" -> Velkaria. (Its
    other words are often the question's own vocabulary, "year", "title", "held", which answers rarely repeat.)"""
    lead = _LEADS.match(question)
    words = MESSAGE_WORD.findall(question[lead.end():] if lead else question)
    return list(dict.fromkeys(w for w in words if _is_name(w) and w.lower() not in POINTING_WORDS))


def mentioned(terms: Sequence[str], text: str) -> int:
    """How many of ``terms`` ``text`` says: a long word by its first five letters ("Velkaria" ~ "Velkarian"), a short
    one whole ("UN" is not "under"), a possessive as its word ("Velka’s")."""
    words = [POSSESSIVE.sub("", w.lower()) for w in MESSAGE_WORD.findall(text)]
    return sum(any(w.startswith(t.lower()[:5]) if len(t) >= 5 else w == t.lower() for w in words) for t in terms)


def _after_last_preposition(text: str) -> str:
    """The words after the last preposition ('... worried about a Tarnby-Velka ferry strike' -> the strike)."""
    words = text.rstrip("?!. ").split()
    cut = max((i for i, w in enumerate(words) if w.lower().strip(",;:") in TOPIC_PREPOSITIONS), default=-1)
    return " ".join(words[cut + 1 :]) if 0 <= cut < len(words) - 1 else ""


def _names(text: str) -> list[str]:
    """Capitalised non-stopwords: a cheap stand-in for named entities."""
    return [w for w in MESSAGE_WORD.findall(text) if w[:1].isupper() and w.lower() not in CONVERSATION_STOP_WORDS]


def condense(turns: Sequence[Turn], client: ChatClient | None = None) -> str:
    """A standalone question for the conversation; asks the LLM when one is configured."""
    question = last_user_message(turns).strip()
    earlier_users = [t for t in turns[:-1] if t.role == "user"]
    if not earlier_users or not question:
        return question
    if client is None:
        return condense_offline(turns)
    from rag.errors import LLMError

    transcript = "\n".join(f"{t.role}: {t.content.strip()}" for t in turns if t.role in ("user", "assistant"))
    try:
        rewritten = client.complete(
            [{"role": "system", "content": CONDENSE_PROMPT}, {"role": "user", "content": transcript}]
        ).strip()
    except LLMError as e:
        # Condensing is an aid, not the answer: fall back to the offline rule and say so in the log.
        log.warning("LLM condensing failed (%s); using the offline rule", e.message)
        return condense_offline(turns)
    return rewritten.strip('"') or condense_offline(turns)
