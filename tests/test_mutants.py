"""Tests that catch a wrong number: one per behaviour that a planted one-line bug changed
without the rest of the suite noticing (issue 17, item 12).

Each test pins a rule by a number computed by hand (or by scipy), on a deterministic scenario
(constant demand, constant lead and transit times, one replication) unless it says otherwise.
Every expected value is derived in the test's docstring; the mutation each test was checked
against is named there too.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from scipy import stats as sst

from sim import montecarlo
from sim.loader import validate
from sim.metric_names import INDEX, LOWER_IS_BETTER, METRICS, RATES
from sim.model import DAYS_PER_MONTH, compile_scenario
from sim.results import csv_text, summarize, write_results
from sim.stats import paired
from tests.helpers import run_dict
from tests.test_modes import const, replicate, scen, sku, strategy, up_to

# --------------------------------------------------------------------------- fill rate


def test_strategy_fill_rate_is_total_served_over_total_demanded():
    """Lost sales, no replenishment, 10 days. A: demand 10 a day, 50 on hand → 50 of 100 served
    the same day (0.5); B: demand 1 a day, 1000 on hand → 10 of 10 (1.0). The strategy's fill
    rate is (50 + 10) / (100 + 10) = 6/11, not the mean of the SKUs' ratios (0.75)."""
    a = sku(10)
    b = sku(1) | {"id": "B"}
    d = scen([a, b], {"wh": {"type": "fbm"}}, [strategy(["wh"], initial={"A": 50, "B": 1000})], 10)
    d["strategies"][0]["initial_on_hand"] = {"wh": {"A": 50, "B": 1000}}
    (r,) = replicate(d)
    assert r.m["fill_rate"] == pytest.approx(60 / 110, rel=1e-12)
    model = compile_scenario(validate(d))
    (measured,) = montecarlo.run_replication(model, 0)
    assert measured.skus[INDEX["fill_rate"]].tolist() == [0.5, 1.0]
    # and the summary's strategy figure is the mean over replications of that ratio
    d["replications"] = 3
    res = run_dict(d)
    s = summarize(res, "t", "0" * 64, 10, 0)
    assert s["strategies"]["s"]["metrics"]["fill_rate"]["mean"] == pytest.approx(60 / 110)


# --------------------------------------------------------------------------- warm-up


def backorders_through_warmup() -> dict:
    """Backorders, demand 1 a day, nothing on hand, order-up-to 1 reviewed daily with lead 3,
    8 days with 2 of warm-up (see the test for the hand simulation)."""
    st = strategy(["wh"], {"wh": up_to(1, lead=3)}, initial={"wh": 0}, unmet_demand="backorder")
    return scen([sku(1)], {"wh": {"type": "fbm"}}, [st], 8, warmup_days=2)


def test_warmup_backorder_fills_are_judged_by_the_order_day():
    """Position = on hand + on order − backorders. Day 0: nothing on hand, the order waits
    (od0), position −1, the review orders 2 (due day 3). Days 1, 2: od1, od2 wait, 1 ordered
    each (due days 4, 5). Day 3: 2 arrive and fill od0 and od1; today's order od3 waits. From
    then on each day's single arrival fills the oldest order: day 4 od2, day 5 od3, day 6 od4,
    day 7 od5. Counted orders (days 2-7): 6 units, none served the same day; filled within the
    horizon: od2-od5 = 4 units (od0 and od1 were filled on day 3 but were placed in the
    warm-up, so they are not counted: judging by the fill day would give 6).
    End-of-day backorders: 1, 2, 3, 2, 2, 2, 2, 2; counted days 2-7: 13/6 a day (the whole
    horizon would give 16/8 = 2)."""
    (r,) = replicate(backorders_through_warmup())
    t = r.trace
    assert [(f.day, f.order_day, int(f.units[0])) for f in t.fills] == [
        (3, 0, 1),
        (3, 1, 1),
        (4, 2, 1),
        (5, 3, 1),
        (6, 4, 1),
        (7, 5, 1),
    ]
    assert t.backorders[:, 0].tolist() == [1, 2, 3, 2, 2, 2, 2, 2]
    assert r.m["demand_units"] == 6
    assert r.m["sold_units"] == 4
    assert r.m["backordered_units"] == 6
    assert r.m["fill_rate"] == 0
    assert r.m["orders_shipped"] == 4
    assert r.m["avg_backorder_units"] == pytest.approx(13 / 6, rel=1e-12)
    assert r.m["revenue"] == pytest.approx(4 * 20.0)


