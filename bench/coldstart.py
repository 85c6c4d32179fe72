"""Cold-start wall and CPU time: ``ask "…"`` on the seed index, ``rag serve`` until ``/readyz`` is 200, and
``import rag.cli``, each in a fresh process.

.venv/bin/python bench/coldstart.py              # 5 runs of each; writes bench/results/coldstart.json
.venv/bin/python bench/coldstart.py --runs 9
.venv/bin/python bench/coldstart.py --smoke      # seconds: one run of each, nothing written

The seed index is built once (``rag index seeds``) into a temporary folder. Each case runs once untimed (so the
model, index and Python files are in the page cache: "cold" here means a new process, not a cold disk), then
``--runs`` times, the cases in a rotating order so that load from other jobs falls on them alike. Per run: the
wall time from spawning the process to its exit (``ask``, the import) or to the first 200 from ``GET /readyz``
(polled every 20 ms on 127.0.0.1), and the user + system CPU time the process spent (from ``wait4`` for the
processes that exit; from ``/proc`` at the moment of readiness for the server, which is then stopped by its pid:
SIGTERM, then SIGKILL after 10 s). CPU time barely moves when other jobs share the cores, wall time does: both are
reported, as median, min and max.

Per case, one more untimed run records which heavy modules (torch, sentence-transformers, FastAPI, ...) the
process imported, so a path that loads what it does not need shows up here.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from load import free_port, tree_cpu_seconds
from measure import machine_state, write_results

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUESTION = "Who led the Chinese delegation?"
MAX_RUNS = 30

#: Modules worth knowing about when a path imports them: each costs from 0.1 s to several seconds to import.
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn", "scipy", "pandas", "faiss", "numpy",
         "fastapi", "starlette", "uvicorn", "pydantic", "pydantic_settings", "httpx", "bm25s", "tokenizers",
         "safetensors", "prometheus_client", "sse_starlette", "rich", "typer", "matplotlib", "eval")

#: Run as ``python -c`` before a path's own code: prints the heavy modules imported when the process exits.
REPORT_MODULES = (
    "import atexit, sys\n"
    f"HEAVY = {HEAVY!r}\n"
    "atexit.register(lambda: print('modules:', ' '.join(m for m in HEAVY if m in sys.modules), file=sys.stderr))\n"
)


def child_env(index_dir: Path) -> dict[str, str]:
    """The caller's environment without its ``RAG_*`` settings, offline, pointed at the seed index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return env | {"HF_HUB_OFFLINE": "1", "RAG_INDEX_DIR": str(index_dir)}


