"""The ``optimize`` command: levels against exact base-stock and newsvendor theory, the searches
on known functions, common random numbers, bad input, and the SPEC §1 json shape."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from sim import montecarlo
from sim import optimize as opt
from sim.cli import cli, main
from sim.errors import UserError
from sim.loader import validate
from sim.metric_names import INDEX
from sim.model import compile_scenario
from sim.stats import interval
from tests.test_theory import base_stock_service


def base_stock(means: dict, lead: int, horizon: int, reps: int, seed: int, **strategy) -> dict:
    """Daily review, order-up-to, deterministic lead time ``lead``, Poisson demand, one node;
    warm-up ``lead`` days so every counted day is in the steady state of SPEC §3's timing."""
    return {
        "name": "optimize-test",
        "start_date": "2026-01-05",
        "horizon_days": horizon + lead,
        "warmup_days": lead,
        "replications": reps,
        "seed": seed,
        "skus": [
            {"id": k, "demand": {"distribution": "poisson", "mean_per_day": m}}
            for k, m in means.items()
        ],
        "nodes": {"wh": {"type": "fbm"}},
        "strategies": [
            {
                "name": "base-stock",
                "fulfil_from": ["wh"],
                "unmet_demand": "backorder",
                "replenish": {
                    "wh": {
                        "from": "supplier",
                        "lead_time_days": lead,
                        "policy": {
                            "type": "order_up_to",
                            "review_days": 1,
                            "level": dict.fromkeys(means, 5),
                        },
                    }
                },
                **strategy,
            }
        ],
    }


def optimize_dict(d: dict, target: str | None, workers: int = 1, strategies=()) -> dict:
    sc = validate(d)
    model = compile_scenario(sc)
    goal = opt.Objective(opt.parse_target(target) if target else None)
    chosen = opt.select_strategies(model, strategies)
    return opt.optimize(sc, model, goal, chosen, workers=workers)


# --------------------------------------------------------------------------- theory


def sku_intervals(d: dict, levels: dict, metric: str) -> dict:
    """The per-SKU interval of ``metric`` from a plain run of ``d`` at ``levels`` (the same seed
    and replications as the search's own runs, so the same numbers)."""
    d = json.loads(json.dumps(d))
    d["strategies"][0]["replenish"]["wh"]["policy"]["level"] = levels
    model = compile_scenario(validate(d))
    values = np.stack(
        [
            montecarlo.run_replication(model, r)[0].skus[INDEX[metric]]
            for r in range(d["replications"])
        ]
    )
    return {k: interval(values[:, j], model.confidence) for j, k in enumerate(levels)}


@pytest.mark.parametrize(("metric", "value"), [("cycle_service_level", 0.9), ("fill_rate", 0.97)])
def test_levels_match_base_stock_theory_per_sku(metric, value):
    """Daily base-stock, backorders, lead time L, Poisson(m): a day's demand D finds (S − X)^+
    on hand with X ~ Poisson(m(L − 1)) (derived in tests/test_theory.py), so
    CSL(S) = P(D ≤ (S − X)^+) and fill rate = E[min(D, (S − X)^+)]/m. The exact smallest S with
    the metric ≥ target is S*. The search accepts the smallest level whose interval's lower
    bound reaches the target: so its level L has lower bound ≥ target and L − 1 has not (both
    recomputed from the same replications: exact), and L is S* or, when the estimate at S*
    fell short of its lower bound's reach, S* + 1.

    The run agrees with theory within the 99.9% interval of each estimate: the reported 95%
    half-width h scaled by t(0.9995, n − 1) / t(0.975, n − 1) (the 8 checks of this test would
    all pass by chance with probability ≥ 99.2% if the engine is right)."""
    lead = 3
    means = {"A": 1.5, "B": 4.0, "C": 9.0, "D": 16.0}
    d = base_stock(means, lead, 150, 30, seed=5)
    rep = optimize_dict(d, f"{metric}>={value}")
    entries = rep["strategies"]["base-stock"]["skus"]
    levels = {sku: entries[sku]["wh"]["level"] for sku in means}
    below = sku_intervals(d, {sku: level - 1 for sku, level in levels.items()}, metric)
    at = sku_intervals(d, levels, metric)
    conf, n = 0.95, d["replications"]
    widen = stats.t.ppf(1 - 0.001 / 2, n - 1) / stats.t.ppf(0.5 + conf / 2, n - 1)
    for sku, m in means.items():

        def exact(s: int, m=m) -> float:
            served, csl = base_stock_service(m, s, lead - 1)
            return csl if metric == "cycle_service_level" else served / m

        s_star = next(s for s in range(200) if exact(s) >= value)
        e = entries[sku]["wh"]
        got = e["metric"]
        half = (got["ci_high"] - got["ci_low"]) / 2
        assert e["status"] == "ok"
        assert (got["mean"], got["ci_low"], got["ci_high"]) == (
            at[sku].mean,
            at[sku].ci_low,
            at[sku].ci_high,
        )
        assert got["ci_low"] >= value > below[sku].ci_low, (sku, e["level"], below[sku])
        assert e["level"] in (s_star, s_star + 1), (sku, e["level"], s_star)
        if e["level"] == s_star + 1:  # S* = L − 1 was estimated below its theory value
            assert below[sku].mean < exact(s_star)
            assert exact(s_star) - below[sku].mean <= widen * below[sku].half_width
        assert abs(got["mean"] - exact(e["level"])) <= widen * half  # the run agrees with theory
        assert e["safety_units"] == round(e["level"] - m * lead, 4)
        assert e["protection_demand"]["mean"] == round(m * lead, 4)