def test_fixed_monthly_cost_counts_only_the_days_after_warmup():
    """fixed_cost_per_month 304.375 over a month of 365.25/12 = 30.4375 days is 10.00 a day;
    10 days with 4 of warm-up: 6 counted days → 60.00 (the whole horizon would give 100)."""
    assert DAYS_PER_MONTH == 30.4375
    wh = {"type": "fbm", "fixed_cost_per_month": 304.375}
    d = scen([sku(1)], {"wh": wh}, [strategy(["wh"], initial={"wh": 100})], 10, warmup_days=4)
    (r,) = replicate(d)
    assert r.m["cost_fixed"] == pytest.approx(60.0, rel=1e-12)
    d["warmup_days"] = 0
    (r,) = replicate(d)
    assert r.m["cost_fixed"] == pytest.approx(100.0, rel=1e-12)


def test_fixed_monthly_cost_is_split_by_units_served():
    """Two SKUs from one node: 3 and 1 units a day, 10 days, $10 a day → the $100 falls 3 : 1
    on them (75 and 25)."""
    wh = {"type": "fbm", "fixed_cost_per_month": 304.375}
    b = sku(1) | {"id": "B"}
    st = strategy(["wh"], initial={"wh": {"A": 100, "B": 100}})
    model = compile_scenario(validate(scen([sku(3), b], {"wh": wh}, [st], 10)))
    (measured,) = montecarlo.run_replication(model, 0)
    assert measured.skus[INDEX["cost_fixed"]] == pytest.approx([75.0, 25.0], rel=1e-12)


# --------------------------------------------------------------------------- lost margin


def test_lost_margin_is_price_minus_unit_cost_per_lost_unit():
    """Price 20, unit cost 6, demand 3 a day, 10 on hand, 5 days, lost sales: 10 sold, 5 lost
    → lost margin (20 − 6) · 5 = 70. With backorders nothing is lost: 0."""
    d = scen([sku(3)], {"wh": {"type": "fbm"}}, [strategy(["wh"], initial={"wh": 10})], 5)
    (r,) = replicate(d)
    assert r.m["lost_units"] == 5
    assert r.m["lost_margin"] == pytest.approx(70.0, rel=1e-12)
    d["strategies"][0]["unmet_demand"] = "backorder"
    (r,) = replicate(d)
    assert r.m["lost_units"] == 0 and r.m["lost_margin"] == 0


# --------------------------------------------------------------------------- receiving


def test_receiving_cartons_are_rounded_up_per_receipt():
    """Demand 7 a day, level 7 with lead 1, 5 days: the orders of days 0-3 (7 units each)
    arrive on days 1-4 (day 4's order arrives after the horizon). 5 units a carton: each
    receipt is ceil(7/5) = 2 cartons → 8 cartons at $1 = 8.00 (not 4 by rounding down, nor
    ceil(28/5) = 6 over the total); $0.10 a unit on 28 units = 2.80."""
    wh = {"type": "fbm", "receiving_per_carton": 1.0, "receiving_per_unit": 0.10}
    st = strategy(["wh"], {"wh": up_to(7)}, initial={"wh": 7})
    (r,) = replicate(scen([sku(7, units_per_carton=5)], {"wh": wh}, [st], 5))
    assert r.trace.received[:, 0, 0].tolist() == [0, 7, 7, 7, 7]
    assert r.m["cost_receiving"] == pytest.approx(8 * 1.0 + 28 * 0.10, rel=1e-12)


