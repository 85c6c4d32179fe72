"""The chat page in Debian's Chromium driven by Playwright: stream, cite, reveal, escape, reconnect."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.server import Server

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PHONE_OPTIONS: dict[str, Any] = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
AMBER, RED = "rgb(224, 155, 0)", "rgb(180, 35, 24)"  # --amber and --err in app.css


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (run `make browser` as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def open_page(browser: Any, server: Server, viewport: dict[str, int], wait_ready: bool = True,
              clock: bool = False, setup: Callable[[Any], None] | None = None, **options: Any) -> Iterator[Any]:
    """A fresh context on the chat page; fails the test on any uncaught page error.

    ``clock`` installs Playwright's fake timers (the status polls are then driven by ``page.clock``);
    ``setup`` runs on the page before it loads (e.g. to route requests).
    """
    context = browser.new_context(viewport=viewport, **options)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    if clock:
        pg.clock.install()
    if setup is not None:
        setup(pg)
    pg.goto(server.url + "/")
    if wait_ready:
        pg.wait_for_selector("#status.ready", timeout=60_000)
    try:
        yield pg
    finally:
        context.close()
    assert not errors, errors


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    with open_page(browser, server, DESKTOP) as pg:
        yield pg


def ask(page: Any, question: str) -> Any:
    """Type a question, send it with Enter, and wait for that answer to finish; returns the answer element."""
    before = page.locator(".msg.assistant").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator(".msg.assistant").nth(before)
    answer.and_(page.locator("[data-done=true]")).wait_for(timeout=60_000)
    return answer


def open_source(page: Any, cite: Any) -> Any:
    """Click a citation chip and wait for the panel to show the passage around the cited sentence."""
    cite.click()
    source = page.locator("#source")
    source.wait_for(state="visible")
    page.wait_for_selector("#source:not([data-context=loading])")
    return source


def active_element(page: Any) -> dict[str, str]:
    return dict(page.evaluate("({id: document.activeElement.id, cls: document.activeElement.className,"
                              " n: document.activeElement.dataset.n || ''})"))


def status_dot(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.querySelector('#status'), '::before').color"))


def test_streamed_answer_with_clickable_citation(page: Any, artifacts: Path) -> None:
    answer = ask(page, "What was the purpose of the parade?")
    assert "error" not in (answer.get_attribute("class") or "")
    assert int(answer.get_attribute("data-pieces") or 0) > 1  # arrived as several SSE deltas
    assert "75th founding anniversary" in answer.locator(".body").inner_text()
    cite = answer.locator(".body .cite").first
    source = open_source(page, cite)
    # the panel shows the passage around the cited sentence, the sentence itself highlighted
    assert source.get_attribute("data-context") == "passage"
    mark = source.locator(".source-text mark")
    assert mark.count() == 1 and mark.inner_text() in answer.locator(".body").inner_text()
    passage = source.locator(".source-text").inner_text()
    assert len(passage) > len(mark.inner_text()) + 100 and "Why did Kim Jong Un invite" in passage
    assert source.locator(".source-title").inner_text().startswith("In a grand display")
    doc_line = source.locator(".source-doc").inner_text()
    assert "000_d024cab3850fab44" in doc_line and "2023-11-11" in doc_line
    # the sources list tells sources apart by their sentence; the title is there, smaller
    row = answer.locator(".sources li").first
    assert row.locator(".snippet").inner_text() == mark.inner_text()
    assert row.locator(".title").inner_text().startswith("In a grand display")
    # keyboard: the panel takes the focus, Escape closes it and gives the focus back to the chip
    assert active_element(page)["id"] == "source"
    page.screenshot(path=str(artifacts / "chat-desktop.png"))
    page.keyboard.press("Escape")
    source.wait_for(state="hidden")
    assert active_element(page)["cls"].startswith("cite") and active_element(page)["n"] == "1"
    page.keyboard.press("Enter")  # the focused chip opens it again
    source.wait_for(state="visible")
    assert active_element(page)["id"] == "source"
    page.click("#question")  # Escape while typing closes it too, but leaves the focus in the box
    page.keyboard.press("Escape")
    source.wait_for(state="hidden")
    assert active_element(page)["id"] == "question"

    follow = ask(page, "And who led the Chinese delegation?")
    assert "Liu Guozhong" in follow.locator(".body").inner_text()
    # its short answer was picked among the sentence's names ("low" confidence): not shown at all
    assert follow.locator(".short").count() == 0
    assert follow.locator(".rewrite").inner_text() == "Read with the earlier question's words: purpose parade"
    source = open_source(page, follow.locator(".body .cite").first)
    assert "Liu Guozhong" in source.locator(".source-text mark").inner_text()
    assert "China and Russia, both close allies" in source.locator(".source-text").inner_text()
    page.screenshot(path=str(artifacts / "chat-desktop-follow-up.png"), full_page=True)


def test_confident_short_answer_is_shown(page: Any, artifacts: Path) -> None:
    answer = ask(page, "How many North Koreans were associated with the Worker-Peasant Red Guards?")
    short = answer.locator(".short strong")
    assert short.inner_text() == "millions"  # the sentence's only quantity: "high" confidence
    assert short.inner_text() in answer.locator(".body").inner_text()
    assert answer.locator(".short .label").inner_text().lower() == "short answer"
    page.screenshot(path=str(artifacts / "chat-short-answer.png"))


def test_source_panel_falls_back_to_the_sentence(page: Any) -> None:
    page.route("**/documents/**", lambda route: route.abort("connectionrefused"))
    answer = ask(page, "Why is China concerned about a Russia-North Korea arms deal?")
    source = open_source(page, answer.locator(".body .cite").first)
    assert source.get_attribute("data-context") == "sentence"
    assert source.locator(".source-text mark").count() == 0
    assert source.locator(".source-text").inner_text() in answer.locator(".body").inner_text()
    source.locator("#source-close").click()
    source.wait_for(state="hidden")
    assert active_element(page)["cls"].startswith("cite")


def test_abstention_is_shown_as_such(page: Any, artifacts: Path) -> None:
    answer = ask(page, "What is the boiling point of liquid nitrogen on Mars?")
    assert "abstained" in (answer.get_attribute("class") or "")
    assert answer.locator(".badge").inner_text().lower().startswith("no answer")
    assert answer.locator(".cite").count() == 0 and answer.locator(".short").count() == 0
    page.screenshot(path=str(artifacts / "chat-abstain.png"))


def test_phone_layout(browser: Any, server: Server, artifacts: Path) -> None:
    with open_page(browser, server, PHONE, **PHONE_OPTIONS) as page:
        answer = ask(page, "Why is China concerned about a Russia-North Korea arms deal?")
        answer.locator(".body .cite").first.tap()
        source = page.locator("#source")
        source.wait_for(state="visible")
        page.wait_for_selector("#source[data-context=passage]")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "no horizontal scrolling on a phone"
        # the sheet sits above the composer and shows the highlighted sentence
        composer_top = page.locator("#composer").bounding_box()["y"]
        sheet = source.bounding_box()
        assert sheet["y"] + sheet["height"] <= composer_top + 1
        mark = source.locator("mark").bounding_box()
        assert sheet["y"] <= mark["y"] and mark["y"] + mark["height"] <= sheet["y"] + sheet["height"]
        page.screenshot(path=str(artifacts / "chat-phone.png"))


THREE_QUESTIONS = (
    "Why is China concerned about a Russia-North Korea arms deal?",
    "What was the purpose of the parade?",
    "And who led the Chinese delegation?",  # a follow-up: its answer ends with a "Searched for" line
)


@pytest.mark.parametrize(
    ("name", "viewport", "options"),
    [("desktop", {"width": 1280, "height": 720}, {}), ("phone", PHONE, PHONE_OPTIONS)],
)
def test_last_answer_scrolls_clear_of_the_composer(
    browser: Any, server: Server, artifacts: Path, name: str, viewport: dict[str, int], options: dict[str, Any]
) -> None:
    with open_page(browser, server, viewport, **options) as page:
        for question in THREE_QUESTIONS:
            last = ask(page, question)
        page.evaluate("window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'})")
        page.wait_for_function("window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1")
        composer_top = page.locator("#composer").bounding_box()["y"]
        for part in (last, last.locator(".sources"), last.locator(".rewrite")):
            box = part.bounding_box()
            assert box["y"] + box["height"] <= composer_top, (name, part, box, composer_top)
        assert last.locator(".rewrite").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(artifacts / f"chat-scrolled-{name}.png"))


def test_unreachable_server_keeps_the_question(browser: Any, server: Server, artifacts: Path) -> None:
    with open_page(browser, server, DESKTOP) as page:
        assert status_dot(page) != RED
        question = "What was the purpose of the parade?"
        for path in ("**/chat", "**/readyz"):
            page.route(path, lambda route: route.abort("connectionrefused"))
        page.fill("#question", question)
        page.press("#question", "Enter")
        failed = page.locator(".msg.assistant.error[data-done=true]")
        failed.wait_for(timeout=10_000)
        assert failed.inner_text() == "Could not reach the server — your question is back in the box."
        assert page.input_value("#question") == question
        # the failure makes the page look again at once: the status says so instead of a stale "ready"
        page.wait_for_selector("#status.offline", timeout=5_000)
        assert "unreachable" in page.inner_text("#status") and status_dot(page) == RED
        page.screenshot(path=str(artifacts / "chat-offline.png"))
        page.unroute_all()
        page.wait_for_selector("#status.ready", timeout=10_000)  # it keeps retrying
        answer = ask(page, page.input_value("#question"))
        assert "75th founding anniversary" in answer.locator(".body").inner_text()


@contextlib.contextmanager
def uploaded(server: Server, doc: dict[str, str]) -> Iterator[str]:
    """A document uploaded through the API for the test's duration; yields its id."""
    r = httpx.post(server.url + "/documents", json=doc, headers=server.auth, timeout=120)
    assert r.status_code == 201, r.text
    try:
        yield r.json()["doc_id"]
    finally:
        httpx.delete(f"{server.url}/documents/{r.json()['doc_id']}", headers=server.auth, timeout=120)


