"""Fusion, MMR, sentence splitting and short answers: the pure pieces of ranking and answering."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from rag.answering.explanation import explanation_span
from rag.answering.extractive import is_statement
from rag.answering.question_type import answer_type, asks_explanation, asks_name, question_focus
from rag.answering.short_answer import ShortAnswer, find_short_answer, has_typed_span, short_answer
from rag.answering.span_structure import named_by
from rag.answering.spans import candidates, question_terms, said
from rag.ingest.sentences import sentence_spans, skip_dateline
from rag.retrieval.fusion import rrf_fusion, zscore_fusion, zscores
from rag.retrieval.mmr import mmr_order


def test_zscores_standardise_and_tolerate_constants() -> None:
    z = zscores(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert np.all(zscores(np.array([4.0, 4.0])) == 0.0)


def test_zscore_fusion_keeps_margins_that_rank_fusion_drops() -> None:
    # Signal a barely prefers item 0; signal b strongly prefers item 1.
    a = np.array([1.01, 1.00, 0.0])
    b = np.array([0.0, 10.0, 0.1])
    fused = zscore_fusion([a, b], [1.0, 1.0])
    assert int(np.argmax(fused)) == 1
    # RRF sees only ranks, so with a third run agreeing with a, item 0 would win there.
    assert int(np.argmax(rrf_fusion([a, b, a], [1.0, 1.0, 1.0], k=60))) == 0


def test_rrf_weights_and_zero_weight_signal() -> None:
    a = np.array([3.0, 2.0, 1.0])
    b = np.array([1.0, 2.0, 3.0])
    assert rrf_fusion([a, b], [1.0, 0.0])[0] == pytest.approx(1 / 61)
    assert int(np.argmax(rrf_fusion([a, b], [1.0, 2.0]))) == 2


def test_mmr_skips_a_near_duplicate() -> None:
    v = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]], dtype=np.float32)
    rel = np.array([1.0, 0.99, 0.5])
    assert mmr_order(rel, v, 2, lam=1.0) == [0, 1]
    assert mmr_order(rel, v, 2, lam=0.5) == [0, 2]


def test_sentence_spans_keep_offsets_and_abbreviations() -> None:
    text = "Dr. Smith met Mr. Lee at No. 5 Main St. yesterday. Was it late? No. It was 3.5 hours early!\n\nNew para"
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["Dr. Smith met Mr. Lee at No. 5 Main St. yesterday.", "Was it late?", "No.",
                   "It was 3.5 hours early!", "New para"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [("How many points did they score?", "number"), ("When did the war end?", "date"),
     ("Who led the delegation?", "entity"), ("Which player was criticized?", "named"),
     ("Why did it happen?", "phrase"), ("What German general was of Huguenot ancestry?", "named"),
     ("What limits the Rankine cycle's efficiency?", "phrase"), ("What caused the need for treaties?", "phrase"),
     ("What must a public school teacher have?", "phrase"), ("What happened to the crew?", "phrase"),
     ("Which United States president signed it?", "named"), ("Which of the players scored?", "named"),
     ("What speed does it reach?", "named"), ("What was the average household size?", "number"),
     ("What is the estimated population of the city?", "number"), ("What was the city’s total budget?", "number"),
     ("What is Warsaw's population?", "number"),
     ("What is the area called near the gorge?", "phrase"),
     # a "when" or "where" after the question's own wh-word opens a clause; a capitalised one is a name
     ("What sea bordered the empire when he died?", "named"), ("What did the crew see when they landed?", "phrase"),
     ("Who was the leader when the Franks came?", "entity"), ("What type of beings does Doctor Who take?", "named"),
     ("What is the name of the player who scored?", "entity"), ("In what decades was he active?", "date"),
     # ... and so does one opening the question, when another wh-word asks after the comma
     ("When prices rise, what is it called?", "phrase"), ("When was it, and who won?", "date"),
     ("When did the U.S. enter the war, which year?", "date"),
     # a quantity noun ends its phrase: "number one priority" and "age rating" are no quantities
     ("What is the president's number one priority?", "phrase"), ("What is the film's age rating?", "phrase")],
)
def test_answer_type(question: str, kind: str) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [("Why was the match postponed?", "The match was postponed on Sunday because of heavy snow, and the league will "
      "set a new date.", "heavy snow"),
     ("Why did the bank raise rates?", "Because inflation stayed above target, the bank raised rates again.",
      "inflation stayed above target"),
     ("Why were troops sent to the border?", "Troops were sent to the border in order to secure the crossings.",
      "to secure the crossings"),
     ("What was the main reason the plant closed?", "The plant closed due to falling demand, the company said.",
      "falling demand"),
     ("Why did she decline the offer?", "She declined the offer, for she had already signed elsewhere.",
      "she had already signed elsewhere"),
     ("How did the city cut emissions?", "The city cut emissions by banning diesel buses, officials said.",
      "banning diesel buses"),
     ("Apollo 13: why was the mission aborted?", "It was aborted because an oxygen tank exploded.",
      "an oxygen tank exploded"),
     ("How come the vote failed?", "The vote failed because of low turnout.", "low turnout"),
     ("What was the cause of the fire?", "The fire started because of a faulty heater.", "a faulty heater"),
     # a full stop inside a sentence is an abbreviation's; quotes and dashes bound the clause
     ("Why was the drill cancelled?", "The drill was cancelled due to a U.S. Army exercise nearby.",
      "a U.S. Army exercise nearby"),
     ("Why was the road closed?", "The road was closed because of “safety concerns,” police said.", "safety concerns"),
     ("Why was the plant shut?", "The plant was shut ‘because of supply issues’ officials said.", "supply issues"),
     ("Why were they late?", "They were late because the bus broke down - on Tuesday.", "the bus broke down"),
     # after a comma a negation belongs to the event the reason explains
     ("Why couldn't she marry?", "She could not marry anyone, because she was under contract.",
      "she was under contract"),
     ("Why did shares fall?", "Shares fell not because of earnings but because of a lawsuit.", "a lawsuit"),
     ("Why did they build the dam?", "They built the dam, so that farmers could irrigate their fields.",
      "farmers could irrigate their fields"),
     # No connective, one that only repeats the question, or one that means something else: no short answer.
     ("Why did Kim invite them?", "Kim invited them to strengthen ties.", None),
     ("Why did the mayor resign?", "The mayor resigned on Friday, for the second time.", None),
     ("Why did the bill stall?", "The bill stalled, for it to pass before June.", None),
     ("How did the team travel?", "The team travelled by bus.", None),
     ("Why did the talks fail?", "The talks failed because of the talks.", None),
     ("Why was the attack delayed?", "The attack was due to start at dawn.", None),
     ("Why did the mission fail?", "The mission did not fail because of the crew.", None),
     ("Why did she resign?", "She resigned just because she could.", None),
     ("Why did the road close?", "Rain fell all night, so that by morning the road was closed.", None),
     ("Why did imports rise?", "The dollar rose, as a result of which imports became cheaper.", None),
     ("How did the market react?", "Shares fell after a deal brokered by Beijing.", None),
     ("How did they arrive?", "They arrived by morning.", None),
     ("How likely is a recession?", "A recession is likely by raising rates too fast.", None)],
)
def test_why_and_how_questions_take_the_reason_or_means_the_sentence_marks(question: str, sentence: str,
                                                                           answer: str | None) -> None:
    assert short_answer(question, sentence) == answer
    span = explanation_span(question, sentence)
    assert (span is None) == (answer is None)
    assert span is None or sentence[span.start:span.end] == span.text


def test_a_reason_clause_longer_than_a_short_answer_is_none() -> None:
    long_reason = "It stopped because " + "the wind blew hard and " * 10 + "so on."
    assert explanation_span("Why did it stop?", long_reason) is None
    # thousands of connectives and no punctuation: only the last ones' clauses end within reach
    sentence = "It stopped because of snow " * 2000
    span = explanation_span("Why did it stop?", sentence)
    assert span is not None and span.end == len(sentence) - 1 and len(span.text.split()) <= 25


def test_words_a_condensed_follow_up_carries_before_its_wh_word_do_not_decide_the_answer_type() -> None:
    s = "China’s Vice Premier Liu Guozhong led the Chinese delegation to the parade."
    assert short_answer("purpose parade: Who led the Chinese delegation?", s) == "China’s Vice Premier Liu Guozhong"
    assert short_answer("What was the purpose of the parade?", s) is None


def test_only_why_and_non_quantity_how_questions_ask_for_an_explanation() -> None:
    assert asks_explanation("Why did it happen?") == "reason"
    assert asks_explanation("For what reason was he fired?") == "reason"
    assert asks_explanation("How did they win?") == "means"
    assert asks_explanation("How many fans came?") is None
    assert asks_explanation("How likely is a recession?") is None
    assert asks_explanation("What happened because of the storm?") is None
    # "cause" as a verb asks for what it causes, not why
    assert short_answer("What year did the storm cause the outage?", "The storm caused the outage in 2008.") == "2008"


def test_short_answers_pick_the_typed_span_near_the_question_words() -> None:
    s = "China’s Vice Premier Liu Guozhong led the Chinese delegation, while Russia sent a dance group."
    assert short_answer("Who led the Chinese delegation?", s) == "China’s Vice Premier Liu Guozhong"
    assert short_answer("How many points did the defense give up?",
                        "The defense gave up just 308 points, ranking sixth.") == "308"
    assert short_answer("When did the war end?", "The war ended in 1945 after six years.") == "1945"
    assert short_answer("Why did Kim invite them?", "Kim invited them to strengthen ties.") is None
    assert has_typed_span("How many eggs?", "The queen lays 2,000 eggs a day.")
    assert not has_typed_span("How many eggs?", "The queen lays eggs every day.")


@pytest.mark.parametrize(
    ("question", "focus"),
    [("What German general was of Huguenot ancestry?", "German general"),
     ("In what English colony were settlers promised land?", "English colony"),
     ("Stratigraphers look for what types of extraction?", "extraction"),
     ("Who halted the advance?", "person or organization"),
     ("Where was the theatre?", "place or location"),
     ("What chemist first made liquid oxygen?", "chemist"),
     ("What device is used to treat poisoning?", "device"),
     ("What is the capital?", None),
     ("How many eggs?", None), ("What limits the cycle's efficiency?", None),
     ("Which United States president signed it?", "United States president")],
)
def test_question_focus(question: str, focus: str | None) -> None:
    assert question_focus(question) == focus


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        # "what kind of N": the words modifying N in the sentence, without N.
        ("What type of ships did the navy send?", "The navy sent two ocean-going patrol ships to the strait.",
         "ocean-going patrol"),
        ("What kind of loans does the bank offer?", "It offers fixed-rate or variable loans to first-time buyers.",
         "fixed-rate or variable"),
        # ... but not the clause before them: a past tense stops the walk, a long run is no modifier.
        ("What type of weapons were found?", "Police said attackers carried automatic weapons.", "automatic"),
        # "what N": a name ending in N keeps it; a capitalised modifier of a common noun is the name.
        ("Which airport will close the runway?", "Officials at Heathrow Airport said the runway would close.",
         "Heathrow Airport"),
        ("What vaccine did the agency approve?", "The agency approved the Novavax vaccine on Monday.", "Novavax"),
        # a name beside the noun beats its modifiers, with or without a comma, after a title too.
        ("What economist won the prize?", "The American economist Claudia Goldin won the prize.", "Claudia Goldin"),
        ("What economist won the prize?", "The American economist, Claudia Goldin, won the prize.", "Claudia Goldin"),
        ("Which minister resigned over the scandal?", "After the vote, Prime Minister Rishi Sunak said he would stay.",
         "Rishi Sunak"),
        # a verb ending the question's focus is not its noun ("which river flows through")
        ("Which river flows through the capital?", "The Danube flows through Budapest and Vienna.", "Danube"),
    ],
)
def test_the_focus_noun_in_the_sentence_locates_the_answer(question: str, sentence: str, answer: str) -> None:
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        return np.eye(len(texts), 8, dtype=np.float32)

    assert short_answer(question, sentence, embed) == answer
    assert calls == []  # found by structure: no rivals to weigh


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("What was the first network named?", "The network built in 1998, called Abilene, was retired.", "Abilene"),
        ("What are the protests called?", "The marches, known as \"Fridays for Future,\" spread in 2019.",
         "Fridays for Future"),
        ("What is the name of the suspect?", "Police arrested a man named John Smith on Friday.", "John Smith"),
        ("What is the road known as?", "The highway is known as U.S. Route 66 in the region.", "U.S. Route 66"),
        # the naming words as plain verbs, or a who-question: the rule stands aside
        ("Who called for the minister's resignation?",
         "Opposition leader Keir Starmer called for the resignation of the minister on Sunday.", "Keir Starmer"),
        ("Who was named Time's Person of the Year?", "Taylor Swift was named Time's Person of the Year in 2023.",
         "Taylor Swift"),
    ],
)
def test_a_question_asking_what_something_is_called_takes_the_naming_phrase(question: str, sentence: str,
                                                                              answer: str) -> None:
    assert short_answer(question, sentence) == answer


def test_naming_markers() -> None:
    assert named_by("The boulevard, named after M. Theo Kearney, runs west.", {"boulevard"}) == []
    assert asks_name("What are the hairs on the leaves called?") and asks_name("What is another name for it?")
    assert not asks_name("Who is the boulevard named after?") and not asks_name("Which player was called up?")


def test_the_focus_rule_stands_aside_for_a_first_word_a_clause_or_punctuation() -> None:
    # "Professional" modifies "teams" only as the sentence's capitalised first word: no evidence of a name.
    s = "Professional teams such as the Dodgers play in Los Angeles."
    assert short_answer("What teams play in the city?", s) != "Professional"
    # "grown and responsibilities": a conjunction just before the noun joins it to a clause, not a modifier.
    s = "Their role has grown and responsibilities now include the pharmacy's budget."
    assert short_answer("What types of responsibilities do they have?", s) != "grown and"
    # five words before the noun are a clause, not its modifiers
    s = "Witnesses say masked gunmen fire automatic weapons at crowds."
    assert short_answer("What kind of weapons were used?", s) != "Witnesses say masked gunmen fire automatic"
    # a focus of punctuation only, or an endless run of conjunctions, must not crash
    assert short_answer("What - exactly - is a tunnel called?", "It added deep tunnels.") is not None
    assert short_answer("What type of tunnels are there?", "It added " + "and " * 2000 + "deep tunnels.") is not None


def test_numbers_keep_thousands_separators_and_ranges() -> None:
    s = "The city had a population of 8,336,817 in 2019, against 8,175,133 in 2010."
    assert short_answer("What was the population of the city in 2019?", s) == "8,336,817"
    assert short_answer("How many people were evacuated?", "Officials evacuated 10–15 million people.") == (
        "10–15 million")
    spans = candidates("About 22,000 years ago, ice melted.", "phrase", {"when"})
    assert any(sp.text == "22,000 years ago" for sp in spans)


def test_a_possessive_is_the_word_the_question_already_says() -> None:
    s = "The parade was held to celebrate North Korea’s 75th founding anniversary."
    # "Korea’s" is North Korea, which the question names: never the answer (it was, with the ’s cut off)
    assert short_answer("What anniversary did North Korea celebrate?", s) == "75th founding"
    assert not any("Korea" in sp.text for sp in candidates(s, "entity", question_terms("What did North Korea do?")))
    assert said("Korea’s", {"korea"}) and said("Korea", {"korea's"}) and not said("Korean", {"korea"})
    # the question types a straight apostrophe, the article prints a curly one
    assert short_answer("Which country did North Korea's army threaten?",
                        "North Korea’s army threatened Japan on Monday.") == "Japan"
    assert short_answer("Who did the U.S. envoy meet?", "The U.S.’s envoy met Kim Jong Un in Hanoi.") == "Kim Jong Un"
    assert not said("Paris", {"pari"}) and not said("its", {"it"})


def test_a_count_or_a_date_asked_for_and_not_in_the_sentence_gets_no_short_answer() -> None:
    s = "The Red Guards marched with motorcycles and anti-tank rockets towed by tractors."
    assert short_answer("How many rockets were launched?", s) is None  # not "anti-tank"
    assert short_answer("When did the Red Guards march?", s) is None
    assert short_answer("Who marched with motorcycles?", s) == "Red Guards"
    # how long / often / old may be answered by a phrase
    assert short_answer("How often does the committee meet?", "The committee meets annually in Geneva.") is not None


def test_when_is_answered_by_a_day_or_by_the_event_a_temporal_word_introduces() -> None:
    assert short_answer("When did police arrest the suspect?", "Police arrested the suspect on Tuesday.") == "Tuesday"
    assert short_answer("When did he die?", "He died during the war.") == "the war"
    assert short_answer("When did he resign?", "He resigned after the scandal broke, aides said.") == (
        "the scandal broke")
    assert short_answer("When did it end?", "x, " * 30000 + "It ended after the war.") == "the war"  # linear
    # "while" concedes here: no time is given
    assert short_answer("When will Kim meet Putin?", "While Kim’s exact travel plans to Russia are still unconfirmed, "
                        "speculations arise that he will soon meet with President Vladimir Putin.") is None


def test_an_ordinal_ranks_and_does_not_count() -> None:
    s = "The parade was held to celebrate North Korea’s 75th founding anniversary on its 1,000th day."
    assert short_answer("How many people attended the parade?", s) is None
    assert [c.text for c in candidates("The 21st race drew 3,000 fans, up 2.5%.", "number", set())] == [
        "3,000 fans", "2.5%"]


def test_a_quantity_asked_for_is_a_number_or_nothing() -> None:
    s = "The parade was held to celebrate the founding anniversary."
    assert short_answer("What is the population of Pyongyang?", s) is None
    assert short_answer("What is the population of Pyongyang?", "Pyongyang has 3 million people.") == "3 million people"


def test_plural_number_words_are_counts() -> None:
    s = "The event displayed millions of North Koreans associated with the Worker-Peasant Red Guards."
    assert short_answer("How many North Koreans were associated with the Red Guards?", s) == "millions"
    assert short_answer("How many channels could it carry?", "It could carry hundreds of channels.") == "hundreds"


def test_embedding_rerank_overturns_the_heuristic_pick_with_focus_fit_and_centrality() -> None:
    """With an embedder, the candidate that fits the question's focus and carries the sentence's meaning wins;
    without one, the heuristics' pick (nearest the question's words) stands."""
    s = "Working with Lord Kelvin at the Royal Institution, the Scottish expert James Dewar liquefied oxygen."
    question = "What scientist, an expert, first made liquid oxygen?"  # ("scientist" is not in the sentence)
    table = {"scientist": [1.0, 0.0, 0.0], "James Dewar": [0.9, 0.436, 0.0], "Scottish": [0.2, 0.0, 0.98],
             s: [0.8, 0.6, 0.0]}
    calls: list[list[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([table.get(t, [0.0, 0.0, 1.0]) for t in texts], dtype=np.float32)

    assert short_answer(question, s) == "Scottish"
    assert short_answer(question, s, embed) == "James Dewar"
    assert calls[0][0] == "scientist" and calls[0][-1] == s  # focus first; the sentence last when not passed
    assert short_answer(question, s, embed, np.array(table[s], dtype=np.float32)) == "James Dewar"
    assert s not in calls[1]  # the index's sentence vector is used instead of embedding the long sentence
    assert short_answer(question, s, embed, np.array([0.0, 0.0, 1.0], dtype=np.float32)) == "Scottish"
    assert short_answer("How many eggs?", "The queen lays 2,000 eggs a day.", embed) == "2,000"
    assert len(calls) == 3  # numbers are picked by the heuristics alone: no embedding


def test_focus_fit_alone_can_decide() -> None:
    """A sentence vector orthogonal to every span leaves the focus as the only embedding signal that differs."""
    s = "Working with Lord Kelvin at the Royal Institution, the Scottish expert James Dewar liquefied oxygen."
    table = {"scientist": [1.0, 0.0, 0.0], "James Dewar": [1.0, 0.0, 0.0]}

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.array([table.get(t, [0.0, 1.0, 0.0]) for t in texts], dtype=np.float32)

    question = "What scientist, an expert, first made liquid oxygen?"
    assert short_answer(question, s) == "Scottish"
    assert short_answer(question, s, embed, np.array([0.0, 0.0, 1.0], dtype=np.float32)) == "James Dewar"


def test_rerank_without_a_focus_reads_each_span_its_own_vector() -> None:
    """No focus ("what caused"): the batch is the spans then the sentence; centrality must pair them right."""
    q, s = "What caused the flood?", "Heavy rain in the hills caused the flood, officials in Denver said."
    assert question_focus(q) is None and answer_type(q) == "phrase"
    central = {"hills": [1.0, 0.0, 0.0], s: [1.0, 0.0, 0.0]}
    calls: list[list[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([central.get(t, [0.0, 0.0, 1.0]) for t in texts], dtype=np.float32)

    assert short_answer(q, s, embed) == "hills"
    assert calls[0][-1] == s and "hills" in calls[0]


def test_a_confident_heuristic_pick_needs_no_model_call() -> None:
    """The model is asked only when the heuristics' two best candidates are within CONFIDENT_MARGIN."""
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        return np.eye(len(texts), 8, dtype=np.float32)

    near = "Built by Lockheed Martin with Boeing, the probe flew from Cape Canaveral."
    far = "Lockheed Martin built the probe, which years later flew over the deserts of Nevada and California."
    short_answer("What company built the probe?", far, embed)
    assert calls == []
    short_answer("What company built the probe?", near, embed)
    assert len(calls) == 1


