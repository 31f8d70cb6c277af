"""Seasonal planning: the forecast_up_to policy, forecast errors, policy numbers by month and
dated node behaviour (check-in, capacity, lane legs by month).

Levels are checked against hand arithmetic on chosen days (SPEC §3: a review at the end of day
t protects days t+1 … t+L+R−1); the done-criterion of issue 13 (monthly fill rates through a
December peak) is checked against the replications' confidence intervals.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim.engine import simulate_batch
from sim.errors import UserError
from sim.loader import validate
from sim.model import compile_scenario
from sim.montecarlo import Streams, draw_inputs
from sim.stats import interval

# 2026-01-01 is day 0; 2026 is not a leap year
SEP_20, OCT_1, NOV_1, DEC_1, DEC_7 = 262, 273, 304, 334, 340

PEAK = {
    "name": "peak",
    "start_date": "2026-01-01",
    "horizon_days": 365,
    "replications": 40,
    "seed": 11,
    "skus": [
        {
            "id": "GIFT",
            "demand": {
                "distribution": "poisson",
                "mean_per_day": 10,
                "monthly": {"oct": 1.5, "nov": 2, "dec": 3},
            },
        }
    ],
    "nodes": {"home": {"type": "fbm"}},
    "strategies": [
        {
            "name": "forecast",
            "fulfil_from": ["home"],
            "replenish": {
                "home": {
                    "lead_time_days": 21,
                    "policy": {"type": "forecast_up_to", "service_level": 0.95},
                }
            },
        },
        {
            "name": "flat",
            "fulfil_from": ["home"],
            "replenish": {
                "home": {
                    "lead_time_days": 21,
                    "policy": {"type": "order_up_to", "service_level": 0.95},
                }
            },
        },
    ],
}


def peak(policy: dict | None = None, **node_lane) -> dict:
    """The peak scenario with the forecast strategy's policy (and lane keys) replaced."""
    d = copy.deepcopy(PEAK)
    lane = d["strategies"][0]["replenish"]["home"]
    if policy is not None:
        lane["policy"] = policy
    lane.update(node_lane)
    return d


def month_of_day(m: float) -> float:
    """Mean daily demand of the peak SKU by 0-based month index."""
    return 10.0 * {9: 1.5, 10: 2.0, 11: 3.0}.get(m, 1.0)


def poisson_quantile(p: float, mean: float) -> int:
    """The smallest k with P(Poisson(mean) ≤ k) ≥ p, summed term by term (in logs: e^−mean
    underflows for large means)."""
    k, total = -1, 0.0
    while total < p:
        k += 1
        total += math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
    return k


def levels(d: dict, strategy: int = 0, lane: int = 0) -> np.ndarray:
    return compile_scenario(validate(d)).strategies[strategy].lanes[lane].levels[:, 0]


# --------------------------------------------------------------------------- levels by hand


def test_forecast_level_is_the_poisson_quantile_of_the_protection_period():
    got = levels(peak())
    # t = Sep 20, L = 21, R = 1: days 263..283 = 10 September days (10/day) + 11 October (15)
    assert poisson_quantile(0.95, 10 * 10 + 11 * 15) == got[SEP_20]
    # Dec 7: days 341..361, all December (30/day)
    assert got[DEC_7] == poisson_quantile(0.95, 21 * 30)
    # day 0: days 1..21 of January
    assert got[0] == poisson_quantile(0.95, 210)
    # Dec 20 reaches past the horizon (day 364) into January 2027: 11 Dec days + 10 Jan days
    assert got[353] == poisson_quantile(0.95, 11 * 30 + 10 * 10)


def test_review_days_and_cover_and_safety_windows():
    d = peak({"type": "forecast_up_to", "review_days": 7, "safety": {"days": 3}})
    got = levels(d)
    # protection L + R − 1 = 27 days: Sep 20 → days 263..289 = 10 Sep + 17 Oct; then 3 more Oct
    assert got[SEP_20] == 10 * 10 + 17 * 15 + 3 * 15
    d = peak({"type": "forecast_up_to", "cover_days": 12.5, "safety": {"units": 7}})
    got = levels(d)
    # cover: days 263..274 (10 Sep + 2 Oct) + half of day 275 (Oct), + 7 units
    assert got[SEP_20] == math.ceil(100 + 30 + 7.5 + 7)
    d = peak({"type": "forecast_up_to"})  # the bare expectation
    assert levels(d)[DEC_7] == 630


