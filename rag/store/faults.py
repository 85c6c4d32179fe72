"""Crash points: kill the writing process at a named step of a write, to prove a crash anywhere is harmless.

``RAG_CRASH_AT=<step>`` makes :func:`crash_point` send the process SIGKILL when the write reaches that step.
It is read once, at import: without it every call is a comparison against ``None`` and nothing else. Tests
(``tests/integration/test_crash_points.py``) set it for a ``rag index``, ``rag serve`` or library process; it is
not a setting a user should ever set.

The steps of a write, in order (``STEPS``):

- ``chunks-written``: the new generation's document store is on disk, nothing else;
- ``vectors-written``: every file of the new generation is written, under its temporary name;
- ``before-rename`` / ``after-rename``: around renaming the temporary folder to its final name;
- ``before-current`` / ``after-current``: around replacing ``CURRENT`` (the publication itself).
"""

from __future__ import annotations

import os
import signal

STEPS = ("chunks-written", "vectors-written", "before-rename", "after-rename", "before-current", "after-current")

_ARMED = os.environ.get("RAG_CRASH_AT") or None


def crash_point(step: str) -> None:
    """SIGKILL this process if ``RAG_CRASH_AT`` names ``step``."""
    if _ARMED is not None and step == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