def test_numbers_and_dates_never_call_the_model() -> None:
    calls: list[Sequence[str]] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(texts)
        return np.zeros((len(texts), 3), dtype=np.float32)

    assert short_answer("How many eggs did the queen lay?", "The queen lays 2,000 eggs a day and 300 at night.",
                        embed) == "2,000"
    assert short_answer("When did the war end?", "The war began in 1939 and ended in 1945.", embed) in ("1939", "1945")
    assert calls == []


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    # the sentence's structure or a connective settles it
    ("What economist won the prize?", "The prize went to the economist Claudia Goldin on Monday.",
     ShortAnswer("Claudia Goldin", True)),
    ("Why did the river flood?", "The river flooded because of heavy rain in the hills.",
     ShortAnswer("heavy rain in the hills", True)),
    # the sentence's only number or date, asked for one
    ("How many eggs does the queen lay?", "The queen lays 2,000 eggs a day.", ShortAnswer("2,000", True)),
    ("When did the war end?", "The war ended in 1945.", ShortAnswer("1945", True)),
    # a capitalised name is no type check: "what river", "what company" or "who" may be answered by any name
    ("What river flows past the old mill?", "The old mill stands beside the Avon.", ShortAnswer("Avon", False)),
    ("What company built the probe?", "Lockheed Martin built the probe, which years later flew over the deserts of "
     "Nevada and California.", ShortAnswer("Lockheed Martin", False)),
    # rival dates, a phrase, or the event a temporal word introduces
    ("When did the war end?", "The war began in 1939 and ended in 1945.", None),
    ("What did the council approve?", "The council approved a new budget for the schools.", None),
    ("When did he die?", "He died during the war.", ShortAnswer("the war", False)),
])
def test_a_short_answer_is_confident_only_when_the_sentence_settles_it(question: str, sentence: str,
                                                                       expected: ShortAnswer | None) -> None:
    found = find_short_answer(question, sentence)
    assert found is not None and found.text == short_answer(question, sentence)
    if expected is None:
        assert not found.confident, found
    else:
        assert found == expected