def test_profit_level_is_the_newsvendor_quantile():
    """Lost sales, lead time 1, daily review: every day starts with S on hand (the order of
    the day before lifts the position back to S and arrives overnight), so a day's profit is
    u·min(D, S) − h·(S − D)^+ with u = price − unit cost − referral fee and h the holding cost
    per unit-day: the newsvendor. Mean profit rises from S to S + 1 while F(S) < u/(u + h), so
    the best level is the smallest S with F(S) ≥ u/(u + h). The means are chosen so that F at
    S* and S* − 1 is well away from the ratio (the check would otherwise hinge on noise)."""
    skus = {"A": (3.0, 20.0, 5.0), "B": (5.0, 20.0, 5.0), "C": (15.0, 12.0, 5.0)}
    h = 1.5
    d = base_stock({k: v[0] for k, v in skus.items()}, 1, 150, 20, seed=3)
    for s in d["skus"]:
        s["price"], s["unit_cost"] = skus[s["id"]][1:]
    d["nodes"]["wh"]["holding_cost_per_unit_day"] = h
    d["strategies"][0]["unmet_demand"] = "lost"
    model = compile_scenario(validate(d))
    rep = optimize_dict(d, None)
    assert rep["objective"] == "profit" and rep["target"] is None
    for j, (sku, (m, price, cost)) in enumerate(skus.items()):
        u = price - cost - model.catalog.referral_per_unit[j]
        ratio = u / (u + h)
        s_star = int(stats.poisson.ppf(ratio, m))
        assert stats.poisson.cdf(s_star, m) - ratio > 0.02
        assert ratio - stats.poisson.cdf(s_star - 1, m) > 0.02
        e = rep["strategies"]["base-stock"]["skus"][sku]["wh"]
        assert e["level"] == s_star, (sku, e["level"], s_star)
        # the classic formula: the normal approximation μ + z·σ of the same quantile, over the
        # protection period (lead 1 + review 1 − 1 = 1 day of Poisson(m): μ = m, σ = √m)
        assert e["formula_level"] == math.ceil(m + stats.norm.ppf(ratio) * math.sqrt(m) - 1e-9)


# --------------------------------------------------------------------------- searches


def drive(search, f) -> tuple[int | None, list[int]]:
    """Run a search generator on a deterministic function; return its answer and the levels
    it asked for."""
    asked = []
    try:
        x = next(search)
        while True:
            asked.append(x)
            x = search.send(np.array([f(x)], dtype=float))
    except StopIteration as stop:
        return stop.value, asked


def smooth(answer: float, spread: float):
    """A share rising with the level that first reaches 0.9 at ``answer`` (an integer)."""
    return lambda x: stats.norm.cdf(stats.norm.ppf(0.9) + (x - answer + 0.5) / spread)


@pytest.mark.parametrize("answer", [0, 1, 7, 37, 38, 250, 999])
@pytest.mark.parametrize("start", [0, 30, 40, 500])
@pytest.mark.parametrize("spread", [0.3, 4.0, 60.0])
def test_smallest_meeting_finds_the_threshold(answer, start, spread):
    search = opt.smallest_meeting(lambda v: v[0], 0.9, start, 10.0, 1000)
    got, asked = drive(search, smooth(answer, spread))
    assert got == answer
    assert len(asked) == len(set(asked)) <= 2 * math.ceil(math.log2(1000)) + 2


@pytest.mark.parametrize("answer", [0, 5, 37, 620])
def test_smallest_meeting_on_a_step_needs_few_runs(answer):
    """A score that only says yes or no (0 or 1) leaves the interpolation nothing to go by: the
    bisection steps still bound the runs."""
    search = opt.smallest_meeting(lambda v: v[0], 0.95, 40, 10.0, 1000)
    got, asked = drive(search, lambda x: float(x >= answer))
    assert got == answer and len(asked) <= 2 * math.ceil(math.log2(1000)) + 2


