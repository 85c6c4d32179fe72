"""A bounded load of /ask, /chat and /search while documents come and go (API and `rag index`), at a CI size:
no errors, and every answer, hit, listing and write checked against the one generation it names."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.reliability.load import run_load

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_response_is_true_to_its_generation(tmp_path: Path, artifacts: Path, seed_index: Path) -> None:
    shutil.copytree(seed_index, tmp_path / "index")  # its own copy of the session's seed index
    r = run_load(tmp_path, seconds=45, max_requests=600, readers=3, cli_runs=2)
    (artifacts / "load-ci.json").write_text(json.dumps(asdict(r), indent=2) + "\n")
    assert r.errors == 0 and r.server_errors == 0, r.error_samples
    assert r.mismatches == 0, r.mismatch_samples
    assert r.unverified == 0
    # the load was real: answers, hits and listings checked, from several generations, written both ways
    assert r.citations_checked >= 100 and r.hits_checked >= 100 and r.listings_checked >= 10, r
    assert r.api_writes.get("added", 0) >= 5 and r.api_writes.get("deleted", 0) >= 3, r.api_writes
    assert r.cli_runs >= 1 and r.generations_answered_from >= 5, r