def test_status_keeps_polling_once_ready(browser: Any, server: Server) -> None:
    with open_page(browser, server, DESKTOP, clock=True) as page:
        assert re.fullmatch(r"ready · 1 document, \d+ passages", page.inner_text("#status"))
        doc = {"title": "Polling turnips", "text": "The Zorblax turnips of Quenville glow violet at night."}
        with uploaded(server, doc):
            page.clock.run_for(15_000)
            page.wait_for_function("document.querySelector('#status').textContent.includes('2 documents')")
        page.route("**/readyz", lambda route: route.abort("connectionrefused"))
        page.clock.run_for(15_000)
        page.wait_for_selector("#status.offline")


def readyz_answers(status: int, payload: dict[str, Any]) -> Callable[[Any], None]:
    """A ``setup`` that makes ``/readyz`` answer with this status and JSON."""
    return lambda page: page.route("**/readyz", lambda route: route.fulfill(status=status, json=payload))


def test_status_loading_is_amber_errors_red_counts_singular(browser: Any, server: Server) -> None:
    loading = readyz_answers(503, {"status": "not_ready", "reason": "loading the embedding model and the index"})
    with open_page(browser, server, DESKTOP, wait_ready=False, clock=True, setup=loading) as page:
        page.wait_for_selector("#status.loading")
        assert page.inner_text("#status") == "loading the model and the index…" and status_dot(page) == AMBER
        page.unroute_all()
        no_index = "no index in index: build one with `rag index seeds/`"
        readyz_answers(503, {"status": "not_ready", "reason": no_index})(page)
        page.clock.run_for(4_000)  # not ready yet: it looks again every few seconds
        page.wait_for_selector("#status.down")
        assert page.inner_text("#status").startswith("not ready: no index") and status_dot(page) == RED
        page.unroute_all()
        readyz_answers(200, {"status": "ready", "documents": 1, "chunks": 1})(page)
        page.clock.run_for(4_000)
        page.wait_for_selector("#status.ready")
        assert page.inner_text("#status") == "ready · 1 document, 1 passage"


