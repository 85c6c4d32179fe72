"""Visible text of an HTML page, paragraphs kept, and its title (BeautifulSoup, imported lazily)."""

from __future__ import annotations

_BLOCKS = (
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
)
_DROP = ("head", "script", "style", "nav", "header", "footer", "noscript", "template")
_PARA, _LINE = "\ue000", "\ue001"  # private-use sentinels that survive get_text()


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page (block elements become paragraphs) and its ``<title>``/``<h1>``."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(html, "html.parser")
    title = None
    for name in ("title", "h1"):
        tag = soup.find(name)
        if tag is not None and (title := " ".join(tag.get_text(" ").split())):
            break
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for br in soup.find_all("br"):
        br.replace_with(_LINE)
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before(_PARA)
        tag.insert_after(_PARA)
    paragraphs = []
    for block in soup.get_text().split(_PARA):
        lines = (" ".join(line.split()) for line in block.split(_LINE))
        if paragraph := "\n".join(line for line in lines if line):
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs), title or None
