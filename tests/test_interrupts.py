"""Signals never hang a command or lose finished work: SIGTERM / SIGINT to the whole process
group while replications run, and a signal while the results are being written."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT

STARTER = "scenarios/starter.yaml"
WAIT_SECONDS = 60  # far beyond a normal stop; the bug this guards against was a hang forever


def group_members(pgid: int) -> list[int]:
    """The other processes of process group ``pgid`` (workers, nannies, helpers)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and int(stat.parent.name) != pgid:
            members.append(int(stat.parent.name))
    return members


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "simulate.py"), *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal or a service manager
    )


def _signal_group_while_simulating(proc, sig, workers: int, rng: random.Random) -> tuple[int, str]:
    """Wait until ``proc`` has started its worker processes (it is simulating), wait a random
    moment more, signal the whole process group, and return (exit code, stderr)."""
    deadline = time.monotonic() + 30
    while len(group_members(proc.pid)) < workers and proc.poll() is None:
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.8))
    os.killpg(proc.pid, sig)
    try:
        _, err = proc.communicate(timeout=WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"still running {WAIT_SECONDS} s after {sig.name} to its process group")
    return proc.returncode, err


def _no_process_left(pid: int) -> None:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return
    time.sleep(1)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # a worker left behind would keep the group alive


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigterm_to_the_process_group_never_hangs_a_run(tmp_path):
    """Before: about 1 in 4 such stops hung for good (a worker killed while holding the pool's
    queue lock). Now every one exits 143 with the finished replications written."""
    rng = random.Random(17)
    for attempt in range(5):
        out = tmp_path / f"o{attempt}"
        proc = _start("run", STARTER, "--reps", 3000, "--workers", 2, "--quiet", "--no-report",
                      "--out", out)  # fmt: skip
        code, err = _signal_group_while_simulating(proc, signal.SIGTERM, 2, rng)
        assert code == 143 and "Traceback" not in err, err
        summary = json.loads((out / "summary.json").read_text())
        assert summary["complete"] is False and summary["replications"] < 3000
        rows = list(csv.DictReader((out / "replications.csv").open()))
        assert len(rows) == len(summary["strategies"]) * summary["replications"]
        names = {p.name for p in out.iterdir()}  # plan.csv only when some order was placed
        assert names - {"plan.csv"} == {
            "months.csv",
            "replications.csv",
            "skus.csv",
            "summary.json",
        }
        _no_process_left(proc.pid)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("command", "args", "stem", "sig"),
    [
        ("sweep", ["--set", "skus.0.demand.mean_per_day=8,12,16", "--reps", 400], "sweep",
         signal.SIGTERM),
        ("optimize", ["--target", "cycle_service_level>=0.95", "--reps", 400], "optimize",
         signal.SIGINT),
        ("assign", ["--strategy", "fba-with-home-backup", "--routes", "fba", "--routes", "home",
                    "--reps", 400], "assign", signal.SIGTERM),
        ("sensitivity", ["--vary", "skus.*.demand.mean_per_day=x0.8,x1.2", "--reps", 400],
         "sensitivity", signal.SIGINT),
    ],
)  # fmt: skip
def test_a_signal_to_the_group_stops_the_searches_cleanly(command, args, stem, sig, tmp_path):
    rng = random.Random(3)
    out = tmp_path / "o"
    proc = _start(command, STARTER, *args, "--workers", 2, "--quiet", "--out", out)
    code, err = _signal_group_while_simulating(proc, sig, 2, rng)
    assert code == 128 + sig and "Traceback" not in err, err
    assert json.loads((out / f"{stem}.json").read_text())["complete"] is False
    _no_process_left(proc.pid)


