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
from sim.model import Calendar, CatalogModel, StrategyModel

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
)
INDEX = {m: i for i, m in enumerate(METRICS)}
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
    }
)
DAYS_PER_MONTH = 365.25 / 12

# Amazon account-health thresholds (rolling windows over order days)
LATE_SHIPMENT_WINDOW, LATE_SHIPMENT_MAX = 30, 0.04
ON_TIME_WINDOW, ON_TIME_MIN = 14, 0.90


@dataclass(frozen=True)
class Measured:
    """One replication of one strategy: ``skus`` is (metrics, skus); ``total`` is (metrics,)."""

    skus: np.ndarray
    total: np.ndarray


@dataclass
class Deliveries:
    """Orders shipped, on time and late, and days to delivery, by order day and SKU."""

    shipped: np.ndarray  # (days, skus)
    on_time: np.ndarray  # (days, skus)
    late_shipped: np.ndarray  # (days, skus)
    delivery_days: np.ndarray  # (skus,) summed over counted orders


def measure(
    trace: Trace,
    model: StrategyModel,
    catalog: CatalogModel,
    calendar: Calendar,
    demand: np.ndarray,
    transit_rngs: dict[str, np.random.Generator],
) -> Measured:
    """Compute every metric of one replication of one strategy."""
    w = calendar.warmup
    days_counted = calendar.days - w
    n_skus = demand.shape[1]
    out = np.zeros((len(METRICS), n_skus))

    def put(name, values):
        out[INDEX[name]] = values

    d = demand[w:]
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

    dlv = deliveries(trace, model, calendar, transit_rngs, n_skus)
    shipped = dlv.shipped[w:].sum(axis=0)
    on_time = dlv.on_time[w:].sum(axis=0)
    late = dlv.late_shipped[w:].sum(axis=0)
    put("orders_shipped", shipped)
    put("on_time_rate", _ratio(on_time, shipped))
    put("late_shipment_rate", _ratio(late, shipped))
    put("avg_delivery_days", _ratio(dlv.delivery_days, shipped))

    sold = out[INDEX["sold_units"]]
    put("revenue", catalog.price * sold)
    put("cost_product", catalog.unit_cost * sold)
    shipped_by_node = served_by_node + fills_by_node
    for i, lane in enumerate(model.lanes):
        out[INDEX["cost_transfer" if lane.is_transfer else "cost_freight"]] += lane_cost(
            lane, trace.orders[i][w:]
        )
    months = days_counted / DAYS_PER_MONTH
    for n, node in enumerate(model.nodes):
        out[INDEX["cost_storage"]] += node.holding_cost_per_unit_day * on_hand_days[n]
        out[INDEX["cost_fulfillment"]] += node.order_cost * shipped_by_node[n]
        if node.fixed_cost_per_month:
            out[INDEX["cost_fixed"]] += (
                node.fixed_cost_per_month * months * _shares(shipped_by_node[n])
            )
    costs = out[[INDEX[f"cost_{p}"] for p in COST_PARTS]]
    put("total_cost", costs.sum(axis=0))
    put("profit", out[INDEX["revenue"]] - out[INDEX["total_cost"]])
    margin = np.where(catalog.price > 0, catalog.price - catalog.unit_cost, 0.0)
    put("lost_margin", margin * out[INDEX["lost_units"]])
    put("account_health_breach_rate", _breach(dlv, w))

    total = out.sum(axis=1)
    total[INDEX["fill_rate"]] = _ratio(same_day.sum(), demand_units.sum())
    total[INDEX["cycle_service_level"]] = np.count_nonzero(all_served) / all_served.size
    total[INDEX["on_time_rate"]] = _ratio(on_time.sum(), shipped.sum())
    total[INDEX["late_shipment_rate"]] = _ratio(late.sum(), shipped.sum())
    total[INDEX["avg_delivery_days"]] = _ratio(dlv.delivery_days.sum(), shipped.sum())
    total[INDEX["account_health_breach_rate"]] = _breach(
        Deliveries(
            dlv.shipped.sum(axis=1, keepdims=True),
            dlv.on_time.sum(axis=1, keepdims=True),
            dlv.late_shipped.sum(axis=1, keepdims=True),
            dlv.delivery_days.sum(keepdims=True),
        ),
        w,
    )[0]
    return Measured(out, total)


