"""Fulfilment modes on deterministic scenarios: every expectation is hand arithmetic.

Covers the FBM delivery rule (cut-off, ship weekdays, capacity backlog), account health, FBA
(storage and aged-inventory fees, capacity limit, check-in, fees), hybrid fallback with the Prime
uplift, SFP badge loss, stock-out rank loss, named supply lanes, per-order / referral /
receiving / returns costs and located input errors. Demand is `empirical` with one value (a
constant), lead and transit times are constants and FBA check-in is 0 unless a test says
otherwise, so one replication is exact. SPEC §3 gives the timing conventions.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.engine import Trace, simulate
from sim.errors import UserError
from sim.loader import validate
from sim.metric_names import INDEX
from sim.metrics import measure
from sim.model import StrategyModel, compile_scenario
from sim.montecarlo import Streams, draw_demand, run_replication
from sim.shipping import LATE, LATE_AND_LATE, SHIPPED

REPO = Path(__file__).resolve().parents[1]
MON_FRI = ["mon", "tue", "wed", "thu", "fri"]
WEEK = [*MON_FRI, "sat", "sun"]

# --------------------------------------------------------------------------- helpers


@dataclass
class Run:
    model: StrategyModel
    trace: Trace
    m: dict[str, float]  # strategy-total metrics of the replication

    def node(self, name: str) -> int:
        return [n.name for n in self.model.nodes].index(name)


def replicate(d: dict, replication: int = 0) -> list[Run]:
    """Run one replication of every strategy in-process (as montecarlo.run_replication does),
    keeping each strategy's trace; the metrics are checked equal to run_replication's."""
    model = compile_scenario(validate(d))
    streams = Streams(model.seed, replication)
    demand, extra = draw_demand(model, streams)
    cal = model.calendar
    uniforms = {s: streams.shared(*s).random(cal.days) for s in model.lead_streams}
    out = []
    for st in model.strategies:
        lead = {}
        for lane in st.lanes:
            lead[lane.stream] = lane.lead.sample(uniforms[lane.stream])
            if lane.check_in is not None:
                lead[lane.check_in_stream] = lane.check_in.sample(uniforms[lane.check_in_stream])
        trace = simulate(
            st, model.catalog, demand, lead, streams, cal.start_weekday, extra_demand=extra
        )
        measured = measure(trace, st, model.catalog, cal, streams)
        out.append(Run(st, trace, {k: float(measured.total[i]) for k, i in INDEX.items()}))
    reference = run_replication(model, replication)
    for run, ref in zip(out, reference, strict=True):
        np.testing.assert_array_equal([run.m[k] for k in INDEX], ref.total)
    return out


def const(units: float) -> dict:
    return {"distribution": "empirical", "values": [units]}


def sku(demand: float = 1, **keys) -> dict:
    return {"id": "A", "price": 20.0, "unit_cost": 6.0, "demand": const(demand), **keys}


# 18 x 12 x 8 in = 1728 cu in = exactly 1 cu ft: large standard (longest 18, median 12 <= 14,
# shortest 8 <= 8), dimensional weight 1728 / 139 = 12.4 lb <= 20 lb. Per-cu-ft rates = per unit.
CUBE = {"length_in": 18, "width_in": 12, "height_in": 8, "weight_lb": 2.0}
# 10 x 6 x 0.5 in, 4 oz: small standard; 2025 card std_2024_nonpeak, 2-4 oz: $3.15 a unit
FLAT = {"length_in": 10, "width_in": 6, "height_in": 0.5, "weight_lb": 0.25}


def scen(skus, nodes, strategies, days, start="2026-01-05", **top) -> dict:
    """A one-replication scenario (2026-01-05 and 2025-03-03 are Mondays)."""
    return {
        "name": "modes",
        "start_date": start,
        "horizon_days": days,
        "replications": 1,
        "seed": 3,
        "skus": skus,
        "nodes": nodes,
        "strategies": strategies,
        **top,
    }


def strategy(fulfil, replenish=None, initial=None, name="s", **keys) -> dict:
    return {
        "name": name,
        "fulfil_from": fulfil,
        "replenish": replenish or {},
        "initial_on_hand": initial or {},
        **keys,
    }


def up_to(level, lead=1, **keys) -> dict:
    return {"lead_time_days": lead, "policy": {"type": "order_up_to", "level": level}, **keys}


# --------------------------------------------------------------------------- FBM delivery rule


def fbm_two_weeks(cutoff_hour, **node) -> dict:
    home = {
        "type": "fbm",
        "handling_days": 1,
        "ship_weekdays": MON_FRI,
        "transit_days": 2,
        "promise_days": 4,
        "cutoff_hour": cutoff_hour,
        **node,
    }
    return scen([sku(1)], {"home": home}, [strategy(["home"], initial={"home": 1000})], days=14)


def test_no_cutoff_handling_one_ship_weekdays():
    """cutoff 24: order day t, ship on the 1st Mon-Fri strictly after t, deliver 2 days later.

    Mon→Tue 1+2=3, Tue→Wed 3, Wed→Thu 3, Thu→Fri 3, Fri→Mon 3+2=5, Sat→Mon 2+2=4, Sun→Mon 1+2=3
    days. Promise 4: only Friday's order is late. Two weeks, one order a day: 12 of 14 on time,
    delivery days 2·(3·5 + 5 + 4) / 14 = 48/14."""
    (r,) = replicate(fbm_two_weeks(24))
    assert r.m["orders_shipped"] == 14
    assert r.m["on_time_rate"] == pytest.approx(12 / 14)
    assert r.m["avg_delivery_days"] == pytest.approx(48 / 14)
    assert r.m["late_shipment_rate"] == 0


def test_cutoff_zero_counts_every_order_from_the_next_day():
    """cutoff 0: every order counts as placed the next day (e = t + 1), then the same rule,
    and its promise counts from e too (on time when delivered by t + 1 + 4).

    Mon (e Tue)→Wed +2 → 4 days; Tue→Thu 4; Wed→Fri 4; Thu (e Fri)→Mon +4 → 6; Fri (e Sat)→Mon
    +3 → 5; Sat (e Sun)→Mon +2 → 4; Sun (e Mon)→Tue +2 → 4. Against 5 days only Thursday's is
    late: 12 of 14 on time; delivery days (from the order day) 2·(4·5 + 6 + 5) / 14 = 62/14."""
    (r,) = replicate(fbm_two_weeks(0))
    assert r.m["orders_shipped"] == 14
    assert r.m["on_time_rate"] == pytest.approx(12 / 14)
    assert r.m["avg_delivery_days"] == pytest.approx(62 / 14)
    # the cut-off delays shipping but is not "shipped late" (no capacity backlog)
    assert r.m["late_shipment_rate"] == 0


def test_delivery_weekdays_skip_sunday():
    """Delivery Mon-Sat, handling 0, transit 1, cutoff 24, ship Mon-Fri: a Friday order ships
    Friday and arrives the 1st delivery weekday after it, Saturday (1 day); a Saturday order
    ships Monday (+2) and arrives Tuesday (+3); Sunday → Mon → Tue (+2); Mon-Thu: +1.
    Promise 1: Mon-Fri on time (5 of 7 a week). Days: (1·5 + 3 + 2)·2 / 14 = 20/14."""
    d = fbm_two_weeks(24)
    d["nodes"]["home"].update(
        handling_days=0,
        transit_days=1,
        promise_days=1,
        delivery_weekdays=["mon", "tue", "wed", "thu", "fri", "sat"],
    )
    (r,) = replicate(d)
    assert r.m["on_time_rate"] == pytest.approx(10 / 14)
    assert r.m["avg_delivery_days"] == pytest.approx(20 / 14)


def test_a_capacity_that_never_binds_changes_nothing():
    """Same two weeks with capacity 1000 orders a day (never reached): SPEC §3 counts orders
    "whatever day they ship", so every metric should equal the uncapacitated run. The orders
    of the last Fri-Sun (t = 11-13) ship on Monday t = 14, after the horizon, and still count
    (the backlog is shipped out after the horizon)."""
    (free,) = replicate(fbm_two_weeks(24))
    (capped,) = replicate(fbm_two_weeks(24, daily_order_capacity=1000))
    for k in ("orders_shipped", "on_time_rate", "avg_delivery_days"):
        assert capped.m[k] == pytest.approx(free.m[k]), k


def capacity_backlog(units=5, per_order=1) -> dict:
    home = {
        "type": "fbm",
        "ship_weekdays": MON_FRI,
        "daily_order_capacity": 4,
        "transit_days": 0,
        "promise_days": 0,
    }
    a = sku(units, units_per_order=per_order)
    return scen([a], {"home": home}, [strategy(["home"], initial={"home": 1000})], days=14)


@pytest.mark.parametrize(("units", "per_order"), [(5, 1), (10, 2)])
def test_capacity_backlog_ships_late_first_in_first_out(units, per_order):
    """5 orders a day (5 units, or 10 in orders of 2), 4 shipped per Mon-Fri, handling 0, transit 0, promise 0 (t = 0 Monday).

    day 0 Mon: od0 4 (on time)            day 7 Mon: od4 4 (late; od5, od6 wait, rule day 7)
    day 1 Tue: od0 1 late, od1 3          day 8 Tue: od4 1, od5 3 (late)
    day 2 Wed: od1 2 late, od2 2          day 9 Wed: od5 2, od6 2 (late)
    day 3 Thu: od2 3 late, od3 1          day 10 Thu: od6 3, od7 1 (late)
    day 4 Fri: od3 4 late                 day 11 Fri: od7 4 (late); Sat, Sun: none
    Within the horizon 10 ship days · 4 = 40 of 70 ship; on time (same day) 4+3+2+1 = 10.
    Days order→ship (= delivery): od0 1, od1 2, od2 3, od3 4, od4 4·3+4 = 16, od5 3·3+2·4 = 17,
    od6 2·3+3·4 = 18, od7 1·3+4·4 = 19 (80 in all). The 30 still waiting ship after the horizon
    (their order days are counted): day 14 Mon od8 4, day 15 od8 1 + od9 3, day 16 od9 2 +
    od10 2, day 17 od10 3 + od11 1, day 18 od11 4, day 21 Mon od12 4 (Sat and Sun orders: rule
    day 14), day 22 od12 1 + od13 3, day 23 od13 2: all late. Days: od8 4·6+7 = 31,
    od9 3·6+2·7 = 32, od10 33, od11 34, od12 4·9+10 = 46, od13 3·9+2·10 = 47 (223).
    So 70 shipped, 60 late, 10 on time, 303 order-days."""
    (r,) = replicate(capacity_backlog(units, per_order))
    sh = r.trace.shippers[0]
    assert sh.shipped[:, 0].tolist() == [5] * 14
    assert sh.late[:, 0].tolist() == [1, 2, 3, 4, 5, 5, 5, 5] + [5] * 6
    # node totals by ship day, within the horizon (the SFP badge window looks at these)
    assert sh.by_ship_day[0].tolist() == [4, 4, 4, 4, 4, 0, 0, 4, 4, 4, 4, 4, 0, 0]
    assert r.m["demand_units"] == 70 * per_order
    assert r.m["fill_rate"] == 1  # served from stock on the day; only the shipping waits
    assert r.m["orders_shipped"] == 70
    assert r.m["late_shipment_rate"] == pytest.approx(60 / 70)
    assert r.m["on_time_rate"] == pytest.approx(10 / 70)
    assert r.m["avg_delivery_days"] == pytest.approx(303 / 70)
    # The 10-day late-shipment window is full from day 9: every window ending on days 9-13
    # holds late orders (each order day has some, by order day) → ≥ 4% → 5 breach days. Horizon
    # 14 < the 14/30-day windows is judged once, on the last day (late 86%, on time 14% ≤ 90%).
    assert r.m["account_health_breach_rate"] == 1
    assert r.m["account_health_breach_days"] == 5
    assert r.m["breach_late_shipment_10d"] == r.m["breach_late_shipment_30d"] == 1
    assert r.m["breach_on_time_delivery_14d"] == 1


def test_account_health_counts_seller_fulfilled_orders_only():
    """Transit 5 days against a promise of 2: every order is delivered late. From an FBA node
    Amazon answers for it (no breach); from an FBM node on-time 0% < 90% over 14 days breaches
    on every day from day 13 (the first full window) to day 19: 7 days."""
    late = {"transit_days": 5, "promise_days": 2}
    nodes = {
        "fba": {"type": "fba", "amazon_fees": False, "check_in_days": 0, **late},
        "home": {"type": "fbm", **late},
    }
    d = scen(
        [sku(1)],
        nodes,
        [
            strategy(["fba"], initial={"fba": 100}, name="fba"),
            strategy(["home"], initial={"home": 100}, name="fbm"),
        ],
        days=20,
    )
    fba, fbm = replicate(d)
    assert fba.m["on_time_rate"] == fbm.m["on_time_rate"] == 0
    assert fba.m["account_health_breach_rate"] == 0
    assert fba.m["account_health_breach_days"] == 0
    assert fbm.m["account_health_breach_rate"] == 1
    assert fbm.m["account_health_breach_days"] == 7


# --------------------------------------------------------------------------- FBA fees


def fba_hold(days: int, warmup: int = 0) -> dict:
    """10 units of a 1 cu ft SKU held at FBA from 2025-01-01 with no demand; level 10 = on hand,
    so the policy never orders."""
    fba = {"type": "fba", "check_in_days": 0}
    st = strategy(["fba"], {"fba": up_to(10)})
    return scen([sku(0, **CUBE)], {"fba": fba}, [st], days, "2025-01-01", warmup_days=warmup)


def test_fba_storage_and_aged_inventory_by_hand():
    """2025-01-01 .. 2025-10-31 (304 days), 10 units of exactly 1 cu ft, standard size.

    Storage: a full month costs 10 · rate: 10 · (0.78 · 9 (Jan-Sep) + 2.40 (Oct)) = 94.20.
    Aged inventory (15th-of-month snapshots, initial stock aged t on day t): Jul 15 = day 195
    (band 181-210, $0.50/cu ft), Aug 15 = 226 (211-240, $1.00), Sep 15 = 257 (241-270, $1.50),
    Oct 15 = 287 (271-300, $3.80); Jun 15 = day 165 < 181 is free. 10 · (0.50 + 1.00 + 1.50 +
    3.80) = 68.00. Nothing shipped or received: no fulfilment, LIL or placement fee."""
    (r,) = replicate(fba_hold(304))
    assert not r.trace.orders.any()
    assert r.m["cost_storage"] == pytest.approx(94.20)
    assert r.m["cost_aged_inventory"] == pytest.approx(68.00)
    for part in ("fulfillment", "low_inventory", "placement", "referral", "freight"):
        assert r.m[f"cost_{part}"] == 0, part
    assert r.m["total_cost"] == pytest.approx(94.20 + 68.00)


def test_fba_fees_after_warmup():
    """Warm-up 181 days (to 2025-06-30): storage counts Jul-Oct only, 10 · (0.78 · 3 + 2.40) =
    47.40; every aged snapshot (day 195 on) is after the warm-up: still 68.00."""
    (r,) = replicate(fba_hold(304, warmup=181))
    assert r.m["cost_storage"] == pytest.approx(47.40)
    assert r.m["cost_aged_inventory"] == pytest.approx(68.00)


def test_fba_capacity_limit_cuts_orders_proportionally():
    """Capacity 20 cu ft. SKU A 1 cu ft (10 on hand, level 20, demand 3), B 0.5 cu ft (10, 20, 2).

    Day 0: positions A 7, B 8 → 7 + 4 = 11 cu ft used, room 9; wanted A 13, B 12 = 19 cu ft, so
    both are cut by 9/19: A ⌊13·9/19⌋ = ⌊6.16⌋ = 6, B ⌊12·9/19⌋ = ⌊5.68⌋ = 5 (positions 13, 13).
    Day 1 on: positions A 10, B 11 → 15.5 used, room 4.5; wanted A 10, B 9 = 14.5 cu ft:
    A ⌊10·4.5/14.5⌋ = 3, B ⌊9·4.5/14.5⌋ = 2, which is exactly the day's demand again."""
    half = {**CUBE, "height_in": 4}  # 18 x 12 x 4 = 864 cu in = 0.5 cu ft
    skus = [sku(3, **CUBE), {**sku(2, **half), "id": "B"}]
    fba = {"type": "fba", "amazon_fees": False, "check_in_days": 0, "capacity_cubic_feet": 20}
    st = strategy(["fba"], {"fba": up_to(20, lead=2)}, initial={"fba": 10})
    (r,) = replicate(scen(skus, {"fba": fba}, [st], days=8))
    assert r.trace.orders[0, :, 0].tolist() == [6, 3, 3, 3, 3, 3, 3, 3]
    assert r.trace.orders[0, :, 1].tolist() == [5, 2, 2, 2, 2, 2, 2, 2]
    # end-of-day on hand + inbound volume never exceeds the capacity
    inbound = [r.trace.orders[0, max(0, t - 1) : t + 1].sum(axis=0) for t in range(8)]
    volume = [(r.trace.on_hand[t, 0] + inbound[t]) @ [1.0, 0.5] for t in range(8)]
    assert max(volume) <= 20


