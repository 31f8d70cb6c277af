"""The SimPy model of one strategy over a batch of replications.

Events are few: one SimPy process ticks once a day. Lead times are whole days, so a shipment
is filed under the day it is due and the tick of that day receives it before the day's demand
(SPEC §3), then serves demand, then reviews; a shipment placed with no lead time joins on-hand
after the day's records, as the day's last event.

State lives in numpy arrays of shape (replications, nodes, skus): a batch of replications of
the same strategy is simulated side by side, each day a handful of vectorized operations for the
whole batch. The replications never mix: every operation is element by element, every random
draw comes from the replication's own streams, and what only some replications need that day
(backorder queues, capacity cuts, day-by-day shipping, the Prime badge) runs one replication at
a time, in the same order as alone. A replication's numbers are therefore the same in any batch,
alone or not, which keeps results independent of batch size and worker count.

Demand is served along each SKU's route (``fulfil_from``, per SKU when given); customer orders
go to each node's ``Shipper`` (``sim.shipping``: cut-off, capacity backlog, transit). When demand
depends on the state — the Prime badge of the node that would ship (``prime_uplift``), rank lost
after a stockout, an SFP node losing its badge over its rolling record — each day's demand is
formed before it is served. Sales channels besides Amazon (``sim.channels``) are served after
Amazon's demand each day, in the order listed, each along its own route from the stock left;
their arrays exist only when the scenario has channels. ``AccountingCheck`` (``run --check``)
verifies conservation daily, per channel and node.

The engine knows nothing of files or printing: it takes a compiled ``StrategyModel``, each
replication's demand and lead times, and returns one ``Trace`` of what happened per replication.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.backorders import BackorderQueue
from sim.model import CatalogModel, Lane, NodeModel, StrategyModel
from sim.shipping import LATE_AND_LATE, OUTSIDE, OUTSIDE_ON_TIME, SHIPPED, Shipper


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
    badge_breach: np.ndarray | None = None  # (days, nodes) an SFP node's record broke a minimum
    cancelled: np.ndarray | None = None  # (days, nodes, skus) units cancelled, by order day
    events: list[tuple[str, int]] = field(default_factory=list)
    # channels besides Amazon (``sim.channels``), None without them
    channel_demand: np.ndarray | None = None  # (days, channels, skus) units demanded
    channel_served: np.ndarray | None = None  # (days, channels, nodes, skus) units shipped
    channel_shippers: list[dict[int, Shipper]] = field(default_factory=list)  # per channel

    lane_nodes: tuple[int, ...] = ()  # destination node of each lane

    @functools.cached_property
    def received(self) -> np.ndarray:
        """(days, nodes, skus) units that joined on-hand at the start of each day."""
        days, nodes, skus = self.on_hand.shape
        # a day's receipts at a node fit in the on-hand's type (``trace_dtype``)
        out = np.zeros((days, nodes, skus), dtype=self.on_hand.dtype)
        arrived = self.arrived()
        for i, node in enumerate(self.lane_nodes):
            t = np.flatnonzero(arrived[i] & self.orders[i].any(axis=1))
            into, placed = out[:, node], self.orders[i]
            # day by day (orders of several days may arrive on one day): whole units, any order
            for day, due in zip(t.tolist(), (t + self.lead_days[i, t]).tolist(), strict=True):
                into[due] += placed[day]
        return out

    def arrived(self) -> np.ndarray:
        """(lanes, days) True where that day's order arrived within the horizon."""
        days = self.lead_days.shape[1]
        return np.arange(days) + self.lead_days < days

    def in_transit(self, lane: int) -> np.ndarray:
        """(skus,) units of a lane still on the way at the end of the horizon."""
        return self.orders[lane][~self.arrived()[lane]].sum(axis=0)


