"""Compile a validated scenario into the numpy arrays the engine runs on.

Nothing here is random: the model is the static description of every strategy (nodes, delivery
tables, policy numbers per SKU, lead-time distributions); the engine adds per-replication state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim import labels
from sim import scenario as sc
from sim.distributions import (
    DemandSampler,
    WholeDays,
    daily_multipliers,
    total_days,
    whole_days,
    z_value,
)
from sim.errors import UserError
from sim.forecast import Forecast, build, protection_leads
from sim.seasonal import durations_by_month, for_month, has_months, mixture, sample_by_month

if TYPE_CHECKING:  # the fee tables are imported only by scenarios that use them
    from sim.awd import AwdFees
    from sim.charges import FbaFees
    from sim.fees import FeeTables


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
    """A node's ship-day and delivery-day rule (SPEC §3), tabulated by weekday.

    ``ship_offset[w]``: days from an order counted on a day of weekday w to its ship day;
    ``deliver_after[w, k]``: days from a ship day of weekday w to delivery for transit value k.
    """

    transit: WholeDays
    deadline: np.ndarray  # (7,) days from an order day of weekday w to its promised day
    ship_offset: np.ndarray  # (7,)
    deliver_after: np.ndarray  # (7, K)
    ship_days: np.ndarray  # (7,) bool: the node ships on this weekday
    after_cutoff: float  # share of a day's orders that arrive after the cut-off
    capacity: float  # orders shipped per ship day at most (inf: no limit)


def delivery_rule(node: sc.NodeBase) -> DeliveryRule:
    """Tabulate a node's ship-day and delivery-day rule for every weekday."""
    ship = {sc.WEEKDAYS.index(d) for d in node.ship_weekdays}
    deliver = {sc.WEEKDAYS.index(d) for d in node.delivery_weekdays}
    transit = whole_days(node.transit_days, minimum=0)
    ship_offset = np.array(
        [
            nth_day(w, ship, node.handling_days, strictly_after=node.handling_days >= 1)
            for w in range(7)
        ]
    )
    deliver_after = np.array(
        [
            [
                nth_day(w, deliver, int(T), strictly_after=True) if T > 0 else 0
                for T in transit.values
            ]
            for w in range(7)
        ],
        dtype=np.int64,
    )
    if node.promise_basis == "delivery_days":
        # Amazon dates a seller's promise from the first day it can ship (its operating days)
        first = [nth_day(w, ship, 0, strictly_after=False) for w in range(7)]
        deadline = [
            s0 + nth_day((w + s0) % 7, deliver, node.promise_days, strictly_after=True)
            for w, s0 in zip(range(7), first, strict=True)
        ]
    else:
        deadline = [node.promise_days] * 7
    return DeliveryRule(
        transit=transit,
        deadline=np.array(deadline, dtype=np.int64),
        ship_offset=ship_offset.astype(np.int64),
        deliver_after=deliver_after,
        ship_days=np.array([w in ship for w in range(7)]),
        after_cutoff=(24.0 - node.cutoff_hour) / 24.0,
        capacity=node.daily_order_capacity or math.inf,
    )


def nth_day(weekday: int, allowed: set[int], n: int, strictly_after: bool) -> int:
    """Days from a day of ``weekday`` to the n-th allowed weekday (n = 0: first on or after)."""
    if not strictly_after:
        return next(d for d in range(7) if (weekday + d) % 7 in allowed)
    if n <= 0:
        return 0
    ahead = [d for d in range(1, 8) if (weekday + d) % 7 in allowed]  # the next week's days
    weeks, k = divmod(n - 1, len(ahead))
    return 7 * weeks + ahead[k]


DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class SfpRules:
    """Seller Fulfilled Prime checks of one node over a rolling window of ship days (US help
    page 202072550): on-time shipment (an order shipped late but delivered on time counts as on
    time), on-time delivery of the orders shipped outside Buy Shipping, cancellations, and the
    share of orders on Buy Shipping labels."""

    on_time_shipment_min: float
    on_time_delivery_min: float
    window_days: int
    loss_days: int
    buy_shipping_share: float = 1.0
    buy_shipping_min: float = 0.99
    cancel_rate_max: float = 0.005

    @property
    def eligible(self) -> bool:
        """The node buys enough of its labels through Buy Shipping to carry the badge at all."""
        return self.buy_shipping_share >= self.buy_shipping_min - 1e-12


@dataclass(frozen=True)
class NodeModel:
    """One stock-holding node as used by a strategy: delivery rule, badge, costs and fees."""

    name: str
    type: str
    delivery: DeliveryRule
    prime: bool
    cost_per_order: np.ndarray  # (skus,) USD per customer order shipped (pick, pack, label)
    storage_per_unit_day: np.ndarray  # (skus,) USD per unit-day on hand (seller's own rates)
    receiving_per_unit: float
    receiving_per_carton: float
    return_handling_per_unit: float
    fixed_cost_per_month: float
    fba: FbaFees | None = None  # Amazon's fees (FBA nodes that charge them)
    check_in: WholeDays | None = None  # FBA: days from delivery at Amazon to sellable
    capacity_cubic_feet: float = math.inf
    sfp: SfpRules | None = None
    dated_cost_per_order: np.ndarray | None = None  # (days,) added by order day (peak labels)
    whole_pallets: labels.WholePallets | None = None  # 3PL storage billed per whole pallet
    check_in_months: tuple[WholeDays, ...] | None = None  # by month (Jan first) when given so
    capacity_days: np.ndarray | None = None  # (days,) capacity by the day's month when given so
    cancel_rate: float = 0.0  # share of orders taken from the shelf cancelled before shipping
    valid_tracking_rate: float = 1.0  # share of shipped orders with valid tracking
    defect_rate: float = 0.0  # order defects per order shipped
    awd: AwdFees | None = None  # AWD's fees (awd nodes; ``sim.awd``)

    @property
    def seller_fulfilled(self) -> bool:
        """Orders shipped from here count toward the seller's account health."""
        return self.type in sc.SELLER_TYPES