def test_a_rate_limited_status_poll_says_so(browser: Any, server: Server) -> None:
    limited = readyz_answers(429, {"error": {"code": "too_many_requests", "message": "too many requests"}})
    with open_page(browser, server, DESKTOP, wait_ready=False, clock=True, setup=limited) as page:
        page.wait_for_selector("#status.loading")
        assert page.inner_text("#status") == "too many requests · retrying…" and status_dot(page) == AMBER
        page.unroute_all()
        page.clock.run_for(4_000)  # it keeps polling, and recovers
        page.wait_for_selector("#status.ready")


def test_new_chat_drops_the_request_in_flight(page: Any) -> None:
    held: list[Any] = []
    page.route("**/chat", lambda route: held.append(route))
    page.fill("#question", "What was the purpose of the parade?")
    page.press("#question", "Enter")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the question was never sent"
    page.click("#new-chat")
    assert page.locator("#log > li").count() == 0 and page.is_enabled("#send")
    with contextlib.suppress(Exception):  # the page has aborted it already; failing it late must change nothing
        held[0].abort("connectionrefused")
    page.unroute_all()
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/chat") else None)
    ask(page, "Who led the Chinese delegation?")
    ask(page, "Why is China concerned about a Russia-North Korea arms deal?")
    # the new conversation holds only its own turns: nothing of the dropped request, nothing removed wrongly
    assert [[m["role"] for m in body["messages"]] for body in sent] == [["user"], ["user", "assistant", "user"]]
    assert sent[1]["messages"][0]["content"] == "Who led the Chinese delegation?"
    assert "Liu Guozhong" in sent[1]["messages"][1]["content"]
    assert page.locator("#log > li").count() == 4 and page.locator(".msg.error").count() == 0


