"""Uncertain numbers: ``{uncertain: {dist, …}}`` drawn once per replication, shared by strategies."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from sim import montecarlo
from sim.cli import cli
from sim.errors import UserError
from sim.loader import validate
from sim.metric_names import INDEX
from sim.model import compile_scenario
from sim.stats import t_quantile
from tests.helpers import ROOT, scenario
from tests.test_sweep import deterministic


def uncertain(**spec) -> dict:
    return {"uncertain": spec}


def two_strategies(price) -> dict:
    """The deterministic two-strategy scenario of test_sweep (one SKU, 2 units every day, all
    sold) with ``price`` as SKU A's price."""
    d = deterministic()
    d["skus"][0]["price"] = price
    d["replications"] = 40
    return d


def test_uniform_draws_have_the_uniform_mean_and_stay_in_range():
    sc = validate(two_strategies(uncertain(dist="uniform", low=10, high=30)))
    n = 4000
    draws = np.array([sc.uncertainty.values(sc.seed, r)[0] for r in range(n)])
    assert draws.min() >= 10 and draws.max() <= 30
    # mean 20, sd 20/sqrt(12); 99.9% two-sided interval of the sample mean
    tol = t_quantile(0.9995, n - 1) * (20 / math.sqrt(12)) / math.sqrt(n)
    assert abs(draws.mean() - 20) < tol
    # the variance too: var of U(10, 30) = 400/12; the sample variance's sd ≈ sqrt((μ4 − σ⁴)/n)
    # with μ4 = (b − a)⁴ / 80 for a uniform
    var, mu4 = 400 / 12, 20**4 / 80
    assert abs(draws.var(ddof=1) - var) < 3.3 * math.sqrt((mu4 - var**2) / n)


def test_triangular_and_truncated_normal_draws():
    d = two_strategies(uncertain(dist="triangular", low=10, mode=12, high=20))
    d["skus"][0]["unit_cost"] = uncertain(dist="normal", mean=5, sd=2, low=4)
    sc = validate(d)
    n = 4000
    draws = np.array([sc.uncertainty.values(sc.seed, r) for r in range(n)])
    tri, norm = draws[:, 0], draws[:, 1]
    # triangular: mean (10 + 12 + 20)/3 = 14, variance (a²+b²+c²−ab−ac−bc)/18
    var = (100 + 144 + 400 - 120 - 200 - 240) / 18
    assert tri.min() >= 10 and tri.max() <= 20
    assert abs(tri.mean() - 14) < t_quantile(0.9995, n - 1) * math.sqrt(var / n)
    # normal(5, 2) cut below at 4: mean 5 + 2·φ(α)/(1 − Φ(α)) with α = −0.5
    alpha = -0.5
    phi = math.exp(-(alpha**2) / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(alpha / math.sqrt(2)))
    mean = 5 + 2 * phi / (1 - big_phi)
    assert norm.min() >= 4
    assert abs(norm.mean() - mean) < t_quantile(0.9995, n - 1) * norm.std(ddof=1) / math.sqrt(n)


def test_every_strategy_of_a_replication_sells_at_the_same_drawn_price():
    d = two_strategies(uncertain(dist="uniform", low=10, high=30))
    sc = validate(d)
    results = montecarlo.run(compile_scenario(sc), workers=1)
    revenue = results.totals[:, :, INDEX["revenue"]]
    sold = results.totals[:, :, INDEX["sold_units"]]
    price = revenue / sold  # (replications, strategies)
    drawn = [sc.uncertainty.values(sc.seed, r)[0] for r in range(sc.replications)]
    np.testing.assert_allclose(price[:, 0], drawn, rtol=1e-12)
    np.testing.assert_allclose(price[:, 1], drawn, rtol=1e-12)
    assert np.ptp(drawn) > 5  # the price did vary between replications


def test_same_seed_same_numbers_with_one_and_two_workers():
    d = two_strategies(uncertain(dist="uniform", low=10, high=30))
    d["skus"][0]["demand"] = {
        "distribution": "poisson",
        "mean_per_day": uncertain(dist="triangular", low=1, mode=2, high=4),
    }
    model = compile_scenario(validate(d))
    one = montecarlo.run(model, workers=1)
    two = montecarlo.run(model, workers=2)
    np.testing.assert_array_equal(one.totals, two.totals)


def test_adding_an_uncertain_input_changes_no_other_draw():
    d = two_strategies(uncertain(dist="uniform", low=10, high=30))
    first = validate(d).uncertainty
    d2 = copy.deepcopy(d)
    d2["skus"][0]["unit_cost"] = uncertain(dist="uniform", low=1, high=2)
    second = validate(d2).uncertainty
    for r in range(20):
        assert first.values(7, r)[0] == second.values(7, r)[0]


