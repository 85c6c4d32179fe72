"""The concurrent-load run's checks catch what they are for: a citation, hit, listing or write that does not belong
to the generation a response names (tests/reliability/load.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.server import Server
from tests.reliability.load import Generation, Run

TEXT = "Turnips glow violet. Harps ring at dawn."
GEN = Generation({"turnips": ("Turnips", TEXT)}, {7: ("turnips", TEXT)})


def checked(*observed: tuple[str, str, Any]) -> tuple[dict[str, int], list[str], int]:
    run = Run(Server("http://127.0.0.1:1", Path("."), Path("log")), Path("."), 0, 0)
    run.generations["g1"] = GEN
    run.observed.extend(observed)
    counts, bad, unverified = run.check()
    return dict(counts), bad, unverified


def cite(doc_id: str = "turnips", start: int = 0, end: int = 20, text: str = "Turnips glow violet.") -> dict[str, Any]:
    return {"doc_id": doc_id, "title": "Turnips", "start": start, "end": end, "text": text}


def test_true_responses_pass() -> None:
    counts, bad, unverified = checked(("citations", "g1", [cite()]), ("hits", "g1", [{"chunk_id": 7,
                                      "doc_id": "turnips", "text": TEXT}]), ("listing", "g1", ["turnips"]),
                                      ("added", "g1", "turnips"), ("deleted", "g1", "harps"))
    assert (bad, unverified) == ([], 0) and counts == {"citations": 1, "hits": 1, "listings": 1, "writes": 2}


def test_anything_from_another_generation_is_caught() -> None:
    _, bad, unverified = checked(
        ("citations", "g1", [cite(doc_id="harps")]),  # a document the generation does not hold
        ("citations", "g1", [cite(start=1, end=21)]),  # offsets that do not hold the cited text
        ("hits", "g1", [{"chunk_id": 8, "doc_id": "turnips", "text": TEXT}]),  # another generation's chunk id
        ("listing", "g1", ["harps", "turnips"]),
        ("added", "g1", "harps"), ("deleted", "g1", "turnips"),
        ("mismatch", "g1", "ask: header g0 but JSON g1"),
        ("citations", "g9", [cite()]),  # a generation never seen on disk
    )
    assert len(bad) == 7 and unverified == 1
