"""Per-replication metrics (SPEC §4) from one replication's trace.

Every metric is computed per SKU and for the strategy as a whole; ratios for the whole strategy
are ratios of sums (not means of SKU ratios). Delivery outcomes are drawn here: the transit time
of every shipped order comes from the node's own random stream (multinomial counts over the
whole-day transit values), which is exact in distribution and independent of stock dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.blocks import carried_sums, day_blocks
from sim.engine import Trace
from sim.health import breaches, seller_record
from sim.health_targets import BREACH_METRICS
from sim.metric_names import COST_PARTS, INDEX, METRICS, RATES
from sim.model import DAYS_PER_MONTH, Calendar, CatalogModel, StrategyModel
from sim.stats import clipped


def bounded(metric: str, stat: dict, difference: bool = False) -> dict:
    """An interval dict (``Interval.to_dict()``) of ``metric`` with its bounds clipped to the
    values the metric can take: [0, 1] for a rate, [-1, 1] for a paired difference of rates;
    other metrics as they are."""
    if metric not in RATES:
        return stat
    return clipped(stat, -1.0 if difference else 0.0, 1.0)


@dataclass(frozen=True)
class Measured:
    """One replication of one strategy: ``skus`` is (metrics, skus); ``total`` is (metrics,);
    ``paths`` the end-of-day on-hand of a few SKUs at every node, (days, nodes, k), when kept;
    ``months`` the strategy totals by calendar month (``sim.months``) and ``plan`` the
    shipment plan's numbers (``sim.plan``), when a run asks for them; ``channels`` the totals
    per sales channel, Amazon first, (1 + channels, ``sim.metric_names.CHANNEL_METRICS``), when
    the scenario has channels."""

    skus: np.ndarray
    total: np.ndarray
    paths: np.ndarray | None = None
    months: np.ndarray | None = None
    plan: object | None = None
    channels: np.ndarray | None = None


@dataclass
class Deliveries:
    """Orders shipped, on time and late, and days to delivery of the counted days, by SKU."""

    shipped: np.ndarray  # (skus,)
    on_time: np.ndarray  # (skus,)
    late_shipped: np.ndarray  # (skus,)
    delivery_days: np.ndarray  # (skus,) days from order to delivery, summed


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
    # (days, skus) in the trace's type: a day's units of a SKU fit (``engine.trace_dtype``)
    served_now = served[:, 0] if served.shape[1] == 1 else served.sum(axis=1, dtype=served.dtype)
    all_served = served_now == d
    demand_units = d.sum(axis=0)
    same_day = served_by_node.sum(axis=0)
    # cancelled orders are lost demand (even under backorder); their stock stays on the shelf
    cancelled = 0 if trace.cancelled is None else trace.cancelled[w:].sum(axis=(0, 1))
    unmet = demand_units - same_day - cancelled
    fills_by_node = _fills_by_node(trace, w, len(model.nodes), n_skus)
    on_hand_days = trace.on_hand[w:].sum(axis=0)  # (nodes, skus) unit-days
    ch = None  # the channels besides Amazon (``sim.channels``): their units count too
    if trace.channel_served is not None:
        from sim.channels import channel_days

        ch = channel_days(trace, model, catalog)
        ch_sold, ch_demand = ch.sold[w:].sum(axis=0), ch.demand[w:].sum(axis=0)
        amazon_demand, amazon_first = demand_units, same_day
        demand_units, same_day = demand_units + ch_demand, same_day + ch_sold
    put("demand_units", demand_units)
    put("sold_units", same_day + fills_by_node.sum(axis=0))
    put("fill_rate", _ratio(same_day, demand_units))
    put("cycle_service_level", np.count_nonzero(all_served, axis=0) / days_counted)
    put("lost_units", cancelled + (0 if model.backorder else unmet))
    if ch is not None:
        out[INDEX["lost_units"]] += ch_demand - ch_sold
    put("backordered_units", unmet if model.backorder else 0)
    put("cancelled_units", cancelled)
    put("avg_on_hand_units", on_hand_days.sum(axis=0) / days_counted)
    put("avg_backorder_units", trace.backorders[w:].mean(axis=0) if model.backorder else 0)

    dlv, delay = _deliveries(trace, w)
    shipped, on_time = dlv.shipped, dlv.on_time
    late, delivery_days = dlv.late_shipped, dlv.delivery_days
    if ch is not None:
        amazon_orders = (shipped.sum(), on_time.sum())
        shipped = shipped + ch.shipped[w:].sum(axis=0)
        on_time = on_time + ch.on_time[w:].sum(axis=0)
        late = late + ch.late[w:].sum(axis=0)
        delivery_days = delivery_days + ch.delivery_days[w:].sum(axis=0)
    put("orders_shipped", shipped)
    put("on_time_rate", _ratio(on_time, shipped))
    put("late_shipment_rate", _ratio(late, shipped))
    put("avg_delivery_days", _ratio(delivery_days, shipped))

    sold = out[INDEX["sold_units"]]
    put("revenue", catalog.price * sold)
    add("product", catalog.unit_cost * sold)
    add("referral", _referral(catalog, trace, served_now, sold - (0 if ch is None else ch_sold), w))
    for i, lane in enumerate(model.lanes):
        add("transfer" if lane.is_transfer else "freight", lane_cost(lane, trace.orders[i][w:]))
    months = days_counted / DAYS_PER_MONTH
    returns_rng = streams.new("returns") if catalog.return_rate.any() else None
    for n, node in enumerate(model.nodes):
        units_out = None  # (days, skus), needed for FBA fees and returns only
        if node.fba is not None or (returns_rng is not None and n in trace.shippers):
            units_out = units_shipped(trace, n)
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
                units_out,
                trace.initial[n],
                w,
            )
            for part, value in fees.items():
                add(part, value)
        if node.awd is not None:
            from sim.awd import awd_charges

            for part, by_day in awd_charges(node.awd, trace, model, n).items():
                add(part, by_day[w:].sum(axis=0))
        if returns_rng is not None and n in trace.shippers:
            returned = returns_rng.binomial(units_out, catalog.return_rate)
            counted = returned[w:].sum(axis=0)
            refund = catalog.price - catalog.resellable * catalog.unit_cost
            add("returns", counted * (refund + node.return_handling_per_unit))
            if node.fba is not None:
                from sim.charges import returns_charges

                add("returns", returns_charges(node.fba, units_out, returned, w))
    channel_rows = None
    if ch is not None:
        from sim.channels import channel_rows as rows_of

        amazon_fulfillment = out[INDEX["cost_fulfillment"]].sum()
        add("fulfillment", ch.fulfillment[w:].sum(axis=0))
        add("mcf", ch.mcf[w:].sum(axis=0))
        add("channel", ch.channel[w:].sum(axis=0))
        a_sold = amazon_first.sum() + fills_by_node.sum()
        amazon = {
            "demand_units": amazon_demand.sum(),
            "sold_units": a_sold,
            "lost_units": float(np.sum(cancelled + (0 if model.backorder else unmet))),
            "fill_rate": _ratio(amazon_first.sum(), amazon_demand.sum()),
            "orders_shipped": amazon_orders[0],
            "on_time_rate": _ratio(amazon_orders[1], amazon_orders[0]),
            "revenue": float(catalog.price @ (sold - ch_sold)),
            "cost_referral": out[INDEX["cost_referral"]].sum(),
            "cost_fulfillment": amazon_fulfillment,
        }
        channel_rows = rows_of(trace, model, catalog, w, ch, amazon)
    costs = out[[INDEX[f"cost_{p}"] for p in COST_PARTS]]
    put("total_cost", costs.sum(axis=0))
    put("profit", out[INDEX["revenue"]] - out[INDEX["total_cost"]])
    margin = np.where(catalog.price > 0, catalog.price - catalog.unit_cost, 0.0)
    put("lost_margin", margin * out[INDEX["lost_units"]])
    record = seller_record(trace, model, streams)
    total_rates: dict[str, float] = {}
    health = _account_health(record, model, w, days_counted, n_skus, put, total_rates)
    badge_days, sfp_breach = 0.0, 0.0
    if trace.badge_lost is not None:
        lost = trace.badge_lost[w:].any(axis=1)
        badge_days = float(np.count_nonzero(lost))
        sfp_breach = float(lost.any() or trace.badge_breach[w:].any())
    put("badge_lost_days", badge_days)
    put("sfp_breach_rate", sfp_breach)

    total = out.sum(axis=1)
    total[INDEX["fill_rate"]] = _ratio(same_day.sum(), demand_units.sum())
    total[INDEX["cycle_service_level"]] = np.count_nonzero(all_served) / all_served.size
    total[INDEX["on_time_rate"]] = _ratio(on_time.sum(), shipped.sum())
    total[INDEX["late_shipment_rate"]] = _ratio(late.sum(), shipped.sum())
    delay += 0.0 if ch is None else ch.delivery_days[w:].sum()
    total[INDEX["avg_delivery_days"]] = _ratio(delay, shipped.sum())
    for name, value in total_rates.items():
        total[INDEX[name]] = value
    for name in BREACH_METRICS:
        total[INDEX[name]] = health[name][1].any() if name in health else 0.0
    every = [together for _, together in health.values()]
    strategy_health = np.logical_or.reduce(every) if every else np.zeros(1, dtype=bool)
    total[INDEX["account_health_breach_rate"]] = strategy_health.any()
    total[INDEX["account_health_breach_days"]] = strategy_health.sum()
    total[INDEX["badge_lost_days"]] = badge_days
    total[INDEX["sfp_breach_rate"]] = sfp_breach
    return Measured(out, total, channels=channel_rows)


def _deliveries(trace: Trace, warmup: int) -> tuple[Deliveries, float]:
    """Orders shipped, on time and late, and days to delivery of the counted days, per SKU
    ``(skus,)`` and summed over every shipping node, and the days to delivery of all of them.
    With several nodes the nodes' days are added a block of days at a time (each block's first
    row carrying the sums so far: the same float sums as adding whole daily tables)."""
    parts = list(trace.shippers.values())
    names = ("shipped", "on_time", "late", "delivery_days")
    if len(parts) == 1:
        sh = parts[0]
        delay = float(sh.delivery_days[warmup:].sum())
        return Deliveries(*(getattr(sh, a)[warmup:].sum(axis=0) for a in names)), delay
    days, skus = trace.demand.shape
    sums = [
        carried_sums(
            (_nodes_added(parts, name, lo, hi, skus) for lo, hi in day_blocks(warmup, days, skus)),
            skus,
        )
        for name in names
    ]
    return Deliveries(*sums), float(sums[3].sum())


def _nodes_added(parts: list, name: str, lo: int, hi: int, skus: int) -> np.ndarray:
    """(hi - lo, skus) the shippers' table ``name`` over days lo .. hi - 1, added node by node
    (the order, and so the floats, of adding the nodes' whole tables)."""
    block = np.zeros((hi - lo, skus))
    for sh in parts:
        block += getattr(sh, name)[lo:hi]
    return block


def deliveries_by_day(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """(days,) orders shipped and orders on time by order day, over every node and SKU."""
    parts = list(trace.shippers.values())
    if len(parts) == 1:
        return parts[0].shipped.sum(axis=1), parts[0].on_time.sum(axis=1)
    days, skus = trace.demand.shape
    shipped, on_time = np.empty(days), np.empty(days)
    for lo, hi in day_blocks(0, days, skus):
        for out, name in ((shipped, "shipped"), (on_time, "on_time")):
            out[lo:hi] = _nodes_added(parts, name, lo, hi, skus).sum(axis=1)
    return shipped, on_time


def units_shipped(trace: Trace, n: int) -> np.ndarray:
    """(days, skus) units leaving node ``n`` for customers on each day."""
    out = trace.served[:, n].copy()
    for fill in trace.fills:
        if fill.node == n:
            out[fill.day] += fill.units
    return out


def _account_health(record, model, warmup, days_counted, n_skus, put, total_rates) -> dict:
    """Amazon's account-health targets (``sim.health``) on the seller-fulfilled orders: puts
    each rate, each target's breach and any breach per SKU (each SKU's orders judged alone),
    fills ``total_rates`` with the strategy's rates, and returns target name -> (by SKU
    (counted days, skus), together (counted days,)) breach days of the targets that can breach.
    """
    rates = ("cancel_rate", "cancelled", "orders"), ("valid_tracking_rate", "valid", "shipped")
    rates += (("order_defect_rate", "defects", "shipped"),)
    if record is None:  # no seller-fulfilled orders: nothing to judge
        for name, _, _ in rates:
            put(name, np.nan)
            total_rates[name] = np.nan
        for name in BREACH_METRICS:
            put(name, 0.0)
        put("account_health_breach_rate", 0.0)
        put("account_health_breach_days", 0.0)
        return {}
    for name, num, den in rates:
        a = record.get(num)[warmup:].sum(axis=0)
        b = record.get(den)[warmup:].sum(axis=0)
        put(name, _ratio(a, b))
        total_rates[name] = _ratio(a.sum(), b.sum())
    least = model.min_orders
    by_sku = breaches(record, warmup, least)
    together = breaches(record.total(), warmup, least)
    out = {}
    any_sku = np.zeros((days_counted, n_skus), dtype=bool)
    for name, hit in by_sku.items():
        put(f"breach_{name}", 0.0 if hit is None else hit.any(axis=0))
        if hit is not None:
            any_sku |= hit
        if together[name] is not None:
            out[f"breach_{name}"] = (hit, together[name][:, 0])
    put("account_health_breach_rate", any_sku.any(axis=0))
    put("account_health_breach_days", any_sku.sum(axis=0))
    return out


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