class Replications:
    """State and process of one strategy over a batch of replications.

    ``position`` is each node's inventory position (on-hand + on order, less the backorders
    held against the first fulfilment node): it falls with demand served and transfers out, and
    rises with orders placed, so a receipt leaves it unchanged. Arrays are indexed by
    replication first (``on_hand[r, node, sku]``); the daily records by day first
    (``served[t, r, node, sku]``) so that each day's slice is contiguous.
    """

    def __init__(
        self,
        model: StrategyModel,
        catalog: CatalogModel,
        demand: list[np.ndarray],
        lead_days: list[dict[tuple[str, ...], np.ndarray]],
        streams: list,
        start_weekday: int = 0,
        extra_demand: list[np.ndarray] | None = None,
        log_events: bool = False,
        check: bool = False,
        channel_demand: list[np.ndarray] | None = None,
    ):
        self.model = model
        self.catalog = catalog
        self.reps = reps = len(demand)
        self.inputs = demand  # each replication's own demand array (its trace's, as given)
        self.days, skus = demand[0].shape
        days, nodes, lanes = self.days, len(model.nodes), len(model.lanes)
        self.base_demand = _side_by_side(demand, axis=1)  # (days, reps, skus)
        self.extra_demand = None if extra_demand is None else _side_by_side(extra_demand, axis=1)
        self.env = simpy.Environment()
        # one array for both, so serving a day's demand lowers on-hand and position in one step
        self.stock = np.empty((2, reps, nodes, skus), dtype=np.int64)
        self.stock[:] = model.initial_on_hand
        self.on_hand, self.position = self.stock[0], self.stock[1]
        self.backorders = np.zeros((reps, skus), dtype=np.int64)
        self.queues = [BackorderQueue(skus) for _ in range(reps)]  # first come, first served
        # day -> shipments arriving that day: (node, replications or None for all, units)
        self.due: dict[int, list] = {}
        self.fulfil_set = set(model.fulfil)
        self.logs = [[] for _ in range(reps)] if log_events else None
        self.fills: list[list[Fill]] = [[] for _ in range(reps)]
        self.shippers = {
            n: [
                Shipper(
                    model.nodes[n].delivery,
                    start_weekday,
                    days,
                    catalog.units_per_order,
                    streams[r].new("transit", model.nodes[n].name),
                    online=model.nodes[n].sfp is not None,
                    buy_shipping=_buy_shipping(model.nodes[n], streams[r]),
                )
                for r in range(reps)
            ]
            for n in model.fulfil
        }
        self.online = [(n, shippers) for n, shippers in self.shippers.items() if shippers[0].online]
        # forecast_up_to with a forecast error: each replication's levels, (days, reps, skus)
        self.forecast_levels = {
            i: np.stack([lane.forecast.replication_levels(s) for s in streams], axis=1)
            for i, lane in enumerate(model.lanes)
            if lane.forecast is not None
        }
        units = self.units = trace_dtype(
            model, self.base_demand, self.extra_demand, channel_demand, self.forecast_levels
        )
        self.served = np.zeros((days, reps, nodes, skus), dtype=units)
        self.on_hand_log = np.zeros((days, reps, nodes, skus), dtype=units)
        self.backorder_log = np.zeros((days, reps, skus), dtype=units) if model.backorder else None
        self.orders = np.zeros((lanes, days, reps, skus), dtype=units)
        self.lead_days = np.zeros((lanes, reps, days), dtype=np.int64)
        for i, lane in enumerate(model.lanes):
            for r, leads in enumerate(lead_days):
                self.lead_days[i, r] = leads[lane.stream]
                if lane.check_in is not None:
                    self.lead_days[i, r] += leads[lane.check_in_stream]
        # seller nodes that cancel a share of the orders they take (each its own stream: CRN)
        self.cancelling = {
            n: (model.nodes[n].cancel_rate, [s.new("cancel", model.nodes[n].name) for s in streams])
            for n in model.fulfil
            if model.nodes[n].cancel_rate > 0
        }
        self.cancelled = (
            np.zeros((days, reps, nodes, skus), dtype=units) if self.cancelling else None
        )
        # channels besides Amazon: (days, channels, reps, skus) demand, served per node
        self.channel_demand = self.channel_served = None
        if channel_demand is not None and model.channel_routes:
            self.channel_demand = _side_by_side(channel_demand, axis=2)
            shape = (days, len(model.channel_routes), reps, nodes, skus)
            self.channel_served = np.zeros(shape, dtype=units)
        self.start_weekday = start_weekday
        self.check = AccountingCheck(self) if check else None
        self.streams = streams
        if model.demand_feedback:
            self.demand_log = np.zeros((days, reps, skus), dtype=units)
            self.prime = np.zeros((days, reps, skus), dtype=bool)
            self.badge_lost = np.zeros((days, reps, nodes), dtype=bool)
            self.badge_breach = np.zeros((days, reps, nodes), dtype=bool)
            self.rank_rngs = [s.new("rank_loss") for s in streams]

    def run(self) -> list[Trace]:
        """Simulate every day of the horizon; one trace per replication."""
        self.env.process(self._days())
        self.env.run()
        model, feedback = self.model, self.model.demand_feedback
        traces = []
        for r in range(self.reps):
            for n, shippers in self.shippers.items():
                fills = [f for f in self.fills[r] if f.node == n]
                shippers[r].finish(self.served[:, r, n, :], fills)
            traces.append(
                Trace(
                    demand=self.demand_log[:, r] if feedback else self.inputs[r],
                    served=self.served[:, r],
                    on_hand=self.on_hand_log[:, r],
                    backorders=None if self.backorder_log is None else self.backorder_log[:, r],
                    fills=self.fills[r],
                    orders=self.orders[:, :, r],
                    lead_days=self.lead_days[:, r],
                    initial=model.initial_on_hand.copy(),
                    final_on_hand=self.on_hand[r],
                    final_backorders=self.backorders[r],
                    shippers={n: shippers[r] for n, shippers in self.shippers.items()},
                    prime=self.prime[:, r] if feedback else None,
                    badge_lost=self.badge_lost[:, r] if feedback else None,
                    badge_breach=self.badge_breach[:, r] if feedback else None,
                    cancelled=None if self.cancelled is None else self.cancelled[:, r],
                    events=self.logs[r] if self.logs is not None else [],
                    lane_nodes=tuple(lane.node for lane in model.lanes),
                    **self._channel_trace(r),
                )
            )
        return traces

    def _channel_trace(self, r: int) -> dict:
        """Replication r's channel arrays, and its channel orders shipped in one pass: each
        (channel, node) has its own ``Shipper`` with the channel's promise, no capacity limit,
        and its own transit stream ``("transit", channel, node)``."""
        if self.channel_served is None:
            return {}
        served = self.channel_served[:, :, r]
        shippers = []
        for k, route in enumerate(self.model.channel_routes):
            name = self.catalog.channels[k].name
            by_node = {}
            for n, rule in zip(route.nodes, route.rules, strict=True):
                rng = self.streams[r].new("transit", name, self.model.nodes[n].name)
                sh = Shipper(
                    rule, self.start_weekday, self.days, self.catalog.units_per_order, rng, False
                )
                sh.finish(served[:, k, n, :], [])
                by_node[n] = sh
            shippers.append(by_node)
        return {
            "channel_demand": self.channel_demand[:, :, r],
            "channel_served": served,
            "channel_shippers": shippers,
        }

    def _serve_channels(self, t: int) -> None:
        """Day t's channel demand, after Amazon's: channel by channel in the order listed under
        ``channels``, each along its own route from the stock left; unmet units are lost."""
        served, check = self.channel_served[t], self.check
        for k, route in enumerate(self.model.channel_routes):
            remaining = demanded = self.channel_demand[t, k]
            for n in route.nodes:
                s = np.minimum(self.on_hand[:, n], remaining, out=served[k, :, n])
                np.subtract(self.stock[:, :, n], s, out=self.stock[:, :, n])
                remaining = remaining - s
            if check is not None:
                check.channel(t, k, demanded, remaining)

    # ----------------------------------------------------------------- processes

    def _days(self):
        served, on_hand_log = self.served, self.on_hand_log
        backorder, logs = self.model.backorder, self.logs
        on_hand, position = self.on_hand, self.position
        model, queues = self.model, self.queues
        last = len(model.steps) - 1
        # (node, its on-hand, its (on-hand, position) pair, SKU mask, whether the rest is needed)
        steps = [
            (n, on_hand[:, n], self.stock[:, :, n], mask, k < last or backorder)
            for k, (n, mask) in enumerate(model.steps)
        ]
        skus = np.arange(len(self.catalog.ids))
        # the backorders of a SKU are held against the first node of its route
        primary = position[:, model.fulfil[0]] if not model.routed else None
        reviews = [self._reviewer(i, lane) for i, lane in enumerate(self.model.lanes)]
        demand_of = self._demand_feedback() if self.model.demand_feedback else None
        demand, online, reps = self.base_demand, self.online, range(self.reps)
        timeout, arrivals, receive = self.env.timeout, self.due.pop, self._receive
        cancelling, check = self.cancelling, self.check
        for t in range(self.days):
            arriving = arrivals(t, None)
            if arriving is not None:
                receive(arriving, t)
            if logs is not None:
                for log in logs:
                    log.append(("demand", t))
            remaining = demand[t] if demand_of is None else demand_of(t)
            demanded = remaining
            served_today = served[t]
            for n, oh, pair, mask, more in steps:
                if n in cancelling:  # taken from the shelf, less what the seller cancels
                    taken = np.minimum(oh, remaining)
                    if mask is not None:
                        taken *= mask
                    s = taken - self._cancel(t, n, taken)
                    served_today[:, n] += s
                elif mask is None:
                    s = taken = np.minimum(oh, remaining, out=served_today[:, n])
                else:
                    s = taken = np.minimum(oh, remaining) * mask
                    served_today[:, n] += s
                np.subtract(pair, s, out=pair)
                if more or check is not None:
                    remaining = remaining - taken  # cancelled orders are lost, not passed on
            if check is not None:
                check.demand(t, demanded, remaining)
            if backorder:
                short = np.flatnonzero(remaining.any(axis=1))
                if len(short):
                    if primary is not None:
                        primary -= remaining
                    else:
                        position[:, model.first, skus] -= remaining
                    for r in short.tolist():
                        queues[r].append(t, remaining[r])
                    self.backorders += remaining
            if self.channel_served is not None:
                self._serve_channels(t)
            for n, shippers in online:
                for r in reps:
                    shippers[r].order(t, served_today[r, n], t)
                    shippers[r].end_of_day(t)
            if demand_of is not None:
                self._after_demand(t)
            for review in reviews:
                review(t)
            if check is not None:
                check.end_of_day(t)
            on_hand_log[t] = on_hand
            if backorder:
                self.backorder_log[t] = self.backorders
            arriving = arrivals(t, None)  # ordered today with no lead time: for tomorrow
            if arriving is not None:
                receive(arriving, t)
            yield timeout(1)

    def _cancel(self, t: int, n: int, taken: np.ndarray) -> np.ndarray:
        """(reps, skus) units of ``taken`` the seller cancels at node n on day t: binomial
        with the node's ``cancel_rate``, from each replication's own stream."""
        rate, rngs = self.cancelling[n]
        out = np.zeros_like(taken)
        for r in np.flatnonzero(taken.any(axis=1)).tolist():
            out[r] = rngs[r].binomial(taken[r], rate)
        self.cancelled[t, :, n] += out  # a node on several SKU routes is served step by step
        return out

    def _demand_feedback(self):
        """Today's demand when it depends on the state: the Prime badge of the node that would
        ship (``prime_uplift``) and the rank lost after stockouts (``stockout_penalty``)."""
        cat, model = self.catalog, self.model
        skus = len(cat.ids)
        self.rank = np.ones((self.reps, skus))
        # an SFP node below Amazon's Buy Shipping minimum is not eligible: never the badge
        self.badge_lost_until = [
            {
                n: -1 if model.nodes[n].sfp.eligible else self.days
                for n in model.fulfil
                if model.nodes[n].sfp
            }
            for _ in range(self.reps)
        ]
        extra, base = self.extra_demand, self.base_demand
        steps = [(n, mask, model.nodes[n].prime) for n, mask in model.steps]
        first = model.first

        def badge(n: int, r: int, t: int) -> bool:
            return model.nodes[n].prime and self.badge_lost_until[r].get(n, -1) < t

        def demand_of(t: int) -> np.ndarray:
            for r in range(self.reps):
                found = np.zeros(skus, dtype=bool)
                prime = np.zeros(skus, dtype=bool)
                for n, mask, is_prime in steps:
                    has = self.on_hand[r, n] > 0
                    if mask is not None:
                        has &= mask
                    if is_prime and badge(n, r, t):
                        prime |= has & ~found
                    found |= has
                # out of stock everywhere: the listing keeps its first node's offer
                if model.routed:
                    first_badge = np.array([badge(n, r, t) for n in range(len(model.nodes))])
                    first_badge = first_badge[first]
                else:
                    first_badge = badge(first[0], r, t)
                prime |= ~found & first_badge
                d = base[t, r] + extra[t, r] * prime if extra is not None else base[t, r].copy()
                rank = self.rank[r]
                if rank.min() < 1.0:
                    d = np.where(rank < 1.0, self.rank_rngs[r].binomial(d, rank), d)
                self.demand_log[t, r] = d
                self.prime[t, r] = prime
            return self.demand_log[t]

        return demand_of

    def _after_demand(self, t: int) -> None:
        """Rank loss after today's stockouts; SFP badge checks on each node's rolling record."""
        cat = self.catalog
        for r in range(self.reps):
            if cat.has_penalty:  # a stockout, not a cancellation, costs rank
                taken = self.served[t, r].sum(axis=0)
                if self.cancelled is not None:
                    taken = taken + self.cancelled[t, r].sum(axis=0)
                short = taken < self.demand_log[t, r]
                self.rank[r] = np.where(
                    short,
                    1.0 - cat.penalty_depth,
                    np.minimum(1.0, self.rank[r] + cat.penalty_recovery),
                )
            lost_until = self.badge_lost_until[r]
            for n, until in lost_until.items():
                if until >= t:
                    self.badge_lost[t, r, n] = True
                    continue
                if self._sfp_breach(t, r, n):
                    self.badge_breach[t, r, n] = True
                    lost_until[n] = t + self.model.nodes[n].sfp.loss_days
                    if self.logs is not None:
                        self.logs[r].append((f"badge lost {self.model.nodes[n].name}", t))

    def _sfp_breach(self, t: int, r: int, n: int) -> bool:
        """Whether SFP node n's record over the window ending on day t breaks one of Amazon's
        minimums (US help page 202072550; facts §5.2), judged on full windows only (Amazon has
        the seller's history) and on windows with at least ``min_orders`` orders:

        - on-time shipment ≥ 99 %: an order counts against it only when it shipped late *and*
          was delivered late ("If the package was shipped late but delivered on time, it will
          be counted as on time");
        - on-time delivery ≥ 97 % on the orders whose labels were bought outside Buy Shipping;
        - cancellation rate ≤ 0.5 % of the orders the node took (by order day).
        """
        rules = self.model.nodes[n].sfp
        window = rules.window_days
        if t < window - 1:
            return False
        least, eps = self.model.min_orders, 1e-12
        rows = self.shippers[n][r].by_ship_day[:, t - window + 1 : t + 1].sum(axis=1)
        shipped, outside = rows[SHIPPED], rows[OUTSIDE]
        judged = shipped > 0 and shipped >= least
        if judged and 1.0 - rows[LATE_AND_LATE] / shipped < rules.on_time_shipment_min - eps:
            return True
        judged = outside > 0 and outside >= least
        if judged and rows[OUTSIDE_ON_TIME] / outside < rules.on_time_delivery_min - eps:
            return True
        if n in self.cancelling:
            w = self.shippers[n][r].per_order
            cancelled = self.cancelled[t - window + 1 : t + 1, r, n].sum(axis=0) @ w
            taken = self.served[t - window + 1 : t + 1, r, n].sum(axis=0) @ w + cancelled
            if taken > 0 and taken >= least and cancelled / taken > rules.cancel_rate_max + eps:
                return True
        return False

    def _reviewer(self, i: int, lane: Lane):
        """A function that reviews ``lane`` at the end of day t and places its orders."""
        every = int(lane.review_days[0]) if np.all(lane.review_days == lane.review_days[0]) else 0
        n, policy = lane.node, lane.policy
        pos, orders, lead = self.position[:, n], self.orders[i], self.lead_days[i]
        same_lead = np.all(lead == lead[0], axis=0).tolist()  # (days,) one lead for all
        first_lead = lead[0].tolist()
        level, reorder, quantity = lane.level, lane.reorder_point, lane.quantity
        # policy numbers by day (month mappings, forecast_up_to); per replication with a
        # forecast error: (days, reps, skus)
        levels, reorder_days, quantity_days = lane.levels, lane.reorder_days, lane.quantity_days
        if lane.forecast is not None:
            levels = self.forecast_levels[i]
        capacity_days = lane.capacity_days
        active = lane.active
        source = (
            (self.on_hand[:, lane.source], self.stock[:, :, lane.source])
            if lane.is_transfer
            else None
        )
        days, due, reps, logs = self.days, self.due, self.reps, self.logs
        name = self.model.nodes[n].name
        count = np.count_nonzero
        capacity = lane.capacity_cubic_feet
        limited = not np.isinf(capacity)
        cubic_feet = self.catalog.cubic_feet
        # the backorders of SKUs routed first to this node are held in its position
        held = (self.model.first == n) if self.model.backorder else None
        everyone = np.ones(reps, dtype=bool)

        def ship(arrives: int, shipment: tuple) -> None:
            if arrives in due:
                due[arrives].append(shipment)
            else:
                due[arrives] = [shipment]

        def review(t: int) -> None:
            if every and t % every:
                return
            q = orders[t]  # today's orders (reps, skus), written in place (rows start at zero)
            s = level if levels is None else levels[t]
            if policy in ("order_up_to", "forecast_up_to"):
                np.subtract(s, pos, out=q)
            elif policy == "s_S":
                s_min = reorder if reorder_days is None else reorder_days[t]
                q[:] = np.where(pos <= s_min, s - pos, 0)
            else:
                s_min = reorder if reorder_days is None else reorder_days[t]
                per = quantity if quantity_days is None else quantity_days[t]
                gap = s_min - pos
                q[:] = np.where(gap >= 0, (gap // per + 1) * per, 0)
            np.maximum(q, 0, out=q)
            if not every:
                q *= t % lane.review_days == 0
            if active is not None:
                q *= active
            if limited:  # on hand + inbound must fit: the rest waits
                cap = capacity if capacity_days is None else capacity_days[t]
                for r in range(reps):
                    if count(q[r]):
                        used = pos[r] + self.backorders[r] * held if held is not None else pos[r]
                        room = cap - float(used @ cubic_feet)
                        need = float(q[r] @ cubic_feet)
                        if need > room:
                            q[r] = np.floor(q[r] * max(room, 0.0) / need)
            if source is not None:
                np.minimum(q, source[0], out=q)
                np.subtract(source[1], q, out=source[1])  # on-hand and position both fall
                if self.check is not None:
                    self.check.moved[:, lane.source] += q
            if not count(q):
                return
            has = q.any(axis=1) if reps > 1 else everyone
            if logs is not None:
                for r in np.flatnonzero(has).tolist():
                    logs[r].append((f"order {name}", t))
            np.add(pos, q, out=pos)
            if same_lead[t] and (reps == 1 or has.all()):
                arrives = t + first_lead[t]
                if arrives < days:
                    ship(arrives, (n, None, q))
                return
            arrives = t + lead[:, t]
            shipped = has & (arrives < days)
            for day in np.unique(arrives[shipped]).tolist():
                which = np.flatnonzero(shipped & (arrives == day))
                ship(day, (n, which, q[which]))

        return review

    def _receive(self, shipments: list[tuple], t: int) -> None:
        """Day ``t``'s shipments join on-hand, in the order they were placed; each fills
        waiting backorders at its node, replication by replication."""
        queues = self.queues
        for n, which, q in shipments:
            if which is None:
                self.on_hand[:, n] += q
                if self.check is not None:
                    self.check.moved[:, n] -= q
                received = range(self.reps)
            else:
                self.on_hand[which, n] += q
                if self.check is not None:
                    self.check.moved[which, n] -= q
                received = which.tolist()
            if self.logs is not None:
                for r in received:
                    self.logs[r].append((f"receive {self.model.nodes[n].name}", t))
            if n in self.fulfil_set:
                for r in received:
                    if queues[r]:
                        self._serve_backorders(r, n, t)

    def _serve_backorders(self, r: int, n: int, t: int) -> None:
        available = self.on_hand[r, n]  # a view: filling backorders takes the node's stock
        routed = None
        if self.model.routed:  # only SKUs whose route includes this node
            routed = np.zeros(len(available), dtype=bool)
            for m, mask in self.model.steps:
                if m == n:
                    routed |= mask
        first, skus = self.model.first, np.arange(len(available))
        shipper = self.shippers[n][r]
        backorders, position = self.backorders[r], self.position[r]
        # only the entries filled are visited (not the whole queue): O(fills), not O(backlog)
        for order_day, take in self.queues[r].fill(available, routed):
            backorders -= take
            moved = take * (first != n)  # held against another node: move it here
            if moved.any():
                position[n] -= moved
                position[first, skus] += moved
            self.fills[r].append(Fill(t, n, order_day, take))
            if self.check is not None:
                self.check.filled(t, r, n, order_day, take)
            if shipper.online:
                shipper.order(t, take, order_day)


class AccountingError(RuntimeError):
    """Stock was not conserved (or a rule was broken) on a day, at a node, for a SKU."""


class AccountingCheck:
    """Day-by-day conservation checks of a batch of replications (``run --check``; always in
    tests).

    For every replication, node and SKU: on-hand at the end of day t = on-hand at the end of
    day t − 1 + received − served from stock − backorder fills − transferred out (a cancelled
    order leaves its stock on the shelf); each day's demand = served + cancelled + unmet
    (lost or backordered); on-hand and
    the pipeline (position − on-hand, plus backorders held at the node) never negative;
    backorders filled first come, first served (no fill for an order while an older order of
    that SKU waits).
    """

    def __init__(self, batch: Replications):
        self.batch = batch
        self.previous = batch.on_hand.copy()
        self.moved = np.zeros_like(batch.on_hand)  # out minus in, today (transfers, receipts)
        self.fills = np.zeros_like(batch.on_hand)

    def filled(self, t: int, r: int, node: int, order_day: int, units: np.ndarray) -> None:
        self.fills[r, node] += units
        for day, waiting in self.batch.queues[r]:  # every older order of these SKUs: complete
            if day >= order_day:
                break
            if (waiting * (units > 0)).any():
                self._fail(
                    t,
                    node,
                    int(np.argmax(waiting * (units > 0))),
                    f"backorder of day {order_day} filled before one of day {day}",
                )

    def demand(self, t: int, demanded: np.ndarray, unmet: np.ndarray) -> None:
        """Day t's demand is accounted for: demanded = served + cancelled + unmet (lost or
        backordered), per replication and SKU, each part ≥ 0."""
        batch = self.batch
        served = batch.served[t].sum(axis=1)
        cancelled = 0 if batch.cancelled is None else batch.cancelled[t].sum(axis=1)
        parts = served + cancelled + unmet
        bad = np.argwhere((parts != demanded) | (unmet < 0))
        if len(bad):
            r, j = bad[0]
            c = 0 if batch.cancelled is None else cancelled[r, j]
            self._fail(
                t,
                int(batch.model.first[j]),
                j,
                f"demand {demanded[r, j]} is not served {served[r, j]} + cancelled {c} + "
                f"unmet {unmet[r, j]}",
            )

    def channel(self, t: int, k: int, demanded: np.ndarray, unmet: np.ndarray) -> None:
        """Day t's demand on channel k is accounted for: demanded = shipped (summed over its
        nodes) + lost, per replication and SKU, each part ≥ 0."""
        batch = self.batch
        shipped = batch.channel_served[t, k].sum(axis=1)
        bad = np.argwhere((shipped + unmet != demanded) | (unmet < 0) | (shipped < 0))
        if len(bad):
            r, j = bad[0]
            route = batch.model.channel_routes[k].nodes
            self._fail(
                t,
                route[0] if route else 0,
                j,
                f"channel {batch.catalog.channels[k].name!r}: demand {demanded[r, j]} is not "
                f"shipped {shipped[r, j]} + lost {unmet[r, j]}",
            )

    def end_of_day(self, t: int) -> None:
        batch = self.batch
        on_hand, served = batch.on_hand, batch.served[t]
        if batch.channel_served is not None:  # every channel's units leave the shelf too
            served = served + batch.channel_served[t].sum(axis=0)
        expected = self.previous - served - self.fills - self.moved
        bad = np.argwhere(expected != on_hand)
        if len(bad):
            r, n, j = bad[0]
            self._fail(
                t,
                n,
                j,
                f"on hand {on_hand[r, n, j]}, but the day's flows give "
                f"{expected[r, n, j]} (previous {self.previous[r, n, j]}, served "
                f"{served[r, n, j]}, filled {self.fills[r, n, j]}, moved out "
                f"{self.moved[r, n, j]})",
            )
        held = np.zeros_like(on_hand)
        if batch.model.backorder:
            held[:, batch.model.first, np.arange(held.shape[2])] = batch.backorders
        for what, values in (
            ("on hand", on_hand),
            ("pipeline (on order)", batch.position - on_hand + held),
        ):
            bad = np.argwhere(values < 0)
            if len(bad):
                r, n, j = bad[0]
                self._fail(t, n, j, f"{what} is negative ({values[r, n, j]})")
        self.previous = on_hand.copy()
        self.moved[:] = 0
        self.fills[:] = 0

    def _fail(self, t: int, node: int, sku: int, problem: str) -> None:
        batch = self.batch
        raise AccountingError(
            f"accounting check failed on day {t}, SKU {batch.catalog.ids[sku]!r}, node "
            f"{batch.model.nodes[node].name!r} (strategy {batch.model.name!r}): {problem}"
        )


def _side_by_side(arrays: list[np.ndarray], axis: int) -> np.ndarray:
    """The replications' input arrays stacked along ``axis`` (read only): a view of the one
    array when the batch has one replication, without a copy."""
    if len(arrays) == 1:
        return np.expand_dims(arrays[0], axis)
    return np.stack(arrays, axis=axis)


INT32_MAX = int(np.iinfo(np.int32).max)


def trace_dtype(
    model: StrategyModel,
    demand: np.ndarray,
    extra: np.ndarray | None,
    channel_demand: list[np.ndarray] | None,
    forecast_levels: dict[int, np.ndarray],
) -> type:
    """``np.int32`` for a batch's daily records when every number they hold provably fits in
    it (half the memory of ``np.int64``, the same numbers), else ``np.int64``.

    With D the most units one SKU is demanded over the horizon in one replication (the Prime
    badge's extra units included; backorders never exceed it), C the same on the other
    channels, and M the larger of the largest initial on-hand and the largest level a policy
    orders up to (L: every order-up-to level plus every reorder point plus every order
    quantity): a policy orders at most up to its level, so a node's position (on-hand + on
    order − backorders held) stays within −D … M + D (a backorder filled from another node
    moves up to D back to the first node's position), its on-hand within M + 2·D (on-hand ≤
    position + backorders held), an order within L + D, and a day's receipts within twice the
    largest on-hand. Served, cancelled, demanded and backordered units, and their sums over the
    days of one SKU, are within D or C. 3·M + 4·D + C bounds them all, and the differences the
    policies compute on the way."""
    total = demand.sum(axis=0, dtype=np.float64)  # (reps, skus) units over the horizon
    if extra is not None:
        total += extra.sum(axis=0, dtype=np.float64)
    d = float(total.max(initial=0.0))
    c = 0.0
    for got in channel_demand or []:
        c = max(c, float(got.sum(axis=0, dtype=np.float64).max(initial=0.0)))
    levels = 0.0
    for i, lane in enumerate(model.lanes):
        most = 0.0
        for group in (
            (lane.level, lane.levels, forecast_levels.get(i)),
            (lane.reorder_point, lane.reorder_days),
            (lane.quantity, lane.quantity_days),
        ):
            most += max(float(np.max(a, initial=0.0)) for a in group if a is not None)
        levels = max(levels, most)
    m = max(float(np.max(model.initial_on_hand, initial=0.0)), levels)
    bound = 3.0 * m + 4.0 * d + c
    return np.int32 if bound <= INT32_MAX else np.int64


def _buy_shipping(node: NodeModel, streams) -> tuple[float, np.random.Generator] | None:
    """An SFP node's Buy Shipping share and the stream that picks the orders shipped outside
    it (None when every order is on Buy Shipping: nothing is judged on delivery)."""
    if node.sfp is None or node.sfp.buy_shipping_share >= 1.0:
        return None
    return node.sfp.buy_shipping_share, streams.new("buy_shipping", node.name)


def simulate_batch(
    model: StrategyModel,
    catalog: CatalogModel,
    demand: list[np.ndarray],
    lead_days: list[dict[tuple[str, ...], np.ndarray]],
    streams: list,
    start_weekday: int = 0,
    extra_demand: list[np.ndarray] | None = None,
    log_events: bool = False,
    check: bool = False,
    channel_demand: list[np.ndarray] | None = None,
) -> list[Trace]:
    """Run a batch of replications of one strategy side by side; one trace per replication,
    each the same as ``simulate`` would give it alone. Per replication: ``demand`` is (days,
    skus) units per day without the Prime badge, ``extra_demand`` the extra units the badge
    brings, ``lead_days`` the lead times of each lane stream, ``streams`` its random streams,
    ``channel_demand`` the (days, channels, skus) units of the channels besides Amazon."""
    return Replications(
        model,
        catalog,
        demand,
        lead_days,
        streams,
        start_weekday,
        extra_demand,
        log_events,
        check,
        channel_demand,
    ).run()


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
    channel_demand: np.ndarray | None = None,
) -> Trace:
    """Run one replication of one strategy: ``demand`` is (days, skus) units per day without
    the Prime badge, ``extra_demand`` the extra units the badge brings, ``channel_demand`` the
    (days, channels, skus) units of the channels besides Amazon."""
    extra = None if extra_demand is None else [extra_demand]
    channels = None if channel_demand is None else [channel_demand]
    (trace,) = simulate_batch(
        model,
        catalog,
        [demand],
        [lead_days],
        [streams],
        start_weekday,
        extra,
        log_events,
        check,
        channels,
    )
    return trace
