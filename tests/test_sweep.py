"""The ``sweep`` command: --set paths and values, grid points, break-evens, CLI output."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from sim import sweep as sw
from sim.cli import cli
from sim.errors import UserError
from sim.metric_names import INDEX, METRICS
from sim.metrics import DAYS_PER_MONTH
from tests.helpers import ROOT, scenario


def set_on(data, text):
    """Apply the first value of one ``--set`` to ``data``; return the number of places set."""
    param = sw.parse_set(text)
    return sw.set_path(data, param, param.values[0])


# --------------------------------------------------------------------------- paths and values


@pytest.mark.parametrize(
    "name", [*sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml")), "starter-uncertain"]
)
def test_validating_leaves_the_parsed_file_as_it_was(name):
    """sweep and sensitivity validate the file's data, then build every point from the same
    data (it is read and parsed once): validation must not change it."""
    from sim.loader import read_scenario, validate

    path = ROOT / "scenarios" / f"{name.removesuffix('-uncertain')}.yaml"
    data, lines, _ = read_scenario(path)
    if name.endswith("-uncertain"):
        data["skus"][0]["price"] = {"uncertain": {"dist": "uniform", "low": 20, "high": 30}}
    before = copy.deepcopy(data)
    validate(data, lines, path.parent)
    assert data == before


def test_star_over_a_list_sets_every_item():
    d = scenario()
    assert set_on(d, "skus.*.demand.mean_per_day=9") == 2
    assert [s["demand"]["mean_per_day"] for s in d["skus"]] == [9, 9]


def test_star_skips_items_without_the_rest_of_the_path():
    d = scenario()
    d["skus"][1]["demand"] = {"distribution": "empirical", "values": [1, 2]}
    assert set_on(d, "skus.*.demand.mean_per_day=9") == 1
    assert d["skus"][1]["demand"] == {"distribution": "empirical", "values": [1, 2]}


def test_list_index_and_mapping_keys():
    d = scenario()
    assert set_on(d, "strategies.0.replenish.wh.policy.level=50") == 1
    assert d["strategies"][0]["replenish"]["wh"]["policy"]["level"] == 50
    assert set_on(d, "skus.1.price=31.5") == 1
    assert d["skus"][1]["price"] == 31.5 and d["skus"][0]["price"] == 20.0


def test_star_over_a_mapping_sets_every_value():
    d = scenario(
        nodes={"a": {"type": "fbm", "order_cost": 1}, "b": {"type": "fbm", "order_cost": 2}}
    )
    assert set_on(d, "nodes.*.order_cost=0.25") == 2
    assert {n["order_cost"] for n in d["nodes"].values()} == {0.25}
    assert set_on(d, "strategies.0.replenish.wh.policy.level.*=7") == 2  # per-SKU mapping


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12),
        ("0.5", 0.5),
        ("true", True),
        ("poisson", "poisson"),
        ("00123", "00123"),  # stays text, as in scenario files
        ("2026-03-01", "2026-03-01"),
        ("null", None),
    ],
)
def test_values_are_yaml_scalars(text, value):
    got = sw.parse_value(text)
    assert got == value and type(got) is type(value)


def test_parse_set_splits_key_and_values():
    p = sw.parse_set("skus.*.demand.mean_per_day = 1, 2.5,4")
    assert p.key == "skus.*.demand.mean_per_day"
    assert p.parts == ("skus", "*", "demand", "mean_per_day")
    assert p.values == (1, 2.5, 4)


@pytest.mark.parametrize(
    "text",
    [
        "skus.0.price",
        "=1,2",
        "skus.0.price=",
        "skus..price=1",
        "skus.0.price=1,,2",
        "a=[1",
        "a={b: 1}",
        "a=!!int",  # PyYAML's constructors raise IndexError, KeyError, AttributeError on these
        "a=!!bool x",
        "a=!!timestamp 0",
    ],
)
def test_bad_set_syntax_is_a_user_error(text):
    with pytest.raises(UserError) as e:
        sw.parse_set(text)
    assert e.value.problems[0][0] == "--set"


def test_a_key_given_twice_is_a_user_error():
    with pytest.raises(UserError) as e:
        sw.parse_sets(["seed=1,2", "seed=3"])
    assert e.value.problems == [("--set", "seed: given twice")]


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("skus.*.demnd.mean_per_day=1", "'demnd' at skus[0]"),
        ("skus.5.price=1", "'5' at skus"),
        ("nodes.nowhere.order_cost=1", "'nowhere' at nodes"),
        ("horizon_days.x=1", "'x' at horizon_days"),
        ("skus.first.price=1", "'first' at skus"),
    ],
)
def test_a_path_that_matches_nothing_is_a_user_error(text, missing):
    with pytest.raises(UserError) as e:
        set_on(scenario(), text)
    [(where, problem)] = e.value.problems
    assert where == "--set"
    assert f"nothing matches {missing}" in problem


def test_an_invalid_grid_point_is_named():
    params = sw.parse_sets(["skus.*.demand.mean_per_day=2,-1"])
    with pytest.raises(UserError) as e:
        sw.prepare(scenario(), {}, ROOT, params)
    where, problem = e.value.problems[0]
    assert where == "--set"
    assert problem.startswith("at skus.*.demand.mean_per_day=-1: skus[0].demand.mean_per_day")


def test_grid_is_the_cartesian_product():
    params = sw.parse_sets(["seed=1,2", "replications=3,4,5"])
    assert sw.grid(params) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    scs = sw.prepare(scenario(), {}, ROOT, params)
    assert [(s.seed, s.replications) for s in scs] == [
        (1, 3),
        (1, 4),
        (1, 5),
        (2, 3),
        (2, 4),
        (2, 5),
    ]


# --------------------------------------------------------------------------- crossings


def test_crossings_interpolate_linearly_and_handle_zeros():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert sw.crossings(x, np.array([-3.0, -1.0, 1.0, 3.0, 5.0])) == [1.5]
    assert sw.crossings(x, np.array([-2.0, 0.0, 2.0, 1.0, -1.0])) == [1.0, 3.5]
    assert sw.crossings(x, np.array([-1.0, 0.0, 0.0, 1.0, 1.0])) == [1.5]
    assert sw.crossings(x, np.zeros(5)) == []
    assert sw.crossings(x, np.array([1.0, np.nan, -1.0, -1.0, -1.0])) == [1.0]


def test_break_even_interval_inverts_the_confidence_band():
    """Mean difference −1 at x = 0 and 1.75 at x = 10 (t(0.975, 3) = 3.1824): the band's upper
    curve crosses 0 before the mean, its lower curve after it (or not within the grid)."""
    x = np.array([0.0, 10.0])
    diffs = np.array([[-1.0, 1.0], [-1.0, 3.0], [-3.0, 1.0], [1.0, 2.0]])  # the last never crosses
    [(value, ci, n)] = sw.break_even(x, diffs, 0.95)
    assert value == pytest.approx(10 / 2.75)  # the mean curve goes from -1 to 1.75
    assert n == 3
    t = 3.182446305284263
    half0 = t * np.std(diffs[:, 0], ddof=1) / 2  # sd 1.633, half-width 2.599
    half1 = t * np.std(diffs[:, 1], ddof=1) / 2  # sd 0.957, half-width 1.523
    lo0, hi0, lo1, hi1 = -1 - half0, -1 + half0, 1.75 - half1, 1.75 + half1
    assert hi0 > 0  # the band holds 0 at x = 0 already: no lower bound within the grid
    assert ci.ci_low is None
    assert ci.ci_high == pytest.approx(10 * lo0 / (lo0 - lo1))  # the lower curve's crossing
    assert ci.ci_high > value
    assert hi1 > 0


# --------------------------------------------------------------------------- deterministic break-even

V_GRID = (2, 4, 6, 8)
DAYS = 56
LEVEL = 500  # order-up-to level, far above a day's demand: nothing is ever lost
NODE_A = {"order_cost": 3.0, "fixed_cost_per_month": 0.0, "holding_cost_per_unit_day": 0.02}
NODE_B = {"order_cost": 1.0, "fixed_cost_per_month": 450.0, "holding_cost_per_unit_day": 0.01}


def deterministic() -> dict:
    """One SKU demanded exactly V units every day, two strategies that differ only in node costs.

    Lead time 1 day, daily review, order-up-to LEVEL: every day starts with LEVEL on hand and
    ends with LEVEL − V; every unit sells (one customer order per unit); nothing is random.
    """

    def strategy(name, node):
        return {
            "name": name,
            "fulfil_from": [node],
            "replenish": {
                node: {
                    "lead_time_days": 1,
                    "policy": {"type": "order_up_to", "review_days": 1, "level": LEVEL},
                }
            },
        }

    return scenario(
        horizon_days=DAYS,
        replications=3,
        skus=[
            {
                "id": "A",
                "price": 20.0,
                "unit_cost": 5.0,
                "demand": {"distribution": "empirical", "values": [V_GRID[0]]},
            }
        ],
        nodes={"a": {"type": "fbm", **NODE_A}, "b": {"type": "fbm", **NODE_B}},
        strategies=[strategy("per-order", "a"), strategy("fixed-fee", "b")],
    )


def test_break_even_of_linear_profits_is_the_hand_computed_volume():
    # Over D = 56 counted days at V units a day, revenue and product cost are equal for both
    # strategies; the costs that differ are (sim/metrics.py):
    #   fulfillment = order_cost · V · D        (one order per unit, all shipped)
    #   storage     = holding · (LEVEL − V) · D (end-of-day on hand is LEVEL − V every day)
    #   fixed       = fixed_cost_per_month · D / (365.25 / 12)
    # profit(fixed-fee) − profit(per-order) = cost(per-order) − cost(fixed-fee)
    #   = D · [(3 − 1)·V + (0.02 − 0.01)·(500 − V) − 450 / 30.4375]
    #   = D · [1.99·V + 5 − 14.78439...]  = a·V − b  with a = 1.99·D, b = D·(450/30.4375 − 5)
    # so V* = (450 / 30.4375 − 5) / 1.99 = 4.9168... (between the grid values 4 and 6).
    v_star = (450 / DAYS_PER_MONTH - 0.01 * LEVEL) / (2.0 - 0.01)
    params = sw.parse_sets(["skus.0.demand.values.0=" + ",".join(map(str, V_GRID))])
    results, complete = sw.run_points(sw.prepare(deterministic(), {}, ROOT, params), workers=1)
    rep = sw.report(params, results, complete, {"name": "det", "sha256": ""})
    assert complete and rep["values"] == list(V_GRID)
    entries = {(b["metric"], b["strategy"], b["baseline"]): b for b in rep["break_even"]}
    assert set(entries) == {
        ("profit", "fixed-fee", "per-order"),
        ("total_cost", "fixed-fee", "per-order"),
    }
    for b in entries.values():
        assert b["value"] == pytest.approx(v_star, rel=1e-9)
        assert b["ci_low"] == pytest.approx(v_star, rel=1e-9)
        assert b["ci_high"] == pytest.approx(v_star, rel=1e-9)
        assert b["replications_crossing"] == 3
    # the simulated profits are exactly the hand-computed line at every grid value
    for v, point in zip(V_GRID, rep["points"], strict=True):
        a = point["strategies"]["per-order"]["metrics"]["profit"]["mean"]
        b = point["strategies"]["fixed-fee"]["metrics"]["profit"]["mean"]
        assert b - a == pytest.approx(DAYS * (1.99 * v - (450 / DAYS_PER_MONTH - 5)), rel=1e-9)


def test_every_grid_point_uses_common_random_numbers():
    params = sw.parse_sets(["strategies.0.replenish.wh.policy.level.A=10,30"])
    results, _ = sw.run_points(sw.prepare(scenario(replications=5), {}, ROOT, params), workers=1)
    demand = [r.totals[:, 0, INDEX["demand_units"]] for r in results]
    np.testing.assert_array_equal(demand[0], demand[1])  # same demand, different stock
    lost = [r.totals[:, 0, INDEX["lost_units"]] for r in results]
    assert (lost[0] >= lost[1]).all() and (lost[0] > lost[1]).any()


# --------------------------------------------------------------------------- command line


@pytest.fixture
def det_file(tmp_path):
    path = tmp_path / "det.yaml"
    path.write_text(yaml.safe_dump(deterministic(), sort_keys=False))
    return path


def invoke(*args):
    return CliRunner().invoke(cli, ["sweep", *map(str, args)], catch_exceptions=False)


def test_cli_json_has_the_spec_shape_and_writes_both_files(det_file, tmp_path):
    out = tmp_path / "out"
    done = invoke(
        det_file, "--set", "skus.0.demand.values.0=2,4,6,8", "--out", out, "--format", "json"
    )
    assert done.exit_code == 0, done.output
    rep = json.loads(done.output)
    assert json.loads((out / "sweep.json").read_text()) == rep
    assert rep["parameter"] == "skus.0.demand.values.0"
    assert rep["values"] == [2, 4, 6, 8]
    assert [p["value"] for p in rep["points"]] == [2, 4, 6, 8]
    for point in rep["points"]:
        assert set(point["strategies"]) == {"per-order", "fixed-fee"}
        for strat in point["strategies"].values():
            assert set(strat["metrics"]) == set(METRICS)
            assert set(strat["metrics"]["profit"]) == {"mean", "ci_low", "ci_high", "std"}
    assert {b["metric"] for b in rep["break_even"]} == {"profit", "total_cost"}
    for b in rep["break_even"]:
        assert set(b) == {
            "metric", "strategy", "baseline", "value", "ci_low", "ci_high", "replications_crossing",
            "better_below", "better_above",
        }  # fmt: skip
        assert (b["better_below"], b["better_above"]) == ("per-order", "fixed-fee")
    rows = list(csv.DictReader(io.StringIO((out / "sweep.csv").read_text())))
    assert len(rows) == 4 * 2 * len(METRICS)
    assert list(rows[0]) == [
        "skus.0.demand.values.0",
        "strategy",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
    ]


def test_cli_several_parameters_and_table_output(det_file, tmp_path):
    done = invoke(
        det_file,
        "--set", "skus.0.demand.values.0=2,6",
        "--set", "nodes.b.fixed_cost_per_month=450,900",
        "--reps", "2",
        "--break-even-metric", "profit",
        "--out", tmp_path / "o",
        "--format", "json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rep = json.loads(done.output)
    assert rep["parameter"] == ["skus.0.demand.values.0", "nodes.b.fixed_cost_per_month"]
    assert rep["values"] == [[2, 450], [2, 900], [6, 450], [6, 900]]
    assert rep["replications"] == 2
    [b] = rep["break_even"]  # at 900 a month the crossing (≈12.9) is beyond the grid
    assert b["at"] == {"nodes.b.fixed_cost_per_month": 450} and b["metric"] == "profit"
    table = invoke(det_file, "--set", "skus.0.demand.values.0=2,6", "--out", tmp_path / "t")
    assert table.exit_code == 0, table.output
    assert "per-order (mean ± 95% CI half-width)" in table.output
    # fixed-fee − per-order = a·V − b (test above): per-order is ahead below V* = 4.9168, and
    # the value is shown to a hundredth of the grid's spacing (2): two decimals
    assert (
        "break-even profit: per-order makes more profit below 4.92, fixed-fee above "
        "(skus.0.demand.values.0; 95% CI 4.92 – 4.92; 3 of 3 replications cross)" in table.output
    )
    assert "break-even total_cost: per-order costs less below 4.92, fixed-fee above" in (
        table.output
    )


def test_cli_bad_set_exits_2_with_a_located_message(det_file, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "simulate.py"),
            "sweep",
            str(det_file),
            "--set",
            "skus.*.nope=1",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("--set: skus.*.nope: nothing matches 'nope' at skus[0]")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


def test_prepare_leaves_the_input_data_alone():
    d = deterministic()
    before = copy.deepcopy(d)
    sw.prepare(d, {}, ROOT, sw.parse_sets(["skus.0.demand.values.0=3,5"]))
    assert d == before


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc")
def test_a_sweep_keeps_each_points_totals_only():
    """A point keeps its strategy totals, not the run's compiled model, per-SKU results or
    shipment plan (that one a temporary file: a grid of thousands would run out of file
    handles); the totals are the run's."""
    from sim import montecarlo
    from sim.model import compile_scenario

    params = sw.parse_sets(["seed=" + ",".join(map(str, range(1, 13)))])
    scs = sw.prepare(scenario(replications=2), {}, ROOT, params)
    before = len(list(Path("/proc/self/fd").iterdir()))
    results, complete = sw.run_points(scs, 1)
    assert complete and len(results) == 12
    assert all(isinstance(r, montecarlo.RunTotals) for r in results)
    assert len(list(Path("/proc/self/fd").iterdir())) <= before
    whole = montecarlo.run(compile_scenario(scs[4]))
    assert np.array_equal(results[4].totals, whole.totals) and results[4].seed == 5
    assert results[4].strategy_names == whole.model.strategy_names
