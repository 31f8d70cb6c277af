"""Amazon's account-health targets and Seller Fulfilled Prime eligibility, by hand.

Account health (facts §5.1, help page 200370550; conditions from the Selling Partner API's
account-health report: LESS_THAN / GREATER_THAN): late shipments < 4 % over 10 and 30 days,
cancellations < 2.5 % over 7, valid tracking > 95 % over 30, on-time delivery > 90 % over 14,
order defects < 1 % over 60, on seller-fulfilled orders by order day. SFP (facts §5.2, help
202072550): on-time shipment ≥ 99 % (late only when shipped late and delivered late), on-time
delivery ≥ 97 % on labels bought outside Buy Shipping, Buy Shipping ≥ 99 %, cancellations
≤ 0.5 %. Demand is a constant (empirical, one value), so one replication is exact; the
statistical test derives its tolerance from the binomial interval.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.health_targets import TARGETS
from sim.results import summarize
from tests.helpers import metric, run_dict
from tests.test_modes import WEEK, const, replicate, scen, sku, strategy

# 2026-01-31 is a Saturday, the last day of January: `monthly: {jan: k}` scales day 0 alone
BURST_START = "2026-01-31"


def burst(first_day: int, capacity: int, days: int, promise: int = 3) -> dict:
    """An FBM node shipping every day (handling 0, transit 0) at most ``capacity`` orders a
    day; demand 10 a day, ``first_day`` on day 0. Day 0's orders beyond the capacity ship on
    day 1 (late), with day 1's 10: every later order ships on its day."""
    home = {
        "type": "fbm",
        "daily_order_capacity": capacity,
        "promise_days": promise,  # the late ones still arrive on time
    }
    demand = {**const(10), "monthly": {"jan": first_day / 10}}
    st = strategy(["home"], initial={"home": 10_000})
    return scen([sku() | {"demand": demand}], {"home": home}, [st], days, BURST_START)


def test_the_10_day_late_shipment_window_catches_a_burst_the_30_day_one_does_not():
    """Day 0: 30 ordered, 20 shipped, 10 ship late on day 1. By order day: the 10-day window
    ending on day 9 has 10 late of 30 + 9·10 = 120 orders = 8.3 % ≥ 4 %: a breach on that day
    only (later windows leave day 0 out); the 30-day window ending on day 29: 10 of
    30 + 29·10 = 320 = 3.125 % < 4 %: none."""
    (r,) = replicate(burst(first_day=30, capacity=20, days=30))
    assert r.m["late_shipment_rate"] == pytest.approx(10 / 320)
    assert r.m["breach_late_shipment_10d"] == 1
    assert r.m["breach_late_shipment_30d"] == 0
    assert r.m["account_health_breach_rate"] == 1
    assert r.m["account_health_breach_days"] == 1  # day 9
    for name in ("cancel_7d", "valid_tracking_30d", "on_time_delivery_14d", "order_defect_60d"):
        assert r.m[f"breach_{name}"] == 0, name


@pytest.mark.parametrize(("capacity", "breach"), [(102, 1), (103, 0)])
def test_late_shipment_rate_of_exactly_4_percent_breaches(capacity, breach):
    """Amazon: late shipment rate *under* 4 % (SP-API LESS_THAN 0.04). Day 0: 110 orders,
    ``capacity`` shipped, the rest late; days 1-9: 10 a day. Horizon 10 days: the 10-day
    window ending on day 9 (and the 30-day one, judged once on the 10 counted days) holds 200
    orders: 110 − 102 = 8 late = 4.0 % → breach; 110 − 103 = 7 = 3.5 % → none."""
    (r,) = replicate(burst(first_day=110, capacity=capacity, days=10))
    assert r.m["late_shipment_rate"] == pytest.approx((110 - capacity) / 200)
    assert r.m["breach_late_shipment_10d"] == breach
    assert r.m["breach_late_shipment_30d"] == breach
    assert r.m["account_health_breach_days"] == breach


@pytest.mark.parametrize(("friday", "breach"), [(6, 1), (5, 0)])
def test_on_time_delivery_of_exactly_90_percent_breaches(friday, breach):
    """Amazon: on-time delivery *above* 90 % over 14 days (SP-API GREATER_THAN 0.9). Handling
    1, ship Mon-Fri, transit 2, promise 4: only Friday's orders are late (ship Monday, arrive
    Wednesday, 5 days; see test_modes). 9 orders every day but Friday: a week holds 54 on time
    + ``friday`` late. Two weeks (the 14-day window, full on day 13): 108 / 120 = 90.0 % →
    breach; 108 / 118 = 91.5 % → none."""
    home = {
        "type": "fbm",
        "handling_days": 1,
        "ship_weekdays": ["mon", "tue", "wed", "thu", "fri"],
        "transit_days": 2,
        "promise_days": 4,
    }
    weekly = {day: 9 for day in WEEK} | {"fri": friday}
    demand = {**const(1), "weekly": weekly}
    st = strategy(["home"], initial={"home": 1000})
    (r,) = replicate(scen([sku() | {"demand": demand}], {"home": home}, [st], 14))
    assert r.m["on_time_rate"] == pytest.approx(108 / (108 + 2 * friday))
    assert r.m["breach_on_time_delivery_14d"] == breach
    assert r.m["breach_late_shipment_10d"] == r.m["breach_late_shipment_30d"] == 0
    assert r.m["account_health_breach_rate"] == breach


