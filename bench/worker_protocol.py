"""The stdin/stdout protocol of the comparison workers (standard library only: it runs in both venvs)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any


def serve(handlers: dict[str, Callable[[str], Any]]) -> None:
    """Per stdin line ``{"q", "mode"}``, time one handler call and print ``{"s": seconds}``; stop at EOF.

    The orchestrator sends one request at a time to one worker at a time, so every system is measured
    in lock-step under the same background load.
    """
    for line in sys.stdin:
        req = json.loads(line)
        t0 = time.perf_counter()
        handlers[req["mode"]](req["q"])
        print(json.dumps({"s": time.perf_counter() - t0}), flush=True)
