"""Every per-SKU metric recomputed from the trace, and the strategy totals from the per-SKU
values (sums for amounts, ratios of sums for rates), on a case with two SKUs routed over two
seller nodes, a transfer lane, receiving, fixed and per-order costs, warm-up, lost sales and
backorders. Then the small edges that mutation testing found unpinned (sim/stats.py,
sim/metrics.py helpers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sst

from sim import montecarlo
from sim.loader import validate
from sim.metric_names import COST_PARTS, INDEX, METRICS, RATES
from sim.model import DAYS_PER_MONTH, compile_scenario
from sim.stats import interval, interval_dicts, interval_from_moments, paired
from tests.test_modes import replicate, scen, sku, strategy, up_to

ADDITIVE = [
    m
    for m in METRICS
    if m not in RATES | {"avg_delivery_days", "account_health_breach_days", "badge_lost_days"}
]


def two_nodes(unmet: str) -> dict:
    """A (6 a day) and B (1 a day) from main, then back; C (1 a day) only from back. main is
    replenished by the supplier (lead 2, $0.50 a unit + $7 a shipment; A's level is short of
    its lead-time demand), back by transfer from main (lead 1, $10 a shipment, every 2 days;
    main holds C only to feed back). back delivers in 5 days against a promise of 2:
    all of its orders are late. 20 days, 3 of warm-up."""
    main = {
        "type": "fbm",
        "transit_days": 1,
        "promise_days": 3,
        "fixed_cost_per_month": 304.375,
        "receiving_per_unit": 0.1,
        "receiving_per_carton": 1.0,
        "pick_pack_per_order": 1.0,
    }
    back = {
        "type": "fbm",
        "transit_days": 5,
        "promise_days": 2,
        "fixed_cost_per_month": 152.1875,
        "pick_pack_per_order": 2.0,
    }
    a = sku(6, units_per_carton=4)
    a["returns"] = {"rate": 1.0, "resellable": 0.5}
    b = sku(1, units_per_carton=4) | {"id": "B", "price": 1.0, "unit_cost": 0.25}
    b["returns"] = {"rate": 1.0, "resellable": 0.0}
    c = sku(1, units_per_carton=4) | {"id": "C", "price": 0.0, "unit_cost": 3.0}
    replenish = {
        "main": up_to(
            {"A": 8, "B": 2, "C": 10}, lead=2, freight_cost_per_unit=0.5, cost_per_shipment=7.0
        ),
        "back": {
            "from": "main",
            "lead_time_days": 1,
            "cost_per_shipment": 10.0,
            "policy": {"type": "order_up_to", "review_days": 2, "level": {"A": 3, "B": 1, "C": 3}},
        },
    }
    st = strategy(
        {"default": ["main", "back"], "C": ["back"]},
        replenish,
        initial={"main": {"A": 8, "B": 2, "C": 10}, "back": {"A": 3, "B": 1, "C": 3}},
        name=unmet,
        unmet_demand=unmet,
    )
    return scen([a, b, c], {"main": main, "back": back}, [st], 20, warmup_days=3)


def recomputed(run, model, catalog, warmup: int, days: int) -> dict[str, np.ndarray]:
    """Per-SKU metrics from the trace's arrays, by their definitions (SPEC §4)."""
    t, st = run.trace, run.model
    w, counted = warmup, days - warmup
    d = t.demand[w:]
    served = t.served[w:]  # (days, nodes, skus)
    same = served.sum(axis=(0, 1))
    fills = sum((f.units for f in t.fills if f.order_day >= w), np.zeros(d.shape[1]))
    sold = same + fills
    out = {
        "demand_units": d.sum(axis=0),
        "sold_units": sold,
        "fill_rate": same / d.sum(axis=0),
        "cycle_service_level": (served.sum(axis=1) == d).sum(axis=0) / counted,
        "avg_on_hand_units": t.on_hand[w:].sum(axis=(0, 1)) / counted,
        "revenue": catalog.price * sold,
        "cost_product": catalog.unit_cost * sold,
    }
    unmet = d.sum(axis=0) - same
    out["lost_units"] = 0 * unmet if st.backorder else unmet
    out["backordered_units"] = unmet if st.backorder else 0 * unmet
    out["avg_backorder_units"] = (
        t.backorders[w:].sum(axis=0) / counted if st.backorder else 0 * unmet
    )
    shippers = t.shippers.values()
    shipped = sum(sh.shipped[w:].sum(axis=0) for sh in shippers)
    out["orders_shipped"] = shipped
    out["on_time_rate"] = sum(sh.on_time[w:].sum(axis=0) for sh in shippers) / shipped
    out["late_shipment_rate"] = sum(sh.late[w:].sum(axis=0) for sh in shippers) / shipped
    out["avg_delivery_days"] = sum(sh.delivery_days[w:].sum(axis=0) for sh in shippers) / shipped
    fulfil = np.zeros(d.shape[1])
    fixed = np.zeros(d.shape[1])
    receiving = np.zeros(d.shape[1])
    for n, node in enumerate(st.nodes):
        if n in t.shippers:
            fulfil += node.cost_per_order * t.shippers[n].shipped[w:].sum(axis=0)
        by_node = served[:, n].sum(axis=0)
        share = by_node / by_node.sum()
        fixed += node.fixed_cost_per_month * counted / DAYS_PER_MONTH * share
        received = t.received[w:, n]
        receiving += node.receiving_per_unit * received.sum(axis=0)
        receiving += node.receiving_per_carton * np.ceil(received / catalog.units_per_carton).sum(
            axis=0
        )
    out["cost_fulfillment"] = fulfil
    out["cost_fixed"] = fixed
    out["cost_receiving"] = receiving
    for i, lane in enumerate(st.lanes):
        orders = t.orders[i][w:]  # (days, skus)
        cost = lane.cost_per_unit * orders.sum(axis=0)
        for day in orders:
            if day.sum() > 0:
                cost = cost + lane.cost_per_shipment * day / day.sum()
        out["cost_transfer" if lane.is_transfer else "cost_freight"] = cost
    margin = np.where(catalog.price > 0, catalog.price - catalog.unit_cost, 0.0)
    out["lost_margin"] = margin * out["lost_units"]
    out["badge_lost_days"] = 0 * unmet
    return out