def test_document_markup_is_shown_as_text(page: Any, server: Server, artifacts: Path) -> None:
    doc = {
        "title": "<script>window.__xss = 'title'</script> Quenville glow turnips",
        "text": (
            "Quenville farmers grow glowing turnips. <img src=x onerror=\"window.__xss='img'\"> The glowing "
            "turnips of Quenville <script>window.__xss='body'</script> are bright violet and shine at night."
        ),
    }
    with uploaded(server, doc):
        answer = ask(page, "What colour are the glowing turnips of Quenville?")
        source = open_source(page, answer.locator(".body .cite").first)
        assert source.get_attribute("data-context") == "passage"  # the whole text, around the sentence
        passage = source.locator(".source-text").inner_text()
        assert "<img src=x" in passage and "<script>" in passage  # the markup is visible as text ...
        assert "<script>" in source.locator(".source-title").inner_text()
        assert page.evaluate("window.__xss") is None  # ... and never ran
        assert page.locator(".msg script, .msg img, #source script, #source img").count() == 0
        page.screenshot(path=str(artifacts / "chat-escaped-markup.png"))


def test_the_passage_is_found_after_characters_javascript_counts_twice(page: Any, server: Server) -> None:
    """Citation offsets count characters (Python); an emoji is two units of a JavaScript string."""
    doc = {"title": "Zorblax turnips", "text": ("Turnips 🥕🥕 are roots grown in Quenville. The Zorblax turnips of "
                                                "Quenville glow violet at night. Farmers 🌙 sell them at dawn.")}
    with uploaded(server, doc):
        answer = ask(page, "What colour do the Zorblax turnips of Quenville glow at night?")
        source = open_source(page, answer.locator(".body .cite").first)
        assert source.get_attribute("data-context") == "passage"  # not the fallback to the bare sentence
        mark = source.locator(".source-text mark").inner_text()
        assert mark == "The Zorblax turnips of Quenville glow violet at night."
        assert "🥕🥕 are roots" in source.locator(".source-text").inner_text()


def test_markdown_heading_marks_are_left_out_of_the_passage(page: Any, server: Server) -> None:
    text = "## History of the Copper Bridge\n\nThe Copper Bridge of Varn opened in 1932. It spans the river Oskel."
    doc = {"title": "Copper Bridge notes", "text": text}
    with uploaded(server, doc):
        answer = ask(page, "When did the Copper Bridge of Varn open?")
        source = open_source(page, answer.locator(".body .cite").first)
        assert source.get_attribute("data-context") == "passage"
        passage = source.locator(".source-text").inner_text()
        assert "History of the Copper Bridge" in passage and "#" not in passage