# --------------------------------------------------------------------------- policy levels


@pytest.mark.parametrize(
    ("policy", "mean", "level"),
    [
        # cover 10 days of 4 a day = 40
        ({"cover_days": 10}, 4.0, 40),
        # (10 + 3 safety days) · 4 = 52; safety days are days of the daily mean, not units
        ({"cover_days": 10, "safety": {"days": 3}}, 4.0, 52),
        # 10 · 4 + 5 units = 45
        ({"cover_days": 10, "safety": {"units": 5}}, 4.0, 45),
        # (7 + 2) · 2.5 = 22.5, rounded up: 23
        ({"cover_days": 7, "safety": {"days": 2}}, 2.5, 23),
    ],
)
def test_cover_days_levels(policy, mean, level):
    a = {"id": "A", "demand": {"distribution": "poisson", "mean_per_day": mean}}
    lane = {"lead_time_days": 3, "policy": {"type": "order_up_to", **policy}}
    d = scen([a], {"wh": {"type": "fbm"}}, [strategy(["wh"], {"wh": lane})], 10)
    (lane_model,) = compile_scenario(validate(d)).strategies[0].lanes
    assert lane_model.level.tolist() == [level]


def test_cover_days_at_a_prime_node_count_the_badge_demand():
    """At an FBA node the daily mean is 4 · (1 + 0.5) = 6: (10 + 3) · 6 = 78."""
    a = {"id": "A", "demand": {"distribution": "poisson", "mean_per_day": 4, "prime_uplift": 0.5}}
    lane = {"lead_time_days": 3, "policy": {"type": "order_up_to", "cover_days": 10}}
    lane["policy"]["safety"] = {"days": 3}
    fba = {"type": "fba", "amazon_fees": False, "check_in_days": 0}
    d = scen([a], {"fba": fba}, [strategy(["fba"], {"fba": lane})], 10)
    (lane_model,) = compile_scenario(validate(d)).strategies[0].lanes
    assert lane_model.level.tolist() == [78]


# --------------------------------------------------------------------------- account health


@pytest.mark.parametrize(
    ("capacity", "days", "breach"),
    [(57, 63, 0), (53, 63, 1), (51, 63, 1), (57, 30, 0), (53, 30, 1)],
)
def test_late_shipment_limit_of_four_percent(capacity, days, breach):
    """20 orders a day (one unit each), shipped Mon-Fri, handling 0, transit 0, promise 7 (every
    order on time), from a Monday. A Monday ships Saturday's, Sunday's and Monday's orders (60)
    with room for ``capacity``: L = 60 − capacity of Monday's orders ship on Tuesday, late
    (Tuesday then has room for them and its own 20). Day 0 has no weekend before it: no late
    order. A 30-day window of order days holds 600 orders and 4 or 5 late Mondays.
    63 days: capacity 57 (L = 3): 12-15 of 600 = 2.0-2.5% ≤ 4% → no breach (and at most 2
    Mondays in any 10 days: 6 of 200 = 3%); capacity 53 (L = 7): 4.7-5.8% > 4% → breach;
    capacity 51 (L = 9): 6.0-7.5% → breach.
    30 days (one window, Mondays 7, 14, 21, 28 late): L = 3: 12/600 = 2.0% → none; L = 7:
    28/600 = 4.67% → breach (a limit of 5% or more would not breach)."""
    home = {
        "type": "fbm",
        "ship_weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "daily_order_capacity": capacity,
        "transit_days": 0,
        "promise_days": 7,
        "cutoff_hour": 24,
    }
    d = scen([sku(20)], {"home": home}, [strategy(["home"], initial={"home": 10_000})], days)
    (r,) = replicate(d)
    late_by_day = r.trace.shippers[0].late[:, 0]
    mondays = np.arange(7, days, 7)
    assert late_by_day[mondays].tolist() == [60 - capacity] * len(mondays)
    assert late_by_day.sum() == (60 - capacity) * len(mondays)
    assert r.m["on_time_rate"] == 1
    assert r.m["late_shipment_rate"] == pytest.approx((60 - capacity) * len(mondays) / (days * 20))
    assert r.m["account_health_breach_rate"] == breach
    assert (r.m["account_health_breach_days"] > 0) == bool(breach)