def test_a_point_range_gives_the_numbers_of_the_certain_scenario():
    # the uncertain path (one model per replication, no batching) against the certain one
    certain = scenario(replications=6)
    point = copy.deepcopy(certain)
    point["skus"][0]["demand"]["mean_per_day"] = uncertain(dist="uniform", low=4, high=4)
    a = montecarlo.run(compile_scenario(validate(certain)), workers=1)
    b_model = compile_scenario(validate(point))
    assert b_model.uncertain is not None
    b = montecarlo.run(b_model, workers=1)
    np.testing.assert_array_equal(a.totals, b.totals)
    assert compile_scenario(validate(certain)).uncertain is None


def test_a_whole_number_key_draws_whole_numbers():
    d = two_strategies(20.0)
    d["nodes"]["a"]["handling_days"] = uncertain(dist="uniform", low=0, high=3)
    sc = validate(d)
    (inp,) = sc.uncertainty.inputs
    assert inp.integer
    values = {sc.uncertainty.values(sc.seed, r)[0] for r in range(200)}
    assert values == {0, 1, 2, 3}


def test_summary_and_table_name_the_uncertain_inputs(tmp_path):
    path = tmp_path / "u.yaml"
    d = two_strategies(uncertain(dist="uniform", low=10, high=30))
    d["replications"] = 4
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["run", str(path), "--out", str(out), "--workers", "1"])
    assert done.exit_code == 0, done.output
    assert "skus[0].price: uniform 10 … 30" in done.output
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["uncertain"] == {"skus[0].price": {"dist": "uniform", "low": 10, "high": 30}}
    assert "Uncertain inputs" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "where, value, loc, problem",
    [
        (("skus", 0, "price"), uncertain(dist="beta", low=1, high=2), "skus[0].price.uncertain.dist",
         "expected one of: uniform, triangular, normal"),
        (("skus", 0, "price"), uncertain(dist="uniform", low=3, high=2), "skus[0].price.uncertain",
         "needs low ≤ high"),
        (("skus", 0, "price"), uncertain(dist="uniform", low=1), "skus[0].price.uncertain.high",
         "required key is missing"),
        (("skus", 0, "price"), uncertain(dist="normal", mean=1, sd=0), "skus[0].price.uncertain",
         "sd must be > 0"),
        (("skus", 0, "price"), uncertain(dist="uniform", low="a", high=2),
         "skus[0].price.uncertain.low", "expected a number"),
        (("skus", 0, "price"), uncertain(dist="uniform", low=1, high=2, mode=1),
         "skus[0].price.uncertain.mode", "unknown key"),
        (("skus", 0, "price"), uncertain(dist="uniform", low=-1, high=5), "skus[0].price.uncertain",
         "at its lowest value -1: skus[0].price"),
        (("skus", 0, "price"), uncertain(dist="uniform", low=-5, high=2), "skus[0].price.uncertain",
         "at its centre -1.5: skus[0].price"),
        (("skus", 0, "price"), uncertain(dist="normal", mean=5, sd=1), "skus[0].price.uncertain",
         "at its lowest value -1: skus[0].price"),
        (("seed",), uncertain(dist="uniform", low=1, high=2), "seed", "cannot be uncertain"),
        (("skus", 0, "id"), uncertain(dist="uniform", low=1, high=2), "skus[0].id.uncertain",
         "this key holds text, not a number"),
    ],
)  # fmt: skip
def test_bad_uncertain_numbers_exit_2_with_location(tmp_path, where, value, loc, problem):
    d = two_strategies(20.0)
    node = d
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    done = CliRunner().invoke(cli, ["validate", str(path)])
    assert isinstance(done.exception, UserError), done.output
    problems = done.exception.problems
    assert any(a.startswith(loc) and problem in b for a, b in problems), problems


def test_exit_code_is_2(tmp_path):
    import subprocess
    import sys

    d = two_strategies(uncertain(dist="beta", low=1, high=2))
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    done = subprocess.run(
        [sys.executable, str(ROOT / "simulate.py"), "validate", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("skus[0].price.uncertain.dist")


def test_optimize_refuses_uncertain_numbers(tmp_path):
    d = two_strategies(uncertain(dist="uniform", low=10, high=30))
    path = tmp_path / "u.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    args = ["optimize", str(path), "--target", "cycle_service_level>=0.9"]
    done = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "o")])
    assert isinstance(done.exception, UserError)
    assert "optimize does not draw uncertain numbers" in done.exception.problems[0][1]
