"""The SimPy model of one replication of one strategy.

Events are few: one SimPy process ticks once a day. Lead times are whole days, so a shipment
is filed under the day it is due and the tick of that day receives it before the day's demand
(SPEC §3), then serves demand, then reviews; a shipment placed with no lead time joins on-hand
after the day's records, as the day's last event. Per-SKU state lives in numpy arrays of shape
(nodes, skus); each day is a handful of vectorized operations.

Demand is served along each SKU's route (``fulfil_from``, per SKU when given); customer orders
go to each node's ``Shipper`` (``sim.shipping``: cut-off, capacity backlog, transit). When demand
depends on the state — the Prime badge of the node that would ship (``prime_uplift``), rank lost
after a stockout, an SFP node losing its badge over its rolling record — each day's demand is
formed before it is served. ``AccountingCheck`` (``run --check``) verifies conservation daily.

The engine knows nothing of files or printing: it takes a compiled ``StrategyModel``, the
replication's demand and lead times, and returns a ``Trace`` of what happened.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.model import CatalogModel, Lane, StrategyModel
from sim.shipping import Shipper


@dataclass
class Fill:
    """Backordered units shipped on ``day`` from ``node`` for orders placed on ``order_day``."""

    day: int
    node: int
    order_day: int
    units: np.ndarray  # (skus,)


@dataclass
class Trace:
    """What happened in one replication: the arrays every metric is computed from."""

    demand: np.ndarray  # (days, skus) units demanded (after the Prime badge and rank loss)
    served: np.ndarray  # (days, nodes, skus) units served from on-hand on the day demanded
    on_hand: np.ndarray  # (days, nodes, skus) end-of-day on-hand
    backorders: np.ndarray | None  # (days, skus) end-of-day units waiting (backorder mode)
    fills: list[Fill]
    orders: np.ndarray  # (lanes, days, skus) units ordered on each lane at the end of each day
    lead_days: np.ndarray  # (lanes, days) lead time of an order placed that day
    initial: np.ndarray  # (nodes, skus)
    final_on_hand: np.ndarray  # (nodes, skus)
    final_backorders: np.ndarray  # (skus,)
    shippers: dict[int, Shipper] = field(default_factory=dict)  # fulfilment node -> outcomes
    prime: np.ndarray | None = None  # (days, skus) the offer carried the Prime badge
    badge_lost: np.ndarray | None = None  # (days, nodes) an SFP node was without its badge
    events: list[tuple[str, int]] = field(default_factory=list)

    lane_nodes: tuple[int, ...] = ()  # destination node of each lane

    @functools.cached_property
    def received(self) -> np.ndarray:
        """(days, nodes, skus) units that joined on-hand at the start of each day."""
        days, nodes, skus = self.on_hand.shape
        out = np.zeros((days, nodes, skus), dtype=np.int64)
        arrived = self.arrived()
        for i, node in enumerate(self.lane_nodes):
            t = np.flatnonzero(arrived[i] & self.orders[i].any(axis=1))
            np.add.at(out[:, node], t + self.lead_days[i, t], self.orders[i, t])
        return out

    def arrived(self) -> np.ndarray:
        """(lanes, days) True where that day's order arrived within the horizon."""
        days = self.lead_days.shape[1]
        return np.arange(days) + self.lead_days < days

    def in_transit(self, lane: int) -> np.ndarray:
        """(skus,) units of a lane still on the way at the end of the horizon."""
        return self.orders[lane][~self.arrived()[lane]].sum(axis=0)


