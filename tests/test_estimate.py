"""``--estimate`` on run, sweep, optimize and assign, and the note before a long run (``sim.estimate``).

How close the estimate is to real wall time is measured by ``bench/estimate.py``, not here: a
timed test would fail on a busy machine. These tests pin the arithmetic and the wiring.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from sim import estimate as est
from sim.budget import SECONDS_PER_STRATEGY_DAY, Need, run_seconds, shape_of
from sim.cli import cli
from sim.loader import load_scenario
from tests.helpers import ROOT

LINE = re.compile(r"^estimate: about [\d,]+ s, [\d,]+ MB on \d+ workers?$")
STARTER = ROOT / "scenarios" / "starter.yaml"


@pytest.fixture
def quiet_machine(monkeypatch):
    """Two cores, nothing else running."""
    monkeypatch.setattr(est, "cores", lambda: 2)
    monkeypatch.setattr(est, "load", lambda: 0.0)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(
    "args",
    [
        ["run", STARTER, "--reps", "20"],
        ["sweep", STARTER, "--set", "skus.*.demand.mean_per_day=2,4", "--reps", "10"],
        ["optimize", STARTER, "--target", "fill_rate>=0.9", "--reps", "10"],
        [
            "assign",
            STARTER,
            "--strategy",
            "fba-with-home-backup",
            "--routes",
            "fba",
            "--routes",
            "home",
            "--reps",
            "10",
        ],
        ["sensitivity", STARTER, "--vary", "skus.*.demand.mean_per_day=x0.8,x1.2", "--reps", "10"],
    ],
    ids=["run", "sweep", "optimize", "assign", "sensitivity"],
)
def test_estimate_prints_one_line_and_runs_nothing(args, tmp_path):
    out = tmp_path / "out"
    done = invoke(*args, "--estimate", "--out", out, "--workers", "2")
    assert done.exit_code == 0, done.output
    assert LINE.match(done.stdout.strip()), done.stdout
    assert done.stdout.strip().endswith("on 2 workers")
    assert not out.exists()  # nothing simulated, nothing written


def test_one_worker_is_singular(tmp_path):
    done = invoke("run", STARTER, "--reps", "5", "--workers", "1", "--estimate")
    assert done.stdout.strip().endswith("on 1 worker"), done.stdout


@pytest.mark.parametrize(
    ("x", "text"), [(0.3, "1"), (4.4, "4"), (33.4, "33"), (434.0, "430"), (12_345, "12,000")]
)
def test_estimates_are_rounded_to_two_figures(x, text):
    assert est._round(x) == text


def test_simulation_time_is_the_pilot_scaled_over_the_workers(monkeypatch, quiet_machine):
    # 0.1 CPU s a replication, 100 replications, 2 workers on 2 free cores: 5 s, plus 0.1 s to
    # start each worker
    assert est.simulation_seconds(0.1, 100, 2) == pytest.approx(5.0 + 2 * 0.1)
    # one worker: no pool to start
    assert est.simulation_seconds(0.1, 100, 1) == pytest.approx(10.0)
    # more workers than cores run no faster than the cores (but each is started)
    assert est.simulation_seconds(0.1, 100, 4) == pytest.approx(5.0 + 4 * 0.1)
    # four other processes on 2 cores: our 2 get 2 / (4 + 2) of a core each, 3 times slower
    monkeypatch.setattr(est, "load", lambda: 4.0)
    assert est.simulation_seconds(0.1, 100, 2) == pytest.approx(15.0 + 2 * 0.1)


def test_the_pilot_times_its_replications_in_cpu_time(monkeypatch):
    calls = []
    monkeypatch.setattr(est.montecarlo, "run_batch", lambda m, r: calls.append(r))
    clock = iter([10.0, 10.4])
    monkeypatch.setattr(est.time, "process_time", lambda: next(clock))

    class Model:
        replications = 100

    # 0.4 CPU s for 4 replications side by side; a run's batches of 16 cost BATCH_GAIN of that
    # (1 today: measured as close as any other value)
    assert est.replication_seconds(Model()) == pytest.approx(0.1 * est.BATCH_GAIN)
    assert calls == [range(4)]


@pytest.mark.parametrize(("share", "others"), [(1.0, 0.0), (0.95, 0.0), (0.5, 3.0), (0.25, 7.0)])
def test_the_pilot_tells_how_busy_the_machine_is(share, others, monkeypatch):
    """On 2 cores, n other processes leave the pilot 2 / (n + 1) of a core."""
    monkeypatch.setattr(est, "cores", lambda: 2)
    assert est.others_from(share) == pytest.approx(others)


def test_a_busy_pilot_stretches_the_estimate(monkeypatch):
    monkeypatch.setattr(est, "_others", None)  # restored after the test
    monkeypatch.setattr(est, "cores", lambda: 2)
    monkeypatch.setattr(est.montecarlo, "run_batch", lambda m, r: None)
    cpu, wall = iter([0.0, 0.1]), iter([0.0, 0.4])  # a quarter of a core: 7 others
    monkeypatch.setattr(est.time, "process_time", lambda: next(cpu))
    monkeypatch.setattr(est.time, "perf_counter", lambda: next(wall))

    class Model:
        replications = 4

    est.replication_seconds(Model())
    assert est.load() == pytest.approx(7.0)
    assert est.sharing(2) == pytest.approx((7 + 2) / 2)


def test_a_run_of_fewer_replications_than_the_pilot_is_timed_whole(monkeypatch):
    monkeypatch.setattr(est.montecarlo, "run_batch", lambda m, r: None)
    clock = iter([0.0, 0.3])
    monkeypatch.setattr(est.time, "process_time", lambda: next(clock))

    class Model:
        replications = 2

    assert est.replication_seconds(Model()) == pytest.approx(0.15)  # no batching gain


def test_the_run_estimate_adds_start_up_report_and_memory(monkeypatch, quiet_machine):
    monkeypatch.setattr(est, "replication_seconds", lambda model: 0.02)
    sc = load_scenario(STARTER).scenario
    shape = shape_of(sc)  # 200 replications
    need = Need(model=0, workers=0, results=0, workers_count=2)
    no_report = est.run_estimate(None, shape, need, 2, report=False)
    # 4 strategies: the parent's 0.5 ms each a replication on top of the pilot's 20 ms
    sim = (0.02 + 4 * est.REDUCE_SECONDS) * 200 / 2 + 2 * est.WORKER_START_SECONDS
    assert no_report.seconds == pytest.approx(sim + est.overhead_seconds(shape, "local", False))
    with_report = est.run_estimate(None, shape, need, 2, report=True)
    assert with_report.seconds - no_report.seconds == pytest.approx(est.REPORT_SECONDS)
    assert with_report.memory == need.total and with_report.workers == 2


def test_the_rough_figure_counts_a_floor_per_simulated_day():
    """Three SKUs cost far more than three SKU-days' worth a day: the floor decides."""
    shape = shape_of(load_scenario(STARTER).scenario)
    days = shape.days * shape.replications * len(shape.strategies)
    fees = run_seconds(shape, 1) - days * SECONDS_PER_STRATEGY_DAY
    assert 0 <= fees < 0.01  # building the fee tables
    assert run_seconds(shape, 2) - fees == pytest.approx(days * SECONDS_PER_STRATEGY_DAY / 2)


