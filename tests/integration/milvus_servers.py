"""Milvus servers for the tests, on 127.0.0.1 with their data in a temporary folder, stopped by process id.

``lite_server``: the Milvus Lite engine of the ``milvus-lite`` package serving the Milvus protocol over TCP, so
several processes share one index. ``standalone_server``: a real Milvus standalone from the PyPI package
``milvus`` (``milvus-server``), when it is installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.server import free_port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Milvus exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"Milvus did not listen on 127.0.0.1:{port} within {timeout}s")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc), children first found first."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    out: list[int] = []
    todo = [pid]
    while todo:
        kids = [p for p, pp in parent.items() if pp == todo[0]]
        out += kids
        todo = todo[1:] + kids
    return out


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM to the process we started and every process below it (``milvus-server`` starts its server in a
    session of its own), SIGKILL to whatever is left after ``timeout`` seconds."""
    pids = [proc.pid, *descendants(proc.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        proc.poll()
        time.sleep(0.5)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextmanager
def lite_server(folder: Path) -> Iterator[str]:
    """Milvus Lite serving ``folder/lite.db`` on 127.0.0.1; yields its ``http://`` URI."""
    import milvus_lite

    bin_dir = Path(milvus_lite.__file__).parent / "lib"
    port = free_port()
    log = folder / "milvus-lite.log"
    env = {**os.environ, "LD_LIBRARY_PATH": f"{bin_dir}:{os.environ.get('LD_LIBRARY_PATH', '')}"}
    with log.open("wb") as out:
        proc = subprocess.Popen([str(bin_dir / "milvus"), str(folder / "lite.db"), f"127.0.0.1:{port}", "ERROR"],
                                cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def standalone_available() -> bool:
    return shutil.which("milvus-server") is not None


@contextmanager
def standalone_server(folder: Path) -> Iterator[str]:
    """A Milvus standalone server (``milvus-server`` of the ``milvus`` package), data under ``folder``; yields
    its URI. It binds every interface: the port is a random free one and the server lives only for the test."""
    port = free_port()
    log = folder / "milvus-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["milvus-server", "--data", str(folder / "data"), "--proxy-port", str(port)],
                                cwd=folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc, log, timeout=300)
        time.sleep(5)  # the proxy listens before the coordinators are up
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, timeout=30)