@pytest.mark.parametrize(("question", "sentence", "text", "confident"), [
    ("How tall is the lighthouse?", "It stands 42 metres tall.", "42 metres", True),
    # the sentence's only number, but not of the sort asked: a year is no height, a bare count no date
    ("How high is the Varn Lighthouse?", "The Varn Lighthouse was built in 1874 by Margit Olsen.", "1874", False),
    ("How long did Tomas Brekke serve?", "Tomas Brekke retired in 1989.", "1989", False),
    ("When can visitors climb to the lamp room?", "Visitors climb the 212 steps to the lamp room.", "212", False),
    ("When did it open?", "It opened on Monday.", "Monday", True),
    ("How many North Koreans took part?", "The event displayed millions of North Koreans.", "millions", True),
])
def test_a_lone_number_or_date_is_settled_only_when_it_is_of_the_sort_asked(question: str, sentence: str, text: str,
                                                                            confident: bool) -> None:
    assert find_short_answer(question, sentence) == ShortAnswer(text, confident)


def test_a_where_question_is_typed_by_a_name_a_preposition_places() -> None:
    q = "Where is the Old Mill Bakery?"
    assert has_typed_span(q, "The Old Mill Bakery is located on Mill Lane in the town of Brastow.")
    assert has_typed_span(q, "It stands north of Skarholm.")
    assert not has_typed_span(q, "The Old Mill Bakery opens at 7 on weekdays, said Anna Berg.")  # a name, not placed
    assert not has_typed_span(q, "The bakery in the Old Mill is old.")  # the question already says it
    assert has_typed_span("Apollo 13: where did it land?", "It landed in the Pacific Ocean.")  # condensed follow-up