@dataclass(frozen=True)
class Lane:
    """The replenishment of one node: source, lead time, policy numbers per SKU, costs."""

    node: int  # index into StrategyModel.nodes
    source: int  # -1 for the supplier, else a node index
    stream: tuple[str, ...]  # names the lead-time random stream (shared by strategies: CRN)
    lead: WholeDays
    check_in: WholeDays | None  # added to the lead time at an FBA node (its own stream)
    policy: str  # order_up_to | s_S | s_Q
    review_days: np.ndarray  # (skus,) int
    reorder_point: np.ndarray  # (skus,) int  (s_S, s_Q)
    level: np.ndarray  # (skus,) int  (order-up-to level S; s_S's order_up_to)
    quantity: np.ndarray  # (skus,) int  (s_Q)
    cost_per_unit: np.ndarray  # (skus,) USD per unit moved on this lane
    cost_per_shipment: float
    capacity_cubic_feet: float = math.inf  # of the destination node (FBA capacity limit)
    check_in_stream: tuple[str, ...] = ()
    # policy numbers by day, when they change with the month (month mappings, forecast_up_to)
    levels: np.ndarray | None = None  # (days, skus) order-up-to level
    reorder_days: np.ndarray | None = None  # (days, skus)
    quantity_days: np.ndarray | None = None  # (days, skus)
    forecast: Forecast | None = None  # forecast_up_to with a forecast error: levels per replication
    forecast_model: Forecast | None = None  # forecast_up_to: what its levels are computed from
    capacity_days: np.ndarray | None = None  # (days,) destination capacity by month
    lead_months: tuple[WholeDays, ...] | None = None  # lead time by month of the order day
    check_in_months: tuple[WholeDays, ...] | None = None  # check-in by month of arrival
    day_months: np.ndarray | None = None  # (days,) calendar month of each day (0 = January)
    # (skus,) False for a SKU this node must not stock (per-SKU routes that do not use the node)
    active: np.ndarray | None = None

    @property
    def is_transfer(self) -> bool:
        return self.source >= 0

    @property
    def initial_level(self) -> np.ndarray:
        """Default on-hand at day 0: the policy's order-up-to (or reorder + quantity) level."""
        if self.policy == "s_Q":
            if self.reorder_days is not None:
                return self.reorder_days[0] + self.quantity_days[0]
            return self.reorder_point + self.quantity
        return self.level if self.levels is None else self.levels[0]

    def sample_lead(self, u: np.ndarray) -> np.ndarray:
        """(days,) lead time of an order placed on each day, from the stream's uniforms."""
        if self.lead_months is None:
            return self.lead.sample(u)
        return sample_by_month(self.lead_months, self.day_months, u)

    def sample_check_in(self, u: np.ndarray, lead: np.ndarray) -> np.ndarray:
        """(days,) check-in of an order placed on each day (by month of its arrival at Amazon,
        the last day's month past the horizon), from the check-in stream's uniforms."""
        if self.check_in_months is None:
            return self.check_in.sample(u)
        arrival = np.minimum(np.arange(len(u)) + lead, len(u) - 1)
        return sample_by_month(self.check_in_months, self.day_months[arrival], u)


@dataclass(frozen=True)
class StrategyModel:
    """Everything the engine needs to run one strategy."""

    name: str
    nodes: tuple[NodeModel, ...]
    fulfil: tuple[int, ...]  # nodes that ship to customers (every SKU's route, merged)
    backorder: bool
    lanes: tuple[Lane, ...]  # in review order: downstream nodes first
    initial_on_hand: np.ndarray  # (nodes, skus) int
    demand_feedback: bool = False  # demand depends on the state (Prime badge, rank loss)
    # serving order: (node, SKU mask or None for all SKUs); per-SKU routes give masked steps
    steps: tuple[tuple[int, np.ndarray | None], ...] = ()
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (skus,)
    min_orders: int = 1  # account-health windows with fewer orders are not judged
    channel_routes: tuple[ChannelRoute, ...] = ()  # one per catalog channel, in its order

    @property
    def routed(self) -> bool:
        """SKUs follow different routes (``fulfil_from`` given per SKU)."""
        return any(mask is not None for _, mask in self.steps)


@dataclass(frozen=True)
class ChannelModel:
    """A sales channel besides Amazon (``channels``): its fees, promise and each SKU's demand
    sampler on it (None where the SKU has no ``channel_demand`` there)."""

    name: str
    fee_rate: float
    fee_per_order: float
    promise_days: int
    speed: str
    demand: tuple[DemandSampler | None, ...]


@dataclass(frozen=True)
class ChannelRoute:
    """How one strategy ships one channel's orders: the nodes in fallback order, each node's
    delivery rule with the channel's promise, and at an FBA node that charges Amazon's fees the
    (days, skus) MCF fee per unit shipped (None elsewhere)."""

    nodes: tuple[int, ...]
    rules: tuple[DeliveryRule, ...]
    mcf: tuple[np.ndarray | None, ...]


