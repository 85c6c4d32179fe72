"""Why and how questions take the reason or the means a sentence marks with a connective, or nothing."""

from __future__ import annotations

import pytest

from rag.answering.explanation import MAX_WORDS, explanation_span
from rag.answering.short_answer import short_answer


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [("Why was the match postponed?", "The match was postponed on Sunday because of heavy snow, and the league will "
      "set a new date.", "heavy snow"),
     ("Why did the bank raise rates?", "Because inflation stayed above target, the bank raised rates again.",
      "inflation stayed above target"),
     # the "to" of a purpose belongs to the answer
     ("Why were troops sent to the border?", "Troops were sent to the border in order to secure the crossings.",
      "to secure the crossings"),
     ("Why did they plant hedges?", "They planted hedges in order to fence the fields.", "to fence the fields"),
     ("Why did they stop?", "They stopped so as to rest.", "to rest"),
     ("What was one reason the plant closed?", "The plant closed due to falling demand, the company said.",
      "falling demand"),
     ("Why did they stop?", "They stopped owing to thick fog.", "thick fog"),
     ("Why did they stop?", "They stopped for fear of the storm.", "the storm"),
     ("Why did they wait?", "They waited for fear that the ice would crack.", "the ice would crack"),
     ("Why did they shout?", "They shouted in order that the crew would hear.", "the crew would hear"),
     ("Why did the hall fill?", "The hall filled, thanks to a free concert.", "a free concert"),
     # "for" after a comma and before a subject
     ("Why did she decline the offer?", "She declined the offer, for she had already signed elsewhere.",
      "she had already signed elsewhere"),
     # "by" and a gerund, maybe through "means of"
     ("How did the city cut emissions?", "The city cut emissions by banning diesel buses, officials said.",
      "banning diesel buses"),
     ("How was the bridge raised?", "The bridge was raised by means of winching the deck.", "winching the deck"),
     ("Skylark 4: why was the flight aborted?", "It was aborted because a fuel valve froze.", "a fuel valve froze"),
     ("How come the vote failed?", "The vote failed because of low turnout.", "low turnout"),
     ("What was the cause of the fire?", "The fire started because of a faulty heater.", "a faulty heater"),
     # a full stop inside a sentence is an abbreviation's; quotes and dashes bound the clause
     ("Why was the race cancelled?", "The race was cancelled due to a U.K. Navy drill nearby.",
      "a U.K. Navy drill nearby"),
     ("Why was the road closed?", "The road was closed because of “safety concerns,” police said.", "safety concerns"),
     ("Why was the plant shut?", "The plant was shut ‘because of supply issues’ officials said.", "supply issues"),
     ("Why were they late?", "They were late because the bus broke down - on Tuesday.", "the bus broke down"),
     # A limit: a comma inside the clause cuts it short.
     ("Why did it wilt?", "It wilted because of its thick, waxy leaves.", "its thick"),
     # after a comma a negation belongs to the event the reason explains
     ("Why couldn't he sail?", "He could not sail that week, because he was ill.", "he was ill"),
     ("Why did shares fall?", "Shares fell not because of earnings but because of a lawsuit.", "a lawsuit"),
     ("Why did they build the dam?", "They built the dam, so that farmers could irrigate their fields.",
      "farmers could irrigate their fields"),
     # No connective, one that only repeats the question, or one that means something else: no short answer.
     ("Why did Orla invite them?", "Orla invited them to strengthen ties.", None),
     ("Why did the mayor resign?", "The mayor resigned on Friday, for the second time.", None),
     ("Why did the bill stall?", "The bill stalled, for it to pass before June.", None),
     ("How did the team travel?", "The team travelled by bus.", None),
     ("Why did the talks fail?", "The talks failed because of the talks.", None),
     ("Why was the attack delayed?", "The attack was due to start at dawn.", None),
     ("Why was the verdict delayed?", "The verdict is due to be read on Monday.", None),
     ("Why did the mission fail?", "The mission did not fail because of the crew.", None),
     ("Why did she resign?", "She resigned just because she could.", None),
     ("Why did the mill close?", "The mill didn't close because of the flood.", None),
     ("Why did the river rise?", "It rained so much so that the river rose.", None),  # a result, not a purpose
     ("Why did the road close?", "Rain fell all night, so that by morning the road was closed.", None),
     ("Why did they build the dam?", "They built the dam, so that farmers must irrigate their fields.", None),
     ("Why did they stop?", "They stopped thanks to whom, nobody knows.", None),
     ("Why did imports rise?", "The dollar rose, as a result of which imports became cheaper.", None),
     ("How did the market react?", "Shares fell after a deal brokered by Tarnby.", None),
     ("How did they arrive?", "They arrived by morning.", None),
     ("How did they arrive?", "They arrived by evening.", None),
     ("How likely is a recession?", "A recession is likely by raising rates too fast.", None)],
)
def test_why_and_how_questions_take_the_reason_or_means_the_sentence_marks(question: str, sentence: str,
                                                                           answer: str | None) -> None:
    assert short_answer(question, sentence) == answer
    span = explanation_span(question, sentence)
    assert (span.text if span else None) == answer
    assert span is None or sentence[span.start:span.end] == span.text


def test_a_reason_clause_longer_than_a_short_answer_is_none() -> None:
    long_reason = "It stopped because " + "the wind blew hard and " * 10 + "so on."
    assert explanation_span("Why did it stop?", long_reason) is None
    # thousands of connectives and no punctuation: only the last ones' clauses end within reach, and the first of
    # those short enough is the answer
    sentence = "It stopped because of snow " * 2000
    span = explanation_span("Why did it stop?", sentence)
    assert span is not None and span.text == "snow" + " It stopped because of snow" * 4
    assert span.end == len(sentence) - 1 and len(span.text.split()) <= MAX_WORDS
