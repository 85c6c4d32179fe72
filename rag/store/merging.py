"""When segments are merged: a tiered policy over the newest segments, and rewrites of mostly deleted ones.

Only neighbouring segments are merged (the newest run, or one segment alone), so segments stay in id order and a
global row keeps following ids (``rag.store.snapshot``). Tier ``t`` holds segments of ``floor * factor**t`` live
chunks or more: when ``factor`` segments of one tier or below pile up at the end, they become one segment of the
next tier, so each row is rewritten about once per tier, ``log_factor(rows)`` times in all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.settings import Settings


@dataclass(frozen=True)
class MergePolicy:
    factor: int = 10
    floor_chunks: int = 1000
    max_chunks: int = 2_000_000
    deleted_ratio: float = 0.5

    @classmethod
    def of(cls, settings: Settings) -> MergePolicy:
        i = settings.index
        return cls(i.merge_factor, i.merge_floor_chunks, i.merge_max_chunks, i.merge_deleted_ratio)

    def tier(self, live: int) -> int:
        return math.floor(math.log(max(live, self.floor_chunks) / self.floor_chunks, self.factor) + 1e-9)

    def next_merge(self, chunks: Sequence[int], live: Sequence[int]) -> tuple[int, int] | None:
        """The segments ``[start, end)`` to merge next (by their chunk and live chunk counts), or None."""
        for k, (n, alive) in enumerate(zip(chunks, live, strict=True)):
            if n and (n - alive) / n > self.deleted_ratio:
                return k, k + 1
        tiers = [self.tier(x) for x in live]
        for t in sorted(set(tiers)):
            start = len(tiers)
            while start > 0 and tiers[start - 1] <= t:
                start -= 1
            if len(tiers) - start >= self.factor and sum(live[start:]) <= self.max_chunks:
                return start, len(tiers)
        return None