@dataclass(frozen=True)
class CatalogModel:
    """The SKUs: ids, sizes, prices and costs, and each SKU's demand samplers."""

    ids: tuple[str, ...]
    price: np.ndarray  # (skus,) 0 where not given
    unit_cost: np.ndarray
    demand: tuple[DemandSampler, ...]
    prime_extra: tuple[DemandSampler | None, ...] = ()  # extra demand under the Prime badge
    weight_lb: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cubic_feet: np.ndarray = field(default_factory=lambda: np.zeros(0))
    units_per_order: np.ndarray = field(default_factory=lambda: np.zeros(0))
    units_per_carton: np.ndarray = field(default_factory=lambda: np.zeros(0))  # 1 where unset
    referral_per_unit: np.ndarray = field(default_factory=lambda: np.zeros(0))  # run average
    # (days, skus) referral fee per unit sold on each day, only when it changes within the run
    referral_per_unit_day: np.ndarray | None = None
    return_rate: np.ndarray = field(default_factory=lambda: np.zeros(0))
    resellable: np.ndarray = field(default_factory=lambda: np.zeros(0))
    penalty_depth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    penalty_recovery: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per day
    channels: tuple[ChannelModel, ...] = ()  # in the order listed under ``channels``

    @property
    def has_penalty(self) -> bool:
        return bool(self.penalty_depth.any())

    @property
    def has_uplift(self) -> bool:
        return any(s is not None for s in self.prime_extra)


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
    path_skus: tuple[int, ...] = ()  # SKUs whose inventory paths the report charts
    check: bool = False  # check stock conservation every day (``run --check``; tests)
    uncertain: Any = None  # sim.uncertain.Uncertainty: each replication compiles its own draws

    @property
    def strategy_names(self) -> list[str]:
        return [s.name for s in self.strategies]


@dataclass
class BuiltFees:
    """Fee tables that depend on the node or channel only, built once per compile and shared by
    every strategy: Amazon's FBA fees by node name, MCF fees by channel name ((days, skus))."""

    fba: dict[str, FbaFees] = field(default_factory=dict)
    mcf: dict[str, np.ndarray] = field(default_factory=dict)