def test_review_days_per_sku_give_each_sku_its_window():
    d = peak({"type": "forecast_up_to", "review_days": {"GIFT": 7, "default": 1}})
    d["skus"].append({"id": "MUG", "demand": {"distribution": "poisson", "mean_per_day": 2}})
    lane = compile_scenario(validate(d)).strategies[0].lanes[0]
    # GIFT: 27 days from Sep 21 (10 Sep + 17 Oct); MUG: 21 days of 2
    assert lane.levels[SEP_20].tolist() == [10 * 10 + 17 * 15, 42]


def test_random_lead_time_uses_the_mixture_normal_approximation():
    d = peak(lead_time_days={"dist": "discrete", "values": [20, 22], "probs": [0.5, 0.5]})
    got = levels(d)
    # Dec 7: W20 = 600, W22 = 660; mean 630, var = E[Var|L] + Var(E|L) = 630 + 900
    from statistics import NormalDist

    assert got[DEC_7] == math.ceil(630 + NormalDist().inv_cdf(0.95) * math.sqrt(1530))


def test_negative_binomial_sum_is_exact_and_prime_uplift_scales():
    d = peak()
    d["skus"][0]["demand"] = {
        "distribution": "negative_binomial",
        "mean_per_day": 10,
        "variance_to_mean": 3,
        "monthly": {"dec": 3},
    }
    from scipy import stats

    # 21 December days of mean 30: size Σ n_s = 630 / (3 − 1), p = 1/3
    assert levels(d)[DEC_7] == stats.nbinom.ppf(0.95, 315, 1 / 3)
    d = peak()
    d["skus"][0]["demand"]["prime_uplift"] = 0.2
    d["nodes"]["home"]["prime"] = True
    assert levels(d)[DEC_7] == poisson_quantile(0.95, 21 * 30 * 1.2)


def test_feeder_forecast_is_downstream_demand_shifted_by_its_lead():
    d = peak({"type": "forecast_up_to"}, lead_time_days=5)
    d["nodes"]["fba"] = {"type": "fba", "amazon_fees": False, "check_in_days": 2}
    st = d["strategies"][0]
    st["fulfil_from"] = ["fba"]
    st["replenish"] = {
        "fba": {"from": "home", "lead_time_days": 5, "policy": {"type": "forecast_up_to"}},
        "home": {"lead_time_days": 10, "policy": {"type": "forecast_up_to"}},
    }
    st["initial_on_hand"] = {"home": 100}
    model = compile_scenario(validate(d)).strategies[0]
    by_node = {model.nodes[lane.node].name: lane for lane in model.lanes}
    # fba: lead 5 + check-in 2 = 7 days: Sep 20 → days 263..269, all September
    assert by_node["fba"].levels[SEP_20, 0] == 70
    # home: days 263..272 of the fba's demand 7 days later: days 270..279 = 3 Sep + 7 Oct
    assert by_node["home"].levels[SEP_20, 0] == 3 * 10 + 7 * 15
    assert model.lanes[0].policy == "forecast_up_to"


# --------------------------------------------------------------------------- the done criterion


def monthly_fill_rates(d: dict, strategy: int) -> np.ndarray:
    """(replications, 12) fill rate of each calendar month of the run, from the traces."""
    model = compile_scenario(validate(d))
    st = model.strategies[strategy]
    reps = list(range(model.replications))
    inputs = [draw_inputs(model, r) for r in reps]
    leads = []
    for got in inputs:
        lead = {}
        for lane in st.lanes:
            lead[lane.stream] = lane.sample_lead(got.uniforms[lane.stream])
        leads.append(lead)
    traces = simulate_batch(
        st,
        model.catalog,
        [g.demand for g in inputs],
        leads,
        [Streams(model.seed, r) for r in reps],
        model.calendar.start_weekday,
        check=True,
    )
    months = model.calendar.months()
    out = np.zeros((len(reps), 12))
    for r, trace in enumerate(traces):
        sold = np.bincount(months, weights=trace.served.sum(axis=(1, 2)), minlength=12)
        asked = np.bincount(months, weights=trace.demand.sum(axis=1), minlength=12)
        out[r] = sold / asked
    return out


