"""The Dask backend gives the local backend's numbers: local cluster, given scheduler, lost worker."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sim import montecarlo
from sim.errors import UserError
from sim.loader import validate
from sim.model import compile_scenario
from tests.helpers import ROOT, scenario
from tests.test_interrupts import group_members

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


@contextlib.contextmanager
def listener(answer: bytes | None):
    """A plain TCP socket on loopback that is not a Dask scheduler: it sends ``answer`` to each
    connection (None: it accepts and says nothing). Yields its address."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if answer is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("", "--scheduler: is empty"),
        ("  ", "--scheduler: is empty"),
        ("http://127.0.0.1:8786", "unknown scheme 'http'"),
        ("udp://127.0.0.1:8786", "unknown scheme 'udp'"),
        ("tcp://", "is not HOST:PORT"),
        ("tcp://127.0.0.1", "is not HOST:PORT"),
        ("tcp://127.0.0.1:99999", "is not HOST:PORT"),
        ("tcp://127.0.0.1:0", "is not HOST:PORT"),
        ("127.0.0.1:x", "is not HOST:PORT"),
    ],
)
def test_a_malformed_scheduler_address_is_a_located_error(address, problem):
    with pytest.raises(UserError, match=re.escape(problem)) as e:
        montecarlo.run(model(2), backend="dask", scheduler=address)
    assert e.value.problems[0][0] == "--scheduler"


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\nhello" * 50, "is not a Dask scheduler"),  # garbage
        (b"\x00" * 64, "is not a Dask scheduler"),  # frames that say nothing
        (None, "no Dask scheduler answered"),  # a listener that never answers
    ],
)
def test_a_listener_that_is_not_a_scheduler_is_refused_within_the_timeout(
    answer, problem, monkeypatch
):
    """Before: garbage crashed with a numpy MemoryError traceback, silence hung forever."""
    from sim import dask_backend

    monkeypatch.setattr(dask_backend, "CONNECT_SECONDS", 2.0)
    with listener(answer) as address:
        start = time.monotonic()
        with pytest.raises(UserError, match=problem) as e:
            montecarlo.run(model(2), backend="dask", scheduler=address)
        assert time.monotonic() - start < 2.0 + 3.0  # the timeout, plus slack for a busy machine
    assert e.value.problems[0][0] == "--scheduler"


def test_a_dask_worker_address_is_not_a_scheduler():
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        worker = next(iter(cluster.scheduler_info["workers"]))
        with pytest.raises(UserError, match="is not a Dask scheduler: 'a Dask Worker'"):
            montecarlo.run(model(2), backend="dask", scheduler=worker)


def test_the_cli_says_scheduler_problem_and_exits_2(tmp_path):
    with listener(b"\xff" * 100) as address:
        done = subprocess.run(
            [sys.executable, str(ROOT / "simulate.py"), "run", "scenarios/starter.yaml",
             "--reps", "2", "--backend", "dask", "--scheduler", address, "--quiet",
             "--out", str(tmp_path / "o")],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"--scheduler: '{address}' is not a Dask scheduler")
    assert not (tmp_path / "o").exists()  # refused: no empty results folder left behind


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_ctrl_c_to_the_group_stops_a_dask_run_without_worker_tracebacks(tmp_path):
    """Before: every Dask worker and nanny printed a KeyboardInterrupt traceback."""
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "simulate.py"), "run", "scenarios/starter.yaml",
         "--reps", "3000", "--workers", "2", "--backend", "dask", "--quiet", "--no-report",
         "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60

    def ready() -> bool:  # the cluster is up: SIGINT is the parent's again
        kids = group_members(proc.pid)  # first: workers exist, so the start has begun...
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()  # ...and is over
        except OSError:
            return False
        ignored = int(status.split("SigIgn:")[1].split()[0], 16)
        return len(kids) >= 2 and not ignored & (1 << (signal.SIGINT - 1))

    while not ready():
        assert time.monotonic() < deadline and proc.poll() is None, "the cluster never started"
        time.sleep(0.05)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("still running 60 s after Ctrl-C")
    assert proc.returncode == 130 and "Traceback" not in err, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is False and summary["replications"] < 3000
