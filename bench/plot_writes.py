"""Write latency against index size, drawn from the scale benchmark's result files (no measuring here).

    .venv/bin/python bench/plot_writes.py        # bench/results/scale-writes.png

Each point is the p50 of adding (or deleting) one document in ``bench/scale.py``, in the writing process's CPU time
(the figure that does not depend on what else the machine ran), beyond embedding the document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
#: The runs measured on the current write path (``scale.json``'s 100k row predates the linear write plan).
FILES = ("scale-1m.json", "scale-100k.json")


def points(kind: str) -> list[tuple[int, float]]:
    """(chunks, CPU seconds) of each size's p50 ``kind`` ("add" or "delete")."""
    out = []
    for name in FILES:
        path = RESULTS / name
        if path.is_file():
            for size, row in json.loads(path.read_text())["sizes"].items():
                cpu = row.get(f"{kind}_one_document_cpu_ms")
                if cpu:
                    out.append((int(size), cpu["p50"] / 1e3))
    return sorted(out)


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, marker in (("add", "o"), ("delete", "s")):
        pts = points(kind)
        if not pts:
            print(f"skipped: no {', '.join(FILES)} under {RESULTS}", file=sys.stderr)
            return 0
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=f"{kind} one document")
        for n, s in pts:
            ax.annotate(f"{s:.2f} s", (n, s), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("seconds (p50, process CPU time)")
    ax.set_title("One-document writes by index size (bench/scale.py)")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.legend()
    fig.tight_layout()
    out = RESULTS / "scale-writes.png"
    fig.savefig(out, dpi=110)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