def test_forecast_keeps_every_month_at_the_service_level_through_the_peak():
    d = peak()
    forecast = monthly_fill_rates(d, 0)
    flat = monthly_fill_rates(d, 1)
    for m in range(12):
        ci = interval(forecast[:, m], 0.95)
        # not significantly below 0.95 in any month
        assert ci.ci_high >= 0.95, (m, ci)
    dec = interval(flat[:, 11], 0.95)
    assert dec.ci_high < 0.80, dec  # the flat level runs out every December
    assert interval(forecast[:, 11], 0.95).ci_low > dec.ci_high + 0.1


# --------------------------------------------------------------------------- forecast error


def error_scenario(cv: float, bias: float = 0.0) -> dict:
    d = peak()
    pol = {
        "type": "forecast_up_to",
        "service_level": 0.95,
        "forecast_error": {"cv": cv, "bias": bias},
    }
    d["strategies"][0]["replenish"]["home"]["policy"] = pol
    d["strategies"][1] = copy.deepcopy(d["strategies"][0])
    d["strategies"][1]["name"] = "twin"
    d["strategies"][1]["replenish"]["home"]["policy"]["service_level"] = 0.9
    return d


def test_forecast_error_draws_per_month_and_sku_from_a_shared_stream():
    model = compile_scenario(validate(error_scenario(0.25)))
    a, b = (st.lanes[0].forecast for st in model.strategies)
    streams = Streams(model.seed, 3)
    la, lb = a.replication_levels(streams), b.replication_levels(streams)
    exact = model.strategies[0].lanes[0].levels
    assert not np.array_equal(la, exact)
    # the same errors for both strategies: the 0.9 level is below the 0.95 one every day
    assert (lb <= la).all()
    # bare expectation with a known error: the error of December scales December's days
    z = Streams(model.seed, 3).new("forecast_error", "GIFT").standard_normal(13)
    s2 = math.log1p(0.25**2)
    e = np.exp(-s2 / 2 + math.sqrt(s2) * z)
    d = error_scenario(0.25)
    d["strategies"][0]["replenish"]["home"]["policy"].pop("service_level")
    fc = compile_scenario(validate(d)).strategies[0].lanes[0].forecast
    got = fc.replication_levels(Streams(model.seed, 3))
    assert got[DEC_7, 0] == math.ceil(630 * e[11] - 1e-9)
    # Dec 20: 11 December days + 10 days of January 2027 (the 13th month of the run)
    assert got[353, 0] == math.ceil(330 * e[11] + 100 * e[12] - 1e-9)


def test_forecast_error_has_the_stated_mean_and_cv():
    d = error_scenario(0.3, bias=0.1)
    d["strategies"][0]["replenish"]["home"]["policy"].pop("service_level")
    fc = compile_scenario(validate(d)).strategies[0].lanes[0].forecast
    # the level of a day whose window lies in one month is 21 × mean × error (rounded up)
    ratios = []
    for r in range(400):
        lv = fc.replication_levels(Streams(7, r))
        ratios.append(lv[DEC_7, 0] / 630)
    ratios = np.array(ratios)
    ci = interval(ratios, 0.99)
    assert ci.ci_low - 1 / 630 <= 1.1 <= ci.ci_high + 1 / 630
    # the sd, 0.3 × 1.1: the relative standard error of a sample sd is about
    # sqrt((κ + 2) / 4n) with κ the excess kurtosis (1.57 for a lognormal of cv 0.3): 4.7%
    # for n = 400, so 15% is more than three standard errors
    assert abs(ratios.std(ddof=1) / 0.33 - 1) < 0.15


def test_no_forecast_error_gives_the_exact_levels_and_a_zero_cv_changes_nothing():
    model = compile_scenario(validate(error_scenario(0.0)))
    fc = model.strategies[0].lanes[0].forecast
    assert np.array_equal(fc.replication_levels(Streams(1, 0)), model.strategies[0].lanes[0].levels)


# --------------------------------------------------------------------------- numbers by month


