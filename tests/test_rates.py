"""Rates' intervals stay within [0, 1]; ``run --replication N`` labels its row N."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from sim import cli
from sim.loader import validate
from sim.metric_names import INDEX, METRICS, RATES
from sim.model import compile_scenario
from sim.montecarlo import Accumulator
from sim.results import sku_rows, summarize
from sim.table import comparison_table, fmt_ci
from tests.helpers import scenario

T_975_4 = 2.7764451051977987  # Student t quantile, 4 degrees of freedom (scipy.stats.t.ppf)


def five_replications(breach: list[float]):
    """Results of 5 replications of two strategies whose every metric is 0.5, except the
    second strategy's account_health_breach_rate, which is ``breach`` (the first's is 0)."""
    d = scenario()
    d["strategies"].append({**d["strategies"][0], "name": "other"})
    model = compile_scenario(validate(d))
    acc = Accumulator(model)
    for r in range(5):
        measured = []
        for s in range(2):
            total = np.full(len(METRICS), 0.5)
            total[INDEX["account_health_breach_rate"]] = breach[r] if s else 0.0
            skus = np.repeat(total[:, None], 2, axis=1)
            measured.append(
                type(
                    "M",
                    (),
                    {"total": total, "skus": skus, "paths": None, "plan": None, "months": None},
                )()
            )
        acc.add(measured)
    return acc.results(complete=True)


def test_rate_intervals_are_clipped_to_0_1_and_mean_std_kept():
    """Breach in 2 of 5 replications: mean 0.4, sd √0.3 = 0.5477; the t interval
    0.4 ± 2.7764 · 0.5477/√5 = 0.4 ± 0.6801 = [-0.280, 1.080] is clipped to [0, 1]."""
    results = five_replications([0, 1, 0, 1, 0])
    summary = summarize(results, "t", "x", 56, 0)
    stat = summary["strategies"]["other"]["metrics"]["account_health_breach_rate"]
    half = T_975_4 * np.sqrt(0.3) / np.sqrt(5)
    assert half == pytest.approx(0.6801, abs=1e-4) and 0.4 - half < 0 < 1 < 0.4 + half
    assert stat["mean"] == pytest.approx(0.4)
    assert stat["std"] == pytest.approx(np.sqrt(0.3))
    assert (stat["ci_low"], stat["ci_high"]) == (0.0, 1.0)
    # per SKU too (summary.json and skus.csv)
    sku = summary["strategies"]["other"]["skus"]["A"]["metrics"]["account_health_breach_rate"]
    assert (sku["ci_low"], sku["ci_high"]) == (0.0, 1.0) and sku["mean"] == pytest.approx(0.4)
    row = next(r for r in sku_rows(results) if r["strategy"] == "other" and r["sku"] == "A")
    assert (
        row["account_health_breach_rate_ci_low"],
        row["account_health_breach_rate_ci_high"],
    ) == (
        0.0,
        1.0,
    )
    # the paired difference of a rate (other − base = the breach itself) stays in [-1, 1]
    (diff,) = [
        c
        for c in summary["comparisons"]
        if c["metric"] == "account_health_breach_rate" and c["strategy"] == "other"
    ]
    assert diff["diff_mean"] == pytest.approx(0.4)
    assert diff["ci_low"] == pytest.approx(0.4 - half) and diff["ci_high"] == 1.0
    # the table shows the clipped interval, not a symmetric ± that would reach past 100%
    line = next(
        x for x in comparison_table(summary).splitlines() if x.startswith("account_health_breach")
    )
    assert line.split()[1:] == ["0.0%", "±", "0.0", "40.0%", "[0.0%,", "100.0%]"]


def test_rates_within_bounds_and_other_metrics_are_not_clipped():
    """Breach in 3 of 5 replications near 1: nothing to clip below 1 where the interval fits;
    a count whose interval reaches below 0 keeps it (only rates are clipped)."""
    results = five_replications([1, 1, 1, 1, 1])
    summary = summarize(results, "t", "x", 56, 0)
    stat = summary["strategies"]["other"]["metrics"]["account_health_breach_rate"]
    assert (stat["mean"], stat["ci_low"], stat["ci_high"]) == (1.0, 1.0, 1.0)
    totals = results.totals.copy()
    totals[:, 1, INDEX["lost_units"]] = [0, 0, 0, 0, 5]  # mean 1, sd √5: [-1.78, 3.78]
    results.totals = totals
    lost = summarize(results, "t", "x", 56, 0)["strategies"]["other"]["metrics"]["lost_units"]
    assert lost["ci_low"] == pytest.approx(1 - T_975_4 * np.sqrt(5) / np.sqrt(5))
    assert fmt_ci(lost, "units").startswith("1.00 ± ")


def test_every_rate_metric_is_a_metric():
    assert set(METRICS) >= RATES
    shares = {m for m in METRICS if m.endswith("_rate") or m.startswith("breach_")}
    assert shares | {"cycle_service_level"} == RATES


def test_run_replication_n_writes_its_row_as_n(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario(replications=3)), encoding="utf-8")
    out = tmp_path / "out"
    args = ["--replication", "7", "--workers", "1", "--no-report", "--quiet", "--out", str(out)]
    cli.main(["run", str(path), *args])
    with open(out / "replications.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["replication"] for r in rows] == ["7"]
    assert json.loads((out / "summary.json").read_text())["replications"] == 1