def test_long_note_only_past_a_minute():
    assert est.long_note(est.Estimate(59, 2**20, 2)) is None
    note = est.long_note(est.Estimate(434, 300 * 2**20, 2))
    assert note.startswith("a large run: about 7 minutes on 2 workers")
    assert "estimate: about 430 s, 300 MB on 2 workers" in note


def test_the_note_before_a_long_run_is_the_same_estimate(monkeypatch, tmp_path, quiet_machine):
    """The automatic note and --estimate give the same figure (one function makes both)."""
    monkeypatch.setattr(est, "replication_seconds", lambda model: 30.0)  # pretend: slow
    monkeypatch.setattr(est, "worth_a_pilot", lambda shape, workers: True)
    args = ["run", STARTER, "--reps", "4", "--workers", "1", "--no-report"]
    line = invoke(*args, "--estimate").stdout.strip()
    assert LINE.match(line)
    done = invoke(*args, "--out", tmp_path / "o")
    assert done.exit_code == 0
    [note] = [s for s in done.stderr.splitlines() if s.startswith("note: a large run")]
    assert f"({line})" in note


def test_the_assign_estimate_counts_its_whole_catalog_passes(monkeypatch, quiet_machine):
    monkeypatch.setattr(est, "replication_seconds", lambda model: 0.04)
    sc = load_scenario(STARTER).scenario
    shape = shape_of(sc)  # 4 strategies, 200 replications
    need = Need(model=0, workers=0, results=0, workers_count=2)
    got = est.assign_estimate(None, shape, need, 2, routes=3, nodes=2, backend="local")
    per_strategy = 0.04 / 4
    one = per_strategy * est.ASSIGN_PASS_SHARE * 200 / 2 + 2 * est.WORKER_START_SECONDS
    passes = 2 * 3 + 2 + est.ASSIGN_MOVES_PER_NODE * 2  # 16, as catalog-50's search makes
    want = est.overhead_seconds(shape, "local", False) + passes * one
    assert got.seconds == pytest.approx(want)
