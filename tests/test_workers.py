"""The local worker pool: answers in order, errors in place, dead workers noticed, never hung."""

from __future__ import annotations

import os
import signal
import time

import pytest

from sim.workers import Pool, WorkerLost


def _square(x: int) -> int:
    time.sleep(0.002 * (x % 3))  # finish out of order
    return x * x


def _fail_on_3(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def _pid(_) -> int:
    return os.getpid()


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_imap_yields_in_order_and_the_pool_is_reusable():
    with Pool(2) as pool:
        assert list(pool.imap(_square, range(20))) == [x * x for x in range(20)]
        assert pool.map(_square, [5, 6]) == [25, 36]


def test_a_task_s_exception_is_raised_in_its_place_and_stale_answers_are_dropped():
    with Pool(2) as pool:
        got = []
        with pytest.raises(ValueError, match="three"):
            for x in pool.imap(_fail_on_3, range(8)):
                got.append(x)
        assert got == [0, 1, 2]
        assert pool.map(_square, [7, 8, 9]) == [49, 64, 81]  # not answers of the first imap


def test_workers_ignore_sigint_and_sigterm_and_are_killed_by_the_pool():
    with Pool(2) as pool:
        pids = set(pool.map(_pid, range(8)))
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGINT)
        time.sleep(0.2)
        assert set(pool.map(_pid, range(8))) <= pids  # the same workers, still working
        processes = list(pool.processes)
    assert all(p.exitcode is not None for p in processes)  # gone once the pool closed


def test_a_worker_that_dies_is_noticed_at_once():
    """multiprocessing.Pool waits forever for a task its dead worker held."""
    with Pool(2) as pool:
        pid = pool.map(_pid, [0])[0]
        results = pool.imap(_sleep, [0.5, 0.5, 0.5, 0.5])
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        with pytest.raises(WorkerLost, match="exit code -9"):
            list(results)
        assert time.monotonic() - start < 5


def test_an_exception_in_the_block_kills_the_workers_without_waiting():
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Pool(2) as pool:
        processes = list(pool.processes)
        next(pool.imap(_sleep, [0.0, 30.0]))
        raise KeyboardInterrupt
    assert time.monotonic() - start < 10
    assert all(p.exitcode == -signal.SIGKILL for p in processes)