@pytest.mark.parametrize("unmet", ["lost", "backorder"])
def test_per_sku_metrics_and_totals(unmet):
    d = two_nodes(unmet)
    model = compile_scenario(validate(d))
    (run,) = replicate(d)
    (measured,) = montecarlo.run_replication(model, 0)
    skus, total = measured.skus, measured.total
    cal = model.calendar
    expected = recomputed(run, model, model.catalog, cal.warmup, cal.days)
    t = run.trace
    # the case does what it is built for
    assert t.served[3:, 1].sum() > 0 and t.served[3:, 0].sum() > 0  # both nodes serve
    assert len(t.shippers) == 2
    assert any(lane.is_transfer for lane in run.model.lanes)
    assert expected["demand_units"].tolist() == [6 * 17, 17, 17]
    assert (expected["lost_units"] + expected["backordered_units"]).sum() > 0
    assert len({round(float(x), 9) for x in expected["cycle_service_level"]}) > 1
    for m, values in expected.items():
        np.testing.assert_allclose(skus[INDEX[m]], values, rtol=1e-12, atol=1e-12, err_msg=m)
    parts = skus[[INDEX[f"cost_{p}"] for p in COST_PARTS]]
    np.testing.assert_allclose(skus[INDEX["total_cost"]], parts.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        skus[INDEX["profit"]], skus[INDEX["revenue"]] - skus[INDEX["total_cost"]], rtol=1e-12
    )
    # totals: amounts add up over SKUs; rates are ratios of the sums
    for m in ADDITIVE:
        assert total[INDEX[m]] == pytest.approx(skus[INDEX[m]].sum(), rel=1e-12, abs=1e-12), m
    served = t.served[3:]
    dem = t.demand[3:]
    assert total[INDEX["fill_rate"]] == pytest.approx(served.sum() / dem.sum(), rel=1e-12)
    csl = (served.sum(axis=1) == dem).mean()
    assert total[INDEX["cycle_service_level"]] == pytest.approx(csl, rel=1e-12)
    shipped = sum(sh.shipped[3:].sum() for sh in t.shippers.values())
    for m, part in (("on_time_rate", "on_time"), ("late_shipment_rate", "late")):
        got = sum(getattr(sh, part)[3:].sum() for sh in t.shippers.values())
        assert total[INDEX[m]] == pytest.approx(got / shipped, rel=1e-12), m
    days = sum(sh.delivery_days[3:].sum() for sh in t.shippers.values())
    assert total[INDEX["avg_delivery_days"]] == pytest.approx(days / shipped, rel=1e-12)
    assert total[INDEX["badge_lost_days"]] == 0
    # C ships only from back, whose orders are all late: its own 14-day on-time windows
    # (counted days 13-16 are the full ones) breach; returns: every unit of A comes back
    assert skus[INDEX["on_time_rate"], 2] == 0
    assert skus[INDEX["account_health_breach_rate"], 2] == 1
    assert skus[INDEX["account_health_breach_days"], 2] == 4
    # (returns are counted by the day a unit leaves: same-day sales and fills after warm-up)
    out_a = t.served[3:, :, 0].sum() + sum(int(f.units[0]) for f in t.fills if f.day >= 3)
    assert skus[INDEX["cost_returns"], 0] == pytest.approx(out_a * (20 - 0.5 * 6), rel=1e-12)
    out_b = t.served[3:, :, 1].sum() + sum(int(f.units[1]) for f in t.fills if f.day >= 3)
    assert skus[INDEX["cost_returns"], 1] == pytest.approx(out_b * 1.0, rel=1e-12)