def deliveries(
    trace: Trace,
    model: StrategyModel,
    calendar: Calendar,
    transit_rngs: dict[str, np.random.Generator],
    n_skus: int,
) -> Deliveries:
    """Draw each shipped order's transit time and tabulate on-time delivery (SPEC §3)."""
    w = calendar.warmup
    weekday = calendar.weekdays
    shipped_parts, on_time_parts = [], []
    delivery_days = np.zeros(n_skus)
    for n in model.fulfil:
        rule = model.nodes[n].delivery
        units = trace.served[:, n, :]
        shipped_parts.append(units)
        ok = rule.on_time[weekday]  # (days, K)
        offset = rule.offset[weekday[w:]].astype(float)  # (counted days, K)
        if rule.transit.is_constant:  # every order takes the one transit value
            on_time_parts.append(units if ok.all() else units * ok)
            delivery_days += offset[:, 0] @ units[w:]
            continue
        counts = transit_rngs[model.nodes[n].name].multinomial(units, rule.transit.probs)
        on_time_parts.append(np.einsum("dsk,dk->ds", counts, ok.astype(np.int64)))
        delivery_days += np.einsum("dsk,dk->s", counts[w:], offset)
    if len(shipped_parts) == 1 and not trace.fills:  # nothing to add: no copies needed
        shipped, on_time = shipped_parts[0], on_time_parts[0]
    else:
        shipped = sum(shipped_parts[1:], shipped_parts[0].copy())
        on_time = sum(on_time_parts[1:], on_time_parts[0].copy())
    for fill in trace.fills:
        rule = model.nodes[fill.node].delivery
        counts = _transit_counts(
            transit_rngs[model.nodes[fill.node].name], fill.units, rule.transit.probs
        )
        age = fill.day - fill.order_day
        offset = rule.offset[weekday[fill.day]] + age  # days from order day to delivery
        shipped[fill.order_day] += fill.units
        on_time[fill.order_day] += counts @ (offset <= rule.promise_days).astype(np.int64)
        if fill.order_day >= w:
            delivery_days += counts @ offset.astype(float)
    return Deliveries(shipped, on_time, np.zeros_like(shipped), delivery_days)


def lane_cost(lane, orders: np.ndarray) -> np.ndarray:
    """(skus,) cost of a lane's orders: per unit, plus per shipment split by units shipped."""
    cost = lane.cost_per_unit * orders.sum(axis=0)
    if lane.cost_per_shipment:
        size = orders.sum(axis=1, keepdims=True)
        shipped = size[:, 0] > 0
        cost = cost + lane.cost_per_shipment * (orders[shipped] / size[shipped]).sum(axis=0)
    return cost


def _transit_counts(rng: np.random.Generator, units: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """How many of ``units`` orders take each transit value (a multinomial draw per cell)."""
    if len(probs) == 1:
        return units[..., None]
    return rng.multinomial(units, probs)


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


def _breach(dlv: Deliveries, warmup: int) -> np.ndarray:
    """1 where a rolling seller metric crossed Amazon's threshold on any counted day, else 0."""
    if not dlv.late_shipped.any() and np.array_equal(dlv.on_time, dlv.shipped):
        return np.zeros(
            dlv.shipped.shape[1]
        )  # every order on time and none late: no window breaches
    late = (
        _rolling_rate(dlv.late_shipped, dlv.shipped, LATE_SHIPMENT_WINDOW, warmup)
        > LATE_SHIPMENT_MAX
    )
    on_time = _rolling_rate(dlv.on_time, dlv.shipped, ON_TIME_WINDOW, warmup) < ON_TIME_MIN
    return (late.any(axis=0) | on_time.any(axis=0)).astype(float)


def _rolling_rate(num: np.ndarray, den: np.ndarray, window: int, warmup: int) -> np.ndarray:
    """Rate over the trailing ``window`` counted days, for each day whose window is full.

    Windows with no orders have no rate (they can breach nothing); a horizon shorter than the
    window is judged on all its counted days.
    """
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
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