def test_policy_numbers_by_month_compile_to_days():
    d = peak({"type": "order_up_to", "level": {"default": 300, "nov": 700, "dec": 900}})
    got = levels(d)
    assert got[0] == 300 and got[NOV_1] == 700 and got[DEC_7] == 900 and got[NOV_1 - 1] == 300
    d["skus"].append({"id": "MUG", "demand": {"distribution": "poisson", "mean_per_day": 1}})
    d["strategies"][0]["replenish"]["home"]["policy"]["level"] = {
        "GIFT": {"default": 300, "dec": 900},
        "default": 20,
    }
    lane = compile_scenario(validate(d)).strategies[0].lanes[0]
    assert lane.levels[DEC_7].tolist() == [900, 20] and lane.levels[0].tolist() == [300, 20]
    assert lane.initial_level.tolist() == [300, 20]
    # s_Q by month: reorder point and quantity per day
    d = peak({"type": "s_Q", "reorder_point": {"default": 50, "dec": 200}, "quantity": 100})
    lane = compile_scenario(validate(d)).strategies[0].lanes[0]
    assert lane.reorder_days[DEC_7, 0] == 200 and lane.quantity_days[DEC_7, 0] == 100
    # a service level by month sizes the order_up_to formula month by month
    d = peak({"type": "order_up_to", "service_level": {"default": 0.5, "dec": 0.95}})
    got = levels(d)
    d = peak({"type": "order_up_to", "service_level": 0.95})
    flat = compile_scenario(validate(d)).strategies[0].lanes[0].level
    assert got[DEC_7] == flat[0] and got[0] < got[DEC_7]


def test_forecast_service_level_by_month():
    d = peak({"type": "forecast_up_to", "service_level": {"default": 0.8, "dec": 0.99}})
    got = levels(d)
    assert got[DEC_7] == poisson_quantile(0.99, 630)
    assert got[0] == poisson_quantile(0.8, 210)


def test_engine_orders_up_to_the_day_level():
    d = peak({"type": "order_up_to", "level": {"default": 30, "dec": 90}}, lead_time_days=1)
    d["skus"][0]["demand"] = {"distribution": "empirical", "values": [10]}
    d["strategies"] = d["strategies"][:1]
    d["replications"] = 1
    model = compile_scenario(validate(d))
    st = model.strategies[0]
    got = draw_inputs(model, 0)
    lead = {st.lanes[0].stream: st.lanes[0].sample_lead(got.uniforms[st.lanes[0].stream])}
    (trace,) = simulate_batch(st, model.catalog, [got.demand], [lead], [Streams(11, 0)], 3)
    orders = trace.orders[0, :, 0]
    # level 30, demand 10/day: each review orders the day's 10 units back
    assert orders[DEC_1 - 1] == 10
    # Dec 1 (day 334) is the first December review: IP = 30 − 10 = 20 → order 70
    assert orders[DEC_1] == 70 and orders[DEC_1 + 1] == 10


@pytest.mark.parametrize(
    "value, where, problem",
    [
        ({"nov": 700}, "level", "no value for jan"),
        ({"GIFT": 1, "dec": 900}, "level", "mixes months and SKU ids"),
        ({"GIFT": {"default": 1, "xmas": 5}}, "level.GIFT.xmas", "'xmas' is not a month"),
    ],
)
def test_month_mapping_mistakes_are_located(value, where, problem):
    d = peak({"type": "order_up_to", "level": value})
    with pytest.raises(UserError) as e:
        validate(d)
    text = str(e.value)
    assert f"replenish.home.policy.{where}" in text and problem in text


def test_a_sku_named_like_a_month_is_reported():
    d = peak({"type": "order_up_to", "level": {"dec": 5, "default": 1}})
    d["skus"][0]["id"] = "dec"
    with pytest.raises(UserError) as e:
        validate(d)
    assert "'dec' is both a month and a SKU id" in str(e.value)
    d["skus"][0]["id"] = "DEC"  # ids are case-sensitive: no clash
    validate(d)


# --------------------------------------------------------------------------- dated node behaviour