def build_index(index_dir: Path) -> None:
    if (index_dir / "CURRENT").is_file():
        return
    r = subprocess.run([str(BIN / "rag"), "index", str(ROOT / "seeds"), "--index-dir", str(index_dir)], cwd=ROOT,
                       env=child_env(index_dir), capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise SystemExit(f"rag index failed: {r.stderr[-2000:]}")


def run_to_exit(cmd: list[str], env: dict[str, str], expect: str) -> tuple[float, float]:
    """(wall s, user + sys CPU s) of a process run to its exit; its stdout must hold ``expect``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode or expect not in stdout:
        raise RuntimeError(f"{cmd[:3]} exited {proc.returncode}: {stdout[-500:]} {stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's pid, SIGKILL if it is still there after 10 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_to_ready(env: dict[str, str], timeout: float = 300) -> tuple[float, float]:
    """(wall s, CPU s) from spawning ``rag serve`` on a free 127.0.0.1 port to its first 200 from ``/readyz``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/readyz"
    cmd = [str(BIN / "rag"), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with tempfile.TemporaryFile() as log, httpx.Client(timeout=5) as client:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"rag serve exited {proc.returncode}: {log.read().decode()[-2000:]}")
                if time.perf_counter() - t0 > timeout:
                    raise RuntimeError(f"rag serve not ready after {timeout} s")
                try:
                    if client.get(url).status_code == 200:
                        return time.perf_counter() - t0, tree_cpu_seconds(proc.pid)
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        finally:
            stop(proc)


def cases(index_dir: Path) -> dict[str, tuple[str, Callable[[], tuple[float, float]], list[str]]]:
    """name -> (the command, as a person types it; the timed run; argv of the run that lists its imports)."""
    env = child_env(index_dir)
    py = sys.executable
    ask = [str(BIN / "ask"), QUESTION, "--index-dir", str(index_dir)]
    ask_modules = [py, "-P", "-c", REPORT_MODULES + "from rag.cli import ask_entry\n"
                   f"sys.argv = ['ask', {QUESTION!r}, '--index-dir', {str(index_dir)!r}]\nask_entry()"]
    # -P: import rag as the console scripts do (installed or on PYTHONPATH), never from the working directory.
    imp = [py, "-P", "-c", "import rag.cli"]
    return {
        "ask": (f'ask "{QUESTION}" --index-dir <seed index>', lambda: run_to_exit(ask, env, "[1]"), ask_modules),
        "serve_readyz": ("rag serve --host 127.0.0.1 --port <free>; GET /readyz until 200",
                         lambda: serve_to_ready(env), []),
        "import_rag_cli": ('python -c "import rag.cli"', lambda: run_to_exit(imp, env, ""),
                           [py, "-P", "-c", REPORT_MODULES + "import rag.cli"]),
    }


def imported_modules(argv: list[str], env: dict[str, str]) -> list[str]:
    r = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    line = next((x for x in r.stderr.splitlines() if x.startswith("modules:")), "modules:")
    return line.split()[1:]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help=f"Timed runs of each case (1..{MAX_RUNS}).")
    ap.add_argument("--cases", nargs="+", default=["ask", "serve_readyz", "import_rag_cli"],
                    choices=["ask", "serve_readyz", "import_rag_cli"])
    ap.add_argument("--index-dir", type=Path, default=None, help="The seed index (built here when absent).")
    ap.add_argument("--smoke", action="store_true", help="One run of each case, nothing written.")
    ap.add_argument("--out", default="coldstart")
    args = ap.parse_args()
    if not 1 <= args.runs <= MAX_RUNS:
        ap.error(f"--runs must be within 1..{MAX_RUNS}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop a server on the way out
    if args.smoke:
        args.runs = 1
    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="rag-bench-coldstart-")) / "index"
    build_index(index_dir)
    env = child_env(index_dir)
    table = {name: c for name, c in cases(index_dir).items() if name in args.cases}

    before = machine_state()
    modules = {name: imported_modules(argv, env) for name, (_, _, argv) in table.items() if argv}
    for _, run, _ in table.values():
        if not args.smoke:
            run()  # untimed: the page cache
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in table}
    names = list(table)
    for r in range(args.runs):
        for name in names[r % len(names):] + names[: r % len(names)]:
            wall, cpu = table[name][1]()
            runs[name].append({"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)})
            print(f"  run {r + 1}/{args.runs} {name:15s} wall {wall:6.2f} s  CPU {cpu:6.2f} s  "
                  f"load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    summary: dict[str, dict[str, Any]] = {
        name: {"wall_s": spread([x["wall_s"] for x in rs]), "cpu_s": spread([x["cpu_s"] for x in rs]),
               "command": table[name][0], "modules": modules.get(name)} for name, rs in runs.items()}
    for name, s in summary.items():
        w, c = s["wall_s"], s["cpu_s"]
        print(f"{name:15s} wall median {w['median']:.2f} s ({w['min']:.2f}–{w['max']:.2f})  "
              f"CPU median {c['median']:.2f} s ({c['min']:.2f}–{c['max']:.2f})  modules: "
              f"{' '.join(s['modules'] or []) or '-'}", file=sys.stderr)
    if args.smoke:
        print("smoke: ok", file=sys.stderr)
        return 0
    payload = {"command": " ".join(["bench/coldstart.py", *sys.argv[1:]]), "question": QUESTION,
               "runs_per_case": args.runs, "runs": runs, "summary": summary,
               "machine_before": before, "machine_after": machine_state()}
    print(f"wrote {write_results(args.out, payload)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