HOSTILE_TITLE = "<img src=x onerror=\"window.__xss='title'\"> Hostile glass harps <svg onload=\"window.__xss='svg'\">"
HOSTILE_TEXT = (
    "Spring fairs fill the harbour of Tallinn. "
    "The hostile glass harps of Tallinn <a href=\"javascript:window.__xss='link'\" onclick=\"window.__xss='click'\">"
    "are tuned</a> by <b onmouseover=\"window.__xss='hover'\">Oskar Vell</b> every spring "
    "<script>window.__xss='script'</script><iframe srcdoc=\"<script>parent.__xss='frame'</script>\"></iframe>. "
    "Visitors hear them from the harbour."
)
#: Markup a browser would act on, anywhere the page shows server or document text.
LIVE_MARKUP = ("script", "img", "svg", "iframe", "a[href]", "b", "[onclick]", "[onerror]", "[onload]", "[onmouseover]")


def test_hostile_markup_is_shown_as_text_and_never_runs(page: Any, server: Server, artifacts: Path) -> None:
    """A document's title and text with scripts, event-handler attributes and a `javascript:` link: the chat answer,
    its sources list and the source panel show every character of it literally, and none of it executes."""
    with uploaded(server, {"title": HOSTILE_TITLE, "text": HOSTILE_TEXT}) as doc_id:
        stored = httpx.get(f"{server.url}/documents/{doc_id}", timeout=30).json()["title"]  # as the index keeps it
        answer = ask(page, "Who tunes the hostile glass harps of Tallinn every spring?")
        body = answer.locator(".body").inner_text()
        assert "Oskar Vell" in body and "<a href=\"javascript:window.__xss='link'\"" in body  # quoted, as text
        assert "<script>window.__xss='script'</script>" in body
        assert answer.locator(".sources .title").first.inner_text().startswith("<img src=x onerror=")
        source = open_source(page, answer.locator(".body .cite").first)
        assert source.get_attribute("data-context") == "passage"
        passage = source.locator(".source-text").inner_text()
        assert "onmouseover=\"window.__xss='hover'\"" in passage and "<iframe srcdoc=" in passage
        assert source.locator(".source-title").inner_text() == stored and stored.startswith("<img src=x onerror=")
        # hover and click everything the answer and the panel show: a live handler or link would fire now
        for part in (answer.locator(".body"), source.locator(".source-text"), source.locator(".source-title")):
            part.hover()
            part.click()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__xss") is None
        assert page.evaluate("parent.__xss") is None
        selector = ", ".join(f"{scope} {tag}" for scope in (".msg", "#source") for tag in LIVE_MARKUP)
        assert page.locator(selector).count() == 0
        assert page.url == server.url + "/"  # no javascript: or other navigation happened
        page.screenshot(path=str(artifacts / "chat-hostile-markup.png"))


def test_a_hostile_markdown_upload_is_text_too(page: Any, server: Server) -> None:
    """A `.md` upload is never rendered: a `javascript:` link and raw HTML in it stay characters."""
    md = ("# Copper harp notes\n\nThe copper harps of Varn were [tuned by Ilse Marr](javascript:window.__xss='md') "
          "in 1932. <script>window.__xss='md-script'</script>\n")
    r = httpx.post(server.url + "/documents", files={"file": ("copper-harps.md", md.encode(), "text/markdown")},
                   headers=server.auth, timeout=120)
    assert r.status_code == 201, r.text
    try:
        answer = ask(page, "Who tuned the copper harps of Varn?")
        assert "(javascript:window.__xss='md')" in answer.locator(".body").inner_text()
        source = open_source(page, answer.locator(".body .cite").first)
        assert "<script>window.__xss='md-script'</script>" in source.locator(".source-text").inner_text()
        source.locator(".source-text").click()
        assert page.evaluate("window.__xss") is None
        assert page.locator(".msg a, .msg script, #source a, #source script").count() == 0
    finally:
        httpx.delete(f"{server.url}/documents/copper-harps", headers=server.auth, timeout=120)