def test_lane_leg_check_in_and_capacity_by_month():
    d = peak({"type": "forecast_up_to"})
    lane = d["strategies"][0]["replenish"]["home"]
    del lane["lead_time_days"]
    lane["lane"] = "sea"
    d["lanes"] = {"sea": {"legs": [{"name": "ocean", "days": {"default": 20, "dec": 30}}]}}
    model = compile_scenario(validate(d))
    ln = model.strategies[0].lanes[0]
    u = np.full(365, 0.5)
    lead = ln.sample_lead(u)
    assert lead[DEC_1] == 30 and lead[DEC_1 - 1] == 20
    # the forecast protects December orders over 30 days: Dec 7 → 30 days from Dec 8
    assert ln.levels[DEC_7, 0] == 24 * 30 + 6 * 10
    # Nov 20 (day 323): 20 days 324..343 = 10 Nov (20/day) + 10 Dec (30)
    assert ln.levels[DEC_1 - 11, 0] == 10 * 20 + 10 * 30
    # check-in by month of arrival at Amazon, capacity by month of the order day
    d["nodes"]["fba"] = {
        "type": "fba",
        "amazon_fees": False,
        "check_in_days": {"default": 2, "dec": 9},
        "capacity_cubic_feet": {"default": 100, "nov": 40, "dec": 40},
    }
    d["skus"][0].update(length_in=12, width_in=12, height_in=12)
    d["strategies"][0]["fulfil_from"] = ["fba"]
    d["strategies"][0]["replenish"] = {"fba": d["strategies"][0]["replenish"]["home"]}
    ln = compile_scenario(validate(d)).strategies[0].lanes[0]
    lead = ln.sample_lead(u)
    check_in = ln.sample_check_in(u, lead)
    assert check_in[DEC_1 - 20] == 9  # ordered Nov 11 (lead 20): at Amazon on Dec 1
    assert check_in[DEC_1 - 21] == 2  # ordered Nov 10: at Amazon on Nov 30
    assert ln.capacity_days[NOV_1] == 40 and ln.capacity_days[0] == 100
    # the forecast of a Nov 11 order protects lead 20 + December check-in 9 = 29 days:
    # days 315..343 = 19 November days (20/day) + 10 December days (30/day)
    assert ln.levels[DEC_1 - 20, 0] == 19 * 20 + 10 * 30


def test_capacity_by_month_cuts_orders_in_the_tight_month():
    d = peak({"type": "order_up_to", "level": 100}, lead_time_days=1)
    d["skus"][0] = {
        "id": "GIFT",
        "length_in": 12,
        "width_in": 12,
        "height_in": 12,  # one cubic foot a unit
        "demand": {"distribution": "empirical", "values": [10]},
    }
    d["nodes"]["fba"] = {
        "type": "fba",
        "amazon_fees": False,
        "check_in_days": 0,
        "capacity_cubic_feet": {"default": 1000, "dec": 95},
    }
    d["strategies"] = d["strategies"][:1]
    d["strategies"][0]["fulfil_from"] = ["fba"]
    d["strategies"][0]["replenish"] = {"fba": d["strategies"][0]["replenish"]["home"]}
    model = compile_scenario(validate(d))
    st = model.strategies[0]
    got = draw_inputs(model, 0)
    lane = st.lanes[0]
    lead = {lane.stream: lane.sample_lead(got.uniforms[lane.stream])}
    (trace,) = simulate_batch(st, model.catalog, [got.demand], [lead], [Streams(11, 0)], 3)
    orders = trace.orders[0, :, 0]
    # position 90 after the day's demand: November has room for the 10 units (1000 cu ft);
    # December's 95 leaves room for 5 (the order is cut to fit)
    assert orders[DEC_1 - 1] == 10 and orders[DEC_1] == 5 and orders[DEC_1 + 1] == 10


@pytest.mark.parametrize("unmet", ["lost", "backorder"])
def test_forecast_with_transfers_and_errors_runs_with_the_stock_check(unmet):
    from sim import montecarlo

    d = peak({"type": "forecast_up_to", "service_level": 0.9})
    d["replications"] = 4
    d["nodes"]["fba"] = {"type": "fba", "amazon_fees": False}
    d["nodes"]["home"]["prime"] = False
    st = d["strategies"][0]
    st["unmet_demand"] = unmet
    st["fulfil_from"] = ["fba", "home"]
    st["replenish"] = {
        "fba": {
            "from": "home",
            "lead_time_days": {"dist": "uniform", "low": 3, "high": 6},
            "policy": {
                "type": "forecast_up_to",
                "review_days": 7,
                "safety": {"days": 5},
                "forecast_error": {"cv": 0.3},
            },
        },
        "home": {
            "lead_time_days": 21,
            "policy": {"type": "forecast_up_to", "service_level": 0.95},
        },
    }
    model = compile_scenario(validate(d))
    assert model.check  # conftest: stock conservation checked every day
    results = montecarlo.run(model, workers=1)
    again = montecarlo.run(model, workers=1)
    assert np.array_equal(results.totals, again.totals)


