"""The contract every executor keeps (docs/sweep.md), run over ``EXECUTOR_BUILDERS``.

The work is the sweep's own (``mmopt.search.objective.evaluate`` on a prepared synthetic shard
passed through ``put``), so "same results" means what the driver needs: the same shard metrics,
bit for bit, on every executor. Also: a parameter set that fails fails only its own outcome; a
call that raises fails only its own ``result`` (as ``TaskError`` with the message); results
come back in the order given; ``warm`` runs in the workers; ``close`` is final and idempotent.
A new executor adds one builder below (marked if it needs a server) and passes the same tests.
"""

from __future__ import annotations

import functools
import math
import operator
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from mmopt.config import ExecutorConfig
from mmopt.data.synth import generate_events
from mmopt.engine import prepare_market
from mmopt.executors import Executor, LocalExecutor, TaskError
from mmopt.metrics import aggregate
from mmopt.search.objective import PreparedShard, TaskOutcome, WorkSpec, evaluate


def _ray() -> Executor:
    from mmopt.executors.ray import RayExecutor

    return RayExecutor(ExecutorConfig(name="ray", num_cpus=2, max_retries=0))


EXECUTOR_BUILDERS: dict[str, tuple[Callable[[], Executor], tuple[Any, ...]]] = {
    "local": (LocalExecutor, ()),
    "ray": (_ray, (pytest.mark.ray,)),
}

SPEC = WorkSpec("price_follow", (("quote_size", 1), ("max_position", 5)),
                (("step_ms", 100.0), ("entry_latency_ns", 1_000_000),
                 ("response_latency_ns", 1_000_000)))
PARAM_SETS = (
    (("refill_interval_s", 0.0),),
    (("quote_size", -1),),  # illegal: fails this parameter set only
    (("refill_interval_s", 2.0),),
)


@functools.lru_cache(maxsize=1)
def _shard() -> PreparedShard:
    events, instrument = generate_events(4000, seed=3)
    return PreparedShard(0, instrument.security, "2026-01-01",
                         prepare_market(events, instrument), instrument, len(events))


def _fingerprint(outcome: TaskOutcome) -> list[object]:
    """Everything a trial is scored from, as exact bytes (NaN-safe)."""
    out: list[object] = []
    for o in outcome.outcomes:
        if o.metrics is None:
            out.append(("error", o.error is not None))
            continue
        values = np.array(list(aggregate([o.metrics]).as_dict().values()))
        out.append((values.tobytes(), o.metrics.interval_pnl.tobytes(),
                    o.metrics.interval_end_ns.tobytes()))
    return out


@functools.lru_cache(maxsize=1)
def _reference() -> list[object]:
    """The outcome in this process, without any executor."""
    return _fingerprint(evaluate(SPEC, _shard(), PARAM_SETS))


@pytest.fixture(
    scope="module",
    params=[pytest.param(name, marks=marks) for name, (_, marks) in EXECUTOR_BUILDERS.items()],
)
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    build, _ = EXECUTOR_BUILDERS[request.param]
    made = build()
    yield made
    made.close()


def test_is_an_executor(executor: Executor) -> None:
    assert isinstance(executor, Executor)
    assert executor.n_workers >= 1


def test_same_results_bit_for_bit(executor: Executor) -> None:
    ref = executor.put(_shard())
    pending = [executor.submit(evaluate, SPEC, ref, PARAM_SETS) for _ in range(3)]
    assert executor.wait(pending, timeout_s=600.0)
    for p in pending:
        outcome = executor.result(p)
        assert isinstance(outcome, TaskOutcome)
        assert _fingerprint(outcome) == _reference()


def test_a_bad_parameter_set_fails_only_its_own_outcome(executor: Executor) -> None:
    outcome = executor.result(executor.submit(evaluate, SPEC, executor.put(_shard()), PARAM_SETS))
    good, bad, other = outcome.outcomes
    assert good.metrics is not None and other.metrics is not None
    assert bad.metrics is None and bad.error is not None and "quote_size" in bad.error


def test_a_failing_call_fails_only_itself_in_order(executor: Executor) -> None:
    pending = [executor.submit(operator.truediv, 1.0, d) for d in (4.0, 0.0, 2.0)]
    assert executor.wait(pending, timeout_s=120.0)
    assert executor.result(pending[0]) == 0.25
    with pytest.raises(TaskError, match="ZeroDivisionError"):
        executor.result(pending[1])
    assert executor.result(pending[2]) == 0.5
    values = [executor.result(executor.submit(math.ldexp, 1.0, k)) for k in range(8)]
    assert values == [2.0**k for k in range(8)]  # in the order submitted


def test_wait_on_nothing_is_done(executor: Executor) -> None:
    assert executor.wait([], timeout_s=0.0)


def test_polling_with_no_timeout_sees_a_finished_call(executor: Executor) -> None:
    """``wait(..., 0)`` is a poll: it must notice calls that finished meanwhile, also when
    the caller polls a call that is already done first (a walk-forward's scheduler did, and
    spun for minutes on results Ray had long returned)."""
    first = executor.submit(math.sqrt, 4.0)
    assert executor.wait([first], timeout_s=120.0)
    second = executor.submit(math.sqrt, 9.0)
    deadline = time.monotonic() + 120.0
    while not executor.wait([second], timeout_s=0.0):
        assert executor.wait([first], timeout_s=0.0)  # a done call: True at once
        assert time.monotonic() < deadline, "a finished call was never seen by wait(.., 0)"
        time.sleep(0.01)
    assert executor.result(second) == 3.0


def test_warm_runs_and_reports_seconds(executor: Executor) -> None:
    assert executor.warm(math.sqrt, 4.0) >= 0.0
    with pytest.raises(TaskError):
        executor.warm(operator.truediv, 1.0, 0.0)


def test_close_is_final_and_idempotent(executor: Executor) -> None:
    """Last in this file: the module's executor is closed here (the fixture closes it again)."""
    executor.close()
    executor.close()
    if executor.name == "ray":
        import ray

        assert not ray.is_initialized()  # the runtime this executor started is shut down