def test_fba_check_in_days_are_added_to_the_lead_time():
    """Lead 2 + check-in 3: the order of day 0 (1 unit) is sellable at the start of day 5, so
    on hand falls 9, 8, 7, 6, 5 and then holds at 5 (receipt 1, demand 1 a day)."""
    fba = {"type": "fba", "amazon_fees": False, "check_in_days": 3}
    st = strategy(["fba"], {"fba": up_to(10, lead=2)})
    (r,) = replicate(scen([sku(1)], {"fba": fba}, [st], days=10))
    assert r.trace.lead_days[0].tolist() == [5] * 10
    assert r.trace.on_hand[:, 0, 0].tolist() == [9, 8, 7, 6, 5, 5, 5, 5, 5, 5]
    assert r.trace.received[:, 0, 0].tolist() == [0] * 5 + [1] * 5


def test_fba_default_check_in_is_triangular_2_3_7():
    """Default check-in triangular(2, 3, 7) rounded up: 3..7 extra days (P(T ≤ 2) = 0)."""
    fba = {"type": "fba", "amazon_fees": False}
    st = strategy(["fba"], {"fba": up_to(10, lead=2)})
    (r,) = replicate(scen([sku(1)], {"fba": fba}, [st], days=200))
    extra = r.trace.lead_days[0] - 2
    assert extra.min() >= 3 and extra.max() <= 7
    assert len(set(extra.tolist())) >= 3


