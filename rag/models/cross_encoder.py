"""Optional cross-encoder reranking for users who have a model (none ships with this project)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ModelUnavailable

if TYPE_CHECKING:
    import numpy as np


class CrossEncoderModel:
    """A sentence-transformers ``CrossEncoder`` scoring (question, passage) pairs."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def score(self, question: str, texts: list[str]) -> np.ndarray:
        """One relevance score per passage (higher is better)."""
        import numpy as np

        if not texts:
            return np.zeros(0)
        return np.asarray(self._model.predict([(question, t) for t in texts], show_progress_bar=False),
                          dtype=np.float64).reshape(len(texts), -1)[:, -1]


def load_cross_encoder(location: str, device: str = "cpu") -> CrossEncoderModel:
    """Load a cross-encoder from a local folder (offline) or a hub id; a failure names the setting."""
    if Path(location).expanduser().exists():
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoderModel(CrossEncoder(str(Path(location).expanduser()), device=device))
    except Exception as e:
        raise ModelUnavailable(f"cannot load the cross-encoder RAG_CROSS_ENCODER={location!r}: {e}") from e
