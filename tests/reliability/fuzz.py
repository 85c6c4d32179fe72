"""Schemathesis against the app's own OpenAPI schema, on a live ``rag serve`` (real model, seed index, API key).

Every route is fuzzed (coverage, fuzzing and stateful phases; the stateful one follows the schema's links: upload,
then read, ask, search and delete). Every check runs but ``positive_data_acceptance``: some refusals are semantic
(a blank question, a document of stop words, a question over the configured length) and no JSON schema can say so.
The server's own /metrics count every response it sent, so "no 5xx" does not rest on the fuzzer's word.

    python -m tests.reliability.fuzz [--examples 100] [--seed N]    # over a thousand cases, under a minute on 2 cores
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.reliability.live import API_KEY, live_server, responses_by_status, server_errors, since, tracebacks

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
RESULTS = Path(__file__).parent / "results"
#: Checks left out, with why (see the module docstring).
EXCLUDED_CHECKS = ("positive_data_acceptance",)


@dataclass
class FuzzResult:
    """What one run found."""

    examples_per_operation: int
    seed: int | None
    cases: int
    operations: int
    failures: list[dict[str, object]]
    responses: dict[str, int]
    server_errors: int
    tracebacks: list[str]
    seconds: float
    exit_code: int
    command: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and not self.failures and not self.server_errors and not self.tracebacks


def run_fuzz(workdir: Path, examples: int, seed: int | None = None, timeout: float = 1800) -> FuzzResult:
    """Start a server over a fresh seed index in ``workdir``, fuzz it, stop it."""
    report = workdir / "schemathesis.json"
    with live_server(workdir) as server:
        command = [
            str(SCHEMATHESIS), "run", f"{server.url}/openapi.json", "--max-examples", str(examples), "--workers", "1",
            "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS), "--request-timeout", "60",
            "--header", f"Authorization: Bearer {API_KEY}", "--generation-database", "none", "--no-color",
            "--report", "json", "--report-json-path", str(report),
        ] + (["--seed", str(seed)] if seed is not None else [])
        before = responses_by_status(server.url)  # the /readyz polls (503 while loading) are not the fuzzer's
        t0 = time.monotonic()
        proc = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)
        seconds = time.monotonic() - t0
        (workdir / "schemathesis.txt").write_text(proc.stdout + proc.stderr)
        counts = since(before, responses_by_status(server.url))
    data = json.loads(report.read_text())
    return FuzzResult(
        examples_per_operation=examples, seed=int(data["seed"]), cases=data["test_cases"]["generated"],
        operations=data["operations"]["tested"], failures=data["failures"] + data["errors"], responses=counts,
        server_errors=server_errors(counts), tracebacks=tracebacks(server.log), seconds=round(seconds, 1),
        exit_code=proc.returncode, command=_shown(command, server.url),
    )


def _shown(command: list[str], url: str) -> list[str]:
    """The command as a reader would type it: no key, no local paths, the server's port left open."""
    out = ["schemathesis", *command[1:]]
    return [Path(c).name if c.startswith("/") else c.replace(url, "http://127.0.0.1:PORT") if API_KEY not in c
            else "Authorization: Bearer KEY" for c in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100, help="cases per operation and phase (default 100)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "fuzz.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-fuzz-") as tmp:
        result = run_fuzz(Path(tmp), args.examples, args.seed)
        if not result.clean:
            print((Path(tmp) / "schemathesis.txt").read_text()[-6000:], file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**asdict(result), "clean": result.clean}, indent=2) + "\n")
    print(f"{result.cases} cases over {result.operations} operations in {result.seconds} s: "
          f"{len(result.failures)} failures, {result.server_errors} responses >= 500 "
          f"(of {sum(result.responses.values())}), {len(result.tracebacks)} tracebacks -> {args.out}")
    sys.exit(0 if result.clean else 1)


if __name__ == "__main__":
    main()
