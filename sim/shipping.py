"""Customer orders of one node: when each ships, whether it ships late, when it is delivered.

Delivery follows SPEC §3. An order counted on day e (its order day, or the next day when it
arrived after the node's cut-off hour) has its rule ship day e + ``ship_offset[weekday(e)]``.
With a daily order capacity, orders wait in a first-come-first-served backlog and ship on the
first ship weekday with room: an order shipped after its rule ship day is *shipped late*. Its
transit time T is drawn from the node's transit distribution, and it is delivered on the T-th
delivery weekday after its actual ship day; it is *on time* when delivered by e + promise
(Amazon's promise for an order after the cut-off starts from the next day), e + promise being
in calendar days or in delivery weekdays (``promise_basis``). The delivery-days metric counts
from the order day itself.

Outcomes are recorded by order day, in orders (units ÷ the SKU's ``units_per_order``). Nodes
without a capacity limit whose badge does not depend on its record are tabulated in one
vectorized pass at the end of the replication (``Shipper.finish``); the others ship day by day
as the simulation runs (``Shipper.order`` then ``Shipper.end_of_day``), so that a Seller
Fulfilled Prime node can lose its badge when its rolling record breaks Amazon's limits.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from sim.backlog import drain
from sim.model import DeliveryRule

# rows of ``Shipper.by_ship_day``: orders shipped, shipped late, delivered on time, shipped late
# and delivered late (what Seller Fulfilled Prime counts against on-time shipment), and the
# orders shipped on labels bought outside Buy Shipping, all and delivered on time
SHIPPED, LATE, ON_TIME, LATE_AND_LATE, OUTSIDE, OUTSIDE_ON_TIME = range(6)
TRANSIT_BLOCK = 2**18  # transit counts drawn at once (at most 2 MB of int64)
TRANSIT_TERMS = 16  # transit values up to which ``Shipper._transit`` sums term by term


class Shipper:
    """Ships one node's customer orders and records each order's outcome by order day.

    ``buy_shipping`` (Seller Fulfilled Prime nodes with a Buy Shipping share below 1): each
    unit shipped is on a label bought outside Buy Shipping with probability 1 − share, drawn
    from the node's own stream (binomial counts of the on-time and of the late units), so the
    few orders Amazon judges on on-time delivery are a random sample, as they are in reality.
    """

    def __init__(
        self,
        rule: DeliveryRule,
        start_weekday: int,
        days: int,
        units_per_order: np.ndarray,
        rng: np.random.Generator,
        online: bool,
        buy_shipping: tuple[float, np.random.Generator] | None = None,
    ):
        skus = len(units_per_order)
        self.rule, self.w0, self.days, self.rng = rule, start_weekday, days, rng
        self.per_order = 1.0 / units_per_order
        self.online = online or not math.isinf(rule.capacity)
        # orders, by order day: shipped, on time, shipped late, days from order to delivery
        # summed; a node tabulated in one pass gets its tables from ``finish`` (none held
        # before: four (days, skus) tables are 117 MB at 10,000 SKUs)
        self.shipped = self.on_time = self.late = self.delivery_days = None
        if self.online:
            self.shipped = np.zeros((days, skus))
            self.on_time = np.zeros((days, skus))
            self.late = np.zeros((days, skus))
            self.delivery_days = np.zeros((days, skus))
        # node totals by actual ship day (rows ``SHIPPED`` … ``OUTSIDE_ON_TIME`` below)
        self.by_ship_day = np.zeros((6, days))
        # (share of orders on Buy Shipping labels, the node's own stream that picks them)
        self.buy_shipping = buy_shipping
        self.backlog: deque[list] = deque()  # [order_day, rule_ship_day, units, after cut-off]

    # ----------------------------------------------------------------- day by day

    def order(self, t: int, units: np.ndarray, order_day: int) -> None:
        """Orders served from on-hand on day t (placed on ``order_day``; < t for a backorder)."""
        groups = [(0, units)]
        if self.rule.after_cutoff and order_day == t:
            late_in_day = self.rng.binomial(units, self.rule.after_cutoff)
            groups = [(0, units - late_in_day), (1, late_in_day)]
        for g, u in groups:
            if not u.any():
                continue
            eff = t + g
            rule_day = eff + int(self.rule.ship_offset[(self.w0 + eff) % 7])
            if math.isinf(self.rule.capacity):
                self._ship(order_day, rule_day, rule_day, u, g)
            else:
                self.backlog.append([order_day, rule_day, u.copy(), g])

    def end_of_day(self, t: int) -> None:
        """Ship what the day's capacity allows from the backlog, oldest first."""
        if not self.backlog or not self.rule.ship_days[(self.w0 + t) % 7]:
            return
        room = self.rule.capacity
        while self.backlog and room > 1e-9:
            entry = self.backlog[0]
            order_day, rule_day, units, late_in_day = entry
            if rule_day > t:
                break
            orders = units * self.per_order
            total = orders.sum()
            if total <= room + 1e-9:
                take = units
                self.backlog.popleft()
                room -= total
            else:
                cum = np.cumsum(orders)
                k = int(np.searchsorted(cum, room, side="right"))
                take = np.zeros_like(units)
                take[:k] = units[:k]
                before = cum[k - 1] if k else 0.0
                take[k] = min(units[k], math.floor((room - before) / self.per_order[k] + 1e-9))
                entry[2] = units - take
                room = 0.0
            if take.any():
                self._ship(order_day, t, rule_day, take, late_in_day)

    def _ship(
        self, order_day: int, ship_day: int, rule_day: int, units: np.ndarray, grace: int = 0
    ) -> None:
        """Record ``units`` of ``order_day`` shipped on ``ship_day``; ``grace`` is 1 for orders
        that came after the cut-off (their promise counts from the next day)."""
        rule = self.rule
        after = rule.deliver_after[(self.w0 + ship_day) % 7]  # (K,)
        offsets = (ship_day - order_day) + after
        counted = order_day + grace  # the day the promise counts from
        ok = offsets <= rule.deadline[(self.w0 + counted) % 7] + grace
        if len(after) == 1:
            on_time = units if ok[0] else 0 * units
            days_sum = units * offsets[0]
        else:
            counts = self.rng.multinomial(units, rule.transit.probs)
            on_time = counts @ ok.astype(np.int64)
            days_sum = counts @ offsets
        w = self.per_order
        orders = units * w
        self.shipped[order_day] += orders
        self.on_time[order_day] += on_time * w
        self.delivery_days[order_day] += days_sum * w
        late = ship_day > rule_day
        if late:
            self.late[order_day] += orders
        if ship_day < self.days:
            n = orders.sum()
            row = self.by_ship_day[:, ship_day]
            row[SHIPPED] += n
            row[ON_TIME] += (on_time * w).sum()
            if late:
                row[LATE] += n
                row[LATE_AND_LATE] += ((units - on_time) * w).sum()
            if self.buy_shipping is not None:
                share, rng = self.buy_shipping
                outside_on_time = rng.binomial(on_time, 1.0 - share)
                outside_late = rng.binomial(units - on_time, 1.0 - share)
                row[OUTSIDE] += ((outside_on_time + outside_late) * w).sum()
                row[OUTSIDE_ON_TIME] += (outside_on_time * w).sum()

    # ----------------------------------------------------------------- in one pass

    def finish(self, served: np.ndarray, fills: list) -> None:
        """Tabulate every order at the end (nodes shipped in one pass): ``served`` is
        (days, skus) units served on the day ordered; ``fills`` the node's backorder fills.
        A node that shipped day by day ships what still waits in its backlog after the horizon
        (orders of counted days count whatever day they ship, SPEC §3)."""
        if self.online:  # as end_of_day on every day after the horizon, without the walk
            drain(self, self.days)
            return
        rule, w = self.rule, self.per_order
        weekday = (self.w0 + np.arange(self.days)) % 7
        groups = [(0, served)]
        if rule.after_cutoff:  # no more than served: in its type
            after = self.rng.binomial(served, rule.after_cutoff).astype(served.dtype, copy=False)
            groups = [(0, served - after), (1, after)]
        unit_orders = bool((w == 1.0).all())
        # the longest offset from order day to delivery bounds the days summed per unit
        reach = 1 + np.abs(rule.ship_offset).max() + np.abs(rule.deliver_after).max()
        dtype = _table_dtype(served, reach)  # both groups' tables and their sums
        for k, (g, units) in enumerate(groups):
            eff = (weekday + g) % 7
            ship = rule.ship_offset[eff] + g  # (days,) order day to ship day
            offsets = ship[:, None] + rule.deliver_after[(eff + rule.ship_offset[eff]) % 7]
            # (days, K): deadline from the day the promise counts from (t, or t + 1 after the
            # cut-off), shifted by g to be measured from the order day like the offsets
            ok = offsets <= (rule.deadline[eff] + g)[:, None]
            if rule.transit.is_constant:
                on_time = units if ok.all() else units * ok[:, :1]
                days_sum = np.multiply(units, offsets[:, :1], dtype=dtype)
            else:
                on_time, days_sum = self._transit(units, ok.astype(np.int64), offsets, dtype)
            if not unit_orders:
                units, on_time, days_sum = units * w, on_time * w, days_sum * w
            if k == 0:  # the first group sets the tables (no zero-filled copies to add to)
                self.shipped, self.on_time, self.delivery_days = units, on_time, days_sum
            else:
                self.shipped = self.shipped + units
                self.on_time = self.on_time + on_time
                self.delivery_days = self.delivery_days + days_sum
        # nothing ships late without a capacity limit, but backorder fills, which are added to
        # the tables in place (own float copies)
        self.late = np.broadcast_to(0.0, served.shape)  # read-only zeros, no memory
        if fills:
            self.shipped = self.shipped.astype(float)
            self.on_time = self.on_time.astype(float)
            self.delivery_days = self.delivery_days.astype(float)
            self.late = np.zeros(served.shape)
        for fill in fills:
            self.order(fill.day, fill.units, fill.order_day)

    def _transit(
        self, units: np.ndarray, ok: np.ndarray, offsets: np.ndarray, dtype: type | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Orders on time and days to delivery summed, each ``(days, skus)`` of ``dtype`` (by
        default the smallest ``_table_dtype`` allows), of ``units`` shipped by order day with
        random transit times: each day's units are split over the transit values
        (multinomial), ``ok`` and ``offsets`` being ``(days, K)``.

        Only the (day, SKU) cells with units are drawn, in day-then-SKU order: a multinomial
        of 0 units draws no random number (numpy's binomial returns 0 for n = 0 before it
        draws), so these are the same draws as over every cell, and the cells without units
        stay 0. Drawn a few days at a time, so that the counts stay small enough for the CPU
        cache; each cell's sums over the K transit values are added term by term (by ``einsum``
        past ``TRANSIT_TERMS`` values).
        """
        probs = self.rule.transit.probs
        days, skus = units.shape
        step = max(1, TRANSIT_BLOCK // max(1, skus * len(probs)))
        if dtype is None:
            dtype = _table_dtype(units, np.abs(offsets).max(initial=0))
        on_time = np.zeros((days, skus), dtype=dtype)
        days_sum = np.zeros((days, skus), dtype=dtype)
        flat_on_time, flat_days_sum = on_time.reshape(-1), days_sum.reshape(-1)
        ok_k, offsets_k = ok.T.copy(), offsets.T.copy()  # (K, days): each row contiguous
        for lo in range(0, days, step):
            hi = min(days, lo + step)
            block = units[lo:hi].reshape(-1)  # a copy when ``units`` is a strided view
            cells = np.flatnonzero(block)
            counts = self.rng.multinomial(block[cells], probs)  # (cells, K)
            day = cells // skus + lo
            if len(probs) > TRANSIT_TERMS:
                on = np.einsum("ck,ck->c", counts, ok[day])
                total = np.einsum("ck,ck->c", counts, offsets[day])
            else:
                first = counts[:, 0]
                on, total = first * ok_k[0][day], first * offsets_k[0][day]
                for k in range(1, len(probs)):
                    c = counts[:, k]
                    on += c * ok_k[k][day]
                    total += c * offsets_k[k][day]
            cells += lo * skus
            flat_on_time[cells] = on
            flat_days_sum[cells] = total
        return on_time, days_sum


def _table_dtype(units: np.ndarray, reach: int) -> type:
    """``np.int32`` for a node's orders on time and days to delivery summed by order day when
    they provably fit (at most a day's ``units`` times ``reach``, the longest offset from
    order day to delivery), else ``np.int64``."""
    top = int(units.max(initial=0))
    return np.int32 if top * max(int(reach), 1) <= np.iinfo(np.int32).max else np.int64