class Replication:
    """State and processes of one strategy over one replication.

    ``position`` is each node's inventory position (on-hand + on order, less the backorders
    held against the first fulfilment node): it falls with demand served and transfers out, and
    rises with orders placed, so a receipt leaves it unchanged.
    """

    def __init__(
        self,
        model: StrategyModel,
        catalog: CatalogModel,
        demand: np.ndarray,
        lead_days: dict[tuple[str, ...], np.ndarray],
        streams,
        start_weekday: int = 0,
        extra_demand: np.ndarray | None = None,
        log_events: bool = False,
        check: bool = False,
    ):
        self.model = model
        self.catalog = catalog
        self.base_demand = demand
        self.extra_demand = extra_demand
        self.days, skus = demand.shape
        nodes = len(model.nodes)
        self.env = simpy.Environment()
        # one array for both, so serving a day's demand lowers on-hand and position in one step
        self.stock = np.stack([model.initial_on_hand, model.initial_on_hand])
        self.on_hand, self.position = self.stock[0], self.stock[1]
        self.backorders = np.zeros(skus, dtype=np.int64)
        self.queue: list[list] = []  # FCFS backorders: [order_day, units]
        self.due: dict[int, list] = {}  # day -> shipments [(node, units)] arriving that day
        self.fulfil_set = set(model.fulfil)
        self.log = [] if log_events else None
        self.shippers = {
            n: Shipper(
                model.nodes[n].delivery,
                start_weekday,
                self.days,
                catalog.units_per_order,
                streams.new("transit", model.nodes[n].name),
                online=model.nodes[n].sfp is not None,
            )
            for n in model.fulfil
        }
        self.online = [(n, sh) for n, sh in self.shippers.items() if sh.online]
        self.trace = Trace(
            demand=demand if not model.demand_feedback else np.zeros_like(demand),
            served=np.zeros((self.days, nodes, skus), dtype=np.int64),
            on_hand=np.zeros((self.days, nodes, skus), dtype=np.int64),
            backorders=np.zeros((self.days, skus), dtype=np.int64) if model.backorder else None,
            fills=[],
            orders=np.zeros((len(model.lanes), self.days, skus), dtype=np.int64),
            lead_days=np.array(
                [lead_days[lane.stream] for lane in model.lanes], dtype=np.int64
            ).reshape(len(model.lanes), self.days),
            initial=model.initial_on_hand.copy(),
            final_on_hand=self.on_hand,
            final_backorders=self.backorders,
            shippers=self.shippers,
            lane_nodes=tuple(lane.node for lane in model.lanes),
        )
        for i, lane in enumerate(model.lanes):
            if lane.check_in is not None:
                self.trace.lead_days[i] += lead_days[lane.check_in_stream]
        self.check = AccountingCheck(self) if check else None
        if model.demand_feedback:
            self.trace.prime = np.zeros((self.days, skus), dtype=bool)
            self.trace.badge_lost = np.zeros((self.days, nodes), dtype=bool)
            self.rank_rng = streams.new("rank_loss")

    def run(self) -> Trace:
        """Simulate every day of the horizon and return the trace."""
        self.env.process(self._days())
        self.env.run()
        for n, shipper in self.shippers.items():
            shipper.finish(self.trace.served[:, n, :], [f for f in self.trace.fills if f.node == n])
        if self.log is not None:
            self.trace.events = self.log
        return self.trace

    # ----------------------------------------------------------------- processes

    def _days(self):
        served, on_hand_log = self.trace.served, self.trace.on_hand
        backorder, log = self.model.backorder, self.log
        on_hand, position = self.on_hand, self.position
        model = self.model
        last = len(model.steps) - 1
        # (node, its on-hand, its (on-hand, position) pair, SKU mask, whether the rest is needed)
        steps = [
            (n, on_hand[n], self.stock[:, n], mask, k < last or backorder)
            for k, (n, mask) in enumerate(model.steps)
        ]
        count = np.count_nonzero
        skus = np.arange(len(self.catalog.ids))
        # the backorders of a SKU are held against the first node of its route
        primary = position[model.fulfil[0]] if not model.routed else None
        reviews = [self._reviewer(i, lane) for i, lane in enumerate(self.model.lanes)]
        demand_of = self._demand_feedback() if self.model.demand_feedback else None
        demand, online = self.base_demand, self.online
        timeout, arrivals, receive = self.env.timeout, self.due.pop, self._receive
        for t in range(self.days):
            arriving = arrivals(t, None)
            if arriving is not None:
                receive(arriving, t)
            if log is not None:
                log.append(("demand", t))
            remaining = demand[t] if demand_of is None else demand_of(t)
            served_today = served[t]
            for n, oh, pair, mask, more in steps:
                if mask is None:
                    s = np.minimum(oh, remaining, out=served_today[n])
                else:
                    s = np.minimum(oh, remaining) * mask
                    served_today[n] += s
                np.subtract(pair, s, out=pair)
                if more:
                    remaining = remaining - s
            if backorder and count(remaining):
                if primary is not None:
                    primary -= remaining
                else:
                    position[model.first, skus] -= remaining
                self.queue.append([t, remaining])
                self.backorders += remaining
            for n, shipper in online:
                shipper.order(t, served_today[n], t)
                shipper.end_of_day(t)
            if demand_of is not None:
                self._after_demand(t)
            for review in reviews:
                review(t)
            if self.check is not None:
                self.check.end_of_day(t)
            on_hand_log[t] = on_hand
            if backorder:
                self.trace.backorders[t] = self.backorders
            arriving = arrivals(t, None)  # ordered today with no lead time: for tomorrow
            if arriving is not None:
                receive(arriving, t)
            yield timeout(1)

    def _demand_feedback(self):
        """Today's demand when it depends on the state: the Prime badge of the node that would
        ship (``prime_uplift``) and the rank lost after stockouts (``stockout_penalty``)."""
        cat, model, trace = self.catalog, self.model, self.trace
        skus = len(cat.ids)
        self.rank = np.ones(skus)
        self.badge_lost_until = {n: -1 for n in model.fulfil if model.nodes[n].sfp}
        extra, base = self.extra_demand, self.base_demand
        steps = [(n, mask, model.nodes[n].prime) for n, mask in model.steps]
        first = model.first

        def badge(n: int, t: int) -> bool:
            return model.nodes[n].prime and self.badge_lost_until.get(n, -1) < t

        def demand_of(t: int) -> np.ndarray:
            found = np.zeros(skus, dtype=bool)
            prime = np.zeros(skus, dtype=bool)
            for n, mask, is_prime in steps:
                has = self.on_hand[n] > 0
                if mask is not None:
                    has &= mask
                if is_prime and badge(n, t):
                    prime |= has & ~found
                found |= has
            # out of stock everywhere: the listing keeps its first node's offer
            if model.routed:
                first_badge = np.array([badge(n, t) for n in range(len(model.nodes))])[first]
            else:
                first_badge = badge(first[0], t)
            prime |= ~found & first_badge
            d = base[t] + extra[t] * prime if extra is not None else base[t].copy()
            if self.rank.min() < 1.0:
                d = np.where(self.rank < 1.0, self.rank_rng.binomial(d, self.rank), d)
            trace.demand[t] = d
            trace.prime[t] = prime
            return d

        return demand_of

    def _after_demand(self, t: int) -> None:
        """Rank loss after today's stockouts; SFP badge checks on each node's rolling record."""
        cat = self.catalog
        if cat.has_penalty:
            short = self.trace.served[t].sum(axis=0) < self.trace.demand[t]
            self.rank = np.where(
                short, 1.0 - cat.penalty_depth, np.minimum(1.0, self.rank + cat.penalty_recovery)
            )
        for n, until in self.badge_lost_until.items():
            rules = self.model.nodes[n].sfp
            if until >= t:
                self.trace.badge_lost[t, n] = True
                continue
            if t < rules.window_days - 1:
                continue  # judged on full windows only (Amazon has the seller's history)
            window = self.shippers[n].by_ship_day[:, t - rules.window_days + 1 : t + 1]
            shipped, late, on_time = window.sum(axis=1)
            if (
                shipped > 0
                and shipped >= self.model.min_orders
                and (
                    1.0 - late / shipped < rules.on_time_shipment_min - 1e-12
                    or on_time / shipped < rules.on_time_delivery_min - 1e-12
                )
            ):
                self.badge_lost_until[n] = t + rules.loss_days
                if self.log is not None:
                    self.log.append((f"badge lost {self.model.nodes[n].name}", t))

    def _reviewer(self, i: int, lane: Lane):
        """A function that reviews ``lane`` at the end of day t and places its order."""
        every = int(lane.review_days[0]) if np.all(lane.review_days == lane.review_days[0]) else 0
        n, policy = lane.node, lane.policy
        pos, orders, lead = self.position[n], self.trace.orders[i], self.trace.lead_days[i].tolist()
        level, reorder, quantity = lane.level, lane.reorder_point, lane.quantity
        source = (
            (self.on_hand[lane.source], self.stock[:, lane.source]) if lane.is_transfer else None
        )
        days, due = self.days, self.due
        name = self.model.nodes[n].name
        count = np.count_nonzero
        capacity = lane.capacity_cubic_feet
        limited = not np.isinf(capacity)
        cubic_feet = self.catalog.cubic_feet
        # the backorders of SKUs routed first to this node are held in its position
        held = (self.model.first == n) if self.model.backorder else None

        def review(t: int) -> None:
            if every and t % every:
                return
            q = orders[t]  # today's order, written in place (the row starts at zero)
            if policy == "order_up_to":
                np.subtract(level, pos, out=q)
            elif policy == "s_S":
                q[:] = np.where(pos <= reorder, level - pos, 0)
            else:
                gap = reorder - pos
                q[:] = np.where(gap >= 0, (gap // quantity + 1) * quantity, 0)
            np.maximum(q, 0, out=q)
            if not every:
                q *= t % lane.review_days == 0
            if limited and count(q):  # on hand + inbound must fit: the rest waits
                used = pos + self.backorders * held if held is not None else pos
                room = capacity - float(used @ cubic_feet)
                need = float(q @ cubic_feet)
                if need > room:
                    q[:] = np.floor(q * max(room, 0.0) / need)
            if source is not None:
                np.minimum(q, source[0], out=q)
                np.subtract(source[1], q, out=source[1])  # on-hand and position both fall
                if self.check is not None:
                    self.check.moved[lane.source] += q
            if not count(q):
                return
            if self.log is not None:
                self.log.append((f"order {name}", t))
            np.add(pos, q, out=pos)
            arrives = t + lead[t]
            if arrives < days:
                if arrives in due:
                    due[arrives].append((n, q))
                else:
                    due[arrives] = [(n, q)]

        return review

    def _receive(self, shipments: list[tuple[int, np.ndarray]], t: int) -> None:
        """Day ``t``'s shipments join on-hand, in the order they were placed; each fills
        waiting backorders at its node."""
        for n, q in shipments:
            if self.log is not None:
                self.log.append((f"receive {self.model.nodes[n].name}", t))
            self.on_hand[n] += q
            if self.check is not None:
                self.check.moved[n] -= q
            if self.queue and n in self.fulfil_set:
                self._serve_backorders(n, t)

    def _serve_backorders(self, n: int, t: int) -> None:
        available = self.on_hand[n]  # a view: filling backorders takes the node's stock
        routed = None
        if self.model.routed:  # only SKUs whose route includes this node
            routed = np.zeros(len(available), dtype=bool)
            for m, mask in self.model.steps:
                if m == n:
                    routed |= mask
        first, skus = self.model.first, np.arange(len(available))
        waiting = []
        shipper = self.shippers[n]
        for entry in self.queue:
            order_day, units = entry
            take = np.minimum(units, available)
            if routed is not None:
                take *= routed
            if take.any():
                available -= take
                units = units - take
                self.backorders -= take
                moved = take * (first != n)  # held against another node: move it here
                if moved.any():
                    self.position[n] -= moved
                    self.position[first, skus] += moved
                self.trace.fills.append(Fill(t, n, order_day, take))
                if self.check is not None:
                    self.check.filled(t, n, order_day, take)
                if shipper.online:
                    shipper.order(t, take, order_day)
                entry[1] = units
            if units.any():
                waiting.append(entry)
        self.queue = waiting


class AccountingError(RuntimeError):
    """Stock was not conserved (or a rule was broken) on a day, at a node, for a SKU."""


class AccountingCheck:
    """Day-by-day conservation checks of one replication (``run --check``; always in tests).

    For every node and SKU: on-hand at the end of day t = on-hand at the end of day t − 1 +
    received − served from stock − backorder fills − transferred out; on-hand and the pipeline
    (position − on-hand, plus backorders held at the node) never negative; backorders filled
    first come, first served (no fill for an order while an older order of that SKU waits).
    """

    def __init__(self, rep: Replication):
        self.rep = rep
        self.previous = rep.on_hand.copy()
        self.moved = np.zeros_like(rep.on_hand)  # out minus in, today (transfers, receipts)
        self.fills = np.zeros_like(rep.on_hand)

    def filled(self, t: int, node: int, order_day: int, units: np.ndarray) -> None:
        self.fills[node] += units
        for entry in self.rep.queue:  # every older order of these SKUs must be complete
            if entry[0] >= order_day:
                break
            if (entry[1] * (units > 0)).any():
                self._fail(
                    t,
                    node,
                    int(np.argmax(entry[1] * (units > 0))),
                    f"backorder of day {order_day} filled before one of day {entry[0]}",
                )

    def end_of_day(self, t: int) -> None:
        rep = self.rep
        expected = self.previous - rep.trace.served[t] - self.fills - self.moved
        bad = np.argwhere(expected != rep.on_hand)
        if len(bad):
            n, j = bad[0]
            self._fail(
                t,
                n,
                j,
                f"on hand {rep.on_hand[n, j]}, but the day's flows give "
                f"{expected[n, j]} (previous {self.previous[n, j]}, served "
                f"{rep.trace.served[t, n, j]}, filled {self.fills[n, j]}, moved out "
                f"{self.moved[n, j]})",
            )
        held = np.zeros_like(rep.on_hand)
        if rep.model.backorder:
            held[rep.model.first, np.arange(held.shape[1])] = rep.backorders
        for what, values in (
            ("on hand", rep.on_hand),
            ("pipeline (on order)", rep.position - rep.on_hand + held),
        ):
            bad = np.argwhere(values < 0)
            if len(bad):
                n, j = bad[0]
                self._fail(t, n, j, f"{what} is negative ({values[n, j]})")
        self.previous = rep.on_hand.copy()
        self.moved[:] = 0
        self.fills[:] = 0

    def _fail(self, t: int, node: int, sku: int, problem: str) -> None:
        rep = self.rep
        raise AccountingError(
            f"accounting check failed on day {t}, SKU {rep.catalog.ids[sku]!r}, node "
            f"{rep.model.nodes[node].name!r} (strategy {rep.model.name!r}): {problem}"
        )


def simulate(
    model: StrategyModel,
    catalog: CatalogModel,
    demand: np.ndarray,
    lead_days: dict[tuple[str, ...], np.ndarray],
    streams,
    start_weekday: int = 0,
    extra_demand: np.ndarray | None = None,
    log_events: bool = False,
    check: bool = False,
) -> Trace:
    """Run one replication of one strategy: ``demand`` is (days, skus) units per day without
    the Prime badge, ``extra_demand`` the extra units the badge brings."""
    return Replication(
        model,
        catalog,
        demand,
        lead_days,
        streams,
        start_weekday,
        extra_demand,
        log_events,
        check,
    ).run()
