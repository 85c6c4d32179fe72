"""Server-sent events read back from a whole response body."""

from __future__ import annotations


def events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of an SSE body; comment lines are skipped and the event name defaults to 'message'."""
    out = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line and not line.startswith(":"))
        out.append((fields.get("event", "message"), fields.get("data", "")))
    return out
