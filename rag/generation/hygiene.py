"""Prompt-injection hygiene: invisible characters stripped from text that goes into a prompt, and text that reads
like instructions to a model flagged. The generative answerer withholds flagged passages from the prompt; the
extractive answerer never quotes a flagged sentence as an answer (it is addressed to a model, not a reader)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Characters a reader cannot see but a model reads: format controls (zero-width spaces and joiners, bidi
#: overrides, the Unicode tag block that smuggles ASCII), other control characters except tab and newline, and
#: private-use code points.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs"})
_KEEP = frozenset("\n\t")


def strip_invisible(text: str) -> str:
    """The text without invisible and control characters (tab and newline kept)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


#: Phrasings that address a model rather than a reader. Each is a family of instruction, not one wording:
#: overriding earlier instructions, changing the model's role, asking for hidden text, impersonating a turn or a
#: system message, or ordering what the answer must say.
_INSTRUCTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
        ("override", r"\b(?:ignore|disregard|forget|override|skip)\s+(?:all\s+|any\s+|the\s+|your\s+|every\s+)?"
                     r"(?:previous|prior|above|earlier|preceding|other|system|original)?\s*"
                     r"(?:instructions?|prompts?|rules?|directions?|guidelines?|context|messages?)\b"),
        ("role", r"\byou\s+are\s+(?:now|no\s+longer)\b|\b(?:act|behave|pretend)\s+as\s+(?:if\s+you\s+were\s+)?"
                 r"(?:an?\s+)?(?:different|new|unrestricted|evil|jailbroken)\b|"
                 r"\bnew\s+(?:instructions?|rules?|persona|role)\s*:"),
        ("reveal", r"\b(?:reveal|print|repeat|show|output|leak|tell\s+me)\s+(?:me\s+)?(?:your|the)\s+"
                   r"(?:system\s+)?(?:prompt|instructions?|rules|configuration|secrets?|api\s+keys?)\b"),
        ("turn", r"(?:^|\n)\s*(?:#+\s*)?(?:system|assistant|user|developer)\s*:|<\|?(?:im_start|im_end|system|"
                 r"assistant|user|endoftext)\|?>|\[/?(?:INST|SYS)\]|<</?SYS>>"),
        ("command", r"\b(?:always|instead)\s+(?:answer|reply|respond|say|output)\b|\b(?:answer|reply|respond)\s+"
                    r"(?:only\s+)?with\b|\byour\s+(?:answer|reply|response)\s+(?:must|should)\b"),
    )
)


@dataclass(frozen=True)
class Flag:
    """Why a text was flagged: the kind of instruction and the words that matched."""

    kind: str
    excerpt: str


def instruction_flags(text: str) -> list[Flag]:
    """Every instruction-like phrase in the text (none for ordinary prose)."""
    clean = strip_invisible(text)
    out: list[Flag] = []
    for kind, pattern in _INSTRUCTION_PATTERNS:
        m = pattern.search(clean)
        if m:
            out.append(Flag(kind, " ".join(m.group().split())[:80]))
    return out
