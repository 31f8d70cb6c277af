"""Per-replication metrics (SPEC §4) from one replication's trace.

Every metric is computed per SKU and for the strategy as a whole; ratios for the whole strategy
are ratios of sums (not means of SKU ratios). Delivery outcomes are drawn here: the transit time
of every shipped order comes from the node's own random stream (multinomial counts over the
whole-day transit values), which is exact in distribution and independent of stock dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import Trace
from sim.model import DAYS_PER_MONTH, Calendar, CatalogModel, StrategyModel
from sim.stats import clipped

COST_PARTS = (
    "product",
    "freight",
    "fulfillment",
    "storage",
    "aged_inventory",
    "low_inventory",
    "placement",
    "referral",
    "returns",
    "transfer",
    "receiving",
    "fixed",
)
METRICS = (
    "demand_units",
    "sold_units",
    "fill_rate",
    "cycle_service_level",
    "lost_units",
    "backordered_units",
    "avg_on_hand_units",
    "avg_backorder_units",
    "orders_shipped",
    "on_time_rate",
    "late_shipment_rate",
    "avg_delivery_days",
    "revenue",
    *(f"cost_{p}" for p in COST_PARTS),
    "total_cost",
    "profit",
    "lost_margin",
    "account_health_breach_rate",
    "account_health_breach_days",
    "badge_lost_days",
)
INDEX = {m: i for i, m in enumerate(METRICS)}
# shares of something, between 0 and 1 by definition: their intervals are clipped to [0, 1]
# (and paired differences of them to [-1, 1]); add any new rate here
RATES = frozenset(
    {
        "fill_rate",
        "cycle_service_level",
        "on_time_rate",
        "late_shipment_rate",
        "account_health_breach_rate",
    }
)
LOWER_IS_BETTER = frozenset(
    {
        "lost_units",
        "backordered_units",
        "avg_on_hand_units",
        "avg_backorder_units",
        "late_shipment_rate",
        "avg_delivery_days",
        *(f"cost_{p}" for p in COST_PARTS),
        "total_cost",
        "lost_margin",
        "account_health_breach_rate",
        "account_health_breach_days",
        "badge_lost_days",
    }
)


def bounded(metric: str, stat: dict, difference: bool = False) -> dict:
    """An interval dict (``Interval.to_dict()``) of ``metric`` with its bounds clipped to the
    values the metric can take: [0, 1] for a rate, [-1, 1] for a paired difference of rates;
    other metrics as they are."""
    if metric not in RATES:
        return stat
    return clipped(stat, -1.0 if difference else 0.0, 1.0)


# Amazon account-health thresholds (rolling windows over order days)
LATE_SHIPMENT_WINDOW, LATE_SHIPMENT_MAX = 30, 0.04
ON_TIME_WINDOW, ON_TIME_MIN = 14, 0.90


@dataclass(frozen=True)
class Measured:
    """One replication of one strategy: ``skus`` is (metrics, skus); ``total`` is (metrics,);
    ``paths`` the end-of-day on-hand of a few SKUs at every node, (days, nodes, k), when kept;
    ``months`` the strategy totals by calendar month (``sim.months``) and ``plan`` the
    shipment plan's numbers (``sim.plan``), when a run asks for them."""

    skus: np.ndarray
    total: np.ndarray
    paths: np.ndarray | None = None
    months: np.ndarray | None = None
    plan: object | None = None


@dataclass
class Deliveries:
    """Orders shipped, on time and late, and days to delivery, by order day and SKU."""

    shipped: np.ndarray  # (days, skus)
    on_time: np.ndarray  # (days, skus)
    late_shipped: np.ndarray  # (days, skus)
    delivery_days: np.ndarray  # (days, skus) days from order to delivery, summed