def test_headings_are_no_statements_but_facts_set_out_as_lines_are() -> None:
    assert not is_statement("The Copper Bridge") and not is_statement("# Glass Harps and bells of the north")
    assert is_statement("Saturday: 10:00 to 14:00") and is_statement("- Return ticket 20 euros")
    assert is_statement("It opened in 1932.") and not is_statement("Open daily")


def test_list_items_are_sentences_of_their_own() -> None:
    text = "Prices:\n- Single ticket 12 euros\n- Return ticket 20 euros\n1. First step\n2. Second step. More."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Prices:", "- Single ticket 12 euros", "- Return ticket 20 euros", "1. First step", "2. Second step.",
        "More."]


def test_phrase_spans_keep_true_offsets_across_odd_whitespace() -> None:
    s = "He was helped by the famous  Scottish\nengineer, and then left."
    spans = candidates(s, "phrase", {"he", "was", "helped"})
    assert spans and all(sp.start >= 0 for sp in spans)
    first = spans[0]
    assert first.text == "famous Scottish engineer" and s[first.start:first.end] == "famous  Scottish\nengineer"


def test_a_lone_capitalised_first_word_is_not_preferred_as_a_name() -> None:
    s = "Likewise, each deacon is a member of the Order of Deacons."
    assert short_answer("Each deacon is a member of what?", s) == "Order of Deacons"


