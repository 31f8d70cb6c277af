"""Compile a validated scenario into the numpy arrays the engine runs on.

Nothing here is random: the model is the static description of every strategy (nodes, delivery
tables, policy numbers per SKU, lead-time distributions); the engine adds per-replication state.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from sim import scenario as sc
from sim.distributions import DemandSampler, WholeDays, daily_multipliers, whole_days, z_value


@dataclass(frozen=True)
class Calendar:
    """Day ``t`` of the run as a weekday (0 = Monday) and calendar month (0 = January)."""

    start: dt.date
    days: int
    warmup: int

    @property
    def start_weekday(self) -> int:
        return self.start.weekday()

    @functools.cached_property
    def weekdays(self) -> np.ndarray:
        """(days,) weekday of each day, 0 = Monday."""
        return (self.start_weekday + np.arange(self.days)) % 7

    def months(self) -> np.ndarray:
        days = np.datetime64(self.start, "D") + np.arange(self.days)
        return days.astype("datetime64[M]").astype(np.int64) % 12


@dataclass(frozen=True)
class DeliveryRule:
    """Days from order day to delivery day, by order weekday and transit value (SPEC §3)."""

    transit: WholeDays
    promise_days: int
    offset: np.ndarray  # (7, K): days from order day to delivery day

    @property
    def on_time(self) -> np.ndarray:
        """(7, K) booleans: delivered by order day + promise."""
        return self.offset <= self.promise_days


def delivery_rule(node: sc.Node) -> DeliveryRule:
    """Tabulate a node's ship-day and delivery-day rule for every order weekday."""
    ship = {sc.WEEKDAYS.index(d) for d in node.ship_weekdays}
    deliver = {sc.WEEKDAYS.index(d) for d in node.delivery_weekdays}
    transit = whole_days(node.transit_days, minimum=0)
    offset = np.zeros((7, len(transit.values)), dtype=np.int64)
    for w in range(7):
        s = nth_day(w, ship, node.handling_days, strictly_after=node.handling_days >= 1)
        for k, T in enumerate(transit.values):
            e = nth_day((w + s) % 7, deliver, int(T), strictly_after=True) if T > 0 else 0
            offset[w, k] = s + e
    return DeliveryRule(transit, node.promise_days, offset)


def nth_day(weekday: int, allowed: set[int], n: int, strictly_after: bool) -> int:
    """Days from a day of ``weekday`` to the n-th allowed weekday (n = 0: first on or after)."""
    if not strictly_after:
        d = 0
        while (weekday + d) % 7 not in allowed:
            d += 1
        return d
    d, seen = 0, 0
    while seen < n:
        d += 1
        if (weekday + d) % 7 in allowed:
            seen += 1
    return d


@dataclass(frozen=True)
class NodeModel:
    """One stock-holding node as used by a strategy."""

    name: str
    type: str
    delivery: DeliveryRule
    holding_cost_per_unit_day: float
    order_cost: float
    fixed_cost_per_month: float


@dataclass(frozen=True)
class Lane:
    """The replenishment of one node: source, lead time, policy numbers per SKU, costs."""

    node: int  # index into StrategyModel.nodes
    source: int  # -1 for the supplier, else a node index
    stream: tuple[str, ...]  # names the lead-time random stream (shared by strategies: CRN)
    lead: WholeDays
    policy: str  # order_up_to | s_S | s_Q
    review_days: np.ndarray  # (skus,) int
    reorder_point: np.ndarray  # (skus,) int  (s_S, s_Q)
    level: np.ndarray  # (skus,) int  (order-up-to level S; s_S's order_up_to)
    quantity: np.ndarray  # (skus,) int  (s_Q)
    cost_per_unit: float
    cost_per_shipment: float

    @property
    def is_transfer(self) -> bool:
        return self.source >= 0

    @property
    def initial_level(self) -> np.ndarray:
        """Default on-hand at day 0: the policy's order-up-to (or reorder + quantity) level."""
        return self.reorder_point + self.quantity if self.policy == "s_Q" else self.level


@dataclass(frozen=True)
class StrategyModel:
    """Everything the engine needs to run one strategy."""

    name: str
    nodes: tuple[NodeModel, ...]
    fulfil: tuple[int, ...]  # node indices, in fallback order
    backorder: bool
    lanes: tuple[Lane, ...]  # in review order: downstream nodes first
    initial_on_hand: np.ndarray  # (nodes, skus) int


@dataclass(frozen=True)
class CatalogModel:
    """The SKUs: ids, prices and costs, and each SKU's demand sampler."""

    ids: tuple[str, ...]
    price: np.ndarray  # (skus,) 0 where not given
    unit_cost: np.ndarray
    demand: tuple[DemandSampler, ...]


@dataclass(frozen=True)
class Model:
    """A compiled scenario."""

    name: str
    seed: int
    replications: int
    confidence: float
    calendar: Calendar
    catalog: CatalogModel
    strategies: tuple[StrategyModel, ...]
    baseline: str
    lead_streams: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def strategy_names(self) -> list[str]:
        return [s.name for s in self.strategies]


def compile_scenario(scenario: sc.Scenario) -> Model:
    """Build the engine's model of every strategy in a validated scenario."""
    cal = Calendar(scenario.start_date, scenario.horizon_days, scenario.warmup_days)
    months = cal.months()
    samplers = tuple(
        DemandSampler(s.demand, daily_multipliers(s.demand, cal.start_weekday, months))
        for s in scenario.skus
    )
    catalog = CatalogModel(
        ids=tuple(scenario.sku_ids),
        price=np.array([s.price or 0.0 for s in scenario.skus]),
        unit_cost=np.array([s.unit_cost for s in scenario.skus]),
        demand=samplers,
    )
    strategies = tuple(_strategy(scenario, st, samplers) for st in scenario.strategies)
    streams = sorted({lane.stream for m in strategies for lane in m.lanes})
    return Model(
        name=scenario.name,
        seed=scenario.seed,
        replications=scenario.replications,
        confidence=scenario.confidence,
        calendar=cal,
        catalog=catalog,
        strategies=strategies,
        baseline=scenario.baseline_name,
        lead_streams=tuple(streams),
    )