def compile_scenario(scenario: sc.Scenario) -> Model:
    """Build the engine's model of every strategy in a validated scenario.

    Raises UserError (located at scenario keys) where Amazon's fee tables cannot price a SKU on
    a day of the run.
    """
    cal = Calendar(scenario.start_date, scenario.horizon_days, scenario.warmup_days)
    months = cal.months()
    tables = _fee_tables(scenario)
    built = BuiltFees()
    try:
        catalog = _catalog(scenario, cal, months, tables)
        strategies = tuple(
            _strategy(scenario, st, catalog, cal, tables, built) for st in scenario.strategies
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        if tables is None:
            raise  # the bundled tables are tested: this is a bug, not a user's mistake
        raise UserError(
            ("fee_overrides", f"the fee tables with these overrides cannot be read ({e!r})")
        ) from None
    streams = {lane.stream for m in strategies for lane in m.lanes}
    streams |= {lane.check_in_stream for m in strategies for lane in m.lanes if lane.check_in}
    return Model(
        name=scenario.name,
        seed=scenario.seed,
        replications=scenario.replications,
        confidence=scenario.confidence,
        calendar=cal,
        catalog=catalog,
        strategies=strategies,
        baseline=scenario.baseline_name,
        lead_streams=tuple(sorted(streams)),
        path_skus=_top_skus(catalog, PATH_SKUS),
        check=os.environ.get("FULFILSIM_CHECK") == "1",
        uncertain=scenario.uncertainty,
    )


PATH_SKUS = 5


def compile_strategy(scenario: sc.Scenario, model: Model):
    """A function compiling further strategies of ``scenario`` (already compiled as ``model``)
    as ``compile_scenario`` would, Amazon's fee tables read once (``assign`` builds one strategy
    per candidate assignment)."""
    tables = _fee_tables(scenario)
    built = BuiltFees()

    def compile_one(st: sc.Strategy) -> StrategyModel:
        return _strategy(scenario, st, model.catalog, model.calendar, tables, built)

    return compile_one


def _top_skus(catalog: CatalogModel, k: int) -> tuple[int, ...]:
    """The ``k`` SKUs with the highest mean demand (ties by catalog order)."""
    means = np.array([s.expected_mean() for s in catalog.demand])
    return tuple(int(j) for j in np.argsort(-means, kind="stable")[:k])


def _fee_tables(scenario: sc.Scenario) -> FeeTables | None:
    if not scenario.fee_overrides:
        return None
    from sim.fees import load_tables

    try:
        return load_tables(scenario.fee_overrides)
    except Exception as e:  # a malformed override: say where
        raise UserError(("fee_overrides", f"cannot merge into the fee tables: {e}")) from None


def _catalog(scenario: sc.Scenario, cal: Calendar, months, tables) -> CatalogModel:
    skus = scenario.skus
    samplers, extras = [], []
    for s in skus:
        factors = daily_multipliers(s.demand, cal.start_weekday, months)
        samplers.append(DemandSampler(s.demand, factors))
        up = s.demand.prime_uplift
        extra = None
        if up > 0 and samplers[-1].expected_mean() > 0:
            extra = DemandSampler(s.demand, factors * up)
        extras.append(extra)
    referral, referral_day = _referral_fees(skus, cal, tables)
    penalty = [s.demand.stockout_penalty for s in skus]
    return CatalogModel(
        ids=tuple(scenario.sku_ids),
        price=np.array([s.price or 0.0 for s in skus]),
        unit_cost=np.array([s.unit_cost for s in skus]),
        demand=tuple(samplers),
        prime_extra=tuple(extras),
        weight_lb=np.array([s.weight_lb or 0.0 for s in skus]),
        cubic_feet=np.array(
            [
                (s.length_in * s.width_in * s.height_in) / 1728.0
                if None not in (s.length_in, s.width_in, s.height_in)
                else 0.0
                for s in skus
            ]
        ),
        units_per_order=np.array([s.units_per_order for s in skus]),
        units_per_carton=np.array([s.units_per_carton or 1 for s in skus]),
        referral_per_unit=referral,
        referral_per_unit_day=referral_day,
        return_rate=np.array([s.returns.rate if s.returns else 0.0 for s in skus]),
        resellable=np.array([s.returns.resellable if s.returns else 0.0 for s in skus]),
        penalty_depth=np.array([p.depth if p else 0.0 for p in penalty]),
        penalty_recovery=np.array([p.depth / p.recovery_days if p else 0.0 for p in penalty]),
        channels=_channels(scenario, cal, months),
    )


def _channels(scenario: sc.Scenario, cal: Calendar, months) -> tuple[ChannelModel, ...]:
    """The channels besides Amazon, each SKU's demand sampler on it (its own seasonality)."""
    out = []
    for name, ch in scenario.channels.items():
        samplers = []
        for s in scenario.skus:
            spec = s.channel_demand.get(name)
            factors = None if spec is None else daily_multipliers(spec, cal.start_weekday, months)
            samplers.append(None if spec is None else DemandSampler(spec, factors))
        out.append(
            ChannelModel(
                name, ch.fee_rate, ch.fee_per_order, ch.promise_days, ch.speed, tuple(samplers)
            )
        )
    return tuple(out)


def _referral_fees(
    skus: list[sc.Sku], cal: Calendar, tables
) -> tuple[np.ndarray, np.ndarray | None]:
    """Referral fee per unit sold (0 without a price): the (skus,) average over the run's days,
    and the (days, skus) fee per day when a category's schedule changes within the run (else
    None). Unknown categories are located user errors."""
    n = len(skus)
    if not any(s.category or s.price for s in skus):
        return np.zeros(n), None
    from sim.fees import FeeError, referral_fee
    from sim.fees.referral import referral_categories, referral_rows, unknown_category

    known = set(referral_categories(tables))
    problems, rows = [], []
    for i, s in enumerate(skus):
        if s.category is not None and s.category not in known:
            problems.append((f"skus[{i}].category", unknown_category(s.category, tables)))
            continue
        try:
            rows.append(referral_rows(s.category, tables))
        except FeeError as e:  # an override that leaves a category ambiguous
            problems += [("fee_overrides", msg) for _, msg in e.problems]
    if problems:
        raise UserError(list(dict.fromkeys(problems)))
    # The fee of a SKU changes only where a row of its category starts or ends.
    cuts = {0}
    for row in (r for category_rows in rows for r in category_rows):
        for key, shift in (("effective_from", 0), ("effective_to", 1)):
            if isinstance(row.get(key), dt.date):
                day = (row[key] - cal.start).days + shift
                if 0 < day < cal.days:
                    cuts.add(day)
    starts = sorted(cuts)
    fees = np.zeros((len(starts), n))
    for p, first in enumerate(starts):
        on = cal.start + dt.timedelta(days=first)
        priced: dict[tuple[float, str | None], float] = {}
        for j, s in enumerate(skus):
            if not s.price:
                continue
            key = (s.price, s.category)
            try:
                if key not in priced:
                    priced[key] = referral_fee(s.price, s.category, on, tables=tables)
                fees[p, j] = priced[key]
            except FeeError as e:  # a malformed fee_overrides referral table, or a date gap
                problems += [(f"skus[{j}].category", msg) for _, msg in e.problems]
    if problems:
        raise UserError(list(dict.fromkeys(problems)))
    if len(starts) == 1:
        return fees[0], None
    per_day = fees[np.searchsorted(starts, np.arange(cal.days), side="right") - 1]
    return per_day.mean(axis=0), per_day


def _node(scenario: sc.Scenario, name: str, catalog: CatalogModel, cal, tables, built, ships=None):
    node = scenario.nodes[name]
    zeros = np.zeros(len(catalog.ids))
    if node.type == "awd":
        return _awd_node(scenario, name, node, catalog, cal, tables)
    per_order = np.full(len(catalog.ids), node.order_cost)
    storage = np.full(len(catalog.ids), node.holding_cost_per_unit_day)
    extra: dict = {}
    if node.type in sc.SELLER_TYPES:
        try:
            label = labels.label_cost(node, catalog, cal, ships)
        except ValueError as e:
            raise UserError((f"nodes.{name}.label_rates", str(e))) from None
        per_order = per_order + node.pick_pack_per_order + label.per_order
        if label.by_day is not None:
            extra["dated_cost_per_order"] = label.by_day
        storage = storage + node.storage_per_cubic_foot_month * catalog.cubic_feet / DAYS_PER_MONTH
        if node.type == "3pl":
            pallets = catalog.cubic_feet / node.cubic_feet_per_pallet
            if node.pallet_billing == "whole":
                extra["whole_pallets"] = labels.whole_pallets(
                    pallets, node.storage_per_pallet_month, cal
                )
            else:
                storage = storage + node.storage_per_pallet_month * pallets / DAYS_PER_MONTH
        extra.update(
            receiving_per_unit=node.receiving_per_unit,
            receiving_per_carton=node.receiving_per_carton,
            return_handling_per_unit=node.return_handling_per_unit,
            cancel_rate=node.cancel_rate,
            valid_tracking_rate=node.valid_tracking_rate,
            defect_rate=node.defect_rate,
        )
    if node.type == "sfp":
        extra["sfp"] = SfpRules(
            node.on_time_shipment_min,
            node.on_time_delivery_min,
            node.badge_window_days,
            node.badge_loss_days,
            node.buy_shipping_share,
            node.buy_shipping_min,
            node.cancel_rate_max,
        )
    if node.type == "fba":
        by_month = durations_by_month(node.check_in_days, minimum=0)
        if by_month is None:
            extra["check_in"] = whole_days(node.check_in_days, minimum=0)
        else:  # the run-average for formulas; the months for draws and forecasts
            extra["check_in"] = mixture(by_month, cal.months())
            extra["check_in_months"] = by_month
        cap = node.capacity_cubic_feet
        if isinstance(cap, dict):
            table = [float(cap.get(m, cap.get("default"))) for m in sc.MONTHS]
            extra["capacity_days"] = np.array(table)[cal.months()]
            extra["capacity_cubic_feet"] = max(table)
        else:
            extra["capacity_cubic_feet"] = cap or math.inf
        if node.amazon_fees:
            if name not in built.fba:
                built.fba[name] = _fba_fees(scenario, name, node, cal, tables)
            extra["fba"] = built.fba[name]
    return NodeModel(
        name=name,
        type=node.type,
        delivery=delivery_rule(node),
        prime=node.prime,
        cost_per_order=per_order,
        storage_per_unit_day=storage if storage.any() else zeros,
        receiving_per_unit=extra.pop("receiving_per_unit", 0.0),
        receiving_per_carton=extra.pop("receiving_per_carton", 0.0),
        return_handling_per_unit=extra.pop("return_handling_per_unit", 0.0),
        fixed_cost_per_month=node.fixed_cost_per_month,
        **extra,
    )


def _awd_node(scenario, name: str, node: sc.AwdNode, catalog: CatalogModel, cal, tables):
    """An AWD node: stock and AWD's dated fees; it ships no customer orders (its delivery rule
    is never used)."""
    from sim.awd import build_awd_fees
    from sim.fees import FeeError

    try:
        fees = build_awd_fees(
            node.rate, cal.start, cal.days, catalog.cubic_feet, catalog.units_per_carton, tables
        )
    except FeeError as e:
        raise UserError([(f"nodes.{name}", f"AWD fees: {msg}") for _, msg in e.problems]) from None
    n = len(catalog.ids)
    return NodeModel(
        name=name,
        type=node.type,
        delivery=delivery_rule(sc.NodeBase()),
        prime=False,
        cost_per_order=np.zeros(n),
        storage_per_unit_day=np.full(n, node.holding_cost_per_unit_day),
        receiving_per_unit=0.0,
        receiving_per_carton=0.0,
        return_handling_per_unit=0.0,
        fixed_cost_per_month=0.0,
        awd=fees,
    )


def _fba_fees(scenario: sc.Scenario, name: str, node: sc.FbaNode, cal: Calendar, tables) -> FbaFees:
    """Amazon's rates for every day of the run; fee-table problems located at scenario keys."""
    from sim.charges import build_fba_fees
    from sim.fees import FeeError, Product

    products = [
        Product(s.length_in, s.width_in, s.height_in, s.weight_lb, s.price) for s in scenario.skus
    ]
    try:
        return build_fba_fees(
            products,
            [s.category for s in scenario.skus],
            cal.start,
            cal.days,
            placement=node.placement,
            aged_inventory=node.aged_inventory_surcharge,
            low_inventory=node.low_inventory_fee,
            tables=tables,
        )
    except FeeError as e:
        raise UserError(
            [_fee_location(scenario, name, loc, msg) for loc, msg in e.problems]
        ) from None


def _fee_location(scenario: sc.Scenario, node: str, loc: str, msg: str) -> tuple[str, str]:
    """A fee problem's location as a scenario key (the SKU it concerns when named)."""
    if loc == "placement":
        return f"nodes.{node}.placement", msg
    if loc == "date":
        return "start_date", f"Amazon fees: {msg} (shorten horizon_days or move start_date)"
    for i, s in enumerate(scenario.skus):
        if s.id in msg:
            return f"skus[{i}]", msg
    return loc, msg


def _strategy(scenario, st: sc.Strategy, catalog: CatalogModel, cal, tables, built: BuiltFees):
    used: list[str] = st.fulfil_nodes()
    for node, rep in st.replenish.items():
        for name in (node, rep.source):
            if name != sc.SUPPLIER and name not in used:
                used.append(name)
    for route in st.channel_fulfil_from.values():
        used.extend(name for name in route if name not in used)
    index = {name: i for i, name in enumerate(used)}
    ids = scenario.sku_ids
    ships = {n: np.array([n in st.route(sku) for sku in ids]) for n in used}
    nodes = tuple(_node(scenario, n, catalog, cal, tables, built, ships[n]) for n in used)
    nodes = _auto_replenished(scenario, st, nodes, index)
    depth = {n: _depth(st, n) for n in st.replenish}
    lanes = tuple(
        _lane(scenario, index, nodes, node, st.replenish[node], catalog, st.fulfil_nodes(), st, cal)
        for node in sorted(st.replenish, key=lambda n: -depth[n])
    )
    initial = np.zeros((len(nodes), len(ids)), dtype=np.int64)
    for lane in lanes:
        initial[lane.node] = lane.initial_level
    for node, value in st.initial_on_hand.items():
        initial[index[node]] = _per_sku(value, ids, round_to=np.rint)
    fulfil = tuple(index[n] for n in st.fulfil_nodes())
    routes = [[index[n] for n in st.route(sku)] for sku in ids]
    if isinstance(st.fulfil_from, dict):  # per-SKU routes: a node stocks only the SKUs it serves
        stocked = stocked_nodes(st, used, ids, [list(s.channel_demand) for s in scenario.skus])
        initial *= stocked
        lanes = tuple(
            lane
            if stocked[lane.node].all()
            else dataclasses.replace(lane, active=stocked[lane.node])
            for lane in lanes
        )
    if all(r == routes[0] for r in routes):
        steps = tuple((n, None) for n in routes[0])
    else:
        steps = tuple(
            (n, mask)
            for k in range(max(len(r) for r in routes))
            for n in fulfil
            if (mask := np.array([len(r) > k and r[k] == n for r in routes])).any()
        )
    feedback = (
        catalog.has_penalty
        or (catalog.has_uplift and any(nodes[n].prime for n in fulfil))
        or any(nodes[n].sfp is not None for n in fulfil)
    )
    return StrategyModel(
        name=st.name,
        nodes=nodes,
        fulfil=fulfil,
        backorder=st.unmet_demand == "backorder",
        lanes=lanes,
        initial_on_hand=initial,
        demand_feedback=feedback,
        steps=steps,
        first=np.array([r[0] for r in routes], dtype=np.int64),
        min_orders=scenario.account_health.min_orders,
        channel_routes=_channel_routes(scenario, st, catalog, cal, tables, index, nodes, built),
    )


def _channel_routes(scenario, st, catalog: CatalogModel, cal, tables, index, nodes, built):
    """Each catalog channel's route in this strategy (empty when it has none: no demand)."""
    from sim.channels import mcf_fees

    def mcf(ch: ChannelModel) -> np.ndarray:
        if ch.name not in built.mcf:
            built.mcf[ch.name] = mcf_fees(scenario, ch, catalog, cal, tables)
        return built.mcf[ch.name]

    out = []
    for ch in catalog.channels:
        names = st.channel_fulfil_from.get(ch.name, [])
        route = tuple(index[n] for n in names)
        rules = tuple(
            mcf_delivery(ch.speed, ch.promise_days)
            if scenario.nodes[name].type == "fba"
            else dataclasses.replace(
                nodes[n].delivery,
                deadline=np.full(7, ch.promise_days, dtype=np.int64),
                capacity=math.inf,
            )
            for name, n in zip(names, route, strict=True)
        )
        fees = tuple(mcf(ch) if nodes[n].fba is not None else None for n in route)
        out.append(ChannelRoute(route, rules, fees))
    return tuple(out)


# Multi-Channel Fulfillment's click-to-delivery times for standard-size sortable items in the 48
# contiguous states (US help page 200332450): (shipping time, delivery time) in business days
# from the order. Priority is not on that page any more: it is given Expedited's times.
MCF_BUSINESS_DAYS = {"standard": (2, 3), "expedited": (1, 2), "priority": (1, 2)}
BUSINESS_DAYS = {0, 1, 2, 3, 4}  # Monday to Friday


def mcf_delivery(speed: str, promise_days: int) -> DeliveryRule:
    """An FBA node shipping another channel's order: shipped ``S`` business days after the
    order and delivered ``D`` business days after it (``MCF_BUSINESS_DAYS``), whatever the
    node's own transit; the promise is the channel's, in calendar days."""
    ship, deliver = MCF_BUSINESS_DAYS[speed]
    return DeliveryRule(
        transit=WholeDays(values=np.array([deliver - ship]), probs=np.array([1.0])),
        deadline=np.full(7, promise_days, dtype=np.int64),
        ship_offset=np.array([nth_day(w, BUSINESS_DAYS, ship, True) for w in range(7)]),
        deliver_after=np.array(
            [[nth_day(w, BUSINESS_DAYS, deliver - ship, True)] for w in range(7)], dtype=np.int64
        ),
        ship_days=np.array([w in BUSINESS_DAYS for w in range(7)]),
        after_cutoff=0.0,
        capacity=math.inf,
    )


def _auto_replenished(scenario, st: sc.Strategy, nodes: tuple, index) -> tuple:
    """An FBA node refilled by AWD auto-replenishment pays no low-inventory-level fee: Amazon
    exempts an ASIN when ≥ 70 % of the units sent to FBA in the past 90 days came by
    auto-replenishment (help GKH7ASMAL93YECBF); here such a node has no other inbound, so the
    share is 100 %. (Its storage-utilization surcharge exemption is moot: not modelled.)"""
    out = list(nodes)
    for name, rep in st.replenish.items():
        node = out[index[name]]
        if sc.auto_replenisher(scenario, rep) is not None and node.fba is not None:
            fees = dataclasses.replace(node.fba, lil_per_unit=None)
            out[index[name]] = dataclasses.replace(node, fba=fees)
    return tuple(out)


def stocked_nodes(st: sc.Strategy, nodes: list[str], ids, channels=None) -> np.ndarray:
    """(nodes, skus) True where SKU j may hold stock at a node: the node is on the SKU's route,
    or on the route of a channel the SKU sells on (``channels[j]``, channel names), or feeds (by
    transfer, at any depth) a node that is. Per-SKU routes stock nothing elsewhere: a node's
    replenishment orders nothing and starts with nothing for the SKUs it does not serve."""
    index = {name: i for i, name in enumerate(nodes)}
    out = np.zeros((len(nodes), len(ids)), dtype=bool)
    for j, sku in enumerate(ids):
        routes = [st.route(sku)]
        routes += [st.channel_fulfil_from.get(c, []) for c in (channels[j] if channels else ())]
        for name in (n for route in routes for n in route):
            while name != sc.SUPPLIER and not out[index[name], j]:
                out[index[name], j] = True
                rep = st.replenish.get(name)
                name = sc.SUPPLIER if rep is None else rep.source
    return out


def _depth(st: sc.Strategy, node: str) -> int:
    d = 0
    while st.replenish[node].source != sc.SUPPLIER:
        node = st.replenish[node].source
        d += 1
    return d


def _per_sku(value, ids, round_to=None, fallback=0.0) -> np.ndarray:
    arr = np.array([float(sc.value_for(value, i, fallback)) for i in ids])
    return round_to(arr).astype(np.int64) if round_to else arr


def _lane(
    scenario, index, nodes, node: str, rep: sc.Replenishment, catalog, fulfil, st, cal
) -> Lane:
    ids = catalog.ids
    cost = np.full(len(ids), rep.freight_cost_per_unit)
    lead, lead_months = _lead_time(scenario, rep, cal)
    if rep.lane is not None:
        spec = scenario.lanes[rep.lane]
        stream: tuple[str, ...] = ("lane", rep.lane)
        cost = cost + spec.cost_per_unit
        cost = cost + spec.cost_per_kg * catalog.weight_lb * sc.KG_PER_LB
        cost = cost + spec.cost_per_cubic_foot * catalog.cubic_feet
        per_shipment = rep.cost_per_shipment + spec.cost_per_shipment
    else:
        stream = ("lead", node, rep.source)
        per_shipment = rep.cost_per_shipment
    dest = nodes[index[node]]
    check_in, check_in_months = _check_in(dest)
    # the level protects against the whole delay to sellable stock: lead time + check-in
    protection = lead if check_in is None else total_days([lead, check_in], minimum=1)
    pol = rep.policy
    awd = sc.auto_replenisher(scenario, rep)
    if awd is not None:  # AWD's own rule: FBA position up to days_of_supply of expected demand
        pol = sc.ForecastUpTo(type="forecast_up_to", review_days=1, cover_days=awd.days_of_supply)
    review = _per_sku(pol.review_days, ids, round_to=np.rint)
    months = cal.months()
    by_day: dict[str, np.ndarray] = {}
    forecast = model_fc = None
    if isinstance(pol, sc.ForecastUpTo):
        leads, lead_of_day = protection_leads(
            lead, lead_months, check_in, check_in_months, cal.start, cal.days
        )
        parts = _forecast_parts(scenario, st, node, index, nodes, fulfil, cal)
        fc = build(scenario, pol, cal.days, review, leads, lead_of_day, parts)
        by_day["levels"] = fc.levels()
        forecast = fc if pol.forecast_error is not None else None
        model_fc = fc
        zeros = np.zeros(len(ids), dtype=np.int64)
        reorder, level, quantity = zeros, by_day["levels"][0], zeros
    elif has_months(pol):
        used = np.unique(months)
        tables = np.zeros((3, 12, len(ids)), dtype=np.int64)
        for m in used.tolist():
            tables[:, m] = _policy_numbers(
                for_month(pol, m, ids), protection, review, ids, catalog, dest, scenario, fulfil, st
            )
        reorder, level, quantity = (tables[k, months[0]] for k in range(3))
        if pol.type == "s_Q":
            by_day["reorder_days"], by_day["quantity_days"] = tables[0][months], tables[2][months]
        elif pol.type == "s_S":
            by_day["reorder_days"], by_day["levels"] = tables[0][months], tables[1][months]
        else:
            by_day["levels"] = tables[1][months]
    else:
        reorder, level, quantity = _policy_numbers(
            pol, protection, review, ids, catalog, dest, scenario, fulfil, st
        )
    source = -1 if rep.source == sc.SUPPLIER else index[rep.source]
    return Lane(
        node=index[node],
        source=source,
        stream=stream,
        lead=lead,
        check_in=check_in,
        policy=pol.type,
        review_days=review,
        reorder_point=reorder,
        level=level,
        quantity=quantity,
        cost_per_unit=cost,
        cost_per_shipment=per_shipment,
        # auto-replenished units are exempt from FBA capacity limits (help GKH7ASMAL93YECBF)
        capacity_cubic_feet=math.inf if awd is not None else dest.capacity_cubic_feet,
        check_in_stream=("check_in", node),
        forecast=forecast,
        forecast_model=model_fc,
        capacity_days=None if awd is not None else dest.capacity_days,
        lead_months=lead_months,
        check_in_months=check_in_months,
        day_months=months if (lead_months or check_in_months) else None,
        **by_day,
    )


def _policy_numbers(pol, protection, review, ids, catalog, dest, scenario, fulfil, st=None):
    """(reorder point, order-up-to level, quantity) per SKU of a policy without months."""
    zeros = np.zeros(len(ids), dtype=np.int64)
    reorder, level, quantity = zeros, zeros, zeros
    if isinstance(pol, sc.OrderUpTo):
        # a Prime node sells to the badge's extra customers too: size its level for them
        level = _order_up_to_level(
            pol, protection, review, ids, catalog.demand, 1 + _uplift(scenario, dest, fulfil, st)
        )
    elif isinstance(pol, sc.SS):
        reorder = _per_sku(pol.reorder_point, ids, round_to=np.rint)
        level = np.maximum(_per_sku(pol.order_up_to, ids, round_to=np.rint), reorder)
    else:
        reorder = _per_sku(pol.reorder_point, ids, round_to=np.rint)
        quantity = np.maximum(1, _per_sku(pol.quantity, ids, round_to=np.rint))
    return reorder, level, quantity


def _uplift(scenario, dest: NodeModel, fulfil, st=None) -> np.ndarray:
    """(skus,) the Prime uplift of a node's customers (0 where it has no badge or ships no
    customer orders in this strategy), plus, with channels, the demand of each channel whose
    route starts at the node as a share of the SKU's Amazon demand (``sim.channels``)."""
    if dest.prime and dest.name in fulfil:
        out = np.array([s.demand.prime_uplift for s in scenario.skus])
    else:
        out = np.zeros(len(scenario.skus))
    if st is not None and st.channel_fulfil_from:
        from sim.channels import channel_share

        out = out + channel_share(scenario, st, dest.name, fulfil)
    return out


def _lead_time(scenario, rep: sc.Replenishment, cal: Calendar):
    """A lane's lead time: the run-average whole-day distribution, and by month of the order
    day (None when no leg changes with the month)."""
    if rep.lane is None:
        return whole_days(rep.lead_time_days, minimum=1), None
    legs = scenario.lanes[rep.lane].legs
    months = [durations_by_month(leg.days, minimum=0) for leg in legs]
    if all(m is None for m in months):
        return total_days([whole_days(leg.days, minimum=0) for leg in legs], minimum=1), None
    plain = [
        whole_days(leg.days, minimum=0) if m is None else None
        for leg, m in zip(legs, months, strict=True)
    ]
    by_month = tuple(
        total_days(
            [p if m is None else m[k] for p, m in zip(plain, months, strict=True)], minimum=1
        )
        for k in range(12)
    )
    return mixture(by_month, cal.months()), by_month


def _check_in(dest: NodeModel):
    """The check-in added to a lane's lead time (None when there is none), and by month."""
    check_in = dest.check_in
    if dest.check_in_months is not None:
        return check_in, dest.check_in_months
    if check_in is not None and check_in.is_constant and check_in.values[0] == 0:
        return None, None
    return check_in, None


def _forecast_parts(scenario, st, node: str, index, nodes, fulfil, cal):
    """The (shift, scale) terms of the customer demand a node's orders follow: its own
    customers (× the Prime uplift of a fulfilment node with the badge), or, for a node that
    feeds others, their forecasts shifted earlier by their mean lead time plus check-in."""
    children = [n for n, rep in st.replenish.items() if rep.source == node]
    if not children:
        return ((0, 1.0 + _uplift(scenario, nodes[index[node]], fulfil)),)
    parts = []
    for child in children:
        lead, _ = _lead_time(scenario, st.replenish[child], cal)
        check_in, _ = _check_in(nodes[index[child]])
        mean = lead.mean() + (check_in.mean() if check_in is not None else 0.0)
        shift = round(mean)
        for s, scale in _forecast_parts(scenario, st, child, index, nodes, fulfil, cal):
            parts.append((s + shift, scale))
    return tuple(parts)


def _order_up_to_level(
    pol: sc.OrderUpTo, lead: WholeDays, review, ids, samplers, scale
) -> np.ndarray:
    if pol.level is not None:
        return _per_sku(pol.level, ids, round_to=np.rint)
    levels = []
    for i, sku in enumerate(ids):
        mean, sd = protection_demand(samplers[i], lead, int(review[i]), float(scale[i]))
        if pol.service_level is not None:
            z = z_value(float(sc.value_for(pol.service_level, sku)))
            levels.append(max(0, math.ceil(mean + z * sd - 1e-9)))  # p < 0.5 can go below 0
            continue
        m = samplers[i].expected_mean() * float(scale[i])
        s = m * float(sc.value_for(pol.cover_days, sku))
        safety = pol.safety
        if safety is not None and safety.units is not None:
            s += float(sc.value_for(safety.units, sku))
        elif safety is not None and safety.days is not None:
            s += m * float(sc.value_for(safety.days, sku))
        elif safety is not None:
            s += z_value(float(sc.value_for(safety.service_level, sku))) * sd
        levels.append(max(0, math.ceil(s - 1e-9)))
    return np.array(levels, dtype=np.int64)


def protection_demand(
    sampler: DemandSampler, lead: WholeDays, review_days: int, scale: float = 1.0
) -> tuple[float, float]:
    """Mean and sd of demand over the protection period (lead time + review_days − 1 days).

    With a random lead time L (whole days) and i.i.d. daily demand of mean m and variance v:
    E = m·(E[L] + R − 1) and Var = v·(E[L] + R − 1) + m²·Var[L]. ``scale`` multiplies the
    daily mean and variance (1 + prime_uplift at a node with the Prime badge: extra Poisson-like
    customers add their mean to both).
    """
    m = sampler.expected_mean() * scale
    base = sampler.spec.mean_per_day
    v = sampler.spec.variance_per_day() * (m / base if base > 0 else 0.0)
    period = lead.mean() + review_days - 1
    return m * period, math.sqrt(max(0.0, v * period + m * m * lead.variance()))