def test_fba_fees_of_a_replenished_node_and_apparel_returns():
    """2025-03-03, 10 days, demand 1, level 10, lead 2, placement `minimal`, SKU 4 oz small
    standard at $20 (card fee 3.15), category apparel, every unit returned, none resellable.
    Orders of days 0-7 arrive on days 2-9: 8 units received · 0.23 (midpoint of minimal
    [0.16, 0.30], small standard ≤ 1 lb) = 1.84. Shipped 10 · 3.15 = 31.50. On hand 9, 8, then 8
    (receive 1, sell 1): 81 unit-days · 0.78/31 · 30/1728 cu ft. Returns: 10 · (20 − 0) = 200
    refunded + Amazon's apparel fee on every returned unit at the card fee: 10 · 3.15 = 31.50.
    Referral: Clothing and Accessories from 2024-01-15, > $15 and ≤ $20 is 10% (us.yaml R4):
    10 · 2.00 = 20."""
    fba = {"type": "fba", "check_in_days": 0, "placement": "minimal"}
    a = sku(1, **FLAT, category="apparel", returns={"rate": 1.0, "resellable": 0.0})
    st = strategy(["fba"], {"fba": up_to(10, lead=2)})
    (r,) = replicate(scen([a], {"fba": fba}, [st], 10, "2025-03-03"))
    assert r.trace.on_hand[:, 0, 0].tolist() == [9] + [8] * 9
    assert r.m["cost_placement"] == pytest.approx(8 * 0.23)
    assert r.m["cost_fulfillment"] == pytest.approx(10 * 3.15)
    assert r.m["cost_storage"] == pytest.approx(81 * 0.78 / 31 * 30 / 1728)
    assert r.m["cost_returns"] == pytest.approx(200 + 31.50)
    assert r.m["cost_referral"] == pytest.approx(20.0)
    assert r.m["cost_low_inventory"] == 0  # not before day 30 of the calendar


