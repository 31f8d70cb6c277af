"""Ship a node's capacity backlog after the horizon without walking it one day at a time.

A node with a daily order capacity can end the horizon with orders still waiting; they ship
after it, first come first served, at most ``capacity`` orders a ship day (SPEC §3: orders of
counted days count whatever day they ship). Walking the days one by one costs a day per
``capacity`` orders waiting: against a backlog that grew without bound (capacity 1 a day
against thousands of orders a day) that is millions of days.

``drain`` gives exactly the day-by-day outcome (the same ship day and units for every piece of
every order, the same transit draws from the node's stream in the same order, the same sums),
but jumps over runs of days that are alike: while the oldest entry's first waiting SKU needs
more than a whole day, each ship day ships ``m = ⌊capacity ÷ orders per unit⌋`` of its units and
nothing else, so the k-th such day is the k-th ship weekday from the first (cumulative capacity
over ship weekdays) and the number of such days follows from the units waiting. Only the days
where the oldest entry changes SKU or ends are worked out one by one, so the cost is in the
entries and SKUs waiting, not in the days of shipping. The outcomes are then recorded in
vectorized blocks, in day order.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK = 1 << 18  # shipments recorded at a time (bounded memory for very long drains)


def drain(shipper, t: int) -> None:
    """Ship everything still waiting in ``shipper.backlog`` from day ``t`` on (``t`` ≥ the
    horizon), as ``Shipper.end_of_day`` on every day from ``t`` would."""
    rule, w, backlog = shipper.rule, shipper.per_order, shipper.backlog
    cap = rule.capacity
    ship = [bool(rule.ship_days[(shipper.w0 + d) % 7]) for d in range(7)]  # by t % 7
    out = _Records(shipper)
    while backlog:
        t = _ship_day_from(max(t, backlog[0][1]), ship)
        jumped = _alike_days(backlog[0], w, cap)
        if jumped:
            entry = backlog[0]
            k, m, j = jumped
            last = out.add_run(entry, k, m, t, j, ship)
            units = entry[2].copy()
            units[k] -= m * j
            entry[2] = units
            t = last + 1
            continue
        _one_day(backlog, w, cap, t, out)
        t += 1
    out.flush()


def _ship_day_from(t: int, ship: list[bool]) -> int:
    """The first ship day on or after day ``t``."""
    while not ship[t % 7]:
        t += 1
    return t


def _one_day(backlog, w: np.ndarray, cap: float, t: int, out: _Records) -> None:
    """``Shipper.end_of_day`` on ship day ``t``, with the arithmetic of that method, recording
    each piece shipped into ``out``."""
    room = cap
    while backlog and room > 1e-9:
        entry = backlog[0]
        order_day, rule_day, units, late_in_day = entry
        if rule_day > t:
            break
        orders = units * w
        total = orders.sum()
        if total <= room + 1e-9:
            take = units
            backlog.popleft()
            room -= total
        else:
            cum = np.cumsum(orders)
            k = int(np.searchsorted(cum, room, side="right"))
            take = np.zeros_like(units)
            take[:k] = units[:k]
            before = cum[k - 1] if k else 0.0
            take[k] = min(units[k], math.floor((room - before) / w[k] + 1e-9))
            entry[2] = units - take
            room = 0.0
        if take.any():
            out.add(order_day, t, rule_day, take, late_in_day)


def _alike_days(entry: list, w: np.ndarray, cap: float) -> tuple[int, int, int] | None:
    """(SKU k, units m, days j) when the next j ship days, each starting with ``entry`` oldest
    and a whole day's capacity, each ship exactly m units of SKU k and nothing else; None when
    not even the next one does.

    On such a day ``end_of_day`` finds the entry too big to ship whole (its orders sum to at
    least SKU k's, which exceed capacity + 1e-9), cuts at SKU k (the SKUs before it are
    shipped: 0 ≤ capacity < k's orders) and ships min(units, ⌊capacity ÷ orders per unit +
    1e-9⌋) = m of it when more than m wait. Both conditions hold down to a smallest number of
    units ``low`` (found with the same floating-point arithmetic), so j = ⌊(V − low) ÷ m⌋ + 1.
    """
    units = entry[2]
    k = int(np.flatnonzero(units)[0])
    p, waiting = w[k], int(units[k])
    m = math.floor((cap - 0.0) / p + 1e-9)
    limit = cap + 1e-9
    low = max(m + 1, math.floor(limit / p) - 2)
    while not low * p > limit:
        low += 1
    if waiting < low or m < 1:
        return None
    return k, m, (waiting - low) // m + 1


class _Records:
    """Pieces shipped (order day, ship day, rule ship day, cut-off grace, SKU, units), in the
    order ``end_of_day`` would ship them, recorded into the shipper's tables in blocks with the
    arithmetic of ``Shipper._ship`` (``np.add.at`` adds in order, as the day-by-day sums)."""

    def __init__(self, shipper):
        self.shipper = shipper
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.size = 0

    def add(self, order_day: int, ship_day: int, rule_day: int, units: np.ndarray, grace: int):
        skus = np.flatnonzero(units)
        n = len(skus)
        self._put(
            np.full(n, order_day), np.full(n, ship_day), np.full(n, rule_day),
            np.full(n, grace), skus, units[skus].astype(np.int64),
        )  # fmt: skip

    def add_run(self, entry: list, k: int, m: int, t: int, j: int, ship: list[bool]) -> int:
        """``m`` units of SKU ``k`` of ``entry`` on each of the ``j`` ship days from ship day
        ``t``; returns the last of them."""
        order_day, rule_day, _, grace = entry
        offsets = np.array([d for d in range(7) if ship[(t + d) % 7]], dtype=np.int64)
        per_week = len(offsets)
        last = t
        for start in range(0, j, BLOCK):
            i = np.arange(start, min(j, start + BLOCK), dtype=np.int64)
            days = t + 7 * (i // per_week) + offsets[i % per_week]
            n = len(days)
            self._put(
                np.full(n, order_day), days, np.full(n, rule_day), np.full(n, grace),
                np.full(n, k), np.full(n, m, dtype=np.int64),
            )  # fmt: skip
            last = int(days[-1])
        return last

    def _put(self, *columns: np.ndarray) -> None:
        self.parts.append(columns)
        self.size += len(columns[0])
        if self.size >= BLOCK:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        od, sd, rd, grace, sku, n = (np.concatenate(c) for c in zip(*self.parts, strict=True))
        self.parts, self.size = [], 0
        sh = self.shipper
        rule, w0 = sh.rule, sh.w0
        after = rule.deliver_after[(w0 + sd) % 7]  # (pieces, K)
        offsets = (sd - od)[:, None] + after
        ok = offsets <= (rule.deadline[(w0 + od + grace) % 7] + grace)[:, None]
        if after.shape[1] == 1:
            on_time = np.where(ok[:, 0], n, 0)
            days_sum = n * offsets[:, 0]
        else:  # one multinomial per piece, in order: the draws end_of_day would make
            counts = sh.rng.multinomial(n, rule.transit.probs)
            on_time = (counts * ok).sum(axis=1)
            days_sum = (counts * offsets).sum(axis=1)
        wk = sh.per_order[sku]
        orders = n * wk
        at = (od, sku)
        np.add.at(sh.shipped, at, orders)
        np.add.at(sh.on_time, at, on_time * wk)
        np.add.at(sh.delivery_days, at, days_sum * wk)
        late = sd > rd
        np.add.at(sh.late, (od[late], sku[late]), orders[late])
        # nothing for ``by_ship_day``: every ship day is after the horizon
