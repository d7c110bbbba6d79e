"""``FoldLoop``: the sweep loop of one walk-forward fold, advanced a step at a time.

``SweepLoop.run_until`` blocks on its own batches; a walk-forward runs one loop per fold and
feeds them all to one executor, so each loop here only does what is ready (``step``) and a
scheduler (``walk_forward``) goes round the folds. Within a fold the order in which batches
are asked, reported and told is exactly ``SweepLoop``'s (same seed, same trials), whatever the
other folds do or how long their tasks take.
"""

from __future__ import annotations

import time
from typing import Any

from mmopt.search._loop import PIPELINE_DEPTH, SweepLoop

__all__ = ["FoldLoop"]


class FoldLoop(SweepLoop):
    """A ``SweepLoop`` that never blocks: call ``begin`` once, then ``step`` until ``done``."""

    _target = 0
    _asked = 0
    _deadline: float | None = None
    done = False

    def begin(self, n_target: int, n_done: int, deadline: float | None) -> None:
        self._target, self._asked, self._deadline = n_target, n_done, deadline
        self.done = False

    def _fill(self) -> bool:
        added = False
        while len(self.batches) < PIPELINE_DEPTH and self._asked < self._target and not (
            self._deadline is not None and time.time() >= self._deadline
        ):
            n = min(self.batch_size, self._target - self._asked)
            self.batches.append(self._ask_batch(n))
            self._asked += n
            added = True
        return added

    def head_handles(self) -> list[Any]:
        """The tasks the next step waits for (empty when it can go on at once)."""
        return [h for h, _, _ in self.batches[0].pending] if self.batches else []

    def step(self) -> bool:
        """Ask what the pipeline has room for, then handle the head batch's rung if its tasks
        are done. Returns True when something moved; sets ``done`` when nothing is left."""
        if self.done:
            return False
        start = time.perf_counter()
        try:
            return self._step()
        finally:
            self.timings.loop_s += time.perf_counter() - start

    def _step(self) -> bool:
        moved = self._fill()
        if moved:
            self._write_in_flight()
        if not self.batches:
            self.done = True
            return moved
        head = self.batches[0]
        if head.pending:
            if not self.executor.wait(self.head_handles(), 0.0):
                if self.writer is not None:
                    self.writer.check()
                return moved
            self._collect(head)
            self._after_rung(head)
            if head.pending:
                return True
        self.batches.popleft()
        self._persist(head)
        self._write_in_flight()
        return True