def test_referral_overrides_in_a_scenario():
    """fee_overrides replace a category's rate (home_kitchen 15% -> 12%: 10 · 0.12 · 20 = 24);
    a flat rate given to a category with dated rows (apparel) is refused, not ignored."""
    a = sku(1, category="home_kitchen")
    st = strategy(["home"], initial={"home": 100})
    over = {"referral": {"categories": {"home_kitchen": {"rate": 0.12}}}}
    d = scen([a], {"home": {"type": "fbm"}}, [st], 10, "2025-03-03", fee_overrides=over)
    (r,) = replicate(d)
    assert r.m["cost_referral"] == pytest.approx(24.0)
    d["skus"][0]["category"] = "apparel"
    d["fee_overrides"] = {"referral": {"categories": {"apparel": {"rate": 0.12}}}}
    # refused where it is read: apparel's entry holds dated `rows`, not a flat `rate`
    with pytest.raises(UserError, match=r"fee_overrides\.referral\.categories\.apparel\.rate"):
        compile_scenario(validate(d))


def test_referral_fee_follows_the_schedule_by_order_day():
    """FBM, apparel at $18, 2024-01-10 .. 2024-01-19, one unit a day. Clothing and Accessories
    was 17% until 2024-01-14 (0.17 · 18 = 3.06) and 10% from 2024-01-15 (1.80): orders of days
    0-4 pay 3.06, days 5-9 pay 1.80: 5 · 3.06 + 5 · 1.80 = 24.30. With backorders and nothing on
    hand until a delivery on day 6, the orders of days 0-5 ship on day 6 but still pay the fee of
    their order day, so the total is the same; priced on the ship day it would be 10 · 1.80."""
    a = sku(1, price=18.0, category="apparel")
    st = strategy(["home"], initial={"home": 100})
    (r,) = replicate(scen([a], {"home": {"type": "fbm"}}, [st], 10, "2024-01-10"))
    assert r.m["sold_units"] == 10
    assert r.m["cost_referral"] == pytest.approx(5 * 3.06 + 5 * 1.80)
    late = strategy(["home"], {"home": up_to(20, lead=6)}, {"home": 0}, unmet_demand="backorder")
    (r,) = replicate(scen([a], {"home": {"type": "fbm"}}, [late], 10, "2024-01-10"))
    assert r.m["sold_units"] == 10
    assert r.trace.fills and min(f.day for f in r.trace.fills) == 6
    assert r.m["cost_referral"] == pytest.approx(5 * 3.06 + 5 * 1.80)