# --------------------------------------------------------------------------- Prime badge


def badge_case(fulfil, initial, days=4, uplift=0.5):
    """Demand 4 a day (+2 while the offer is Prime); FBA (badge) and an own warehouse (none)."""
    demand = {**const(4), "prime_uplift": uplift}
    nodes = {
        "fba": {"type": "fba", "amazon_fees": False, "check_in_days": 0},
        "home": {"type": "fbm"},
    }
    st = strategy(fulfil, initial=initial)
    (r,) = replicate(scen([sku() | {"demand": demand}], nodes, [st], days))
    return r


def test_a_stocked_out_listing_keeps_its_first_nodes_badge():
    """FBA alone with 7 units: day 0 Prime, demand 6 (1 left); day 1 Prime (FBA has 1),
    demand 6, 1 sold; days 2-3: out of stock everywhere, the listing keeps FBA's offer and its
    badge: demand still 6 (12 lost). Fallback [fba, home] with both empty: Prime, 6 a day.
    [home, fba] with both empty: the first node is the own warehouse, no badge: 4 a day."""
    r = badge_case(["fba"], {"fba": 7})
    assert r.trace.prime[:, 0].tolist() == [True] * 4
    assert r.trace.demand[:, 0].tolist() == [6] * 4
    assert r.m["lost_units"] == 5 + 6 + 6
    r = badge_case(["fba", "home"], {"fba": 0, "home": 0})
    assert r.trace.prime[:, 0].tolist() == [True] * 4
    assert r.m["demand_units"] == 24
    r = badge_case(["home", "fba"], {"fba": 0, "home": 0})
    assert r.trace.prime[:, 0].tolist() == [False] * 4
    assert r.m["demand_units"] == 16


def test_the_offer_shows_the_badge_of_the_node_that_would_ship():
    """[home, fba]: the own warehouse (no badge) ships first while it has stock. home 5, fba
    100: day 0 home has 5 → no badge, demand 4 (1 left); day 1 home has 1 → no badge, demand 4,
    home 1 + FBA 3; days 2-3 home is out, FBA would ship → Prime, demand 6."""
    r = badge_case(["home", "fba"], {"fba": 100, "home": 5})
    assert r.trace.prime[:, 0].tolist() == [False, False, True, True]
    assert r.trace.demand[:, 0].tolist() == [4, 4, 6, 6]


def test_routed_skus_keep_their_own_first_nodes_badge_when_out():
    """Per-SKU routes: A only from FBA, B only from the own warehouse, nothing on hand: A keeps
    FBA's badge (6 a day), B has none (4 a day)."""
    demand = {**const(4), "prime_uplift": 0.5}
    nodes = {
        "fba": {"type": "fba", "amazon_fees": False, "check_in_days": 0},
        "home": {"type": "fbm"},
    }
    skus = [sku() | {"demand": demand}, sku() | {"id": "B", "demand": demand}]
    st = strategy({"default": ["fba"], "B": ["home"]}, initial={"fba": 0, "home": 0})
    (r,) = replicate(scen(skus, nodes, [st], 3))
    assert r.trace.prime.tolist() == [[True, False]] * 3
    assert r.trace.demand.tolist() == [[6, 4]] * 3


# --------------------------------------------------------------------------- CRN of transit


