"""The Dask backend gives the local backend's numbers: local cluster, given scheduler, lost worker."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest

from sim import montecarlo
from sim.errors import UserError
from sim.loader import validate
from sim.model import compile_scenario
from tests.helpers import scenario

distributed = pytest.importorskip("distributed")


def model(reps: int = 24):
    return compile_scenario(validate(scenario(replications=reps, horizon_days=120)))


@pytest.fixture(scope="module")
def local_totals():
    return montecarlo.run(model(), workers=1).totals


def test_local_dask_cluster_gives_identical_numbers(local_totals):
    res = montecarlo.run(model(), workers=2, backend="dask")
    assert res.complete
    assert np.array_equal(res.totals, local_totals)


def test_existing_scheduler_and_adaptive_batches(local_totals):
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        res = montecarlo.run(model(), backend="dask", scheduler=cluster.scheduler_address)
    assert np.array_equal(res.totals, local_totals)


def test_a_worker_killed_mid_run_changes_nothing(local_totals):
    """SIGKILL one worker process after the first results arrive: its tasks are rerun on the
    other (or its restarted nanny), and the result is complete and identical."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        seen = []

        def progress(n):
            seen.append(n)
            if len(seen) == 2:
                os.kill(pids[0], signal.SIGKILL)

        res = montecarlo.run(
            model(), progress=progress, backend="dask", scheduler=cluster.scheduler_address
        )
    assert res.complete and len(seen) == 24
    assert np.array_equal(res.totals, local_totals)


def test_without_dask_installed_the_backend_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(UserError, match=r"pip install 'fulfilsim\[dask\]'"):
        montecarlo.run(model(2), backend="dask")


def test_an_unreachable_scheduler_is_a_located_error():
    with pytest.raises(UserError, match="--scheduler"):
        montecarlo.run(model(2), backend="dask", scheduler="tcp://127.0.0.1:1")