def test_a_signal_while_writing_keeps_the_finished_run(tmp_path, monkeypatch, capsys):
    """The run is done; SIGINT (then SIGTERM) arrives while summary.json is being written: every
    file is written whole, nothing temporary is left, and the exit code is the signal's."""
    from sim import cli as cli_module
    from sim import results

    real = results.write_atomic
    sent = []

    def interrupted(path, content):
        if not sent:
            sent.append(path.name)
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handlers run here, in the middle of the write phase
        real(path, content)

    monkeypatch.setattr(results, "write_atomic", interrupted)
    monkeypatch.setattr("sim.report.write_atomic", interrupted)
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as stop:
        cli_module.main(["run", STARTER, "--reps", "4", "--workers", "1", "--quiet",
                         "--out", str(out)])  # fmt: skip
    assert stop.value.code == 130  # the first signal decides
    assert sent == ["summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True and summary["replications"] == 4
    assert len(list(csv.DictReader((out / "replications.csv").open()))) == 4 * len(
        summary["strategies"]
    )
    assert (out / "report.html").read_text().rstrip().endswith("</html>")
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert "the results are all in" in capsys.readouterr().err
    # the handlers are the caller's again
    assert signal.getsignal(signal.SIGINT) is not None
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)


def test_sigterm_while_writing_a_sweep_exits_143_with_the_files(tmp_path, monkeypatch):
    from sim import cli as cli_module
    from sim import results

    real = results.write_atomic

    def interrupted(path, content):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.02)
        real(path, content)

    monkeypatch.setattr(results, "write_atomic", interrupted)
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as stop:
        cli_module.main(["sweep", STARTER, "--set", "skus.0.demand.mean_per_day=8,12",
                         "--reps", "3", "--workers", "1", "--quiet", "--out", str(out)])  # fmt: skip
    assert stop.value.code == 143
    assert json.loads((out / "sweep.json").read_text())["complete"] is True
    assert (out / "sweep.csv").read_text().count("\n") > 1


def test_a_signal_while_a_replication_is_added_counts_it_whole(tmp_path, monkeypatch):
    """SIGTERM arrives while the second replication's results are being added (its shipment
    plan stored): that replication is counted whole — totals, months, plan and per-SKU moments
    alike — and the run stops after it. Before, the interrupt could land half-way through:
    the totals had a replication the months lacked, and months.csv was not written."""
    from sim import cli as cli_module
    from sim.plan import PlanStore

    real = PlanStore.add
    adds = []

    def interrupted(self, strategy, part):
        adds.append(strategy)
        if len(adds) == 4 + 2:  # the starter has 4 strategies: the second replication's second
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here, before the part is stored
        real(self, strategy, part)

    monkeypatch.setattr(PlanStore, "add", interrupted)
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as stop:
        cli_module.main(["run", STARTER, "--reps", "6", "--workers", "1", "--quiet",
                         "--no-report", "--out", str(out)])  # fmt: skip
    assert stop.value.code == 143
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is False and summary["replications"] == 2
    months = list(csv.DictReader((out / "months.csv").open()))
    assert months and {r["strategy"] for r in months} == set(summary["strategies"])
    for name, strategy in summary["strategies"].items():  # per-SKU means over the same 2
        rows = [r for r in csv.DictReader((out / "skus.csv").open()) if r["strategy"] == name]
        by_sku = sum(float(r["demand_units"]) for r in rows)
        assert by_sku == pytest.approx(strategy["metrics"]["demand_units"]["mean"], rel=1e-9)


def test_no_room_for_the_plan_gives_up_the_plan_not_the_run(tmp_path, monkeypatch, capsys):
    """The temporary folder fills up while the plan is kept: the run finishes and writes every
    other file, and says why plan.csv is missing (exit 0: the comparison is whole)."""
    import errno

    from sim import cli as cli_module
    from sim.plan import PlanStore

    real = PlanStore._put
    calls = []

    def full(self, a):
        calls.append(1)
        if len(calls) > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, a)

    monkeypatch.setattr(PlanStore, "_put", full)
    out = tmp_path / "o"
    cli_module.main(["run", STARTER, "--reps", "4", "--workers", "1", "--quiet", "--out",
                     str(out)])  # fmt: skip
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "skus.csv", "months.csv", "replications.csv", "report.html"} <= names
    assert "plan.csv" not in names
    err = capsys.readouterr().err
    assert "plan.csv not written: the temporary folder" in err and "No space left" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True and summary["replications"] == 4