def measure(
    trace: Trace,
    model: StrategyModel,
    catalog: CatalogModel,
    calendar: Calendar,
    streams,
) -> Measured:
    """Compute every metric of one replication of one strategy."""
    w = calendar.warmup
    days_counted = calendar.days - w
    d = trace.demand[w:]
    n_skus = d.shape[1]
    out = np.zeros((len(METRICS), n_skus))

    def put(name, values):
        out[INDEX[name]] = values

    def add(part, values):
        out[INDEX[f"cost_{part}"]] += values

    served = trace.served[w:]
    served_by_node = served.sum(axis=0)  # (nodes, skus)
    served_now = served[:, 0] if served.shape[1] == 1 else served.sum(axis=1)  # (days, skus)
    all_served = served_now == d
    demand_units = d.sum(axis=0)
    same_day = served_by_node.sum(axis=0)
    unmet = demand_units - same_day
    fills_by_node = _fills_by_node(trace, w, len(model.nodes), n_skus)
    on_hand_days = trace.on_hand[w:].sum(axis=0)  # (nodes, skus) unit-days
    put("demand_units", demand_units)
    put("sold_units", same_day + fills_by_node.sum(axis=0))
    put("fill_rate", _ratio(same_day, demand_units))
    put("cycle_service_level", np.count_nonzero(all_served, axis=0) / days_counted)
    put("lost_units", 0 if model.backorder else unmet)
    put("backordered_units", unmet if model.backorder else 0)
    put("avg_on_hand_units", on_hand_days.sum(axis=0) / days_counted)
    put("avg_backorder_units", trace.backorders[w:].mean(axis=0) if model.backorder else 0)

    dlv = _deliveries(trace, model)
    shipped = dlv.shipped[w:].sum(axis=0)
    on_time = dlv.on_time[w:].sum(axis=0)
    late = dlv.late_shipped[w:].sum(axis=0)
    put("orders_shipped", shipped)
    put("on_time_rate", _ratio(on_time, shipped))
    put("late_shipment_rate", _ratio(late, shipped))
    put("avg_delivery_days", _ratio(dlv.delivery_days[w:].sum(axis=0), shipped))

    sold = out[INDEX["sold_units"]]
    put("revenue", catalog.price * sold)
    add("product", catalog.unit_cost * sold)
    add("referral", _referral(catalog, trace, served_now, sold, w))
    for i, lane in enumerate(model.lanes):
        add("transfer" if lane.is_transfer else "freight", lane_cost(lane, trace.orders[i][w:]))
    months = days_counted / DAYS_PER_MONTH
    units_out = None  # (nodes, days, skus), needed for FBA fees and returns only
    if catalog.return_rate.any() or any(node.fba is not None for node in model.nodes):
        units_out = _units_shipped_by_day(trace, len(model.nodes))
    returns_rng = streams.new("returns") if catalog.return_rate.any() else None
    for n, node in enumerate(model.nodes):
        add("storage", node.storage_per_unit_day * on_hand_days[n])
        if node.whole_pallets is not None:
            add("storage", node.whole_pallets.cost(trace.on_hand[:, n]))
        if node.receiving_per_unit or node.receiving_per_carton:
            received = trace.received[w:, n]
            cartons = np.ceil(received / catalog.units_per_carton).sum(axis=0)
            add("receiving", node.receiving_per_unit * received.sum(axis=0))
            add("receiving", node.receiving_per_carton * cartons)
        if n in trace.shippers:
            orders = trace.shippers[n].shipped[w:]  # by order day
            add("fulfillment", node.cost_per_order * orders.sum(axis=0))
            if node.dated_cost_per_order is not None:
                add("fulfillment", node.dated_cost_per_order[w:] @ orders)
        if node.fixed_cost_per_month:
            add("fixed", node.fixed_cost_per_month * months * _shares(served_by_node[n]))
        if node.fba is not None:
            from sim.charges import fba_charges

            fees = fba_charges(
                node.fba,
                trace.on_hand[:, n],
                trace.received[:, n],
                units_out[n],
                trace.initial[n],
                w,
            )
            for part, value in fees.items():
                add(part, value)
        if returns_rng is not None and n in trace.shippers:
            returned = returns_rng.binomial(units_out[n], catalog.return_rate)
            counted = returned[w:].sum(axis=0)
            refund = catalog.price - catalog.resellable * catalog.unit_cost
            add("returns", counted * (refund + node.return_handling_per_unit))
            if node.fba is not None:
                from sim.charges import returns_charges

                add("returns", returns_charges(node.fba, units_out[n], returned, w))
    costs = out[[INDEX[f"cost_{p}"] for p in COST_PARTS]]
    put("total_cost", costs.sum(axis=0))
    put("profit", out[INDEX["revenue"]] - out[INDEX["total_cost"]])
    margin = np.where(catalog.price > 0, catalog.price - catalog.unit_cost, 0.0)
    put("lost_margin", margin * out[INDEX["lost_units"]])
    health, strategy_health = _account_health(trace, model, w)
    put("account_health_breach_rate", health.any(axis=0))
    put("account_health_breach_days", health.sum(axis=0))
    badge_days = 0.0
    if trace.badge_lost is not None:
        badge_days = float(np.count_nonzero(trace.badge_lost[w:].any(axis=1)))
    put("badge_lost_days", badge_days)

    total = out.sum(axis=1)
    total[INDEX["fill_rate"]] = _ratio(same_day.sum(), demand_units.sum())
    total[INDEX["cycle_service_level"]] = np.count_nonzero(all_served) / all_served.size
    total[INDEX["on_time_rate"]] = _ratio(on_time.sum(), shipped.sum())
    total[INDEX["late_shipment_rate"]] = _ratio(late.sum(), shipped.sum())
    total[INDEX["avg_delivery_days"]] = _ratio(dlv.delivery_days[w:].sum(), shipped.sum())
    total[INDEX["account_health_breach_rate"]] = strategy_health.any()
    total[INDEX["account_health_breach_days"]] = strategy_health.sum()
    total[INDEX["badge_lost_days"]] = badge_days
    return Measured(out, total)