def test_smallest_meeting_is_quick_when_the_model_fits():
    """Service that follows the normal model the search assumes: a handful of runs."""
    search = opt.smallest_meeting(lambda v: v[0], 0.9, 500, 40.0, 10_000)
    got, asked = drive(search, smooth(437, 40.0))
    assert got == 437 and len(asked) <= 5


def test_smallest_meeting_says_when_the_cap_is_not_enough():
    search = opt.smallest_meeting(lambda v: v[0], 0.9, 10, 2.0, 40)
    got, asked = drive(search, smooth(50, 3.0))
    assert got is None and max(asked) == 40


def test_smallest_meeting_above_a_known_failure():
    search = opt.smallest_meeting(lambda v: v[0], 0.9, 11, 4.0, 100, failing=10)
    got, asked = drive(search, smooth(12, 1.0))
    assert got == 12 and min(asked) == 11


@pytest.mark.parametrize("peak", [0, 3, 17, 64, 300])
@pytest.mark.parametrize("start", [0, 20, 200])
def test_largest_mean_finds_the_peak(peak, start):
    got, asked = drive(opt.largest_mean(start, 4, 400), lambda x: -(abs(x - peak) ** 1.5))
    assert got == peak
    assert len(asked) == len(set(asked)) <= 30


def test_largest_mean_breaks_ties_toward_the_smaller_level():
    got, _ = drive(opt.largest_mean(50, 4, 400), lambda x: min(x, 23))  # flat from 23 on
    assert got == 23


def test_largest_mean_stops_when_the_bracket_is_statistically_flat():
    """Values that differ by far less than their (paired) noise: with a confidence the search
    stops once both ends of its bracket are tied with the best level, long before it would
    pin down the exact integer."""
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 50, size=40)  # the same per replication at every level: CRN

    def values(x):
        return noise + rng.normal(0, 5, size=40) - 1e-4 * (x - 300) ** 2

    search = opt.largest_mean(100, 20, 2000, confidence=0.95)
    got, asked = drive_values(search, values)
    exact, _ = drive(opt.largest_mean(100, 20, 2000), lambda x: -1e-4 * (x - 300) ** 2)
    assert exact == 300
    assert len(asked) < 10 and abs(got - 300) < 200


def drive_values(search, values) -> tuple[int | None, list[int]]:
    asked = []
    try:
        x = next(search)
        while True:
            asked.append(x)
            x = search.send(values(x))
    except StopIteration as stop:
        return stop.value, asked


# --------------------------------------------------------------------------- evaluation


def small(**changes) -> dict:
    d = base_stock({"A": 2.0, "B": 6.0, "C": 0.5}, 2, 40, 6, seed=9)
    d.update(changes)
    return d


def test_a_candidate_at_the_scenario_levels_reproduces_run():
    """Cached inputs, the same streams: evaluating the scenario's own levels gives exactly the
    numbers of ``montecarlo.run_replication``."""
    d = small()
    d["strategies"][0]["replenish"]["wh"]["policy"]["level"] = {"A": 6, "B": 15, "C": 2}
    model = compile_scenario(validate(d))
    strategy = model.strategies[0]
    for r in range(3):
        skus, total = opt.evaluate(model, strategy, r, opt.draw_inputs(model, r))
        ref = montecarlo.run_replication(model, r)[0]
        np.testing.assert_array_equal(skus, ref.skus[list(opt.ROWS)])
        np.testing.assert_array_equal(total, ref.total)
    same = opt.with_levels(strategy, {0: np.array([6, 15, 2])}, frozenset())
    np.testing.assert_array_equal(same.initial_on_hand, strategy.initial_on_hand)


def test_with_levels_keeps_an_initial_on_hand_the_scenario_set():
    d = small()
    d["strategies"][0]["initial_on_hand"] = {"wh": 3}
    model = compile_scenario(validate(d))
    strategy = model.strategies[0]
    new = opt.with_levels(strategy, {0: np.array([9, 9, 9])}, frozenset({0}))
    assert new.lanes[0].level.tolist() == [9, 9, 9]
    assert new.initial_on_hand[0].tolist() == [3, 3, 3]
    moved = opt.with_levels(strategy, {0: np.array([9, 8, 7])}, frozenset())
    assert moved.initial_on_hand[0].tolist() == [9, 8, 7]


def test_results_do_not_depend_on_the_worker_count():
    one = optimize_dict(small(), "cycle_service_level>=0.9", workers=1)
    two = optimize_dict(small(), "cycle_service_level>=0.9", workers=2)
    assert one == two


