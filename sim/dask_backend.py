"""Replications on Dask: a local cluster, or an existing scheduler somewhere on the network.

What travels is the compiled model (once, scattered to every worker) and replication numbers;
each task runs a batch of replications and returns their per-replication metrics, which the
client reduces in replication order — so ``summary.json`` is the same as with the local backend,
whatever the cluster's size. A worker lost mid-run has its tasks rerun elsewhere (``retries``
and the scheduler's own rescheduling of a dead worker's tasks); the results do not change,
since a replication's random numbers depend only on the seed and its number.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sim.errors import UserError
from sim.metrics import Measured
from sim.model import Model
from sim.montecarlo import batch_size, each_replication, run_batch

RETRIES = 3
CONNECT_SECONDS = 10.0  # to reach the scheduler and hear it answer as one
SCHEMES = ("tcp", "tls", "ws", "wss")
WHERE = "--scheduler"


def _batch(model: Model, start: int, stop: int) -> list[list[Measured]]:
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
    if scheduler is not None:
        address = check_address(scheduler)
        probe(address, CONNECT_SECONDS)
        try:
            client = Client(address, timeout=f"{CONNECT_SECONDS}s")
        except Exception as e:  # it answered the probe: anything now is a network problem
            raise UserError((WHERE, f"cannot connect to {address!r}: {_short(e)}")) from None
    else:
        import dask

        # distributed starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off
        # glibc's adaptive thresholds: every replication's arrays would be fresh memory maps
        # (page faults each time), about a quarter slower here. Keep glibc's default.
        # SIGINT is ignored while the cluster starts: its processes inherit that (Python keeps
        # an ignored SIGINT ignored), so Ctrl-C never reaches them and no worker prints a
        # traceback; stopping is this process's decision, and it closes the cluster. (A Ctrl-C
        # in those two seconds is lost.) SIGTERM stays: the nannies stop workers with it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            with dask.config.set(
                {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
            ):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # no dashboard; the scheduler's HTTP routes on a free loopback port (not
                    # 8787, which may be taken: distributed would warn about it)
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    # above CRITICAL: the run's own output stays readable, and an interrupted
                    # run does not print the scheduler's complaints about closed connections
                    # (a failure reaches us as the task's exception)
                    silence_logs=logging.CRITICAL + 1,
                )
            client = Client(cluster)
        finally:
            signal.signal(signal.SIGINT, previous)
        # The scheduler (in this process) watches every garbage collection through a callback;
        # a Ctrl-C that lands in it would only print "Exception ignored". Diagnostics only.
        from distributed.gc import disable_gc_diagnosis

        disable_gc_diagnosis(force=True)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def check_address(address: str) -> str:
    """``address`` as ``scheme://host:port`` (a bare ``host:port`` is TCP); ``UserError``
    (``--scheduler: problem``) for an empty address, an unknown scheme or a missing or bad
    port."""
    from distributed.comm.addressing import parse_host_port

    text = address.strip()
    example = "e.g. tcp://10.0.0.5:8786"
    if not text:
        raise UserError((WHERE, f"is empty: give the scheduler's address, {example}"))
    scheme, sep, location = text.partition("://")
    if not sep:
        scheme, location = "tcp", text
    if scheme == "inproc":  # a scheduler in this very process (tests, notebooks)
        return text
    if scheme not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise UserError((WHERE, f"unknown scheme {scheme!r} in {address!r}: use {known}"))
    try:
        host, port = parse_host_port(location)
    except (ValueError, TypeError):
        host, port = "", 0
    if not host or not 0 < port < 65536:
        raise UserError((WHERE, f"{address!r} is not HOST:PORT with a port 1-65535, {example}"))
    return f"{scheme}://{location}"


def probe(address: str, seconds: float) -> None:
    """Connect to ``address`` and ask who it is, all within ``seconds``; ``UserError`` unless
    a Dask scheduler answers (nothing listening, a listener that says nothing or garbage, a
    Dask worker). ``distributed`` itself waits for a handshake without a time limit."""
    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme != "inproc":  # a refused connection fails now; distributed retries until timeout
        try:
            socket.create_connection(parse_host_port(location), timeout=seconds).close()
        except OSError as e:
            raise UserError((WHERE, f"cannot reach {address!r}: {_short(e)}")) from None

    async def ask():
        comm = await connect(address, timeout=seconds)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(ask(), seconds))
    except TimeoutError:
        raise UserError(
            (WHERE, f"no Dask scheduler answered at {address!r} within {seconds:g} s")
        ) from None
    except OSError as e:
        raise UserError((WHERE, f"cannot reach {address!r}: {_short(e)}")) from None
    except Exception as e:  # garbage: distributed fails to decode it, in many ways
        raise UserError(
            (WHERE, f"{address!r} is not a Dask scheduler (its answer: {_short(e)})")
        ) from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {kind}" if isinstance(kind, str) else "something else"
        raise UserError((WHERE, f"{address!r} is not a Dask scheduler: {what[:60]!r} answered"))


def _short(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= 200 else text[:200] + "…"


@contextmanager
def dask_runner(model: Model, workers: int, scheduler: str | None):
    """A ``montecarlo.Runner`` on Dask (see the module docstring)."""
    with dask_client(workers, scheduler) as client:
        from distributed import as_completed  # installed: dask_client checked

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