def test_dateline_is_skipped_only_at_the_start() -> None:
    t = "Seoul, South Korea (AP) — Kim hosted Chinese delegates."
    assert t[skip_dateline(t, 0, len(t)):] == "Kim hosted Chinese delegates."
    plain = "Kim hosted delegates (AP) — and artists."
    assert skip_dateline(plain, 0, len(plain)) == 0


def test_coverage_weighs_rare_question_terms_and_reads_the_sentence_before() -> None:
    from rag.retrieval.lexical import BM25Index

    texts = ["Carbon monoxide poisoning is treated with these devices.",   # 0: names the subject
             "They are hyperbaric oxygen chambers.",                        # 1: continues 0, holds the answer
             "The devices are large.",                                      # 2: only a common term
             "Poisoning is rare."]                                          # 3
    idx = BM25Index(texts, keep_terms=True)
    q = "What devices treat carbon monoxide poisoning?"
    alone = idx.coverage(q, [0, 1, 2, 3], [-1, -1, -1, -1])
    assert alone[1] == 0.0 and alone[0] == pytest.approx(1.0)
    assert 0.0 < alone[2] < alone[3] + alone[2] < alone[0]  # "devices" and "poisoning" each carry part of the mass
    # Rarer terms weigh more: "carbon"/"monoxide" (in one row) outweigh "devices" (in two).
    assert alone[2] < 0.25
    with_context = idx.coverage(q, [1, 2], [0, -1])
    assert with_context[0] == pytest.approx(1.0) and with_context[1] == pytest.approx(alone[2])
    assert np.all(BM25Index(texts).coverage(q, [0], [-1]) == 0.0)  # built without terms: no signal
    assert np.all(idx.coverage("zebra quagga", [0, 1], [-1, 0]) == 0.0)  # no indexed term: no signal


