"""The English word lists and token patterns the hand rules share, each with what it is for.

Rules live beside the stage that applies them (``rag.answering``, ``rag.conversation``, ``rag.ingest``); the words
they read live here, once. Lists that look alike but differ are different vocabularies with different jobs, and say
which. Word lists that feed a regex are tuples (their order is kept); lists only tested for membership are frozensets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def alternation(words: Iterable[str]) -> str:
    """The words as a regex alternation ("is|was|are"); callers follow it with a word boundary or a space."""
    return "|".join(words)


# --- Token patterns ---------------------------------------------------------------------------------------------

#: A word of an answer sentence, keeping inner apostrophes, dots and hyphens ("Brel’s", "U.K.", "3.5", "re-run").
WORD = re.compile(r"[\w][\w'’.-]*[\w]|[\w]")
#: A word of a chat message: letters, digits, apostrophes and hyphens; a dot splits ("Oslo-Bergen", "Lena’s").
MESSAGE_WORD = re.compile(r"[\w’'-]+")
#: A possessive ending, straight or curly ("Lena's", "Lena’s"): the word it ends is the one the question says.
POSSESSIVE = re.compile(r"['’]s$")
#: Digits with inner separators ("4,216,530", "3.5"); never the comma or full stop after a number.
DIGITS = r"\d(?:[\d,.]*\d)?"
#: An ordinal's ending right after a number ("21st", "75th"): it ranks, it does not count.
ORDINAL_END = re.compile(r"(?:st|nd|rd|th)\b")

# --- Stop words: three lists, three jobs --------------------------------------------------------------------------

#: Words an answer span never starts or ends with and that never count as saying something new (pronouns too:
#: "his" says nothing the question does not).
STOP_WORDS = frozenset(
    "a an the of in on at to for from by with and or as is are was were be been being it its this that these "
    "those which who whom whose what when where why how did do does has have had not no than then into over "
    "under about after before during between through his her their our your my he she they we you i".split()
)
#: Words that carry no topic from one chat question to the next: function words and the verbs of asking ("tell",
#: "explain", "happened"). Personal pronouns are not here: they point back (``POINTING_WORDS``).
CONVERSATION_STOP_WORDS = frozenset(
    "a about above after again against all am an and any are as at be because been before being below between "
    "both but by can could did do does doing down during each few for from further had has have having here how "
    "i if in into is it its itself just me more most my no nor not now of off on once only or other our out over "
    "own same should so some such than that the their them then there these they this those through to too under "
    "until up very was we were what when where which while who whom why will with would you your yes tell say "
    "said also much many please explain describe know happened happen really".split()
)
#: The words BM25 ignores (bm25s's English list): soft token coverage skips the same ones, so the question's
#: terms are the same for both.
BM25_STOP_WORDS = (
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
)

# --- Function words --------------------------------------------------------------------------------------------

#: Forms of "be" that link a question's wh-word to what it asks about ("What is the ...", "What were their ...").
COPULAS = ("is", "was", "are", "were")
#: Auxiliary and modal verbs: after "what" such a word asks about a subject ("What did ..."), it names no kind;
#: opening a question, one asks yes or no ("Did it rain?", "Must we pay?"), which no short span answers.
AUXILIARIES = ("is", "was", "are", "were", "does", "did", "do", "has", "have", "had", "can", "could", "would", "will",
               "must", "may", "might", "shall", "should")
#: Modal verbs: "so that" with one of them states a purpose ("so that they could rest"), without one a result.
PURPOSE_MODALS = ("might", "may", "could", "can", "would", "should", "will", "shall")
#: Words that open a noun phrase: a word followed by one is a verb ("What limits the ...").
DETERMINERS = ("the", "a", "an", "his", "her", "their", "its", "this", "these", "those")
#: Prepositions: a question's focus noun ends before one ("which canal runs through").
PREPOSITIONS = ("of", "in", "on", "at", "to", "for", "from", "by", "with", "through", "near", "against", "over",
                "under", "into", "onto", "across", "behind", "about", "between", "among", "around", "after", "before",
                "during", "without", "within", "toward", "towards", "upon", "via", "like", "as", "per")
#: Verbs in the past tense that do not end in "-ed" ("began", "won"): a word after "what" that is one is a verb.
IRREGULAR_PAST = tuple(
    "began became bought broke brought built came caught chose drew drove fell felt fled flew fought found forgot "
    "gave got grew held hid kept knew led left lost made meant met paid ran rode rose said sang sank saw sent set "
    "shot sold sought spent spoke stole stood struck swore taught thought threw told took went woke won wore "
    "wrote".split()
)
#: Subjects that may open a clause after ", for" ("..., for she was tired"): "for" then gives a reason.
SUBJECT_PRONOUNS = ("he", "she", "they", "it", "i", "we", "you", "there")
#: Words that open a relative clause ("thanks to whom"): a connective followed by one gives no reason.
RELATIVE_PRONOUNS = frozenset(("which", "whom", "who", "whose"))

# --- Question words --------------------------------------------------------------------------------------------

#: The wh-words: a question's first one decides what it asks.
WH_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
#: "how" + one of these asks how many or how much: a count.
HOW_COUNT = ("many", "much")
#: "how" + one of these asks for a measure, which comes with its unit ("42 metres", "31 years").
HOW_MEASURE = ("long", "far", "old", "large", "big", "tall", "high", "often", "fast")
#: "what" + one of these asks for a count ("What percentage ...", "What number of ...").
COUNT_NOUNS = ("percentage", "percent", "number", "amount")
#: Nouns naming a quantity: "What is the <noun> of ...?" and "What <noun> does ...?" ask for a number.
QUANTITY_NOUNS = tuple(
    "population number amount percentage proportion cost price size length height distance temperature speed rate "
    "total budget revenue salary income capacity attendance density weight depth width elevation altitude age".split()
)
#: Words that may follow a quantity noun when the noun ends its phrase ("the budget in 2020"); any other word
#: continues the phrase ("number one priority", "age rating").
QUANTITY_PHRASE_ENDS = ("of", "in", "for", "at", "on", "during", "by", "per", "from", "among", "when", "after",
                        "before")
#: "what" + one of these asks for a date or a time.
DATE_NOUNS = ("year", "years", "date", "dates", "day", "days", "month", "months", "century", "centuries", "decade",
              "decades", "time", "period")
#: "what" + one of these asks for a colour.
COLOUR_NOUNS = ("colour", "colours", "color", "colors")
#: "what" + one of these asks for a named person or body, like "who".
ENTITY_NOUNS = ("company", "organization", "team", "person", "group", "name")
#: "what <noun> of" asks for a kind of the noun after "of" ("what sort of boats"): the answer modifies it.
KIND_NOUNS = ("kind", "kinds", "type", "types", "sort", "sorts", "style", "styles", "form", "forms", "variety",
              "varieties", "class", "classes", "category", "categories")
#: Nouns whose answer is an explanation, never a short span ("What was the purpose of ...").
EXPLANATION_NOUNS = ("purpose", "reason", "message", "significance", "impact")
#: Words after "what" that do not name the kind asked for: adverbs, "that", conjunctions.
NOT_FOCUS_WORDS = ("that", "first", "also", "still", "ever", "later", "often", "usually", "most", "not", "and", "or")
#: Verbs that say what something is called: a sentence's name follows one ("known as Kettle Rock"), a question
#: asking a name ends with one ("What was it dubbed?").
NAMING_VERBS = ("called", "known as", "named", "termed", "dubbed", "referred to as")

# --- Answer spans ---------------------------------------------------------------------------------------------

#: Month names: a date is said with one ("March 3, 1921").
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
#: Weekdays, capitalised: a date ("on Tuesday"); lower case they are not matched.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Numbers said in words, counts too ("dozens", "millions"): a number span.
NUMBER_WORDS = tuple(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion "
    "dozen half hundreds thousands millions billions dozens".split()
)
#: Words that scale a number and belong to it ("4 million", "12 percent").
NUMBER_SCALES = ("%", "percent", "million", "billion", "thousand", "hundred")
#: How many times, said in a word: a count.
MULTIPLICATIVES = ("once", "twice", "thrice")
#: Colour terms, a closed class (the basic ones and the common others).
COLOURS = tuple(
    "red orange yellow green blue purple violet pink brown black white grey gray gold golden silver beige turquoise "
    "crimson scarlet indigo maroon navy teal cyan magenta ivory amber lilac lavender tan cream bronze khaki olive "
    "ochre emerald azure".split()
)
#: Words that shade a colour and belong to it ("pale green").
COLOUR_SHADES = ("light", "dark", "bright", "pale", "deep", "vivid", "dull", "pastel", "dusky", "brilliant")
#: Lower-case words inside a name ("Bank of Tarnby", "Pieter van Oss").
NAME_PARTICLES = ("of", "the", "de", "von", "van", "and", "for", "la", "le", "du")
#: Capitalised words that open clauses rather than names ("Despite ...", "After ...").
CLAUSE_OPENERS = frozenset(
    "despite while although though however after before during when if in on at as but and since because "
    "following according".split()
)
#: Words that open a noun phrase without saying what kind of thing it is ("some", "several") or tie it to a clause.
QUANTIFIERS = frozenset(
    "some many most all other another several few various both each every such certain only also now including "
    "include includes".split()
)
#: Prepositions and compass words before a name that say where something is ("in Tarnby", "north of Velka").
LOCATIVES = ("in", "on", "at", "near", "from", "outside", "inside", "across", "off", "around", "throughout", "along",
             "into", "beside", "behind", "between", "within", "north", "south", "east", "west")
#: Words that introduce an event saying when ("after the flood", "during the fair"). Not "while" or "since", which
#: as often concede or give a reason.
TEMPORAL_CONNECTIVES = ("after", "before", "during", "until", "till", "when", "following", "amid", "upon")
#: Particles that make a naming verb no naming ("named after", "called for", "called off").
NAMING_PARTICLES = ("after", "by", "for", "off", "on", "up", "in", "out")
#: Words that end a name given after "called": a new clause or a preposition ("named Ivo Marsh on Friday").
NAME_ENDERS = ("and", "or", "but", "while", "which", "who", "that", "because", "on", "in", "at", "for", "from", "by",
               "with", "after", "during", "since", "until")
#: Verbs after "due to" that make it a schedule, not a reason ("due to open in May").
SCHEDULE_VERBS = tuple(
    "be begin start meet take hold visit arrive leave end open close return resume face sign vote appear speak "
    "testify attend launch expire retire step go come announce deliver finish report rule hear travel fly play make "
    "give get have stand run receive publish release complete".split()
)
#: Nouns ending in "-ing" that are no gerund: "by morning" gives no means.
ING_NOUNS = tuple(
    "morning evening spring everything nothing something anything thing things king kings ring string wing sterling "
    "building buildings ceiling clothing wedding darling offspring lightning pudding".split()
)

# --- Conversation ----------------------------------------------------------------------------------------------

#: Openings that mark a follow-up ("And what about ...?"); longer ones first, so the whole opening is matched.
FOLLOW_UP_LEADS = ("and what about", "and how about", "what about", "how about", "and", "but", "also", "so", "then",
                   "okay", "ok")
#: Pronouns and pro-forms that point back at the conversation ("he", "there", "those").
POINTING_WORDS = frozenset(
    "he she it they them him her his hers its their theirs this that these those there then one ones".split()
)
#: Verbs that make "there" existential ("there are", "Is there ..."): it then points at nothing.
EXISTENTIAL_VERBS = frozenset("is are was were be been will".split())
#: Prepositions before the topic of a question ("concerned about a ferry strike" -> the strike).
TOPIC_PREPOSITIONS = frozenset(
    "about of on in for with between from to at regarding concerning over into".split()
)

# --- Sentence splitting ---------------------------------------------------------------------------------------

#: Abbreviations whose full stop ends no sentence ("Dr.", "Jan.", "e.g.").
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e u.s u.k u.n gen col lt sgt capt gov sen rep "
    "jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp fig al approx dept est".split()
)