def _strategy(scenario: sc.Scenario, st: sc.Strategy, samplers) -> StrategyModel:
    used: list[str] = list(st.fulfil_from)
    for node, rep in st.replenish.items():
        for name in (node, rep.source):
            if name != sc.SUPPLIER and name not in used:
                used.append(name)
    index = {name: i for i, name in enumerate(used)}
    nodes = tuple(
        NodeModel(
            name=name,
            type=scenario.nodes[name].type,
            delivery=delivery_rule(scenario.nodes[name]),
            holding_cost_per_unit_day=scenario.nodes[name].holding_cost_per_unit_day,
            order_cost=scenario.nodes[name].order_cost,
            fixed_cost_per_month=scenario.nodes[name].fixed_cost_per_month,
        )
        for name in used
    )
    ids = scenario.sku_ids
    depth = {n: _depth(st, n) for n in st.replenish}
    lanes = tuple(
        _lane(index, node, st.replenish[node], ids, samplers)
        for node in sorted(st.replenish, key=lambda n: -depth[n])
    )
    initial = np.zeros((len(nodes), len(ids)), dtype=np.int64)
    for lane in lanes:
        initial[lane.node] = lane.initial_level
    for node, value in st.initial_on_hand.items():
        initial[index[node]] = _per_sku(value, ids, round_to=np.rint)
    return StrategyModel(
        name=st.name,
        nodes=nodes,
        fulfil=tuple(index[n] for n in st.fulfil_from),
        backorder=st.unmet_demand == "backorder",
        lanes=lanes,
        initial_on_hand=initial,
    )


def _depth(st: sc.Strategy, node: str) -> int:
    d = 0
    while st.replenish[node].source != sc.SUPPLIER:
        node = st.replenish[node].source
        d += 1
    return d


def _per_sku(value, ids, round_to=None, fallback=0.0) -> np.ndarray:
    arr = np.array([float(sc.value_for(value, i, fallback)) for i in ids])
    return round_to(arr).astype(np.int64) if round_to else arr


def _lane(index, node: str, rep: sc.Replenishment, ids, samplers) -> Lane:
    lead = whole_days(rep.lead_time_days, minimum=1)
    pol = rep.policy
    review = _per_sku(pol.review_days, ids, round_to=np.rint)
    zeros = np.zeros(len(ids), dtype=np.int64)
    reorder, level, quantity = zeros, zeros, zeros
    if isinstance(pol, sc.OrderUpTo):
        level = _order_up_to_level(pol, lead, review, ids, samplers)
    elif isinstance(pol, sc.SS):
        reorder = _per_sku(pol.reorder_point, ids, round_to=np.rint)
        level = _per_sku(pol.order_up_to, ids, round_to=np.rint)
    else:
        reorder = _per_sku(pol.reorder_point, ids, round_to=np.rint)
        quantity = np.maximum(1, _per_sku(pol.quantity, ids, round_to=np.rint))
    source = -1 if rep.source == sc.SUPPLIER else index[rep.source]
    return Lane(
        node=index[node],
        source=source,
        stream=("lead", node, rep.source),
        lead=lead,
        policy=pol.type,
        review_days=review,
        reorder_point=reorder,
        level=np.maximum(level, reorder) if pol.type == "s_S" else level,
        quantity=quantity,
        cost_per_unit=rep.freight_cost_per_unit,
        cost_per_shipment=rep.cost_per_shipment,
    )


def _order_up_to_level(pol: sc.OrderUpTo, lead: WholeDays, review, ids, samplers) -> np.ndarray:
    if pol.level is not None:
        return _per_sku(pol.level, ids, round_to=np.rint)
    levels = []
    for i, sku in enumerate(ids):
        mean, sd = protection_demand(samplers[i], lead, int(review[i]))
        if pol.service_level is not None:
            z = z_value(float(sc.value_for(pol.service_level, sku)))
            levels.append(math.ceil(mean + z * sd - 1e-9))
            continue
        m = samplers[i].expected_mean()
        s = m * float(sc.value_for(pol.cover_days, sku))
        safety = pol.safety
        if safety is not None and safety.units is not None:
            s += float(sc.value_for(safety.units, sku))
        elif safety is not None and safety.days is not None:
            s += m * float(sc.value_for(safety.days, sku))
        elif safety is not None:
            s += z_value(float(sc.value_for(safety.service_level, sku))) * sd
        levels.append(math.ceil(s - 1e-9))
    return np.array(levels, dtype=np.int64)


def protection_demand(
    sampler: DemandSampler, lead: WholeDays, review_days: int
) -> tuple[float, float]:
    """Mean and sd of demand over the protection period (lead time + review_days − 1 days).

    With a random lead time L (whole days) and i.i.d. daily demand of mean m and variance v:
    E = m·(E[L] + R − 1) and Var = v·(E[L] + R − 1) + m²·Var[L].
    """
    m = sampler.expected_mean()
    base = sampler.spec.mean_per_day
    v = sampler.spec.variance_per_day() * (m / base if base > 0 else 0.0)
    period = lead.mean() + review_days - 1
    return m * period, math.sqrt(max(0.0, v * period + m * m * lead.variance()))