def two_nodes(key: str, value: float, good_units: int) -> dict:
    """SKU G (``good_units`` a day) ships from node `good`, SKU B (1 a day) from node `bad`
    with ``key: value``; 10 days, every order shipped on its day and on time."""
    nodes = {"good": {"type": "fbm"}, "bad": {"type": "fbm", key: value}}
    skus = [sku(good_units) | {"id": "G"}, sku(1) | {"id": "B"}]
    st = strategy({"G": ["good"], "B": ["bad"]}, initial={"good": 10_000, "bad": 10_000})
    return scen(skus, nodes, [st], 10)


@pytest.mark.parametrize(
    ("key", "value", "good", "rate", "target", "breach_days"),
    [
        # cancel rate < 2.5 % over 7 days: 10 of 39·10 + 10 = 400 orders = 2.5 % → the 7-day
        # windows ending on days 6-9 breach (4 days); 10 of 410 = 2.44 %: none
        ("cancel_rate", 1.0, 39, 10 / 400, "cancel_7d", 4),
        ("cancel_rate", 1.0, 40, 10 / 410, "cancel_7d", 0),
        # valid tracking > 95 % over 30 days (horizon 10: judged once): 190 / 200 = 95 % →
        # breach; 200 / 210 = 95.2 %: none
        ("valid_tracking_rate", 0.0, 19, 190 / 200, "valid_tracking_30d", 1),
        ("valid_tracking_rate", 0.0, 20, 200 / 210, "valid_tracking_30d", 0),
        # order defects < 1 % over 60 days (judged once): 10 / 1000 = 1 % → breach; 10 / 1010
        ("defect_rate", 1.0, 99, 10 / 1000, "order_defect_60d", 1),
        ("defect_rate", 1.0, 100, 10 / 1010, "order_defect_60d", 0),
    ],
)
def test_cancel_tracking_and_defect_targets_at_their_boundary(
    key, value, good, rate, target, breach_days
):
    """Node `bad` has every order cancelled / without valid tracking / defective (a share of
    1 or 0 draws nothing: exact), node `good` none; the strategy's rate is B's share of the
    orders. Each SKU alone: B breaches, G never; the strategy is judged on both together."""
    (r,) = replicate(two_nodes(key, value, good))
    metric_name = {
        "cancel_rate": "cancel_rate",
        "valid_tracking_rate": "valid_tracking_rate",
        "defect_rate": "order_defect_rate",
    }[key]
    assert r.m[metric_name] == pytest.approx(rate)
    assert r.m[f"breach_{target}"] == (1 if breach_days else 0)
    assert r.m["account_health_breach_days"] == breach_days
    others = [t.name for t in TARGETS if t.name != target]
    assert all(r.m[f"breach_{t}"] == 0 for t in others)


def test_cancelled_orders_are_lost_demand_and_leave_their_stock_on_the_shelf():
    """Route [a, b]: node a cancels every order it takes (cancel_rate 1), b is its backup.
    5 units a day for 10 days: a takes all 50 from its shelf and cancels them: none reach b
    (a cancelled order is lost, not passed on), both shelves keep their 100 units, 50 units
    lost — under backorder too (nothing waits). The daily check (FULFILSIM_CHECK, on in tests)
    verifies demand = served + cancelled + unmet every day."""
    for mode in ("lost", "backorder"):
        nodes = {"a": {"type": "fbm", "cancel_rate": 1.0}, "b": {"type": "fbm"}}
        st = strategy(["a", "b"], initial={"a": 100, "b": 100}, unmet_demand=mode)
        (r,) = replicate(scen([sku(5)], nodes, [st], 10))
        assert r.trace.cancelled[:, 0, 0].tolist() == [5] * 10
        assert r.trace.on_hand[-1, :, 0].tolist() == [100, 100]
        assert r.m["demand_units"] == 50
        assert r.m["sold_units"] == r.m["orders_shipped"] == 0
        assert r.m["cancelled_units"] == r.m["lost_units"] == 50
        assert r.m["backordered_units"] == 0
        assert r.m["fill_rate"] == 0
        assert r.m["cancel_rate"] == 1
        assert r.m["lost_margin"] == 50 * (20.0 - 6.0)


