"""Schemathesis against the live server's own OpenAPI schema, at a CI size: no 5xx, no response off the schema."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.reliability.fuzz import run_fuzz

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_route_survives_the_fuzzer(tmp_path: Path, artifacts: Path, seed_index: Path) -> None:
    shutil.copytree(seed_index, tmp_path / "index")  # its own copy of the session's seed index
    result = run_fuzz(tmp_path, examples=10, seed=20261202)
    (artifacts / "fuzz-ci.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    report = (tmp_path / "schemathesis.txt").read_text()[-4000:]
    assert result.operations == 12, report  # every documented operation was reached
    assert result.cases >= 250, report
    assert not result.failures and result.exit_code == 0, report
    assert result.server_errors == 0, result.responses
    assert not result.tracebacks, result.tracebacks
    assert sum(result.responses.values()) >= 250  # sent and answered (a case whose header no client can send is not)