# --------------------------------------------------------------------------- hybrid and Prime


def test_hybrid_fallback_prime_uplift_and_fulfilment_costs():
    """fulfil_from [fba, home]; base demand 4, prime_uplift 0.5 → 2 extra units while the offer
    is Prime (the first node with stock is FBA). FBA starts with 15 and is never refilled.

    day 0: Prime, demand 6, FBA 6 (9 left); day 1: 6, FBA 6 (3 left); day 2: Prime (FBA has 3),
    demand 6: FBA 3 + home 3; day 3 on: FBA empty → no badge, demand 4, all from home.
    10 days from 2025-03-03: sold 6·3 + 4·7 = 46; FBA ships 15, home 3 + 28 = 31 orders.
    Fulfilment: FBA small standard 4 oz, $20 (2025 card): 15 · 3.15 = 47.25; home per order
    0.50 + 1.00 pick/pack + 2.00 label + 0.80/lb · 1 lb billable (0.25 lb, and 30 cu in ÷ 139
    = 0.22 lb, rounded up to a whole pound) = 4.30 → 31 · 4.30 = 133.30.
    Referral 15% of $20 = 3.00 on every unit, both channels: 46 · 3 = 138.
    FBA storage: 9 + 3 unit-days in March of 10·6·0.5/1728 cu ft at 0.78/31 a day."""
    demand = {**const(4), "prime_uplift": 0.5}
    home = {
        "type": "fbm",
        "order_cost": 0.5,
        "pick_pack_per_order": 1.0,
        "label_cost_per_order": 2.0,
        "label_cost_per_lb": 0.8,
    }
    fba = {"type": "fba", "check_in_days": 0}
    st = strategy(["fba", "home"], initial={"fba": 15, "home": 1000})
    d = scen([sku(**FLAT) | {"demand": demand}], {"fba": fba, "home": home}, [st], 10, "2025-03-03")
    (r,) = replicate(d)
    t, f, h = r.trace, r.node("fba"), r.node("home")
    assert t.demand[:, 0].tolist() == [6, 6, 6] + [4] * 7
    assert t.prime[:, 0].tolist() == [True] * 3 + [False] * 7
    assert t.served[:, f, 0].tolist() == [6, 6, 3] + [0] * 7
    assert t.served[:, h, 0].tolist() == [0, 0, 3] + [4] * 7
    assert r.m["sold_units"] == 46
    assert r.m["fill_rate"] == 1
    assert r.m["orders_shipped"] == 46
    assert r.m["cost_fulfillment"] == pytest.approx(15 * 3.15 + 31 * 4.30)
    assert r.m["cost_referral"] == pytest.approx(46 * 3.00)
    assert r.m["cost_storage"] == pytest.approx(12 * 0.78 * (10 * 6 * 0.5 / 1728) / 31)


