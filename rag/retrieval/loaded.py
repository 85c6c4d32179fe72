"""A loaded index generation with the retrievers built over it, swapped as a whole by ``LiveIndex``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from rag.retrieval.hybrid import HybridRetriever
    from rag.store.snapshot import Snapshot


@dataclass(frozen=True)
class LoadedIndex:
    """An index generation with the retrievers built over it (swapped as a whole)."""

    snapshot: Snapshot
    retriever: HybridRetriever
    titles: Mapping[str, str]
    #: Set when the store answers from per-question candidates (Milvus): the question and its vector give the
    #: index to retrieve from and answer with; ``snapshot`` then holds the document catalog only.
    narrow: Callable[[str, np.ndarray], LoadedIndex] | None = None
    #: With ``narrow``: the whole index as one loaded generation (for evaluation judges that read all of it).
    whole: Callable[[], LoadedIndex] | None = None
    #: What the service must say at start-up (``/readyz``, logs), such as hybrid retrieval running dense-only.
    notices: tuple[str, ...] = ()
