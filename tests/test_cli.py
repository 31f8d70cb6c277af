"""End to end through the real command line: outputs, formats, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from sim.cli import LazyGroup
from sim.metric_names import COST_PARTS, METRICS
from tests.helpers import ROOT

SPEC_METRICS = {
    "demand_units", "sold_units", "fill_rate", "cycle_service_level", "lost_units",
    "backordered_units", "avg_on_hand_units", "avg_backorder_units", "orders_shipped",
    "on_time_rate", "late_shipment_rate", "avg_delivery_days", "revenue", "total_cost", "profit",
    "lost_margin", "account_health_breach_rate",
    *(f"cost_{p}" for p in ("product", "freight", "fulfillment", "storage", "aged_inventory",
                            "low_inventory", "placement", "referral", "returns", "transfer", "fixed")),
}  # fmt: skip


def cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(ROOT / "simulate.py"), *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def starter_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("starter")
    done = cli(
        "run",
        "scenarios/starter.yaml",
        "--reps",
        "12",
        "--workers",
        "2",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    return out, done


def test_run_writes_summary_and_csv_files(starter_run):
    out, done = starter_run
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(done.stdout) == summary  # --format json prints exactly summary.json
    assert summary["schema_version"] == 1 and summary["complete"] is True
    assert summary["replications"] == 12 and summary["seed"] == 42
    assert len(summary["scenario"]["sha256"]) == 64
    assert set(summary["strategies"]) == {
        "fba-only",
        "fbm-only",
        "fba-with-home-backup",
        "fba-forecast",
    }
    for strat in summary["strategies"].values():
        assert set(strat["metrics"]) >= SPEC_METRICS
        for stat in strat["metrics"].values():
            assert set(stat) == {"mean", "ci_low", "ci_high", "std"}
        assert set(strat["skus"]) == {"MUG-11OZ", "MUG-15OZ", "MUG-GIFTSET"}
    comps = summary["comparisons"]
    assert {c["strategy"] for c in comps} == {"fbm-only", "fba-with-home-backup", "fba-forecast"}
    assert {c["baseline"] for c in comps} == {"fba-only"}
    assert len(comps) == 3 * len(METRICS)
    reps = list(csv.DictReader((out / "replications.csv").open()))
    assert len(reps) == 4 * 12
    assert list(reps[0])[:2] == ["strategy", "replication"] and set(METRICS) <= set(reps[0])
    skus = list(csv.DictReader((out / "skus.csv").open()))
    assert len(skus) == 4 * 3 and {"fill_rate", "fill_rate_ci_low", "fill_rate_ci_high"} <= set(
        skus[0]
    )


def test_summary_means_equal_the_replications_csv(starter_run):
    out, _ = starter_run
    summary = json.loads((out / "summary.json").read_text())
    rows = list(csv.DictReader((out / "replications.csv").open()))
    for name, strat in summary["strategies"].items():
        values = [float(r["profit"]) for r in rows if r["strategy"] == name]
        assert strat["metrics"]["profit"]["mean"] == pytest.approx(
            sum(values) / len(values), rel=1e-12
        )


def test_total_cost_is_the_sum_of_its_parts_and_profit_is_revenue_minus_cost(starter_run):
    out, _ = starter_run
    for row in csv.DictReader((out / "replications.csv").open()):
        parts = sum(float(row[f"cost_{p}"]) for p in COST_PARTS)
        assert float(row["total_cost"]) == pytest.approx(parts, rel=1e-12)
        assert float(row["profit"]) == pytest.approx(
            float(row["revenue"]) - parts, rel=1e-12, abs=1e-6
        )


def test_table_output_shows_strategies_with_intervals(tmp_path):
    done = cli(
        "run", "scenarios/starter.yaml", "--reps", "4", "--workers", "1", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    assert "fba-only" in done.stdout and "±" in done.stdout and "profit" in done.stdout
    assert "Paired differences" in done.stdout


def test_default_results_folder_is_named_after_the_scenario(tmp_path):
    scen = tmp_path / "s.yaml"
    scen.write_text((ROOT / "scenarios" / "starter.yaml").read_text())
    done = cli("run", str(scen), "--reps", "2", "--workers", "1", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = list((tmp_path / "results" / "starter").iterdir())
    assert len(runs) == 1 and (runs[0] / "summary.json").is_file()


def test_schema_command_prints_a_json_schema():
    done = cli("schema")
    schema = json.loads(done.stdout)
    assert schema["title"] == "fulfilsim scenario"
    assert {"skus", "nodes", "strategies"} <= set(schema["properties"])


def test_bad_option_exits_2_without_traceback():
    done = cli("run", "scenarios/starter.yaml", "--reps", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize(("signame", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_run_keeps_finished_replications(signame, code, tmp_path):
    """SIGINT (Ctrl-C: to the whole process group) or SIGTERM (to the parent, as `kill` does)
    during `run --workers 2` writes the finished replications as an incomplete result."""
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "simulate.py"), "run", "scenarios/starter.yaml", "--reps", "5000",
         "--workers", "2", "--quiet", "--no-report", "--out", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL), os.setpgrp()),
    )  # fmt: skip
    time.sleep(6)  # long enough for the first chunks of replications, even on a busy machine
    if signame == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code and "Traceback" not in err, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["complete"] is False
    assert 0 < summary["replications"] < 5000
    rows = list(csv.DictReader((tmp_path / "replications.csv").open()))
    assert len(rows) == 4 * summary["replications"]
    assert not list(tmp_path.glob("*.tmp*")), "a half-written file was left behind"


def test_a_failing_replication_is_named_and_can_be_rerun_alone(tmp_path, monkeypatch):
    """A replication that raises stops the run with one clear line naming the strategy, the
    replication and the seed; the replications before it are kept; --replication N reruns it."""
    from sim import cli as cli_module
    from sim import metrics
    from sim.loader import load_scenario
    from sim.model import compile_scenario
    from sim.montecarlo import draw_inputs

    real = metrics.measure
    model = compile_scenario(load_scenario("scenarios/starter.yaml").scenario)
    second = draw_inputs(model, 1).demand  # replication 1's demand identifies it

    def broken(trace, model, *args):
        if model.name == "fbm-only" and np.array_equal(trace.demand, second):
            raise ValueError("boom")
        return real(trace, model, *args)

    monkeypatch.setattr("sim.montecarlo.measure", broken)
    with pytest.raises(SystemExit) as stop:
        cli_module.main(["run", "scenarios/starter.yaml", "--reps", "6", "--workers", "1",
                         "--quiet", "--no-report", "--out", str(tmp_path / "a")])  # fmt: skip
    assert stop.value.code == 1
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["complete"] is False and summary["replications"] == 1
    # replication 1 fails at fbm-only, in a batch and then alone: replication 0 is kept
    monkeypatch.setattr("sim.montecarlo.measure", real)
    cli_module.main(["run", "scenarios/starter.yaml", "--replication", "1", "--workers", "1",
                     "--quiet", "--no-report", "--out", str(tmp_path / "b")])  # fmt: skip
    one = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert one["complete"] is True and one["replications"] == 1


def test_failing_replication_message(capsys, tmp_path, monkeypatch):
    from sim import cli as cli_module

    def broken(*args):
        raise ValueError("boom")

    monkeypatch.setattr("sim.montecarlo.measure", broken)
    with pytest.raises(SystemExit):
        cli_module.main(["run", "scenarios/starter.yaml", "--reps", "3", "--workers", "1",
                         "--quiet", "--no-report", "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert "error: replication 0 of strategy 'fba-only' failed (seed 42): ValueError: boom" in err
    assert "--seed 42 --replication 0" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--precision", "profitt=10"], "--precision: expected METRIC=HALF_WIDTH"),
        (["--precision", "profit=0"], "--precision: the half-width must be a number between"),
        (["--precision", "profit"], "--precision: expected METRIC=HALF_WIDTH"),
        (["--max-reps", "50"], "--max-reps: only used with --precision"),
        (["--precision", "profit=10", "--max-reps", "5", "--reps", "10"], "--max-reps: must be"),
    ],
)
def test_precision_options_are_checked(args, message, tmp_path):
    done = cli("run", "scenarios/starter.yaml", *args, "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_summary_has_the_decision_and_the_recommendation(starter_run):
    _, done = starter_run
    summary = json.loads(done.stdout)
    decision = summary["decision"]
    names = list(summary["strategies"])
    assert decision["best"] in names and decision["runner_up"] in names
    assert sum(decision["probability_best"].values()) == pytest.approx(1.0)
    assert decision["difference"]["mean"] >= 0  # best minus runner-up, by mean profit
    assert summary["recommendation"] and all(isinstance(x, str) for x in summary["recommendation"])
    assert decision["best"] in summary["recommendation"][0]


def test_a_run_opens_no_network_connection(tmp_path, monkeypatch):
    """A local run (report and charts included) never touches the network."""
    import socket

    from sim import cli as cli_module

    def refuse(*args, **kwargs):
        raise AssertionError("a run tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    cli_module.main(["run", "scenarios/starter.yaml", "--reps", "3", "--workers", "1", "--quiet",
                     "--out", str(tmp_path)])  # fmt: skip
    assert (tmp_path / "report.html").exists() and (tmp_path / "summary.json").exists()


def _modules_after(args: list[str]) -> set[str]:
    """The modules a ``simulate.py`` command imported (run in a fresh interpreter)."""
    probe = (
        "import sys; from sim.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split())


def test_help_imports_neither_numpy_nor_pydantic():
    """The group's and every command's ``--help`` (a click choice of metric names included)."""
    from sim.cli import cli as group

    commands = sorted(LazyGroup.list_commands(group, None))
    assert {"run", "sweep", "optimize", "assign", "fees"} <= set(commands)
    for args in (["--help"], *([name, "--help"] for name in commands)):
        loaded = _modules_after(args)
        assert "sim.cli" in loaded
        assert not {"numpy", "pydantic", "yaml", "sim.scenario", "sim.montecarlo"} & loaded, args


def test_a_service_level_forecast_runs_without_scipy_stats(tmp_path):
    """The forecast policy's quantiles come from scipy.special (scipy.stats: a second more)."""
    out = str(tmp_path / "out")
    loaded = _modules_after(
        ["run", "scenarios/starter.yaml", "--reps", "1", "--no-report", "--quiet", "--out", out]
    )
    assert "sim.forecast" in loaded and "scipy.special" in loaded
    assert not any(m == "scipy.stats" or m.startswith("scipy.stats.") for m in loaded)
