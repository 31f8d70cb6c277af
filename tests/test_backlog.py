"""The capacity backlog left at the end of the horizon ships in closed form (``sim.backlog``),
exactly as walking the days after the horizon one at a time would."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.distributions import WholeDays
from sim.model import DeliveryRule
from sim.shipping import Shipper


def rule(rng: np.random.Generator) -> DeliveryRule:
    """A random delivery rule: ship weekdays, rule ship offsets, transit, promise, capacity."""
    ship = rng.random(7) < 0.6
    ship[rng.integers(7)] = True
    ship_days = [d for d in range(7) if ship[d]]
    handling = int(rng.integers(0, 3))
    offset = []
    for w in range(7):  # the handling-th ship weekday after w (0: the first on or after)
        ahead = [d for d in range(0 if handling == 0 else 1, 15) if (w + d) % 7 in ship_days]
        offset.append(ahead[max(0, handling - 1)])
    if rng.random() < 0.5:
        transit = WholeDays(np.array([int(rng.integers(0, 4))]), np.array([1.0]))
    else:
        k = int(rng.integers(2, 5))
        transit = WholeDays(np.arange(1, k + 1), rng.dirichlet(np.ones(k)))
    deliver_after = transit.values[None, :] + rng.integers(0, 2, size=(7, 1))  # weekend skips
    capacity = float(rng.choice([1.0, 2.0, 3.0, 2.5, 1.7, 6.0]))
    return DeliveryRule(
        transit=transit,
        deadline=rng.integers(0, 8, size=7),
        ship_offset=np.array(offset),
        deliver_after=deliver_after,
        ship_days=ship,
        after_cutoff=float(rng.choice([0.0, 0.25])),
        capacity=capacity,
    )


def filled_shipper(seed: int) -> Shipper:
    """A node that ran ``days`` days against more orders than it can ship: a backlog of whole
    and partly shipped entries, several SKUs, orders of 1 to 4 units (also 1.5 and 3, which
    are not exact in binary), and late backorder fills (order day before the ship day)."""
    rng = np.random.default_rng(seed)
    skus = int(rng.integers(1, 5))
    per_order = rng.choice([1.0, 2.0, 1.5, 3.0, 4.0], size=skus)
    days = int(rng.integers(5, 30))
    sh = Shipper(rule(rng), int(rng.integers(7)), days, per_order, rng, online=True)
    scale = rng.choice([1, 5, 40], size=skus)  # some SKUs' entries take many days each
    for t in range(days):
        units = rng.poisson(scale * rng.random(skus))
        if t and rng.random() < 0.3:  # a backorder filled today for an earlier order day
            sh.order(t, rng.poisson(scale), int(rng.integers(t)))
        sh.order(t, units, t)
        sh.end_of_day(t)
    return sh


def walked(sh: Shipper) -> Shipper:
    """The reference: ``end_of_day`` on every day after the horizon until nothing waits."""
    ref = copy.deepcopy(sh)
    t = ref.days
    while ref.backlog:
        ref.end_of_day(t)
        t += 1
    return ref


@pytest.mark.parametrize("seed", range(60))
def test_the_closed_form_ships_exactly_as_the_days_one_by_one(seed):
    sh = filled_shipper(seed)
    waiting = sum(int(e[2].sum()) for e in sh.backlog)
    ref = walked(sh)
    sh.finish(np.zeros((sh.days, len(sh.per_order)), dtype=np.int64), [])
    assert not sh.backlog
    for name in ("shipped", "on_time", "late", "delivery_days", "by_ship_day"):
        assert np.array_equal(getattr(sh, name), getattr(ref, name)), name  # bit for bit
    # the same transit draws, in the same order: the node's stream ends in the same state
    assert sh.rng.bit_generator.state == ref.rng.bit_generator.state
    assert seed or waiting  # the first case has something waiting at the end


def test_the_random_cases_cover_long_partial_and_multi_sku_entries():
    """The comparison above is not trivial: backlogs of many entries, entries spanning many
    days, entries with several SKUs, orders of several units."""
    shippers = [filled_shipper(seed) for seed in range(60)]
    entries = [e for sh in shippers for e in sh.backlog]
    assert sum(1 for sh in shippers if len(sh.backlog) > 10) >= 10
    assert any((e[2] > 0).sum() > 1 for e in entries)
    assert any(int(e[2].max()) / sh.rule.capacity > 20 for sh in shippers for e in sh.backlog)
    assert any((sh.per_order < 1).any() and sh.backlog for sh in shippers)
    assert any(not sh.rule.transit.is_constant and sh.backlog for sh in shippers)


def test_a_huge_backlog_drains_without_walking_its_days(monkeypatch):
    """One order day of N = 2,000,000 single-unit orders, capacity 1 a day, every day a ship
    day, no handling, no transit, promise 0, a one-day horizon. Day 0 ships 1 on time; the
    other N − 1 ship on days 1 … N − 1, all late. Days to delivery: 0 + 1 + … + (N − 1)
    = N(N − 1)/2. Walking would take N − 1 calls of end_of_day: none is made."""
    n = 2_000_000
    rule = DeliveryRule(
        transit=WholeDays(np.array([0]), np.array([1.0])),
        deadline=np.zeros(7, dtype=np.int64),
        ship_offset=np.zeros(7, dtype=np.int64),
        deliver_after=np.zeros((7, 1), dtype=np.int64),
        ship_days=np.ones(7, dtype=bool),
        after_cutoff=0.0,
        capacity=1.0,
    )
    sh = Shipper(rule, 0, 1, np.array([1.0]), np.random.default_rng(0), online=True)
    sh.order(0, np.array([n]), 0)
    sh.end_of_day(0)

    def walk(*args):
        raise AssertionError("walked the days after the horizon")

    monkeypatch.setattr(Shipper, "end_of_day", walk)
    sh.finish(np.zeros((1, 1), dtype=np.int64), [])
    assert sh.shipped[0, 0] == n and sh.on_time[0, 0] == 1 and sh.late[0, 0] == n - 1
    assert sh.delivery_days[0, 0] == n * (n - 1) // 2
    # day 0: one order shipped on its day and on time; nothing late, nothing outside Buy Shipping
    assert sh.by_ship_day[:, 0].tolist() == [1, 0, 1, 0, 0, 0]


def test_a_huge_backlog_with_random_transit_and_weekends(monkeypatch):
    """N = 700,000 orders of 2 units (1.4 M units), capacity 1 order a day shipped Mon-Fri:
    ⌊1 ÷ 0.5⌋ = 2 units a ship day. Day 0 (a Monday) ships 2 units; the other 699,999 ship
    days i = 1 … 699,999 are days 7 · ⌊i/5⌋ + i mod 5. Transit 1, 2 or 3 days (probabilities
    0.5, 0.3, 0.2: mean 1.7, variance 3.5 − 1.7² = 0.61 per unit). Promise 3 days: on time
    are day 0's 2 units and, by their draws, at most 2 of day 1 and 2 of day 2."""
    rule = DeliveryRule(
        transit=WholeDays(np.array([1, 2, 3]), np.array([0.5, 0.3, 0.2])),
        deadline=np.full(7, 3, dtype=np.int64),
        ship_offset=np.zeros(7, dtype=np.int64),
        deliver_after=np.tile(np.array([1, 2, 3]), (7, 1)),
        ship_days=np.array([True] * 5 + [False] * 2),
        after_cutoff=0.0,
        capacity=1.0,
    )
    sh = Shipper(rule, 0, 1, np.array([2.0]), np.random.default_rng(1), online=True)
    sh.order(0, np.array([1_400_000]), 0)
    sh.end_of_day(0)
    monkeypatch.setattr(Shipper, "end_of_day", None)  # walking would call it: it cannot
    sh.finish(np.zeros((1, 1), dtype=np.int64), [])
    assert sh.shipped[0, 0] == 700_000 and sh.late[0, 0] == 699_999
    assert 1 <= sh.on_time[0, 0] <= 3
    i = np.arange(1, 700_000)
    ship_days = int((7 * (i // 5) + i % 5).sum())
    # orders × days: (2 units · ship day + each unit's transit) ÷ 2 units an order
    transit = 2 * (sh.delivery_days[0, 0] - ship_days)  # the units' transit days, summed
    sd = np.sqrt(1_400_000 * 0.61)
    assert abs(transit - 1_400_000 * 1.7) < 5 * sd  # 5 sd: fails by chance once in 1.7 M
