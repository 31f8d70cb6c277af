"""Replications on Dask: a local cluster, or an existing scheduler somewhere on the network.

What travels is the compiled model (once, scattered to every worker) and replication numbers;
each task runs a batch of replications and returns their per-replication metrics, which the
client reduces in replication order — so ``summary.json`` is the same as with the local backend,
whatever the cluster's size. A worker lost mid-run has its tasks rerun elsewhere (``retries``
and the scheduler's own rescheduling of a dead worker's tasks); the results do not change,
since a replication's random numbers depend only on the seed and its number.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sim.errors import UserError
from sim.metrics import Measured
from sim.model import Model

RETRIES = 3


def _batch(model: Model, start: int, stop: int) -> list[list[Measured]]:
    from sim.montecarlo import run_batch

    return run_batch(model, range(start, stop))


@contextmanager
def dask_client(workers: int, scheduler: str | None):
    """A connected ``distributed.Client``: to ``scheduler``, or to a local cluster of
    ``workers`` single-threaded processes started here (and closed on exit)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError(
            ("--backend", "dask needs the optional extra: pip install 'fulfilsim[dask]'")
        ) from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise UserError(("--scheduler", f"cannot reach {scheduler}: {e}")) from None
    else:
        import dask

        # distributed starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off
        # glibc's adaptive thresholds: every replication's arrays would be fresh memory maps
        # (page faults each time), about a quarter slower here. Keep glibc's default.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=50,  # logging.CRITICAL: the run's own output stays readable
            )
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def dask_runner(model: Model, workers: int, scheduler: str | None):
    """A ``montecarlo.Runner`` on Dask (see the module docstring)."""
    with dask_client(workers, scheduler) as client:
        from distributed import as_completed  # installed: dask_client checked

        from sim.montecarlo import batch_size, each_replication

        shared = client.scatter(model, broadcast=True, hash=False)
        cores = max(1, sum(client.nthreads().values()))

        def in_order(replications: range) -> Iterator[list[list[Measured]]]:
            size = max(1, min(batch_size(model), len(replications) // (cores * 4)))
            starts = list(range(replications.start, replications.stop, size))
            futures = {
                client.submit(
                    _batch, shared, a, min(a + size, replications.stop), pure=False, retries=RETRIES
                ): a
                for a in starts
            }
            done = {}
            position = 0
            for future in as_completed(futures):
                done[futures[future]] = future
                while position < len(starts) and starts[position] in done:
                    yield done.pop(starts[position]).result()  # a failure surfaces in order
                    position += 1

        yield lambda replications: each_replication(in_order(replications))