def test_a_cancel_rate_thins_what_is_served_in_distribution():
    """cancel_rate 0.2 at an FBM node with ample stock, 10 units a day for 30 days, 200
    replications: cancelled units are Binomial(300, 0.2) per replication, so their mean over
    replications is 60 within 3.29 standard errors (sd √(300·0.2·0.8) = 6.93, /√200); every
    replication conserves units (sold + cancelled = demand) and stock falls only by sales."""
    d = scen([sku(10)], {"home": {"type": "fbm", "cancel_rate": 0.2}}, [], 30)
    d["strategies"] = [strategy(["home"], initial={"home": 1000})]
    d["replications"] = 200
    res = run_dict(d)
    cancelled = metric(res, 0, "cancelled_units")
    sold = metric(res, 0, "sold_units")
    np.testing.assert_array_equal(cancelled + sold, 300)
    se = math.sqrt(300 * 0.2 * 0.8) / math.sqrt(200)
    assert abs(cancelled.mean() - 60) < 3.29 * se


# --------------------------------------------------------------------------- SFP eligibility


def sfp_node(days: int = 7, **keys) -> dict:
    """An SFP node shipping and delivering every day, no capacity limit, handling 0; demand
    5 + 5 with the badge (prime_uplift 1); badge window 2 days, 5 days lost."""
    node = {
        "type": "sfp",
        "ship_weekdays": list(WEEK),
        "delivery_weekdays": list(WEEK),
        "transit_days": 1,
        "promise_days": 2,
        "badge_window_days": 2,
        "badge_loss_days": 5,
        **keys,
    }
    demand = {**const(5), "prime_uplift": 1.0}
    st = strategy(["sfp"], initial={"sfp": 1000})
    return scen([sku() | {"demand": demand}], {"sfp": node}, [st], days)


def test_orders_on_buy_shipping_are_not_judged_on_delivery():
    """Transit 5 > promise 2: every order is delivered late (shipped on time). With every label
    on Buy Shipping (the default share 1) Amazon does not judge SFP delivery: the badge holds
    (demand 10 every day). Account health still sees it: on-time delivery 0 % (7-day horizon
    < 14-day window: judged once) — a breach of the account, not of SFP."""
    (r,) = replicate(sfp_node(transit_days=5))
    assert r.trace.demand[:, 0].tolist() == [10] * 7
    assert r.m["badge_lost_days"] == 0 and r.m["sfp_breach_rate"] == 0
    assert r.m["on_time_rate"] == 0
    assert r.m["breach_on_time_delivery_14d"] == 1


def test_orders_outside_buy_shipping_are_judged_on_delivery():
    """The same node with no label on Buy Shipping (share 0; the Buy Shipping minimum set to
    0 so the node stays eligible): every order is judged and 0 % arrive on time < 97 % → the
    badge goes on day 1 (the first full 2-day window) for 5 days: days 2-6, demand 5."""
    (r,) = replicate(sfp_node(transit_days=5, buy_shipping_share=0.0, buy_shipping_min=0.0))
    rows = r.trace.shippers[0].by_ship_day
    assert rows[4].tolist() == [10, 10] + [5] * 5  # every order outside Buy Shipping
    assert r.trace.demand[:, 0].tolist() == [10, 10] + [5] * 5
    assert r.trace.badge_breach[:, 0].tolist() == [False, True] + [False] * 5
    assert r.m["badge_lost_days"] == 5 and r.m["sfp_breach_rate"] == 1


def test_a_node_below_the_buy_shipping_minimum_is_not_eligible():
    """Buy Shipping share 0.98 < Amazon's 99 %: the node never carries the badge (every day
    without it, demand 5), although every order ships and arrives on time: an SFP matter
    only, no account-health target breaks."""
    (r,) = replicate(sfp_node(buy_shipping_share=0.98))
    assert r.trace.demand[:, 0].tolist() == [5] * 7
    assert r.trace.badge_lost[:, 0].all()
    assert r.m["on_time_rate"] == 1
    assert r.m["badge_lost_days"] == 7 and r.m["sfp_breach_rate"] == 1
    assert r.m["account_health_breach_rate"] == 0


@pytest.mark.parametrize(("limit", "lost_days"), [(0.005, 5), (1.0, 0)])
def test_sfp_cancellations_above_half_a_percent_cost_the_badge(limit, lost_days):
    """cancel_rate 1 at the SFP node: every order cancelled, 100 % of the orders it took
    (> 0.5 %, facts §5.2 "no more than") → the badge goes on day 1 for days 2-6. With the limit
    raised to 100 % ("no more than": 100 % is allowed) it stays."""
    (r,) = replicate(sfp_node(cancel_rate=1.0, cancel_rate_max=limit))
    assert r.m["badge_lost_days"] == lost_days
    assert r.m["cancelled_units"] == r.m["demand_units"]
    assert r.m["breach_cancel_7d"] == 1  # account health: 100 % ≥ 2.5 % (window full day 6)