def test_stockout_penalty_thins_the_next_days_demand():
    """depth 1, recovery_days 1: after a short day the next day's demand is thinned to 0, then
    back to full. 5 units, never refilled, demand 4: day 0 sells 4; day 1 sells 1 (short);
    day 2 demand 0 (not short: rank back to 1); day 3 4 unmet (short); day 4 0; day 5 4."""
    demand = {**const(4), "stockout_penalty": {"depth": 1.0, "recovery_days": 1}}
    d = scen(
        [sku() | {"demand": demand}],
        {"home": {"type": "fbm"}},
        [strategy(["home"], initial={"home": 5})],
        6,
    )
    (r,) = replicate(d)
    assert r.trace.demand[:, 0].tolist() == [4, 4, 0, 4, 0, 4]
    assert r.m["lost_units"] == 3 + 4 + 4
    assert r.m["sold_units"] == 5


def sfp_backlog(promise: int, days: int) -> dict:
    """SFP, handling 0, transit 1, capacity 8 orders a day, badge window 2 days, 5 days lost
    after a breach; demand 5 + 5 more with the badge (prime_uplift 1): 10 orders a day with
    the badge, 2 more than the node can ship, so some orders ship a day late."""
    sfp = {
        "type": "sfp",
        "transit_days": 1,
        "promise_days": promise,
        "daily_order_capacity": 8,
        "badge_loss_days": 5,
        "badge_window_days": 2,
    }
    demand = {**const(5), "prime_uplift": 1.0}
    st = strategy(["sfp"], {"sfp": up_to(200)})
    return scen([sku() | {"demand": demand}], {"sfp": sfp}, [st], days)


def test_sfp_shipped_late_but_delivered_on_time_keeps_the_badge():
    """Promise 2 (facts §5.2, help 202072550: "If the package was shipped late but delivered on
    time, it will be counted as on time"). Ships and delivers every day: order n of the run
    (10 a day, oldest first) ships on day ⌊n / 8⌋ and arrives the next day; an order of day d
    is on time when it ships by d + 1, i.e. 10d + i < 8(d + 2), 2d + i < 16: true for every
    order of days 0-3 and for those of day 4 shipped by day 5 (positions 40-47 ship on day 5).
    Shipped late by ship day (days 0-5): day 0 none; day 1 day 0's last 2; day 2 day 1's last 4;
    day 3 day 2's 6; day 4 day 3's 8; day 5 8 of day 4's. None of them delivered late: the
    badge holds, demand stays 10 a day. Late shipments are an account-health matter: the
    horizon (6 days) is shorter than the 10-day window, judged once on the orders of days 0-5:
    28 shipped late within the horizon + the 12 still waiting at its end (they ship after it,
    late) = 40 of 60."""
    d = sfp_backlog(promise=2, days=6)
    d["nodes"]["sfp"].update(ship_weekdays=list(WEEK), delivery_weekdays=list(WEEK))
    (r,) = replicate(d)
    rows = r.trace.shippers[0].by_ship_day
    assert rows[SHIPPED].tolist() == [8] * 6
    assert rows[LATE].tolist() == [0, 2, 4, 6, 8, 8]
    assert rows[LATE_AND_LATE].tolist() == [0] * 6
    assert r.trace.demand[:, 0].tolist() == [10] * 6
    assert not r.trace.badge_lost.any() and not r.trace.badge_breach.any()
    assert r.m["badge_lost_days"] == 0 and r.m["sfp_breach_rate"] == 0
    assert r.m["late_shipment_rate"] == pytest.approx(40 / 60)
    assert r.m["breach_late_shipment_10d"] == 1  # ≥ 4 %: an account-health breach, not SFP's
    assert r.m["account_health_breach_rate"] == 1


def test_sfp_control_shipped_late_and_delivered_late_loses_the_badge():
    """The same node with promise 1 (ship/deliver Mon-Sat, day 0 a Monday): an order shipped
    late is now delivered late too. Day 0: 10 ordered, 8 shipped on time. Day 1: day 0's 2
    ship late and arrive on day 2 > 0 + 1 → the 2-day window (judged once full, from day 1):
    2 of 16 shipped late and delivered late = 87.5 % on-time shipment < 99 % → badge lost for
    5 days: days 2-6 have no badge, demand 5. Losing the badge is not an account-health breach
    (that one comes from the late shipments: 7-day horizon < 10-day window, judged once)."""
    (r,) = replicate(sfp_backlog(promise=1, days=7))
    assert r.trace.demand[:, 0].tolist() == [10, 10, 5, 5, 5, 5, 5]
    assert r.trace.prime[:, 0].tolist() == [True, True] + [False] * 5
    assert r.trace.badge_lost[:, 0].tolist() == [False, False] + [True] * 5
    assert r.trace.badge_breach[:, 0].tolist() == [False, True] + [False] * 5
    assert r.m["badge_lost_days"] == 5
    assert r.m["sfp_breach_rate"] == 1


# --------------------------------------------------------------------------- named lanes


def lane_scenario(lanes, strategies, days=10) -> dict:
    a = sku(2, length_in=12, width_in=12, height_in=6, weight_kg=1.5)  # 864 cu in = 0.5 cu ft
    nodes = {"a": {"type": "fbm"}, "b": {"type": "fbm"}}
    return scen([a], nodes, strategies, days, lanes=lanes)


def by_lane(node: str, level: int = 20) -> dict:
    return {node: {"lane": "sea", "policy": {"type": "order_up_to", "level": level}}}