def test_per_sku_account_health_and_late_shipments_from_two_nodes():
    """A ships only from ``slow`` (transit 5 against a promise of 2: every delivery late), B
    only from ``quick`` (on time); 2 orders a day each, room for 3 a ship day, 21 days from a
    Monday. ``quick`` ships every day: nothing waits. ``slow`` ships Mon-Fri, FIFO: a Monday
    finds Saturday's, Sunday's and its own orders (6) and ships 3 (Sat 2 and Sun 1, due that
    Monday); Tuesday ships Sun 1 + Mon 2 late; Wednesday Tue 2 late + Wed 1; Thursday Wed 1 late
    + Thu 2; Friday its own 2. Late by order day: Sun 1, Mon 2, Tue 2, Wed 1 = 6 for the weeks
    from days 6 and 13, and Sunday day 20's second order, shipped on Tuesday day 22 after the
    horizon: 13 of A's 42 orders, none of B's. A's record breaches (late deliveries, late
    shipments), B's never does."""
    slow = {"type": "fbm", "transit_days": 5, "promise_days": 2, "cutoff_hour": 24}
    slow.update(ship_weekdays=["mon", "tue", "wed", "thu", "fri"], daily_order_capacity=3)
    quick = {"type": "fbm", "transit_days": 1, "promise_days": 2, "daily_order_capacity": 3}
    skus = [sku(2), sku(2) | {"id": "B"}]
    st = strategy({"default": ["slow"], "B": ["quick"]}, initial={"slow": 500, "quick": 500})
    d = scen(skus, {"slow": slow, "quick": quick}, [st], 21)
    model = compile_scenario(validate(d))
    (run,) = replicate(d)
    (measured,) = montecarlo.run_replication(model, 0)
    t, m = run.trace, measured.skus
    assert [t.shippers[n].late.sum() for n in (0, 1)] == [13, 0]
    assert m[INDEX["late_shipment_rate"]].tolist() == [13 / 42, 0]
    assert measured.total[INDEX["late_shipment_rate"]] == pytest.approx(13 / 84, rel=1e-12)
    assert m[INDEX["on_time_rate"]].tolist() == [0, 1]
    assert m[INDEX["account_health_breach_rate"]].tolist() == [1, 0]
    days = m[INDEX["account_health_breach_days"]]
    assert days[0] > 0 and days[1] == 0


def test_cycle_service_level_counts_every_node_of_one_sku():
    """One SKU from [home, back]: home has 5 units, back 100, demand 4 a day: day 1 is served
    by both nodes, later days by back alone; every day is fully served: CSL 1."""
    st = strategy(["home", "back"], initial={"home": 5, "back": 100})
    nodes = {"home": {"type": "fbm"}, "back": {"type": "fbm"}}
    (r,) = replicate(scen([sku(4)], nodes, [st], 5))
    assert r.trace.served[:, 1, 0].tolist() == [0, 3, 4, 4, 4]
    assert r.m["cycle_service_level"] == 1
    assert r.m["fill_rate"] == 1


