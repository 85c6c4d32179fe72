"""Dense candidates over index segments: exact inner products, or an HNSW graph for a segment that has one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from rag.store.snapshot import Snapshot

#: BLAS's matrix-vector kernel reads rows in groups of this many from the first row of the matrix: products are
#: read over whole aligned groups, so a row's product is bit-identical to the one a product over every row gives.
_GROUP = 4


def row_products(matrix: Any, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``(matrix @ q)[rows]``, computing only the aligned groups of rows that hold ``rows``."""
    import numpy as np

    rows = np.asarray(rows, dtype=np.int64)
    if not rows.size:
        return np.zeros(0, dtype=np.float32)
    n = len(matrix)
    starts = np.unique(rows // _GROUP) * _GROUP
    picks = (starts[:, None] + np.arange(_GROUP)).ravel()
    picks = picks[picks < n]  # the last group may be short: it stays last, as in the whole product
    vals = np.asarray(matrix[picks], dtype=np.float32) @ q
    return vals[np.searchsorted(picks, rows)]


class DenseIndex:
    """Top chunks by inner product with the question over a generation's live chunk rows."""

    def __init__(self, snap: Snapshot, ef_search: int = 128) -> None:
        self.snap = snap
        self.ef_search = ef_search
        self.exact = all(seg.hnsw is None for seg in snap.segments)
        self._selectors: dict[int, Any] = {}

    def search(self, q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The ``n`` best live rows (in no order), and every row's score when all were computed (else None)."""
        import numpy as np

        snap = self.snap
        rs = snap.chunk_rows
        if self.exact:
            parts = [np.asarray(seg.chunk_vectors) @ q for seg in snap.segments]
            full = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.float32)
            mask = rs.live_mask()
            if mask is not None:
                full = np.where(mask, full, -np.inf).astype(np.float32)
            return np.argpartition(-full, n - 1)[:n], full
        rows, scores = [], []
        for k, seg in enumerate(snap.segments):
            base, gone = int(rs.bases[k]), rs.deleted[k]
            if seg.hnsw is not None:
                got_s, got_r = self._hnsw(k, seg.hnsw, q, n, gone)
            else:
                s = np.asarray(seg.chunk_vectors) @ q
                if gone.size:
                    s[gone] = -np.inf
                m = min(n, s.size)
                got_r = np.argpartition(-s, m - 1)[:m] if m else np.zeros(0, np.int64)
                got_s = s[got_r]
            keep = np.isfinite(got_s) & (got_r >= 0)
            rows.append(got_r[keep] + base)
            scores.append(got_s[keep])
        all_r, all_s = np.concatenate(rows), np.concatenate(scores)
        m = min(n, all_r.size)
        return (all_r[np.argpartition(-all_s, m - 1)[:m]] if m else all_r), None

    def _hnsw(self, k: int, index: Any, q: np.ndarray, n: int, gone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import faiss
        import numpy as np

        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = max(self.ef_search, n)
        if gone.size:
            sel = self._selectors.get(k)
            if sel is None:
                sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.asarray(gone, dtype=np.int64)))
                self._selectors[k] = sel
            params.sel = sel
        d, i = index.search(np.asarray(q, dtype=np.float32)[None, :], n, params=params)
        return d[0], i[0].astype(np.int64)

    def scores(self, q: np.ndarray, rows: np.ndarray, full: np.ndarray | None) -> np.ndarray:
        """The inner products of these rows (from ``full`` when it was computed)."""
        import numpy as np

        if full is not None:
            return full[rows]
        out = np.zeros(rows.size, dtype=np.float32)
        for k, pos, local in self.snap.chunk_rows.split(rows):
            out[pos] = row_products(self.snap.segments[k].chunk_vectors, local, q)
        return out
