"""Backorders are filled first come, first served, visiting only the entries filled."""

from __future__ import annotations

import numpy as np
import pytest

from sim import backorders, engine
from sim.backorders import BackorderQueue
from sim.metric_names import INDEX
from tests.helpers import run_dict, scenario


class WalkedQueue:
    """The reference: every entry walked on every fill (the engine's former loop)."""

    def __init__(self, skus: int):
        self.entries: list[list] = []

    def __bool__(self):
        return bool(self.entries)

    def __iter__(self):
        return iter([(day, units) for day, units in self.entries])

    def append(self, day, units):
        self.entries.append([day, units.copy()])

    def fill(self, available, routed=None):
        out, waiting = [], []
        for entry in self.entries:
            order_day, units = entry
            take = np.minimum(units, available)
            if routed is not None:
                take *= routed
            if take.any():
                available -= take
                units = units - take
                out.append((order_day, take))
                entry[1] = units
            if units.any():
                waiting.append(entry)
        self.entries = waiting
        return out


@pytest.mark.parametrize("few", [0, 32, 10**9])  # entry by entry, as it comes, all at once
@pytest.mark.parametrize("seed", range(25))
def test_fills_are_those_of_walking_every_entry(seed, few, monkeypatch):
    monkeypatch.setattr(backorders, "FEW", few)
    rng = np.random.default_rng(seed)
    skus = int(rng.integers(1, 6))
    queue, ref = BackorderQueue(skus, rows=2), WalkedQueue(skus)
    day = 0
    for _ in range(300):
        day += int(rng.integers(1, 3))
        if rng.random() < 0.6:
            units = rng.poisson(rng.choice([0.3, 3.0]), size=skus)
            if units.any():
                queue.append(day, units)
                ref.append(day, units)
        else:
            available = rng.poisson(rng.choice([1.0, 10.0]), size=skus)
            routed = rng.random(skus) < 0.7 if rng.random() < 0.3 else None
            a, b = available.copy(), available.copy()
            got, want = queue.fill(a, routed), ref.fill(b, routed)
            assert [d for d, _ in got] == [d for d, _ in want]
            for (_, x), (_, y) in zip(got, want, strict=True):
                assert np.array_equal(x, y)
            assert np.array_equal(a, b)
        left = [(d, u.tolist()) for d, u in queue if u.any()]
        assert left == [(d, u.tolist()) for d, u in ref]
        assert bool(queue) == bool(ref)


class CountingRows(np.ndarray):
    """An array that counts how many single rows are read from it."""

    reads = 0

    def __getitem__(self, key):
        if isinstance(key, int):
            CountingRows.reads += 1
        return super().__getitem__(key)


def test_a_fill_visits_only_the_entries_it_fills():
    """10,000 order days short of SKU 0, which never arrives, then SKU 1 short on one day:
    SKU 1's receipt reads SKU 1's entry only, not the 10,000 before it."""
    queue = BackorderQueue(2)
    for day in range(10_000):
        queue.append(day, np.array([3, 0]))
    queue.append(10_000, np.array([1, 2]))
    queue.units = queue.units.view(CountingRows)
    CountingRows.reads = 0
    available = np.array([0, 5])
    assert [(d, t.tolist()) for d, t in queue.fill(available)] == [(10_000, [0, 2])]
    assert CountingRows.reads == 1 and available.tolist() == [0, 3]
    # SKU 0 arrives: 7 units fill day 0 (3), day 1 (3) and 1 of day 2: three entries read
    CountingRows.reads = 0
    filled = queue.fill(np.array([7, 0]))
    assert [(d, t.tolist()) for d, t in filled] == [(0, [3, 0]), (1, [3, 0]), (2, [1, 0])]
    assert CountingRows.reads == 3


def routed_backorders() -> dict:
    """Two SKUs on different routes, both backordered: demand beyond a slow replenishment,
    so backorders pile up and are filled across nodes."""
    d = scenario(horizon_days=120, replications=6, unmet_demand="backorder")
    d["nodes"] = {"wh": {"type": "fbm"}, "tpl": {"type": "3pl"}}
    st = d["strategies"][0]
    st["unmet_demand"] = "backorder"
    st["fulfil_from"] = {"A": ["wh", "tpl"], "B": ["tpl", "wh"]}
    policy = {"type": "s_Q", "review_days": 3, "reorder_point": 0, "quantity": 9}
    st["replenish"] = {
        "wh": {"from": "supplier", "lead_time_days": {"dist": "uniform", "low": 2, "high": 9},
               "policy": policy},
        "tpl": {"from": "supplier", "lead_time_days": 4, "policy": policy},
    }  # fmt: skip
    d.pop("unmet_demand")
    return d


def test_the_engine_gives_the_numbers_of_the_walked_queue(monkeypatch):
    """Routed SKUs, backorders at two nodes, random lead times (receipts of several shipments
    a day): every metric of every replication equals that of the former walk."""
    fast = run_dict(routed_backorders())
    monkeypatch.setattr(engine, "BackorderQueue", WalkedQueue)
    walked = run_dict(routed_backorders())
    assert np.array_equal(fast.totals, walked.totals, equal_nan=True)
    backordered = fast.totals[:, 0, INDEX["backordered_units"]]
    assert (backordered > 50).all()  # backorders did pile up