def test_account_health_judges_only_the_seller_fulfilled_nodes_of_a_hybrid():
    """fulfil_from [fba, home]: FBA (every order late: transit 5, promise 2) ships until its 30
    units run out on day 29, then home ships on time. Amazon answers for FBA's late orders, so
    the seller's windows hold only home's orders, all on time: no breach, although the
    strategy's on-time rate is low."""
    nodes = {
        "fba": {"type": "fba", "amazon_fees": False, "check_in_days": 0, "transit_days": 5},
        "home": {"type": "fbm", "transit_days": 1, "promise_days": 3},
    }
    nodes["fba"]["promise_days"] = 2
    st = strategy(["fba", "home"], initial={"fba": 30, "home": 100})
    (r,) = replicate(scen([sku(1)], nodes, [st], 40))
    assert r.m["on_time_rate"] == pytest.approx(10 / 40)
    assert r.m["account_health_breach_rate"] == 0
    assert r.m["account_health_breach_days"] == 0


def test_min_orders_applies_to_the_late_shipment_window_too():
    """The late-shipment case of tests/test_mutants.py with capacity 51 (9 late a Monday,
    6.0-7.5% of a 30-day window's 600 orders) breaches; with account_health.min_orders 601 no
    30-day window holds enough orders to be judged: no breach."""
    home = {
        "type": "fbm",
        "ship_weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "daily_order_capacity": 51,
        "transit_days": 0,
        "promise_days": 7,
        "cutoff_hour": 24,
    }
    d = scen([sku(20)], {"home": home}, [strategy(["home"], initial={"home": 10_000})], 63)
    (r,) = replicate(d)
    assert r.m["account_health_breach_rate"] == 1
    d["account_health"] = {"min_orders": 601}
    (r,) = replicate(d)
    assert r.m["account_health_breach_rate"] == 0


@pytest.mark.parametrize("kind", ["fbm", "sfp"])
def test_late_but_on_time_is_no_breach_for_fbm_or_sfp(kind):
    """The Monday pile-up of tests/test_mutants.py with capacity 57: 3 of Monday's 20 orders
    ship late, 12-15 of a 30-day window's 600 orders (2.0-2.5%), under 4% over 10 and 30
    days: no account-health breach. An SFP node's 99% on-time shipment minimum counts only
    orders shipped late AND delivered late (help page 202072550); with a 7-day promise every
    late shipment still arrives on time, so the SFP node keeps its badge too."""
    home = {
        "type": kind,
        "ship_weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "daily_order_capacity": 57,
        "transit_days": 0,
        "promise_days": 7,
        "cutoff_hour": 24,
    }
    d = scen([sku(20)], {"home": home}, [strategy(["home"], initial={"home": 10_000})], 63)
    (r,) = replicate(d)
    assert r.m["late_shipment_rate"] == pytest.approx(3 * 8 / (63 * 20))
    assert r.m["on_time_rate"] == 1
    assert r.m["account_health_breach_rate"] == 0
    assert r.m["sfp_breach_rate"] == 0 and r.m["badge_lost_days"] == 0


# --------------------------------------------------------------------------- small edges


def test_lost_margin_of_free_and_cheap_items():
    """Price 0: no margin lost (not −unit cost); price 1, cost 0.25: 0.75 a lost unit. 5 days
    of demand 2 with nothing on hand: 10 lost of each."""
    free = sku(2) | {"price": 0.0, "unit_cost": 3.0}
    cheap = sku(2) | {"id": "B", "price": 1.0, "unit_cost": 0.25}
    st = strategy(["wh"], initial={"wh": 0})
    model = compile_scenario(validate(scen([free, cheap], {"wh": {"type": "fbm"}}, [st], 5)))
    (measured,) = montecarlo.run_replication(model, 0)
    assert measured.skus[INDEX["lost_units"]].tolist() == [10, 10]
    assert measured.skus[INDEX["lost_margin"]].tolist() == [0.0, 7.5]


def test_fixed_cost_of_a_node_that_served_one_unit_falls_on_that_sku():
    """One unit of A sold, none of B: the whole $100 falls on A."""
    wh = {"type": "fbm", "fixed_cost_per_month": 304.375}
    a = sku(1) | {"demand": {"distribution": "empirical", "values": [1]}}
    b = sku(0) | {"id": "B"}
    st = strategy(["wh"], initial={"wh": {"A": 1, "B": 5}})
    model = compile_scenario(validate(scen([a, b], {"wh": wh}, [st], 10)))
    (measured,) = montecarlo.run_replication(model, 0)
    assert measured.skus[INDEX["sold_units"]].tolist() == [1, 0]
    assert measured.skus[INDEX["cost_fixed"]] == pytest.approx([100.0, 0.0], rel=1e-12)