def test_two_nodes_are_searched_one_after_the_other():
    """A backup node fed by transfer from the primary's supplier: the backup is searched first
    (the primary held at its scenario level), then the primary; the recommended combination
    meets the target in the confirmation run."""
    d = small()
    d["nodes"]["back"] = {"type": "fbm"}
    st = d["strategies"][0]
    st["fulfil_from"] = ["wh", "back"]
    st["replenish"]["back"] = {
        "from": "supplier",
        "lead_time_days": 4,
        "policy": {"type": "s_S", "reorder_point": 2, "order_up_to": 6},
    }
    st["replenish"]["wh"]["policy"]["level"] = {"A": 6, "B": 15, "C": 2}
    rep = optimize_dict(d, "fill_rate>=0.9")
    entry = rep["strategies"]["base-stock"]
    assert entry["nodes_searched"] == ["wh"]  # s_S lanes are kept as they are
    assert any("s_S policy kept" in n for n in entry["notes"])
    d["strategies"][0]["replenish"]["back"]["policy"] = {
        "type": "order_up_to",
        "review_days": 1,
        "level": 4,
    }
    rep = optimize_dict(d, "fill_rate>=0.9")
    entry = rep["strategies"]["base-stock"]
    assert entry["nodes_searched"] == ["back", "wh"]
    for sku in ("A", "B", "C"):
        assert set(entry["skus"][sku]) == {"wh", "back"}
        assert entry["skus"][sku]["wh"]["metric"]["ci_low"] >= 0.9


def test_an_unreachable_target_is_reported_and_the_level_kept():
    """No stock makes an order delivered in 3 days meet a 1-day promise: on_time_rate stays 0,
    the search gives up at its cap and the SKU keeps the scenario's level."""
    d = small()
    d["nodes"]["wh"].update(transit_days=3, promise_days=1)
    rep = optimize_dict(d, "on_time_rate>=0.5")
    entry = rep["strategies"]["base-stock"]
    for sku in ("A", "B", "C"):
        e = entry["skus"][sku]["wh"]
        assert e["status"] == "unreachable" and e["level"] is None and e["safety_units"] is None
        assert e["metric"]["mean"] == 0
    assert any("unreachable" in n for n in entry["notes"])
    assert entry["total_cost_change"]["mean"] == 0  # every level kept: the same runs


# --------------------------------------------------------------------------- command line


@pytest.fixture
def scenario_file(tmp_path):
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(small()))
    return path


def invoke(*args):
    return CliRunner().invoke(cli, ["optimize", *map(str, args)], catch_exceptions=False)


def test_cli_json_has_the_spec_shape_and_writes_both_files(scenario_file, tmp_path):
    out = tmp_path / "out"
    done = invoke(
        scenario_file, "--target", "cycle_service_level>=0.9", "--out", out, "--format", "json",
        "--workers", "1", "--reps", "5",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rep = json.loads(done.output)
    assert rep == json.loads((out / "optimize.json").read_text())
    assert rep["target"] == {"metric": "cycle_service_level", "value": 0.9}
    assert rep["replications"] == 5 and rep["complete"] is True
    strat = rep["strategies"]["base-stock"]
    for sku in ("A", "B", "C"):
        e = strat["skus"][sku]["wh"]
        assert isinstance(e["level"], int) and isinstance(e["safety_units"], float)
        assert set(e["metric"]) == {"mean", "ci_low", "ci_high"}
    assert set(strat["total_cost"]) >= {"mean", "ci_low", "ci_high"}
    rows = (out / "optimize.csv").read_text().splitlines()
    assert rows[0].startswith("strategy,sku,node,status,level,safety_units") and len(rows) == 4


def test_cli_table_output(scenario_file, tmp_path):
    done = invoke(
        scenario_file, "--target", "fill_rate>=95%", "--out", tmp_path / "o", "--workers", "1",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "fill_rate [95% CI]" in done.output and "total cost at these levels" in done.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--target: give a target"),
        (["--target", "cycle_service_level"], "--target: 'cycle_service_level': expected"),
        (["--target", "fill_rat>=0.9"], "did you mean 'fill_rate'"),
        (["--target", "profit>=1"], "--objective profit"),
        (["--target", "fill_rate<=0.9"], "only METRIC>=VALUE"),
        (["--target", "fill_rate>=1.5"], "(0, 1]"),
        (["--target", "fill_rate>=x"], "'x' is not a number"),
        (["--target", "fill_rate>=0.9", "--objective", "profit"], "not used with"),
        (["--target", "fill_rate>=0.9", "--strategy", "nope"], "--strategy: no strategy"),
        (["--target", "fill_rate>=0.9", "--reps", "1"], "--reps: optimize needs at least 2"),
    ],
)
def test_bad_input_exits_2_with_a_located_message(scenario_file, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as e:
        main(["optimize", str(scenario_file), "--out", str(tmp_path / "o"), *args])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_parse_target_reads_percentages_and_spaces():
    assert opt.parse_target(" on_time_rate >= 97.5% ") == opt.Target("on_time_rate", 0.975)
    with pytest.raises(UserError):
        opt.parse_target("lost_units>=3")
