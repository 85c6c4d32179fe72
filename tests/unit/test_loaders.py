"""Loading text, markdown, HTML and JSONL files into articles."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from rag.errors import UnsupportedDocument
from rag.ingest.html_text import html_to_text
from rag.ingest.loaders import (
    Skipped,
    article_from_text,
    doc_id_for,
    load_path,
    load_paths,
    load_qa_jsonl,
    parse_date,
    shorten,
)
from rag.types import FaqPair
from tests.paths import SEED, SEEDS


def _write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- the seed ---------------------------------------------------------------------------------


def test_seed_loaded_through_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    [article] = load_paths([folder])
    raw = SEED.read_bytes()
    assert article.doc_id == "000_d024cab3850fab44"
    assert article.text == raw.decode("utf-8")
    assert article.sha256 == hashlib.sha256(raw).hexdigest()
    assert article.date == "2023-11-11"
    assert article.body.startswith("Seoul, South Korea (AP) — In a grand display")
    assert "2023-11-11" not in article.body
    assert article.body.endswith("Kim’s ambitions for a stronger position on the global stage.")
    assert len(article.faq) == 5
    assert article.faq[0] == FaqPair(
        "What was the purpose of the parade in North Korea?",
        "The parade was held to celebrate North Korea’s 75th founding anniversary and to display its military "
        "strength.",
    )
    assert article.faq_start == article.text.index("Frequently Asked Questions (FAQ)")
    assert article.disclaimer is not None and article.disclaimer.startswith("(Disclaimer: This article is based")
    assert article.disclaimer not in article.body and article.disclaimer not in article.faq[-1].answer
    assert article.title.startswith("In a grand display of his diplomatic ties")  # dateline dropped
    assert article.title.endswith("…") and len(article.title) <= 121


def test_seed_given_directly_has_the_same_id_and_content() -> None:
    [direct] = load_path(SEED)
    [via_folder] = load_paths([SEEDS])
    assert direct.doc_id == via_folder.doc_id == "000_d024cab3850fab44"
    assert direct.sha256 == via_folder.sha256
    assert direct.source == str(SEED)


# --- folders, ids, errors -----------------------------------------------------------------------


def test_folder_walk_is_recursive_sorted_and_skips_hidden_and_unknown(tmp_path: Path) -> None:
    _write(tmp_path / "b.txt", "Bee.")
    _write(tmp_path / "a.md", "# Ay\n\nText.")
    _write(tmp_path / "sub" / "c.html", "<p>Sea.</p>")
    _write(tmp_path / "sub" / "deeper" / "d.markdown", "Dee.")
    _write(tmp_path / ".hidden.txt", "secret")
    _write(tmp_path / ".git" / "e.txt", "secret")
    _write(tmp_path / "notes.pdf", b"%PDF-1.4")
    _write(tmp_path / "image.png", b"\x89PNG")
    ids = [a.doc_id for a in load_paths([tmp_path])]
    assert ids == ["a", "b", "sub/c", "sub/deeper/d"]
    assert ids == [a.doc_id for a in load_paths([tmp_path])]  # stable across runs


def test_doc_id_for() -> None:
    assert doc_id_for(Path("corpus/sub/x.y.md"), Path("corpus")) == "sub/x.y"
    assert doc_id_for(Path("corpus/sub/x.md")) == "x"
    assert doc_id_for(Path("elsewhere/x.md"), Path("corpus")) == "x"


def test_explicit_unsupported_file_is_refused(tmp_path: Path) -> None:
    pdf = _write(tmp_path / "report.pdf", b"%PDF-1.4")
    with pytest.raises(UnsupportedDocument, match=r"report\.pdf: unsupported file type \.pdf"):
        load_paths([pdf])
    with pytest.raises(UnsupportedDocument, match="no extension"):
        load_path(_write(tmp_path / "README", "text"))


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDocument, match="no such file"):
        load_paths([tmp_path / "absent.txt"])


def test_duplicate_doc_ids_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a.txt", "One.")
    _write(tmp_path / "a.md", "Two.")
    with pytest.raises(UnsupportedDocument, match="duplicate document id 'a'"):
        load_paths([tmp_path])


def test_non_utf8_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin.txt", "café".encode("latin-1"))
    with pytest.raises(UnsupportedDocument, match=r"latin\.txt: not UTF-8 text \(invalid byte at offset 3\)"):
        load_path(path)


def test_a_folder_skips_what_it_cannot_read_when_asked(tmp_path: Path) -> None:
    _write(tmp_path / "good.txt", "Fine text.")
    _write(tmp_path / "sub" / "latin.txt", "café".encode("latin-1"))
    _write(tmp_path / "bad.jsonl", "{not json")
    _write(tmp_path / "empty.md", "  \n\n")
    skipped: list[Skipped] = []
    assert [a.doc_id for a in load_paths([tmp_path], skipped)] == ["good"]
    assert sorted((s.path.name, s.keep) for s in skipped) == [("bad.jsonl", True), ("empty.md", False),
                                                              ("latin.txt", True)]
    latin = f"{tmp_path / 'sub' / 'latin.txt'}: not UTF-8 text (invalid byte at offset 3)"
    assert {s.reason for s in skipped} >= {f"{tmp_path / 'empty.md'}: no text (no word to search)", latin}
    with pytest.raises(UnsupportedDocument):  # without a list to collect them, the first one stops the load
        load_paths([tmp_path])
    with pytest.raises(UnsupportedDocument):  # a file named directly is always an error
        load_paths([tmp_path / "sub" / "latin.txt"], skipped)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    text = "Copper kettles whistle in Varn. Café."
    raw = (text.encode(encoding) if encoding in ("utf-16", "utf-32") else
           ("\ufeff" + text).encode(encoding))
    [article] = load_path(_write(tmp_path / "k.txt", raw))
    assert article.text == text


def test_bom_and_crlf_are_normalised(tmp_path: Path) -> None:
    raw = "\ufeffFirst line.\r\nSecond line.\r\n\r\nFAQ\r\n\r\nIs it free? Yes.\r".encode()
    [article] = load_path(_write(tmp_path / "x.txt", raw))
    assert article.text == "First line.\nSecond line.\n\nFAQ\n\nIs it free? Yes.\n"
    assert article.body == "First line.\nSecond line."
    assert article.faq == (FaqPair("Is it free?", "Yes."),)
    assert article.sha256 == hashlib.sha256(raw).hexdigest()


# --- dates and titles ---------------------------------------------------------------------------


def test_date_line_is_metadata_not_body(tmp_path: Path) -> None:
    [article] = load_path(_write(tmp_path / "x.txt", "Date: November 11, 2023\n\nThe parade began at noon."))
    assert article.date == "2023-11-11"
    assert article.body == "The parade began at noon."
    assert article.title == "The parade began at noon."


def test_invalid_inline_date_stays_in_body() -> None:
    article = article_from_text("x", "date 2023-13-45 was typed wrongly.")
    assert article.date is None
    assert article.body == "date 2023-13-45 was typed wrongly."


@pytest.mark.parametrize(
    ("value", "iso"),
    [("2023-11-11", "2023-11-11"), ("2023-11-11T08:00:00Z", "2023-11-11"), ("Nov 11, 2023", "2023-11-11"),
     ("11 November 2023", "2023-11-11"), ("'2023/11/11'", "2023-11-11"), ("soon", None), (None, None)],
)
def test_parse_date(value: str | None, iso: str | None) -> None:
    assert parse_date(value) == iso


def test_shorten_cuts_at_a_word_boundary() -> None:
    long = "word " * 40
    short = shorten(long, 120)
    assert short.endswith("word…") and len(short) <= 121
    assert shorten("  A  short\ntitle ") == "A short title"


# --- markdown -----------------------------------------------------------------------------------


def test_markdown_front_matter_title_and_faq(tmp_path: Path) -> None:
    text = (
        "---\ntitle: \"Museum guide\"\ndate: 2024-02-03\ntags: [art]\n---\n"
        "# Ignored heading\n\nThe museum opened in 1901.\n\n## FAQ\n\n### Is it free?\nOnly on Sundays.\n"
    )
    [article] = load_path(_write(tmp_path / "guide.md", text))
    assert "title:" not in article.text and article.text.startswith("# Ignored heading")
    assert article.title == "Museum guide"
    assert article.date == "2024-02-03"
    assert article.body == "# Ignored heading\n\nThe museum opened in 1901."
    assert article.faq == (FaqPair("Is it free?", "Only on Sundays."),)


def test_markdown_heading_gives_a_clean_title(tmp_path: Path) -> None:
    [article] = load_path(_write(tmp_path / "g.markdown", "Intro line.\n\n# **The  Museum** #\n\nText."))
    assert article.title == "The Museum"
    assert "# **The  Museum** #" in article.body


# --- html ---------------------------------------------------------------------------------------


HTML = """<!doctype html><html><head><title>Museum | City</title><style>p{color:red}</style></head>
<body><header>Site header</header><nav><a href="/">Home</a></nav>
<script>var secret = "do not index";</script>
<h1>The Museum</h1><p>It opened   in
1901.</p><div>Ten thousand <b>paintings</b>.<br>Open daily.</div><!-- a comment -->
<h2>FAQ</h2><h3>Is it free?</h3><p>Only on Sundays.</p>
<footer>Copyright</footer></body></html>"""


def test_html_strips_markup_and_keeps_paragraphs(tmp_path: Path) -> None:
    [article] = load_path(_write(tmp_path / "museum.html", HTML))
    for dropped in ("secret", "color:red", "Site header", "Home", "Copyright", "comment", "<"):
        assert dropped not in article.text
    assert article.title == "Museum | City"
    assert article.body == "The Museum\n\nIt opened in 1901.\n\nTen thousand paintings.\nOpen daily."
    assert article.faq == (FaqPair("Is it free?", "Only on Sundays."),)
    assert article.sha256 == hashlib.sha256(HTML.encode()).hexdigest()


def test_html_title_falls_back_to_h1() -> None:
    text, title = html_to_text("<body><h1>Only  heading</h1><p>Body.</p></body>")
    assert title == "Only heading"
    assert text == "Only heading\n\nBody."


# --- jsonl --------------------------------------------------------------------------------------


RECORDS = [
    {"id": "Harbour_Regatta_12", "title": "Harbour Regatta 12", "text": "The Otters scored.\n\nThen they lost.",
     "qa": [{"question": "Who scored?", "answers": ["The Otters", "Otters"]}]},
    {"id": 7, "text": "No title here. Second sentence.", "qa": []},
]


def _jsonl(tmp_path: Path, lines: list[str]) -> Path:
    return _write(tmp_path / "squad.dev.jsonl", "\n".join(lines) + "\n")


def test_jsonl_records_become_articles(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps(RECORDS[0]), "", json.dumps(RECORDS[1])])
    first, second = load_path(path)
    assert (first.doc_id, second.doc_id) == ("squad.dev:Harbour_Regatta_12", "squad.dev:7")
    assert first.title == "Harbour Regatta 12" and second.title == "No title here."
    assert first.text == "The Otters scored.\n\nThen they lost."
    assert (first.body_start, first.body_end) == (0, len(first.text))
    assert first.faq == (FaqPair("Who scored?", "The Otters"),) and first.faq_start is None
    canonical = json.dumps(RECORDS[0], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert first.sha256 == hashlib.sha256(canonical.encode()).hexdigest() != second.sha256


def test_load_qa_jsonl_keeps_every_gold_answer(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps(r) for r in RECORDS])
    (article, qa), (_, no_qa) = load_qa_jsonl(path)
    assert article.doc_id == "squad.dev:Harbour_Regatta_12"
    assert qa == [("Who scored?", ["The Otters", "Otters"])]
    assert no_qa == []


def test_jsonl_in_a_folder_uses_its_relative_id(tmp_path: Path) -> None:
    _jsonl(tmp_path / "sub", [json.dumps(RECORDS[1])])
    [article] = load_paths([tmp_path])
    assert article.doc_id == "sub/squad.dev:7"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"text": "x"}', "invalid 'id'"),
        ('{"id": "a"}', "invalid 'text'"),
        ('{"id": "a", "text": "x", "qa": {}}', "'qa' must be a list"),
        ('{"id": "a", "text": "x", "qa": [{"question": "q", "answers": [1]}]}', "'answers' list"),
        (json.dumps(RECORDS[0]), "duplicate id 'Harbour_Regatta_12'"),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = _jsonl(tmp_path, [json.dumps(RECORDS[0]), bad])
    with pytest.raises(UnsupportedDocument, match=r"squad\.dev\.jsonl:2: ") as info:
        load_path(path)
    assert message in info.value.message


# --- uploads ------------------------------------------------------------------------------------


def test_article_from_text_splits_like_a_file() -> None:
    text = (
        " date 2024-05-06 Opening day.\r\nIt rained.\r\n\r\nFAQ\r\n\r\n"
        "Did it rain? It did.\r\n\r\nNote: this story is fictional."
    )
    article = article_from_text("upload-1", text, source="upload")
    assert article.doc_id == "upload-1" and article.source == "upload"
    assert article.date == "2024-05-06"
    assert article.body == "Opening day.\nIt rained."
    assert article.title == "Opening day."
    assert article.faq == (FaqPair("Did it rain?", "It did."),)
    assert article.disclaimer == "Note: this story is fictional."
    assert article.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert article_from_text("u", "Body.", title=" ## Given ").title == "Given"
    assert article_from_text("empty", "").title == "empty"
