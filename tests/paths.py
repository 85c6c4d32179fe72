"""Where the repository, its seed article and the shared evaluation data are."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = SEEDS / "000_d024cab3850fab44.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"


def eval_data_dir() -> Path:
    """``$RAG_EVAL_DATA`` when set, else ``../shared/data`` beside the repository (as the eval harness reads it)."""
    env = os.environ.get("RAG_EVAL_DATA")
    return Path(env).expanduser() if env else SHARED_DATA