def test_lane_lead_is_the_sum_of_its_legs_each_rounded_up():
    """Legs 1.5 and 2.5 days: ⌈1.5⌉ + ⌈2.5⌉ = 2 + 3 = 5 (not ⌈4.0⌉ = 4). The order of day 0
    (2 units) is on hand on day 5: on hand 18, 16, 14, 12, 10, then 10."""
    legs = [{"name": "production", "days": 1.5}, {"name": "ocean", "days": 2.5}]
    (r,) = replicate(lane_scenario({"sea": {"legs": legs}}, [strategy(["a"], by_lane("a"))]))
    assert r.trace.lead_days[0].tolist() == [5] * 10
    assert r.trace.on_hand[:, 0, 0].tolist() == [18, 16, 14, 12, 10, 10, 10, 10, 10, 10]


def test_lane_costs_by_weight_volume_unit_and_shipment():
    """Per unit: 2.00/kg · 1.5 kg + 3.00/cu ft · 0.5 cu ft + 0.25 = 4.75; 2 units ordered on
    each of 10 days (20 units, 10 shipments of one SKU) → 20 · 4.75 + 10 · 10.00 = 195."""
    lanes = {
        "sea": {
            "legs": [{"name": "production", "days": 2}, {"name": "ocean", "days": 3}],
            "cost_per_kg": 2.0,
            "cost_per_cubic_foot": 3.0,
            "cost_per_unit": 0.25,
            "cost_per_shipment": 10.0,
        }
    }
    (r,) = replicate(lane_scenario(lanes, [strategy(["a"], by_lane("a"))]))
    assert r.trace.orders[0, :, 0].tolist() == [2] * 10
    assert r.m["cost_freight"] == pytest.approx(195.0)


def test_strategies_on_the_same_lane_share_lead_draws():
    """Common random numbers: two strategies (different nodes, levels) on lane `sea` with a
    random ocean leg see the same lead time each day; 10 + ⌈U(20, 30)⌉ lies in 31..40."""
    legs = [
        {"name": "production", "days": 10},
        {"name": "ocean", "days": {"dist": "uniform", "low": 20, "high": 30}},
    ]
    sts = [
        strategy(["a"], by_lane("a", 100), name="one"),
        strategy(["b"], by_lane("b", 150), name="two"),
    ]
    one, two = replicate(lane_scenario({"sea": {"legs": legs}}, sts, days=60))
    lead = one.trace.lead_days[0]
    assert lead.tolist() == two.trace.lead_days[0].tolist()
    assert lead.min() >= 31 and lead.max() <= 40
    assert len(set(lead.tolist())) > 1


# --------------------------------------------------------------------------- seller costs


def test_seller_storage_receiving_returns_and_referral_costs():
    """fbm node, 10 days, demand 2, level 20 (lead 1), every unit returned (rate 1), half
    resellable. Sold 20; received: orders of days 0-8 arrive on days 1-9: 18 units (not the
    initial 20, not day 9's order). On hand 20 - 2 + 2 = 18 every day → 180 unit-days.
    storage 3.04375/cu ft-month (= 0.1 a cu ft-day) · 0.5 cu ft + 0.01 holding = 0.06/unit-day:
    10.80; receiving 18 · 0.40 = 7.20; returns 20 · (20 - 0.5 · 6 + 1.50 handling) = 370;
    referral 8% (consumer_electronics) of $20 = 1.60 → 32; product 20 · 6 = 120."""
    home = {
        "type": "fbm",
        "storage_per_cubic_foot_month": 3.04375,
        "holding_cost_per_unit_day": 0.01,
        "receiving_per_unit": 0.40,
        "return_handling_per_unit": 1.50,
    }
    a = sku(2, length_in=12, width_in=12, height_in=6, category="consumer_electronics")
    a["returns"] = {"rate": 1.0, "resellable": 0.5}
    (r,) = replicate(scen([a], {"home": home}, [strategy(["home"], {"home": up_to(20)})], 10))
    assert r.m["cost_storage"] == pytest.approx(180 * 0.06)
    assert r.m["cost_receiving"] == pytest.approx(7.20)
    assert r.m["cost_returns"] == pytest.approx(370.0)
    assert r.m["cost_referral"] == pytest.approx(32.0)
    assert r.m["cost_product"] == pytest.approx(120.0)
    assert r.m["revenue"] == pytest.approx(400.0)
    a["returns"]["rate"] = 0.0
    (r,) = replicate(scen([a], {"home": home}, [strategy(["home"], {"home": up_to(20)})], 10))
    assert r.m["cost_returns"] == 0


def test_3pl_pallet_storage_and_referral_minimum():
    """3PL: 60.875 a pallet-month, 20 cu ft a pallet, a 1 cu ft unit = 0.05 pallet →
    60.875 · 0.05 / 30.4375 = 0.10 a unit-day; 50 units, no demand, 10 days → 50.00.
    A $1 item pays the $0.30 referral minimum (15% = 0.15 < 0.30): 2 sold on a second SKU."""
    tpl = {"type": "3pl", "storage_per_pallet_month": 60.875, "cubic_feet_per_pallet": 20}
    cheap = {"id": "C", "price": 1.0, "demand": const(1), **CUBE}
    st = strategy(["tpl"], initial={"tpl": {"A": 50, "C": 2}})
    (r,) = replicate(scen([sku(0, **CUBE), cheap], {"tpl": tpl}, [st], 10))
    # C: 2 on hand, sells 1 on day 0 (1 left at the end of the day) and 1 on day 1: 1 unit-day
    assert r.m["cost_storage"] == pytest.approx(0.10 * (50 * 10 + 1))
    assert r.m["cost_referral"] == pytest.approx(2 * 0.30)