@pytest.mark.parametrize("capacity", [None, 10_000])
def test_strategies_on_the_same_node_share_transit_draws(capacity):
    """Two strategies ship every order from the same own warehouse (never out of stock; they
    differ only in their stock): with common random numbers each replication draws the same
    after-cut-off splits and transit times for both, so every delivery metric is equal,
    replication by replication, while it varies across replications. ``capacity`` sends the
    orders through the day-by-day shipper."""
    home = {
        "type": "fbm",
        "cutoff_hour": 14,
        "transit_days": {"dist": "discrete", "values": [1, 2, 3, 6], "probs": [0.4, 0.3, 0.2, 0.1]},
        "promise_days": 3,
    }
    if capacity:
        home["daily_order_capacity"] = capacity
    a = {"id": "A", "demand": {"distribution": "poisson", "mean_per_day": 5}}
    d = scen(
        [a],
        {"home": home},
        [
            strategy(["home"], initial={"home": 10_000}, name="one"),
            strategy(["home"], initial={"home": 20_000}, name="two"),
        ],
        30,
        replications=6,
    )
    res = run_dict(d)
    for m in ("on_time_rate", "avg_delivery_days", "late_shipment_rate", "orders_shipped"):
        one, two = res.totals[:, 0, INDEX[m]], res.totals[:, 1, INDEX[m]]
        np.testing.assert_array_equal(one, two, err_msg=m)
    assert len(set(res.totals[:, 0, INDEX["on_time_rate"]].tolist())) > 1


# --------------------------------------------------------------------------- comparisons


def test_win_rate_of_lower_is_better_metrics():
    """Two warehouses alike but for the holding cost (0.05 vs 0.01 a unit-day), the same
    demand draws: the cheap one has lower storage and total cost and higher profit in every
    replication, so it wins all three (win rate 1). Sold units are equal in every replication:
    nothing to win, no win rate (None; ties among differing replications are tested in
    tests/test_stats.py and tests/test_plain_words.py).
    Every comparison's win rate is the share of replications in which the strategy is better
    in the metric's own direction (recomputed here from the replications)."""
    a = {"id": "A", "demand": {"distribution": "poisson", "mean_per_day": 5}}
    nodes = {
        "dear": {"type": "fbm", "holding_cost_per_unit_day": 0.05},
        "cheap": {"type": "fbm", "holding_cost_per_unit_day": 0.01},
    }
    d = scen(
        [a],
        nodes,
        [
            strategy(["dear"], {"dear": up_to(20)}, name="dear"),
            strategy(["cheap"], {"cheap": up_to(20)}, name="cheap"),
        ],
        30,
        replications=8,
    )
    res = run_dict(d)
    s = summarize(res, "t", "0" * 64, 30, 0)
    got = {c["metric"]: c for c in s["comparisons"] if c["strategy"] == "cheap"}
    assert got["cost_storage"]["win_rate"] == 1.0
    assert got["total_cost"]["win_rate"] == 1.0
    assert got["profit"]["win_rate"] == 1.0
    assert got["sold_units"]["win_rate"] is None
    assert got["total_cost"]["diff_mean"] < 0 < got["profit"]["diff_mean"]
    lower = {"total_cost", "lost_units", "late_shipment_rate", "avg_delivery_days", "lost_margin"}
    lower |= {m for m in METRICS if m.startswith("cost_")}
    assert lower <= LOWER_IS_BETTER
    higher = {"profit", "revenue", "fill_rate", "on_time_rate", "sold_units"}
    assert not higher & LOWER_IS_BETTER
    for k, m in enumerate(METRICS):
        a_, b_ = res.totals[:, 1, k], res.totals[:, 0, k]
        ok = ~(np.isnan(a_) | np.isnan(b_))
        better = a_[ok] < b_[ok] if m in LOWER_IS_BETTER else a_[ok] > b_[ok]
        differ = ok.any() and (a_[ok] != b_[ok]).any()  # always equal: nothing to win
        expected = float(better.mean()) if differ else None
        assert got[m]["win_rate"] == expected, m


# --------------------------------------------------------------------------- per-SKU intervals


def per_sku_values(model, reps: int) -> np.ndarray:
    """(reps, strategies, metrics, skus) per-SKU values of every replication, recomputed."""
    return np.stack(
        [np.stack([m.skus for m in montecarlo.run_replication(model, r)]) for r in range(reps)]
    )


