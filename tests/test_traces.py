"""The engine's daily records in int32 when their numbers provably fit (the same numbers as in
int64), and transit counts drawn only on the (day, SKU) cells with units."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim import engine, montecarlo
from sim.loader import load_scenario, validate
from sim.model import compile_scenario
from sim.shipping import TRANSIT_TERMS, Shipper
from tests.helpers import ROOT, scenario

BUNDLED = ["sfp-vs-fba", "mcf-vs-own-warehouse", "q4-peak", "abc-split", "awd-vs-3pl"]


def _transit(units, probs, ok, offsets, seed=9):
    ship = SimpleNamespace(
        rng=np.random.default_rng(seed),
        rule=SimpleNamespace(transit=SimpleNamespace(probs=probs)),
    )
    return (*Shipper._transit(ship, units, ok, offsets), ship.rng)


def test_a_multinomial_of_no_units_draws_no_random_number():
    """What drawing only the cells with units rests on (numpy's binomial: 0 when n is 0)."""
    probs = np.array([0.5, 0.3, 0.2])
    units = np.array([0, 3, 0, 0, 2, 0])
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    full = a.multinomial(units, probs)
    some = b.multinomial(units[units > 0], probs)
    assert np.array_equal(full[units > 0], some)
    assert not full[units == 0].any()
    assert a.bit_generator.state == b.bit_generator.state
    assert a.random() == b.random()


@pytest.mark.parametrize("k", [3, TRANSIT_TERMS + 4])
def test_transit_drawn_on_cells_with_units_is_the_full_draw(k):
    """Mostly zero cells (slow movers), a strided int32 view as the engine's served: the same
    counts, sums and stream state after as one multinomial over every cell."""
    rng = np.random.default_rng(1)
    units = (rng.poisson(0.3, (200, 2, 300)) * (rng.random((200, 2, 300)) < 0.5))[:, 1]
    units = units.astype(np.int32)
    probs = rng.dirichlet(np.ones(k))
    ok = (rng.random((200, k)) < 0.6).astype(np.int64)
    offsets = rng.integers(1, 9, (200, k))
    on_time, days_sum, after = _transit(units, probs, ok, offsets)
    reference = np.random.default_rng(9)
    counts = reference.multinomial(units, probs)
    assert np.array_equal(on_time, np.einsum("dsk,dk->ds", counts, ok))
    assert np.array_equal(days_sum, np.einsum("dsk,dk->ds", counts, offsets))
    assert after.bit_generator.state == reference.bit_generator.state
    assert on_time.dtype == days_sum.dtype == np.int32


def test_transit_tables_are_int64_when_int32_could_overflow():
    units = np.array([[0, 3], [5, 0]], dtype=np.int64)
    probs = np.array([0.5, 0.5])
    ok = np.ones((2, 2), dtype=np.int64)
    fits = np.array([[1, 2], [1, 2]])
    assert _transit(units, probs, ok, fits)[0].dtype == np.int32
    far = fits * (2**31 // 5)  # 5 units × the longest offset is past int32
    on_time, days_sum, _ = _transit(units, probs, ok, far)
    assert on_time.dtype == days_sum.dtype == np.int64
    assert days_sum[1, 0] > np.iinfo(np.int32).max


def _model(name):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml").scenario
    return compile_scenario(sc.model_copy(update={"replications": 3}))


def _traces(model, monkeypatch=None):
    inputs = [montecarlo.draw_inputs(model, r) for r in range(2)]
    streams = [montecarlo.Streams(model.seed, r) for r in range(2)]
    return [montecarlo.simulate_inputs(model, st, inputs, streams) for st in model.strategies]


def _check_same(model, monkeypatch) -> None:
    """Every trace array and every metric is the same whether the records are int32 or int64."""
    small = montecarlo.run_batch(model, range(2))
    traces32 = _traces(model)
    monkeypatch.setattr(engine, "trace_dtype", lambda *args: np.int64)
    wide = montecarlo.run_batch(model, range(2))
    traces64 = _traces(model)
    fields = ("served", "on_hand", "orders", "received", "backorders", "cancelled")
    flat32 = [t for traces in traces32 for t in traces]
    flat64 = [t for traces in traces64 for t in traces]
    for got, want in zip(flat32, flat64, strict=True):
        for f in (*fields, "channel_served", "demand"):
            a, b = getattr(got, f), getattr(want, f)
            if a is None:
                assert b is None
                continue
            if f != "demand":  # the replication's input unless demand depends on the state
                assert a.dtype == np.int32 and b.dtype == np.int64, f
            assert np.array_equal(a, b), f
        assert np.array_equal(got.received, _received(want))
        assert len(got.fills) == len(want.fills)
        for x, y in zip(got.fills, want.fills, strict=True):
            assert (x.day, x.node, x.order_day) == (y.day, y.node, y.order_day)
            assert np.array_equal(x.units, y.units)
        for n, sh in got.shippers.items():
            for f in ("shipped", "on_time", "late", "delivery_days", "by_ship_day"):
                assert np.array_equal(getattr(sh, f), getattr(want.shippers[n], f)), f
    for mine, theirs in zip(small, wide, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            for f in ("skus", "total", "months", "paths", "channels"):
                x, y = getattr(a, f), getattr(b, f)
                assert (x is None and y is None) or np.array_equal(x, y, equal_nan=True), f
            if a.plan is not None:
                for f in ("units", "arrival", "fba"):
                    x, y = getattr(a.plan, f), getattr(b.plan, f)
                    assert np.array_equal(x, y, equal_nan=True), f


def _received(trace) -> np.ndarray:
    """``Trace.received`` as ``np.add.at`` adds the orders at their arrival days."""
    out = np.zeros(trace.on_hand.shape, dtype=np.int64)
    arrived = trace.arrived()
    for i, node in enumerate(trace.lane_nodes):
        t = np.flatnonzero(arrived[i])
        np.add.at(out[:, node], t + trace.lead_days[i, t], trace.orders[i, t])
    return out


@pytest.mark.parametrize("name", BUNDLED)
def test_daily_records_are_int32_and_the_numbers_of_int64(name, monkeypatch):
    _check_same(_model(name), monkeypatch)


def _bound_case(**policy):
    d = scenario(replications=1, horizon_days=20)
    d["strategies"][0]["replenish"]["wh"]["policy"] = {
        "type": "order_up_to",
        "review_days": 1,
        "level": {"A": 20, "B": 8},
        **policy,
    }
    return compile_scenario(validate(d))


def test_records_are_int64_when_a_level_could_overflow_int32():
    """3 × a level of 10⁹ is past int32: every daily record stays int64."""
    model = _model("starter")
    assert _traces(model)[0][0].served.dtype == np.int32
    big = _bound_case(level={"A": 10**9, "B": 8})
    inputs = [montecarlo.draw_inputs(big, 0)]
    (trace,) = montecarlo.simulate_inputs(
        big, big.strategies[0], inputs, [montecarlo.Streams(7, 0)]
    )
    for f in ("served", "on_hand", "orders", "received"):
        assert getattr(trace, f).dtype == np.int64, f
    assert trace.on_hand.max() > 10**8  # the policy's numbers, whole


def test_trace_dtype_counts_demand_over_the_horizon():
    """Demand summed over the horizon bounds backorders (and the position): 4 × D past int32
    is int64 even when each day's demand is small."""
    model = _bound_case()
    st = model.strategies[0]
    days = 10
    small = np.full((days, 1, 2), 3, dtype=np.int64)
    assert engine.trace_dtype(st, small, None, None, {}) == np.int32
    big = np.full((days, 1, 2), 2**31 // (4 * days) + 1, dtype=np.int64)
    assert engine.trace_dtype(st, big, None, None, {}) == np.int64
    assert engine.trace_dtype(st, small, big, None, {}) == np.int64
    channels = [np.full((days, 1, 2), 2**31 // days, dtype=np.int64)]
    assert engine.trace_dtype(st, small, None, channels, {}) == np.int64


def _mixed() -> dict:
    """Backorders, seller cancellations, an after-cut-off share, a daily order capacity, random
    transit and lead times, two units an order and an SFP node that can lose its badge."""
    d = scenario(replications=3, horizon_days=70)
    d["skus"][1]["units_per_order"] = 2
    transit = {"dist": "discrete", "values": [1, 2, 3], "probs": [0.5, 0.3, 0.2]}
    d["nodes"] = {
        "wh": {
            "type": "fbm",
            "cancel_rate": 0.05,
            "cutoff_hour": 14,
            "transit_days": transit,
            "promise_days": 3,
        },
        "own": {"type": "sfp", "daily_order_capacity": 3, "transit_days": transit},
    }
    policy = {"type": "order_up_to", "review_days": 1, "level": {"A": 14, "B": 6}}
    lead = {"dist": "discrete", "values": [1, 4, 6], "probs": [0.3, 0.4, 0.3]}  # orders cross
    d["strategies"] = [
        {
            "name": "two",
            "fulfil_from": ["wh", "own"],
            "unmet_demand": "backorder",
            "replenish": {
                "wh": {"from": "supplier", "lead_time_days": lead, "policy": policy},
                "own": {"from": "supplier", "lead_time_days": 2, "policy": policy},
            },
        },
        {
            "name": "sfp",
            "fulfil_from": ["own"],
            "unmet_demand": "backorder",
            "replenish": {"own": {"from": "supplier", "lead_time_days": 3, "policy": policy}},
        },
    ]
    return d


def test_mixed_modes_are_the_numbers_of_int64(monkeypatch):
    model = compile_scenario(validate(_mixed()))
    _check_same(model, monkeypatch)