def test_the_share_outside_buy_shipping_is_a_binomial_sample():
    """Buy Shipping share 0.99 (eligible), 10 orders a day (no uplift), every one delivered
    late, window 1 day and the badge lost for good after a breach: a day breaches when at least
    one of its 10 orders is outside Buy Shipping (0 of 1 on time < 97 %). The badge survives
    the 7 days with probability 0.99^70 = 0.4948; over 400 replications the share that lose it
    is within 3.29 binomial standard errors of 1 − 0.99^70."""
    d = sfp_node(
        transit_days=5,
        buy_shipping_share=0.99,
        badge_window_days=1,
        badge_loss_days=365,
    )
    d["skus"][0]["demand"] = const(10)
    d["replications"] = 400
    lost = metric(run_dict(d), 0, "sfp_breach_rate")
    p = 1 - 0.99**70
    se = math.sqrt(p * (1 - p) / 400)
    assert abs(lost.mean() - p) < 3.29 * se


def test_summary_lists_the_account_health_targets_that_broke():
    """summary.json: per strategy, ``account_health_breaches`` names each target that broke in
    some replication with its breach rate (the burst above: the 10-day window only)."""
    d = burst(first_day=30, capacity=20, days=30)
    d["replications"] = 2
    summary = summarize(run_dict(d), "t", "x", 30, 0)
    assert summary["strategies"]["s"]["account_health_breaches"] == {"late_shipment_10d": 1.0}


def test_new_draws_keep_each_replication_exact_in_any_batch():
    """The sfp-vs-fba scenario with cancellations, invalid tracking, defects and 0.995 of the
    SFP labels on Buy Shipping at every seller node: a replication simulated in a batch gives
    exactly what it gives alone, and two strategies on the same node share its streams."""
    from sim import montecarlo
    from sim.loader import load_scenario
    from sim.model import compile_scenario
    from tests.helpers import ROOT

    sc = load_scenario(ROOT / "scenarios" / "sfp-vs-fba.yaml").scenario
    nodes = dict(sc.nodes)
    for name in ("sfp-wh", "fbm-wh"):
        keys = {"cancel_rate": 0.01, "valid_tracking_rate": 0.97, "defect_rate": 0.005}
        if name == "sfp-wh":
            keys["buy_shipping_share"] = 0.995
        nodes[name] = nodes[name].model_copy(update=keys)
    sc = sc.model_copy(update={"nodes": nodes, "horizon_days": sc.warmup_days + 90})
    model = compile_scenario(sc)
    for replications in (range(0, 4), range(2, 4)):
        batch = montecarlo.run_batch(model, replications)
        for r, together in zip(replications, batch, strict=True):
            for a, b in zip(together, montecarlo.run_replication(model, r), strict=True):
                assert np.array_equal(a.skus, b.skus, equal_nan=True)
                assert np.array_equal(a.total, b.total, equal_nan=True)
    k = montecarlo.METRICS.index("cancelled_units")
    assert all(s[k] > 0 for s in (m.total for m in batch[0][1:]))


def test_tracking_and_defects_are_binomial_and_so_is_the_breach():
    """valid_tracking_rate 0.9 and defect_rate 0.008 at an FBM node, 20 orders a day for 30
    days (600 orders), 400 replications. Per replication the valid orders are Binomial(600,
    0.9) and the defects X ~ Binomial(600, 0.008): the means are within 3.29 standard errors
    of 0.9 and 0.008. The 60-day defect window is judged once on the 30 counted days and
    breaches when X / 600 ≥ 1 %, X ≥ 6: its breach rate is within 3.29 binomial standard
    errors of P(X ≥ 6) computed here. Valid tracking 90 % ≤ 95 % breaches in every one."""
    node = {"type": "fbm", "valid_tracking_rate": 0.9, "defect_rate": 0.008}
    d = scen([sku(20)], {"home": node}, [strategy(["home"], initial={"home": 10_000})], 30)
    d["replications"] = reps = 400
    res = run_dict(d)
    valid, defects = metric(res, 0, "valid_tracking_rate"), metric(res, 0, "order_defect_rate")
    assert abs(valid.mean() - 0.9) < 3.29 * math.sqrt(0.9 * 0.1 / 600 / reps)
    assert abs(defects.mean() - 0.008) < 3.29 * math.sqrt(0.008 * 0.992 / 600 / reps)
    q = 1 - sum(math.comb(600, k) * 0.008**k * 0.992 ** (600 - k) for k in range(6))
    breach = metric(res, 0, "breach_order_defect_60d")
    assert abs(breach.mean() - q) < 3.29 * math.sqrt(q * (1 - q) / reps)
    assert (metric(res, 0, "breach_valid_tracking_30d") == 1).all()