def test_without_a_span_of_the_asked_type_a_phrase_answers() -> None:
    s = "Liu returned to Beijing after the long war had ended."
    when = short_answer("When did Liu return to Beijing?", s)
    assert when is not None and when in s and "Liu" not in when and "Beijing" not in when
    assert short_answer("Who built the tower?", "The tower was built by local masons.") == "local masons"


TURNIPS = "The turnips of Quenville are bright violet."


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    ("What colour are the Zorblax turnips?", "The Zorblax turnips of Quenville are bright violet and glow at night.",
     ShortAnswer("bright violet", True)),
    ("What color was the car?", "The car, a Ford from Detroit, was painted red.", ShortAnswer("red", True)),
    ("Which colours does the flag have?", "The flag is red, white and blue.", ShortAnswer("red, white and blue", True)),
    ("What colour was the car?", "The car, a Ford from Detroit, was sold in 1990.", None),  # no colour: no name either
    ("What colour are the beets?", "The beets are sold at the Red Lion market.", None),  # a capitalised colour: a name
    ("What colour is the car?", "The car, made at the White Harbour plant, is sold only in olive.",
     ShortAnswer("olive", True)),
    ("What is the colour of the turnips?", TURNIPS, ShortAnswer("bright violet", True)),
    ("What's the color of the turnips?", TURNIPS, ShortAnswer("bright violet", True)),
    ("The turnips are what colour?", TURNIPS, ShortAnswer("bright violet", True)),
    ("Zorblax turnips grown: What colour are they?", "The Zorblax turnips of Quenville are bright violet.",
     ShortAnswer("bright violet", True)),  # a condensed follow-up
])
def test_a_colour_is_answered_by_a_colour_word_not_a_name(question: str, sentence: str,
                                                          expected: ShortAnswer | None) -> None:
    assert answer_type(question) == "colour"
    assert find_short_answer(question, sentence) == expected
    assert has_typed_span(question, sentence) == (expected is not None)


def test_colour_words_inside_other_words_or_names_are_no_colours() -> None:
    assert candidates("The Redskins beat the Greenville team, and Bluetooth failed.", "colour", set()) == []
    assert answer_type("What red flags did the auditors raise?") != "colour"
