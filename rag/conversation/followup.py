"""Which answer a condensed follow-up keeps, and when it must abstain: the user's own words decide."""

from __future__ import annotations

from collections.abc import Sequence

from rag.conversation.condense import mentioned, own_names, own_words
from rag.types import Answer


def prefer(focus: str, condensed: Answer, alone: Answer) -> Answer:
    """The follow-up answered as it stands (``alone``) when it says more of the user's own words than the answer to
    the condensed question: the earlier turn may not be what a pronoun points at ("Where did she sign the treaty?"
    after a question that names no "she"). Ties keep the condensed one."""
    if not alone.abstained and (condensed.abstained or says_own(focus, alone) > says_own(focus, condensed)):
        return alone
    return condensed


def says_own(focus: str, answer: Answer) -> int:
    """The count of the follow-up's own content words that the answer's first (best) sentence says."""
    return 0 if answer.abstained or not answer.citations else mentioned(own_words(focus), answer.citations[0].text)


def answers_own_words(focus: str, sentences: Sequence[str]) -> bool:
    """Whether the sentences say every name and number the user's own follow-up brings in ("And what is the capital
    of Velkaria?" is not answered by a sentence about the earlier topic that never says "Velkaria"). A follow-up that
    names nothing new ("And when?", "What is his title?") leans wholly on the earlier turns."""
    own = own_names(focus)
    return mentioned(own, " ".join(sentences)) == len(own)