# --------------------------------------------------------------------------- optimize --every-month


def test_every_month_search_finds_the_smallest_grid_service_level():
    from sim import season_search as ss

    d = peak()
    d["replications"] = 20
    scenario = validate(d)
    model = compile_scenario(scenario)
    entry = ss.search(scenario, model, 0, "fill_rate", 0.95)
    got = entry["skus"]["GIFT"]["home"]
    assert got["status"] == "ok" and got["metric"]["ci_low"] >= 0.95
    k = ss.GRID.index(got["service_level"])
    assert k > 0
    inputs = [draw_inputs(model, r) for r in range(model.replications)]
    for p, meets in ((ss.GRID[k], True), (ss.GRID[k - 1], False)):
        st = ss._with_service(model.strategies[0], 0, np.array([p]), fixed=False)
        values, labels = ss.month_metric(model, st, inputs, "fill_rate")
        low = ss.worst_months(values, labels, model.confidence)[0][0]
        assert (low >= 0.95) == meets, (p, low)
    # one value per calendar month of the counted days, labelled YYYY-MM
    assert labels[11] == "2026-12" and len(labels) == 12
    # a strategy without forecast lanes says so
    assert ss.search(scenario, model, 1, "fill_rate", 0.95)["notes"]


def test_every_month_needs_a_fill_rate_or_cycle_service_target(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    path = tmp_path / "peak.yaml"
    path.write_text(yaml.safe_dump(peak()))
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "simulate.py"), "optimize", str(path), "--target",
         "on_time_rate>=0.9", "--every-month", "--reps", "3"],
        capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    assert (
        done.returncode == 2 and "--every-month" in done.stderr and "Traceback" not in done.stderr
    )


def test_quantiles_are_scipy_stats_bit_for_bit():
    """``sim.forecast`` computes norm/poisson/nbinom ``ppf`` from scipy.special (scipy.stats is
    slow to import): the same numbers, bit for bit, over levels, means and spreads."""
    from scipy import stats

    from sim.forecast import _nbinom_ppf, _norm_ppf, _poisson_ppf

    rng = np.random.default_rng(7)
    q = np.concatenate(
        [[1e-12, 1e-6, 0.001, 0.5, 0.9, 0.95, 0.975, 0.99, 0.999999], rng.uniform(0, 1, 500)]
    )
    mu = np.concatenate(
        [[0.0, 1e-300, 1e-9, 0.3, 1.0, 7.5, 123.4, 1e5, 1e7], 10 ** rng.uniform(-4, 6, 500)]
    )
    qq, mm = np.meshgrid(q, mu)

    def same(a, b):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a.view(np.int64), b.view(np.int64))  # bits: -0.0, nan too

    same(_norm_ppf(qq), stats.norm.ppf(qq))
    same(_poisson_ppf(qq.ravel(), mm.ravel()), stats.poisson.ppf(qq.ravel(), mm.ravel()))
    for r in (1.0 + 1e-9, 1.5, 2.0, 17.0, 1e6):
        size = np.maximum(mm.ravel() / (r - 1.0), 1e-300)
        same(_nbinom_ppf(qq.ravel(), size, 1.0 / r), stats.nbinom.ppf(qq.ravel(), size, 1.0 / r))
    same(_poisson_ppf(np.array([0.5, 0.5]), np.array([-1.0, np.nan])), np.full(2, np.nan))


def test_negative_binomial_quantile_without_scipys_private_function(monkeypatch):
    """Should a scipy lack the private ufunc, scipy.stats gives the quantiles: the same."""
    from scipy import stats

    import sim.forecast
    from sim.forecast import _nbinom_ppf

    q = np.array([0.001, 0.5, 0.9, 0.95, 0.999])
    size = np.array([0.2, 1.0, 3.5, 40.0, 1e4])
    want = stats.nbinom.ppf(q, size, 0.4)
    monkeypatch.setattr(sim.forecast, "_scipy_nbinom_ppf", lambda: None)
    got = _nbinom_ppf(q, size, 0.4)
    assert np.array_equal(got, want) and got.dtype == want.dtype
