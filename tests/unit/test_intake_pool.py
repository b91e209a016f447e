"""The decoder worker pool on real processes: a death is charged to its own task, a task past its deadline is
stopped, workers that cannot even start make the pool report itself broken (the import then decodes in its
own process) instead of spawning forever."""

from __future__ import annotations

import os
import signal
import time

import pytest

from app.services.scans.intake_pool import WorkerPool

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kills a worker outright")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _results(pool: WorkerPool, n: int) -> dict:
    out = {}
    for _ in range(n):
        result = pool.next_result(timeout=60)
        assert result is not None
        out[result.task_id] = result
    return out


def test_a_death_is_its_own_tasks_and_the_pool_goes_on():
    with WorkerPool(2) as pool:
        pool.submit("a", os.getpid, (), timeout=60)
        pool.submit("dies", _die, (), timeout=60)
        pool.submit("sleeps", time.sleep, (30,), timeout=1.0)
        pool.submit("b", os.getpid, (), timeout=60)
        results = _results(pool, 4)
    assert results["a"].ok and results["b"].ok
    assert results["dies"].crashed and not results["dies"].ok
    assert results["sleeps"].timed_out and not results["sleeps"].crashed
    assert pool.crashes == 2


def test_workers_that_cannot_start_make_the_pool_broken():
    with WorkerPool(2, preload=("no_such_module_for_formtrail",)) as pool:
        for n in range(3):
            pool.submit(n, os.getpid, (), timeout=60)
        results = _results(pool, 3)
    assert all(r.broken for r in results.values()) and pool.broken is not None