def _deliveries(trace: Trace, model: StrategyModel, nodes=None) -> Deliveries:
    """Orders shipped, on time and late, by order day, summed over ``nodes`` (default: all)."""
    parts = [sh for n, sh in trace.shippers.items() if nodes is None or n in nodes]
    if len(parts) == 1:
        sh = parts[0]
        return Deliveries(sh.shipped, sh.on_time, sh.late, sh.delivery_days)
    shape = trace.demand.shape
    out = Deliveries(*(np.zeros(shape) for _ in range(4)))
    for sh in parts:
        out.shipped += sh.shipped
        out.on_time += sh.on_time
        out.late_shipped += sh.late
        out.delivery_days += sh.delivery_days
    return out


def _units_shipped_by_day(trace: Trace, nodes: int) -> np.ndarray:
    """(nodes, days, skus) units leaving each node for customers on each day."""
    out = np.moveaxis(trace.served, 1, 0).copy()
    for fill in trace.fills:
        out[fill.node, fill.day] += fill.units
    return out


def _account_health(trace: Trace, model: StrategyModel, warmup: int) -> tuple[np.ndarray, ...]:
    """Days a rolling seller metric crossed Amazon's limit: (counted days, skus) judging each
    SKU's orders alone, and (counted days,) judging the strategy's orders together.

    Only seller-fulfilled orders count (FBM, SFP, 3PL: Amazon answers for FBA's): late
    shipment rate > 4% over 30 days or on-time delivery < 90% over 14 days, and for an SFP node
    its own on-time shipment and on-time delivery minimums over its badge window.
    """
    days = trace.demand.shape[0] - warmup
    by_sku = np.zeros((days, trace.demand.shape[1]), dtype=bool)
    together = np.zeros((days, 1), dtype=bool)
    seller = [n for n in trace.shippers if model.nodes[n].seller_fulfilled]
    checks = [(seller, LATE_SHIPMENT_WINDOW, 1 - LATE_SHIPMENT_MAX, ON_TIME_WINDOW, ON_TIME_MIN)]
    for n in seller:
        rules = model.nodes[n].sfp
        if rules is not None:
            w = rules.window_days
            checks.append(([n], w, rules.on_time_shipment_min, w, rules.on_time_delivery_min))
    for nodes, late_window, shipped_on_time_min, on_time_window, on_time_min in checks:
        if not nodes:
            continue
        dlv = _deliveries(trace, model, nodes)
        if not dlv.late_shipped.any() and np.array_equal(dlv.on_time, dlv.shipped):
            continue  # every order on time and none shipped late: no window can breach
        summed = Deliveries(*(a.sum(axis=1, keepdims=True) for a in dlv.__dict__.values()))
        least = model.min_orders
        for breach, d in ((by_sku, dlv), (together, summed)):
            late = _rolling_rate(d.late_shipped, d.shipped, late_window, warmup, least)
            breach |= late > 1 - shipped_on_time_min + 1e-12
            rate = _rolling_rate(d.on_time, d.shipped, on_time_window, warmup, least)
            breach |= rate < on_time_min - 1e-12
    return by_sku, together[:, 0]