def t_interval(x: np.ndarray, confidence: float) -> tuple:
    """scipy's Student-t interval (n − 1 degrees of freedom) over the non-NaN values."""
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return (None, None, None)
    if len(x) == 1:
        return (float(x[0]), None, None)
    if x.std(ddof=1) == 0:
        return (float(x.mean()), float(x.mean()), float(x.mean()))
    lo, hi = sst.t.interval(confidence, len(x) - 1, loc=x.mean(), scale=sst.sem(x))
    return (float(x.mean()), float(lo), float(hi))


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.isclose(a, b, rtol=1e-9, atol=1e-9))


@pytest.mark.parametrize("confidence", [0.9, 0.99])
def test_per_sku_intervals_in_summary_and_skus_csv_match_scipy(tmp_path, confidence):
    """skus.csv and summary.json give, for every strategy, SKU and metric, the mean over
    replications and the two-sided Student-t interval with n − 1 degrees of freedom, computed
    here with scipy from every replication's per-SKU values (7 replications, stochastic
    demand and lead times, backorders so that some rates are missing in some replications)."""
    a = {"id": "A", "price": 20.0, "unit_cost": 5.0}
    a["demand"] = {"distribution": "poisson", "mean_per_day": 4}
    b = {"id": "B", "price": 30.0, "unit_cost": 9.0}
    b["demand"] = {"distribution": "poisson", "mean_per_day": 0.3}
    lead = {"dist": "uniform", "low": 1, "high": 5}
    home = {
        "type": "fbm",
        "transit_days": {"dist": "discrete", "values": [1, 4], "probs": [0.8, 0.2]},
        "promise_days": 3,
    }
    d = scen(
        [a, b],
        {"wh": home},
        [
            strategy(["wh"], {"wh": up_to({"A": 14, "B": 1}, lead=lead)}, name="lean"),
            strategy(
                ["wh"],
                {"wh": up_to({"A": 30, "B": 3}, lead=lead)},
                name="rich",
                unmet_demand="backorder",
            ),
        ],
        40,
        replications=7,
        confidence=confidence,
    )
    model = compile_scenario(validate(d))
    res = montecarlo.run(model, workers=1)
    summary = summarize(res, "t", "0" * 64, 40, 0)
    write_results(tmp_path, summary, res)
    values = per_sku_values(model, 7)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "skus.csv").read_text())))
    from_file = json.loads((tmp_path / "summary.json").read_text())
    assert len(rows) == 4
    checked = 0
    for row in rows:
        s = model.strategy_names.index(row["strategy"])
        j = model.catalog.ids.index(row["sku"])
        stats = from_file["strategies"][row["strategy"]]["skus"][row["sku"]]["metrics"]
        for k, m in enumerate(METRICS):
            mean, lo, hi = t_interval(values[:, s, k, j], confidence)
            if m in RATES and lo is not None:  # a share's interval is clipped to [0, 1]
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            cell = [
                None if row[c] == "" else float(row[c]) for c in (m, f"{m}_ci_low", f"{m}_ci_high")
            ]
            assert all(close(x, y) for x, y in zip(cell, (mean, lo, hi), strict=True)), (
                row["sku"],
                m,
            )
            st = stats[m]
            got = (st["mean"], st["ci_low"], st["ci_high"])
            assert all(close(x, y) for x, y in zip(got, (mean, lo, hi), strict=True)), (
                row["sku"],
                m,
            )
            checked += lo is not None and hi is not None and hi > lo
    assert checked > 40  # most cells have a proper interval
    # the per-SKU values add up to the strategy totals of each replication
    for m in ("demand_units", "sold_units", "profit", "total_cost"):
        np.testing.assert_allclose(values[:, :, INDEX[m]].sum(axis=2), res.totals[:, :, INDEX[m]])


# --------------------------------------------------------------------------- CSV formulas


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_neutralised(prefix):
    """A text cell that starts with =, +, -, @, tab or CR is written with a leading quote, so a
    spreadsheet shows it as text; numbers (also negative) are written as numbers."""
    text = csv_text([{"name": prefix + "SUM(A1)", "value": -3.5, "plain": "ok"}])
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row == {"name": "'" + prefix + "SUM(A1)", "value": "-3.5", "plain": "ok"}


