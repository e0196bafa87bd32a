"""Noticing a source that hands back the same picture again (a stale frame).

A frozen game, a minimized window that X keeps showing, or a capture API that repeats its last
frame all produce identical frames the video would present as fresh ones. Comparing whole frames
costs a full extra read per frame; comparing every `row_step`-th row (full width) catches any
change that spans more than a few rows, which screen content in motion always does, at 1/row_step
of the cost. A change confined to fewer rows than `row_step` can be counted as a duplicate; the
count is a diagnostic in summary.json, never a reason to drop the frame.
"""

from __future__ import annotations

import numpy as np

DEFAULT_ROW_STEP = 8


class StaleDetector:
    def __init__(self, row_step: int = DEFAULT_ROW_STEP) -> None:
        if row_step < 1:
            raise ValueError("row_step must be >= 1")
        self.row_step = row_step
        self._previous: np.ndarray | None = None
        self.duplicates = 0  # frames equal to the frame before them
        self.longest_run = 0  # most consecutive duplicates
        self._run = 0

    def check(self, image: np.ndarray) -> bool:
        """True when `image` shows the same sampled rows as the previous call's image."""
        sample = image[:: self.row_step]
        previous = self._previous
        same = previous is not None and previous.shape == sample.shape and np.array_equal(previous, sample)
        if previous is None or previous.shape != sample.shape:
            self._previous = np.empty_like(sample)
        assert self._previous is not None
        if not same:
            np.copyto(self._previous, sample)
            self._run = 0
            return False
        self.duplicates += 1
        self._run += 1
        self.longest_run = max(self.longest_run, self._run)
        return True

    def reset(self) -> None:
        """Forget the previous frame (after a gap: the next frame is not a repeat of anything)."""
        self._previous = None
        self._run = 0

    def stats(self) -> dict[str, int]:
        return {"duplicates": self.duplicates, "longest_duplicate_run": self.longest_run}