def lane_cost(lane, orders: np.ndarray) -> np.ndarray:
    """(skus,) cost of a lane's orders: per unit, plus per shipment split by units shipped."""
    cost = lane.cost_per_unit * orders.sum(axis=0)
    if lane.cost_per_shipment:
        size = orders.sum(axis=1, keepdims=True)
        shipped = size[:, 0] > 0
        cost = cost + lane.cost_per_shipment * (orders[shipped] / size[shipped]).sum(axis=0)
    return cost


def _referral(catalog, trace: Trace, served_now: np.ndarray, sold: np.ndarray, warmup: int):
    """(skus,) referral fees of the units sold on counted days, at the fee of the order day."""
    per_day = catalog.referral_per_unit_day
    if per_day is None:
        return catalog.referral_per_unit * sold
    total = np.einsum("ij,ij->j", served_now, per_day[warmup:], dtype=float)
    for fill in trace.fills:
        if fill.order_day >= warmup:
            total += fill.units * per_day[fill.order_day]
    return total


def _fills_by_node(trace: Trace, warmup: int, nodes: int, n_skus: int) -> np.ndarray:
    out = np.zeros((nodes, n_skus), dtype=np.int64)
    for fill in trace.fills:
        if fill.order_day >= warmup:
            out[fill.node] += fill.units
    return out


def _shares(units: np.ndarray) -> np.ndarray:
    total = units.sum()
    return units / total if total > 0 else np.full(len(units), 1.0 / len(units))


def _ratio(num, den) -> np.ndarray:
    """num / den, NaN where den is 0 (a rate with nothing to count)."""
    den = np.asarray(den, dtype=float)
    out = np.full(den.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _rolling_rate(
    num: np.ndarray, den: np.ndarray, window: int, warmup: int, least: float = 1
) -> np.ndarray:
    """(counted days, width) rate over the trailing ``window`` counted days ending on each day;
    NaN before the first full window and where a window has fewer than ``least`` orders. A
    horizon shorter than the window is judged once, on all its counted days."""
    num, den = num[warmup:], den[warmup:]
    days = len(den)
    window = min(window, days)
    cn = np.cumsum(num, axis=0)
    cd = np.cumsum(den, axis=0)
    pad = np.zeros((1, num.shape[1]))
    cn = np.vstack([pad, cn])
    cd = np.vstack([pad, cd])
    n = cn[window:] - cn[:-window]
    d = cd[window:] - cd[:-window]
    out = np.full(num.shape, np.nan)
    judged = (d > 0) & (d >= least - 1e-9)
    out[window - 1 :] = np.where(judged, n / np.where(judged, d, 1), np.nan)
    return out