def test_units_per_order_divides_units_into_orders_for_per_order_costs():
    """6 units a day in orders of 3 = 2 orders a day; 5 days → 10 orders. Per order:
    1.00 pick/pack + 0.50/lb · 2 lb · 3 units = 4.00 → 40.00 (no size: dim_divisor 0)."""
    home = {"type": "fbm", "pick_pack_per_order": 1.0, "label_cost_per_lb": 0.5, "dim_divisor": 0}
    a = sku(6, weight_lb=2.0, units_per_order=3)
    (r,) = replicate(scen([a], {"home": home}, [strategy(["home"], initial={"home": 100})], 5))
    assert r.m["sold_units"] == 30
    assert r.m["orders_shipped"] == 10
    assert r.m["cost_fulfillment"] == pytest.approx(40.0)


# --------------------------------------------------------------------------- bad input


def fba_scenario() -> dict:
    fba = {"type": "fba", "check_in_days": 0}
    st = strategy(["fba"], {"fba": up_to(10, lead=2)})
    lanes = {"sea": {"legs": [{"name": "ocean", "days": 20}]}}
    return scen([sku(**FLAT)], {"fba": fba}, [st], 30, "2025-03-03", lanes=lanes)


def mistake(change) -> list[tuple[str, str]]:
    d = fba_scenario()
    change(d)
    with pytest.raises(UserError) as err:
        compile_scenario(validate(d))
    return err.value.problems


def _set(path: str, value):
    def change(d):
        *keys, last = path.split(".")
        for k in keys:
            d = d[int(k)] if k.isdigit() else d[k]
        if value is None:
            del d[last]
        else:
            d[last] = value

    return change


AIR = {"lane": "air", "policy": {"type": "order_up_to", "level": 10}}  # lanes: only `sea`


@pytest.mark.parametrize(
    ("change", "location", "words"),
    [
        (_set("skus.0.width_in", None), "skus[0].width_in", "Amazon fees"),
        (_set("strategies.0.replenish.fba.lane", "sea"), "strategies[0].replenish.fba", "one of"),
        (_set("skus.0.category", "kitchen"), "skus[0].category", "home_kitchen"),
        (_set("start_date", "2023-06-01"), "start_date", "Amazon fees"),
        (_set("nodes.home", {"handling_days": 1}), "nodes.home", "fba, fbm, sfp, 3pl"),
        (_set("strategies.0.replenish.fba", AIR), "strategies[0].replenish.fba.lane", "'air'"),
        (_set("nodes.home", {"type": "fbm", "cancel_rate": 1.5}), "nodes.home.cancel_rate", "≤ 1"),
        (_set("nodes.fba.defect_rate", 0.01), "nodes.fba.defect_rate", "unknown key"),
    ],
)
def test_bad_input_is_a_located_user_error(change, location, words):
    problems = mistake(change)
    assert [loc for loc, _ in problems] == [location]
    assert words in problems[0][1]


def test_cli_validate_unknown_category_exits_2_without_traceback(tmp_path):
    d = fba_scenario()
    d["skus"][0]["category"] = "kitchen"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "simulate.py", "validate", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0].startswith("skus[0].category: unknown category 'kitchen'")


@pytest.mark.parametrize(("least", "breach_days"), [(14, 7), (15, 0)])
def test_account_health_min_orders(least, breach_days):
    """One order a day, every one late: a 14-day on-time window holds 14 orders, so it is
    judged (and breaches on days 13-19) with min_orders 14, and never with 15. The 30-day
    late-shipment window never breaches (nothing ships late: no capacity)."""
    late = {"type": "fbm", "transit_days": 5, "promise_days": 2}
    d = scen([sku(1)], {"home": late}, [strategy(["home"], initial={"home": 100})], days=20)
    d["account_health"] = {"min_orders": least}
    (r,) = replicate(d)
    assert r.m["account_health_breach_days"] == breach_days
    assert r.m["account_health_breach_rate"] == (1 if breach_days else 0)


@pytest.mark.parametrize(("basis", "on_time"), [("calendar", 8), ("delivery_days", 14)])
def test_promise_in_calendar_or_delivery_days(basis, on_time):
    """Handling 0, ship Mon-Fri, transit 2 delivery days (Mon-Sat), promise 2. Order → delivery
    (calendar days): Mon→Wed 2, Tue→Thu 2, Wed→Fri 2, Thu→Sat 2, Fri→Mon 3, Sat (ships Mon)→Wed
    4, Sun (ships Mon)→Wed 3. In calendar days (by t + 2) Mon-Thu are on time: 4 a week. Counted
    in delivery days from the first ship day on or after the order day, the deadline is Fri→Mon
    (3), Sat→Mon+2 = Wed (4), Sun→Wed (3): every order is on time."""
    d = fbm_two_weeks(
        24,
        handling_days=0,
        delivery_weekdays=["mon", "tue", "wed", "thu", "fri", "sat"],
        promise_days=2,
        promise_basis=basis,
    )
    (r,) = replicate(d)
    assert r.m["orders_shipped"] == 14
    assert r.m["on_time_rate"] == pytest.approx(on_time / 14)
