"""The SimPy model of one replication of one strategy.

Events are few: one daily tick (receipts have already happened, then demand, then review) and
one arrival event per shipment, scheduled with URGENT priority so that a shipment due on day t
joins on-hand before day t's demand (SPEC §3). Per-SKU state lives in numpy arrays of shape
(nodes, skus); each day is a handful of vectorized operations.

The engine knows nothing of files or printing: it takes a compiled ``StrategyModel``, the
replication's demand and lead times, and returns a ``Trace`` of what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.events import URGENT

from sim.model import Lane, StrategyModel


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

    served: np.ndarray  # (days, nodes, skus) units served from on-hand on the day demanded
    on_hand: np.ndarray  # (days, nodes, skus) end-of-day on-hand
    backorders: np.ndarray | None  # (days, skus) end-of-day units waiting (backorder mode)
    fills: list[Fill]
    orders: np.ndarray  # (lanes, days, skus) units ordered on each lane at the end of each day
    lead_days: np.ndarray  # (lanes, days) lead time of an order placed that day
    initial: np.ndarray  # (nodes, skus)
    final_on_hand: np.ndarray  # (nodes, skus)
    final_backorders: np.ndarray  # (skus,)
    events: list[tuple[str, int]] = field(default_factory=list)

    def arrived(self) -> np.ndarray:
        """(lanes, days) True where that day's order arrived within the horizon."""
        days = self.lead_days.shape[1]
        return np.arange(days) + self.lead_days < days

    def in_transit(self, lane: int) -> np.ndarray:
        """(skus,) units of a lane still on the way at the end of the horizon."""
        return self.orders[lane][~self.arrived()[lane]].sum(axis=0)


class Arrival(simpy.events.Event):
    """A shipment that reaches its node at the start of a day, before that day's tick."""

    def __init__(
        self, env: simpy.Environment, delay: int, node: int, units: np.ndarray, on_arrival
    ):
        super().__init__(env)
        self.callbacks.append(on_arrival)
        self._ok = True
        self._value = (node, units)
        env.schedule(self, URGENT, delay)


class Replication:
    """State and processes of one strategy over one replication.

    ``position`` is each node's inventory position (on-hand + on order, less the backorders
    held against the first fulfilment node): it falls with demand served and transfers out, and
    rises with orders placed, so a receipt leaves it unchanged.
    """

    def __init__(
        self,
        model: StrategyModel,
        demand: np.ndarray,
        lead_days: dict[tuple[str, ...], np.ndarray],
        warmup: int,
        log_events: bool = False,
    ):
        self.model = model
        self.demand = demand
        self.days, skus = demand.shape
        self.warmup = warmup
        nodes = len(model.nodes)
        self.env = simpy.Environment()
        # one array for both, so serving a day's demand lowers on-hand and position in one step
        self.stock = np.stack([model.initial_on_hand, model.initial_on_hand])
        self.on_hand, self.position = self.stock[0], self.stock[1]
        self.backorders = np.zeros(skus, dtype=np.int64)
        self.queue: list[list] = []  # FCFS backorders: [order_day, units]
        self.fulfil_set = set(model.fulfil)
        self.log = [] if log_events else None
        self.trace = Trace(
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
        )

    def run(self) -> Trace:
        """Simulate every day of the horizon and return the trace."""
        self.env.process(self._days())
        self.env.run()
        if self.log is not None:
            self.trace.events = self.log
        return self.trace

    # ----------------------------------------------------------------- processes

    def _days(self):
        demand, served, on_hand_log = self.demand, self.trace.served, self.trace.on_hand
        backorder, log = self.model.backorder, self.log
        on_hand, position = self.on_hand, self.position
        last = len(self.model.fulfil) - 1
        # (node, its on-hand, its (on-hand, position) pair, whether the unmet rest is needed after)
        steps = [
            (n, on_hand[n], self.stock[:, n], k < last or backorder)
            for k, n in enumerate(self.model.fulfil)
        ]
        count = np.count_nonzero
        primary = position[self.model.fulfil[0]]
        reviews = [self._reviewer(i, lane) for i, lane in enumerate(self.model.lanes)]
        timeout = self.env.timeout
        for t in range(self.days):
            if log is not None:
                log.append(("demand", t))
            remaining = demand[t]
            served_today = served[t]
            for n, oh, pair, more in steps:
                s = np.minimum(oh, remaining, out=served_today[n])
                np.subtract(pair, s, out=pair)
                if more:
                    remaining = remaining - s
            if backorder and count(remaining):
                primary -= remaining
                self.queue.append([t, remaining])
                self.backorders += remaining
            for review in reviews:
                review(t)
            on_hand_log[t] = on_hand
            if backorder:
                self.trace.backorders[t] = self.backorders
            yield timeout(1)

    def _reviewer(self, i: int, lane: Lane):
        """A function that reviews ``lane`` at the end of day t and places its order."""
        every = int(lane.review_days[0]) if np.all(lane.review_days == lane.review_days[0]) else 0
        n, policy = lane.node, lane.policy
        pos, orders, lead = self.position[n], self.trace.orders[i], self.trace.lead_days[i].tolist()
        level, reorder, quantity = lane.level, lane.reorder_point, lane.quantity
        source = (
            (self.on_hand[lane.source], self.stock[:, lane.source]) if lane.is_transfer else None
        )
        env, days, receive = self.env, self.days, self._receive
        name = self.model.nodes[n].name
        count = np.count_nonzero

        def review(t: int) -> None:
            if every and t % every:
                return
            if policy == "order_up_to":
                q = level - pos
            elif policy == "s_S":
                q = np.where(pos <= reorder, level - pos, 0)
            else:
                gap = reorder - pos
                q = np.where(gap >= 0, (gap // quantity + 1) * quantity, 0)
            np.maximum(q, 0, out=q)
            if not every:
                q *= t % lane.review_days == 0
            if source is not None:
                np.minimum(q, source[0], out=q)
                np.subtract(source[1], q, out=source[1])  # on-hand and position both fall
            if not count(q):
                return
            if self.log is not None:
                self.log.append((f"order {name}", t))
            np.add(pos, q, out=pos)
            orders[t] = q
            if t + lead[t] < days:
                Arrival(env, lead[t], n, q, receive)

        return review

    def _receive(self, event: Arrival) -> None:
        n, q = event.value
        if self.log is not None:
            self.log.append((f"receive {self.model.nodes[n].name}", int(self.env.now)))
        self.on_hand[n] += q
        if self.queue and n in self.fulfil_set:
            self._serve_backorders(n, int(self.env.now))

    def _serve_backorders(self, n: int, t: int) -> None:
        available = self.on_hand[n]
        waiting = []
        for entry in self.queue:
            order_day, units = entry
            take = np.minimum(units, available)
            if take.any():
                available -= take
                units = units - take
                self.backorders -= take
                if n != self.model.fulfil[0]:  # the backorders were held against the primary
                    self.position[n] -= take
                    self.position[self.model.fulfil[0]] += take
                self.trace.fills.append(Fill(t, n, order_day, take))
                entry[1] = units
            if units.any():
                waiting.append(entry)
        self.queue = waiting


def simulate(
    model: StrategyModel,
    demand: np.ndarray,
    lead_days: dict[tuple[str, ...], np.ndarray],
    warmup: int = 0,
    log_events: bool = False,
) -> Trace:
    """Run one replication of one strategy: ``demand`` is (days, skus) units per day."""
    return Replication(model, demand, lead_days, warmup, log_events).run()
