"""Exact event-order and state tests of the engine on deterministic scenarios (SPEC §3)."""

from __future__ import annotations

import itertools

import numpy as np

from sim.engine import simulate
from sim.loader import validate
from sim.model import compile_scenario
from sim.montecarlo import Streams
from tests.helpers import scenario


def one_run(d: dict, strategy: int = 0, days: int | None = None, log: bool = False):
    """Simulate one strategy with each SKU's demand fixed by an ``empirical`` single value."""
    model = compile_scenario(validate(d))
    st = model.strategies[strategy]
    days = model.calendar.days
    demand = np.stack([s.sample(np.random.default_rng(0)) for s in model.catalog.demand], axis=1)
    lead = {lane.stream: lane.lead.sample(np.zeros(days)) for lane in st.lanes}
    streams = Streams(0, 0)
    cal = model.calendar
    trace = simulate(st, model.catalog, demand, lead, streams, cal.start_weekday, log_events=log)
    return st, trace


def constant(units: int) -> dict:
    return {"distribution": "empirical", "values": [units]}


def single(level=10, lead=1, demand=3, days=6, **strategy):
    d = scenario(
        horizon_days=days,
        skus=[{"id": "A", "demand": constant(demand)}],
        strategies=[
            {
                "name": "s",
                "fulfil_from": ["wh"],
                "replenish": {
                    "wh": {
                        "lead_time_days": lead,
                        "policy": {"type": "order_up_to", "level": level},
                    }
                },
                **strategy,
            }
        ],
    )
    return d


def test_receipts_come_before_the_days_demand():
    """An order placed at the end of day t with L = 1 is on hand before day t+1's demand."""
    _, trace = one_run(single(lead=1, days=3), log=True)
    assert trace.events == [
        ("demand", 0),
        ("order wh", 0),
        ("receive wh", 1),
        ("demand", 1),
        ("order wh", 1),
        ("receive wh", 2),
        ("demand", 2),
        ("order wh", 2),
    ]


def test_order_up_to_net_inventory_is_level_minus_lead_time_demand():
    """Daily review, deterministic L: end-of-day on-hand = S − demand of L days (SPEC §3)."""
    _, trace = one_run(single(level=20, lead=4, demand=3, days=12))
    on_hand = trace.on_hand[:, 0, 0]
    # day 0..3 draw the initial stock down by 3 a day; from day L−1 on it holds at S − 3L
    assert on_hand.tolist() == [17, 14, 11, 8, 8, 8, 8, 8, 8, 8, 8, 8]
    assert trace.orders[0, :, 0].tolist() == [3] * 12


def test_lost_sales_when_the_level_is_short():
    """S = 5 < L·d: the first days sell 3, then only what arrives; the rest is lost."""
    _, trace = one_run(single(level=5, lead=2, demand=3, days=6))
    served = trace.served[:, 0, 0].tolist()
    # day 0 sells 3 (2 left) and orders 3; day 1 sells the 2 left and orders 2 (position 3 → 5);
    # from then on only what arrives sells: 3 on even days, 2 on odd days
    assert served == [3, 2, 3, 2, 3, 2]
    assert trace.on_hand[:, 0, 0].tolist() == [2, 0, 0, 0, 0, 0]


def test_backorders_are_filled_first_come_first_served_from_receipts():
    _, trace = one_run(single(level=4, lead=2, demand=3, days=5, unmet_demand="backorder"))
    # day0: serve 3 of 4 → 1 on hand; order 3. day1: serve 1, backorder 2 (order day 1); order 3
    # (position 4 − 3 − 3 + 3 ... = 1 → order up to 4). day2: receive 3 → fill 2 for day 1, 1 left;
    # demand 3: serve 1, backorder 2 (day 2).
    fills = [(f.day, f.order_day, int(f.units[0])) for f in trace.fills]
    assert fills[0] == (2, 1, 2)
    assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(fills))
    assert (trace.on_hand >= 0).all()
    demand = 3 * 5
    same_day = int(trace.served.sum())
    filled = sum(int(f.units[0]) for f in trace.fills)
    assert demand == same_day + filled + int(trace.final_backorders[0])


def test_fallback_ships_from_the_backup_when_the_first_node_is_out():
    d = single(level=0, lead=1, demand=2, days=4)
    d["nodes"] = {"wh": {"type": "fbm"}, "backup": {"type": "3pl"}}
    d["strategies"][0]["fulfil_from"] = ["wh", "backup"]
    d["strategies"][0]["initial_on_hand"] = {"backup": 5}
    _, trace = one_run(d)
    assert trace.served[:, 0, 0].tolist() == [0, 0, 0, 0]  # wh never has stock (level 0)
    assert trace.served[:, 1, 0].tolist() == [2, 2, 1, 0]  # backup serves until it is empty


def test_transfers_consume_the_source_nodes_stock():
    d = single(level=6, lead=1, demand=2, days=5)
    d["nodes"] = {"wh": {"type": "fbm"}, "bulk": {"type": "3pl"}}
    d["strategies"][0]["replenish"] = {
        "wh": {"from": "bulk", "lead_time_days": 1, "policy": {"type": "order_up_to", "level": 6}},
        "bulk": {"lead_time_days": 10, "policy": {"type": "order_up_to", "level": 7}},
    }
    st, trace = one_run(d)
    wh = [n.name for n in st.nodes].index("wh")
    bulk = [n.name for n in st.nodes].index("bulk")
    # bulk starts with 7 and its own orders take 10 days: it sends wh the 2 it sold each day
    # until it is empty (day 3 it has only 1 left to send), so wh ends day 4 one unit short
    assert trace.on_hand[:, bulk, 0].tolist() == [5, 3, 1, 0, 0]
    assert trace.on_hand[:, wh, 0].tolist() == [4, 4, 4, 4, 3]
    assert trace.orders[0, :, 0].tolist() == [2, 2, 2, 1, 0]  # the lane wh ← bulk


def test_s_S_and_s_Q_order_quantities():
    d = single(days=4, demand=3)
    d["strategies"][0]["replenish"]["wh"]["policy"] = {
        "type": "s_S",
        "reorder_point": 4,
        "order_up_to": 10,
    }
    _, trace = one_run(d)
    # position 10 → 7 (no order) → 4 (order 6) → 7 → 4 (order 6)
    assert trace.orders[0, :, 0].tolist() == [0, 6, 0, 6]
    d["strategies"][0]["replenish"]["wh"]["policy"] = {
        "type": "s_Q",
        "reorder_point": 5,
        "quantity": 2,
    }
    _, trace = one_run(d)
    # start at s + Q = 7; 7→4 ≤ 5: order the smallest multiple of 2 lifting above 5 → 2 (IP 6)
    # 6→3: order 4 (IP 7); 7→4: 2; 6→3: 4
    assert trace.orders[0, :, 0].tolist() == [2, 4, 2, 4]


def test_review_days_order_only_on_review_days():
    d = single(days=8, demand=1, level=10)
    d["strategies"][0]["replenish"]["wh"]["policy"]["review_days"] = 3
    _, trace = one_run(d)
    assert np.nonzero(trace.orders[0, :, 0])[0].tolist() == [0, 3, 6]
    assert trace.orders[0, :, 0].tolist() == [1, 0, 0, 3, 0, 0, 3, 0]
