"""Milvus servers for the tests, on 127.0.0.1 with their data in a temporary folder, stopped by process id.

``lite_server``: the Milvus Lite engine of the ``milvus-lite`` package serving the Milvus protocol over TCP, so
several processes share one index. ``standalone_server``: a real Milvus standalone from the PyPI package
``milvus`` (``milvus-server``), when it is installed.
"""

from __future__ import annotations

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


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM to the process group we started, SIGKILL after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


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
