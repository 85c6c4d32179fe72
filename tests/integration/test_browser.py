"""The chat page in Debian's Chromium driven by Playwright: stream, cite, reveal, escape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Server

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


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


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url + "/")
    pg.wait_for_selector("#status.ready", timeout=60_000)
    yield pg
    context.close()
    assert not errors, errors


def ask(page: Any, question: str) -> Any:
    """Type a question, send it with Enter, and wait for that answer to finish; returns the answer element."""
    before = page.locator(".msg.assistant").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator(".msg.assistant").nth(before)
    answer.and_(page.locator("[data-done=true]")).wait_for(timeout=60_000)
    return answer


def test_streamed_answer_with_clickable_citation(page: Any, artifacts: Path) -> None:
    answer = ask(page, "What was the purpose of the parade?")
    assert "error" not in (answer.get_attribute("class") or "")
    assert int(answer.get_attribute("data-pieces") or 0) > 1  # arrived as several SSE deltas
    assert "75th founding anniversary" in answer.locator(".body").inner_text()
    cite = answer.locator(".body .cite").first
    cite.click()
    source = page.locator("#source")
    source.wait_for(state="visible")
    passage = source.locator(".source-text").inner_text()
    assert passage and passage in answer.locator(".body").inner_text()
    assert source.locator(".source-title").inner_text().startswith("In a grand display")
    assert "000_d024cab3850fab44" in source.locator(".source-doc").inner_text()
    page.screenshot(path=str(artifacts / "chat-desktop.png"))

    follow = ask(page, "And who led the Chinese delegation?")
    assert "Liu Guozhong" in follow.locator(".body").inner_text()
    # the short answer stands above the cited sentence, as text (never markup)
    short = follow.locator(".short strong")
    assert "Liu Guozhong" in short.inner_text() and short.inner_text() in follow.locator(".body").inner_text()
    # picked among the sentence's names (China, Liu Guozhong, Russia), so it is marked as a guess
    assert "unsure" in (follow.locator(".short").get_attribute("class") or "")
    assert follow.locator(".short .label").inner_text().lower().endswith("uncertain")
    follow.locator(".body .cite").first.click()
    assert "Liu Guozhong" in page.locator("#source .source-text").inner_text()
    page.screenshot(path=str(artifacts / "chat-desktop-follow-up.png"), full_page=True)


def test_abstention_is_shown_as_such(page: Any, artifacts: Path) -> None:
    answer = ask(page, "What is the boiling point of liquid nitrogen on Mars?")
    assert "abstained" in (answer.get_attribute("class") or "")
    assert answer.locator(".badge").inner_text().lower().startswith("no answer")
    assert answer.locator(".cite").count() == 0 and answer.locator(".short").count() == 0
    page.screenshot(path=str(artifacts / "chat-abstain.png"))


def test_phone_layout(browser: Any, server: Server, artifacts: Path) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector("#status.ready", timeout=60_000)
        answer = ask(page, "Why is China concerned about a Russia-North Korea arms deal?")
        answer.locator(".body .cite").first.tap()
        page.locator("#source").wait_for(state="visible")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "no horizontal scrolling on a phone"
        page.screenshot(path=str(artifacts / "chat-phone.png"))
    finally:
        context.close()


def test_document_markup_is_shown_as_text(page: Any, server: Server, artifacts: Path) -> None:
    doc = {
        "title": "<script>window.__xss = 'title'</script> Quenville glow turnips",
        "text": (
            "Quenville farmers grow glowing turnips. <img src=x onerror=\"window.__xss='img'\"> The glowing "
            "turnips of Quenville <script>window.__xss='body'</script> are bright violet and shine at night."
        ),
    }
    r = httpx.post(server.url + "/documents", json=doc, headers=server.auth, timeout=120)
    assert r.status_code == 201, r.text
    doc_id = r.json()["doc_id"]
    try:
        answer = ask(page, "What colour are the glowing turnips of Quenville?")
        answer.locator(".body .cite").first.click()
        source = page.locator("#source")
        source.wait_for(state="visible")
        shown = source.locator(".source-text").inner_text() + answer.inner_text()
        assert "<script>" in shown or "<img" in shown  # the markup is visible as text ...
        assert "<script>" in source.locator(".source-title").inner_text()
        assert page.evaluate("window.__xss") is None  # ... and never ran
        assert page.locator(".msg script, .msg img, #source script, #source img").count() == 0
        page.screenshot(path=str(artifacts / "chat-escaped-markup.png"))
    finally:
        httpx.delete(f"{server.url}/documents/{doc_id}", headers=server.auth, timeout=120)