def test_a_carriage_return_inside_a_cell_does_not_end_the_row():
    """The csv module quotes cells holding "\n" (the line terminator) but not a lone "\r",
    which spreadsheets and readers take for a line break: such a row is written quoted."""
    rows = [{"name": "a\rb", "n": 1}, {"name": "c\nd", "n": 2}, {"name": "e", "n": 3}]
    back = list(csv.DictReader(io.StringIO(csv_text(rows), newline="")))
    assert back == [{"name": "a\rb", "n": "1"}, {"name": "c\nd", "n": "2"}, {"name": "e", "n": "3"}]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
def test_formula_prefixes_in_names_are_neutralised_in_every_csv(tmp_path, prefix):
    """Names a scenario accepts that start like a formula reach replications.csv and skus.csv
    quoted (tab and CR are refused in names; csv_text, which every CSV goes through, is tested
    with them above)."""
    d = scen(
        [sku(1) | {"id": prefix + "A"}],
        {"wh": {"type": "fbm"}},
        [strategy(["wh"], initial={"wh": 10}, name=prefix + "s")],
        5,
    )
    try:
        sc = validate(d)
    except Exception:
        pytest.skip(f"names starting with {prefix!r} are refused")
    res = montecarlo.run(compile_scenario(sc), workers=1)
    summary = summarize(res, "t", "0" * 64, 5, 0)
    write_results(tmp_path, summary, res)
    reps = list(csv.DictReader(io.StringIO((tmp_path / "replications.csv").read_text())))
    skus = list(csv.DictReader(io.StringIO((tmp_path / "skus.csv").read_text())))
    assert {r["strategy"] for r in reps} == {"'" + prefix + "s"}
    assert [(r["strategy"], r["sku"]) for r in skus] == [("'" + prefix + "s", "'" + prefix + "A")]


# --------------------------------------------------------------------------- mutmut survivors


def test_paired_with_one_or_no_replication():
    """One replication: a difference without an interval, and a win rate of 1 or 0; none: no
    difference and no win rate (not NaN)."""
    one = paired(np.array([5.0]), np.array([3.0]), 0.95, lower_is_better=False)
    assert (one.diff.mean, one.diff.ci_low, one.win_rate) == (2.0, None, 1.0)
    assert paired(np.array([5.0]), np.array([3.0]), 0.95, lower_is_better=True).win_rate == 0.0
    none = paired(np.array([np.nan]), np.array([3.0]), 0.95, lower_is_better=False)
    assert none.diff.mean is None and none.win_rate is None


def test_returns_count_every_backorder_fill_of_a_day():
    """The backorder case above with every unit returned (resellable 0, no handling). Returns
    are counted by the day a unit left the node, here the fill days: 2 units on day 3 (od0 and
    od1, two fills on one day), then 1 a day on days 4-7: 6 units after the warm-up, each
    refunded at the price 20 → 120."""
    d = backorders_through_warmup()
    d["skus"][0]["returns"] = {"rate": 1.0, "resellable": 0.0}
    (r,) = replicate(d)
    assert r.m["cost_returns"] == pytest.approx(6 * 20.0, rel=1e-12)


def test_fixed_cost_of_a_node_that_sold_nothing_is_split_evenly():
    """No demand at all: the node's $100 over 10 days falls evenly on its two SKUs."""
    wh = {"type": "fbm", "fixed_cost_per_month": 304.375}
    b = sku(0) | {"id": "B"}
    st = strategy(["wh"], initial={"wh": {"A": 5, "B": 5}})
    model = compile_scenario(validate(scen([sku(0), b], {"wh": wh}, [st], 10)))
    (measured,) = montecarlo.run_replication(model, 0)
    assert measured.skus[INDEX["cost_fixed"]] == pytest.approx([50.0, 50.0], rel=1e-12)