def test_a_single_order_has_a_rate():
    """One order shipped in the whole run: its rates are 0 or 1, not missing."""
    st = strategy(["wh"], initial={"wh": 1})
    wh = {"type": "fbm", "transit_days": 1, "promise_days": 1}
    (r,) = replicate(scen([sku(1)], {"wh": wh}, [st], 5))
    assert r.m["orders_shipped"] == 1
    assert r.m["on_time_rate"] == 1 and r.m["late_shipment_rate"] == 0
    assert r.m["avg_delivery_days"] == 1


def test_lane_costs_with_one_unit_shipments_and_idle_days():
    """Order-up-to 1 reviewed every 2 days, lead 1, demand 1 a day, lost sales, 1 on hand: day
    0 sells it and orders 1 (position 0), which arrives and sells on day 1; day 2 has nothing
    (lost), orders 1; and so on. Orders of 1 unit on days 0, 2, 4, 6, 8: 5 shipments at $5
    and 5 units at $0.50 = 27.50; days without an order cost nothing (no division by 0)."""
    lane = up_to(1, lead=1, freight_cost_per_unit=0.5, cost_per_shipment=5.0)
    lane["policy"]["review_days"] = 2
    st = strategy(["wh"], {"wh": lane}, initial={"wh": 1})
    (r,) = replicate(scen([sku(1)], {"wh": {"type": "fbm"}}, [st], 10))
    assert r.trace.orders[0][:, 0].tolist() == [1, 0] * 5
    assert r.m["cost_freight"] == pytest.approx(5 * 5.0 + 5 * 0.5, rel=1e-12)


def test_interval_counts_and_small_spreads():
    """n is the count of values (0, 1, …); a spread below 1 (sum of squares < 1) is not
    floored: the interval is scipy's."""
    assert interval(np.array([]), 0.95).n == 0
    assert interval(np.array([np.nan]), 0.95).n == 0
    assert interval(np.array([4.0]), 0.95).n == 1
    assert interval_from_moments(0, 0.0, 0.0, 0.95).n == 0
    x = np.array([0.1, 0.2, 0.35])
    iv = interval(x, 0.95)
    lo, hi = sst.t.interval(0.95, 2, loc=x.mean(), scale=sst.sem(x))
    assert (iv.ci_low, iv.ci_high, iv.std) == pytest.approx((lo, hi, x.std(ddof=1)), rel=1e-12)


def test_interval_dicts_for_0_1_2_and_3_values():
    """Cells with 0 values: nothing; 1: the mean alone; 2 and 3: scipy's t interval (1 and 2
    degrees of freedom) with the standard deviation under "std"."""
    data = [[], [5.0], [1.0, 2.0], [1.0, 2.0, 4.0]]
    n = np.array([[len(x) for x in data]])
    mean = np.array([[np.mean(x) if x else 0.0 for x in data]])
    m2 = np.array([[((np.array(x) - np.mean(x)) ** 2).sum() if x else 0.0 for x in data]])
    (row,) = interval_dicts(n, mean, m2, 0.9)
    assert row[0] == {"mean": None, "ci_low": None, "ci_high": None, "std": None}
    assert row[1] == {"mean": 5.0, "ci_low": None, "ci_high": None, "std": None}
    for cell, x in zip(row[2:], data[2:], strict=True):
        x = np.array(x)
        lo, hi = sst.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=sst.sem(x))
        assert set(cell) == {"mean", "ci_low", "ci_high", "std"}
        got = (cell["mean"], cell["ci_low"], cell["ci_high"], cell["std"])
        assert got == pytest.approx((x.mean(), lo, hi, x.std(ddof=1)), rel=1e-12)


def test_paired_skips_replications_without_a_value_and_counts_small_wins():
    """A replication where either side has no value is left out of the difference and of the
    win rate; a difference of 0.5 is a win (higher is better) and −0.5 a win (lower is better)."""
    a = np.array([1.5, np.nan, 3.0, 2.0])
    b = np.array([1.0, 1.0, 3.0, np.nan])
    up = paired(a, b, 0.95, lower_is_better=False)
    assert up.diff.n == 2 and up.diff.mean == pytest.approx(0.25)
    assert up.win_rate == 0.5
    down = paired(b, a, 0.95, lower_is_better=True)
    assert down.win_rate == 0.5
    assert math.isclose(down.diff.mean, -0.25)
