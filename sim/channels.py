"""Sales channels besides Amazon (``channels``, ``channel_demand``, ``channel_fulfil_from``).

Rules (README "Channels and Multi-Channel Fulfillment"):

* Each day, after the day's receipts, Amazon's demand is served first (``fulfil_from``), then
  each channel in the order listed under ``channels``, along its own route
  (``channel_fulfil_from``) from the stock left at each node. A channel's unmet units are lost
  (channels never backorder). A strategy must route every channel that has demand (validation).
* A unit sold on a channel pays the channel's ``fee_rate`` × price, and each of its orders
  (units ÷ the SKU's ``units_per_order``) the channel's ``fee_per_order`` (``cost_channel``); no
  Amazon referral fee. Shipped by an FBA node that charges Amazon's fees, it pays the MCF fee
  (``cost_mcf``: ``sim.fees.mcf``, by size tier, units per order, the channel's ``speed`` and the
  order day) instead of the FBA fulfilment fee; shipped by any node, the node's usual per-order
  cost (a seller node's pick, pack and labels) in ``cost_fulfillment``.
* A channel's orders are on time when delivered within its ``promise_days`` (calendar days from
  the order day) on the node's own ship and transit rule; they are not counted against a node's
  daily order capacity, nor in Amazon's account health, the Low-Inventory-Level fee's days of
  supply, returns, or the cycle service level (Amazon demand only).
* Channel costs and units are dated by the order day (units ship the day they are ordered).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.distributions import DemandSampler
from sim.errors import UserError
from sim.metric_names import CHANNEL_METRICS

CHANNEL_INDEX = {m: i for i, m in enumerate(CHANNEL_METRICS)}
CHANNEL_RATES = frozenset({"fill_rate", "on_time_rate"})


@dataclass
class ChannelDays:
    """One replication's channel numbers by order day, summed over the channels besides
    Amazon: each a (days, skus) array (``per_channel``: (channels, CHANNEL_METRICS) sums over
    the counted days, ratios as numerator / denominator pairs resolved by ``channel_rows``)."""

    demand: np.ndarray
    sold: np.ndarray
    shipped: np.ndarray  # orders shipped
    on_time: np.ndarray  # orders delivered on time
    late: np.ndarray  # orders shipped late
    delivery_days: np.ndarray  # days from order to delivery, summed over orders
    revenue: np.ndarray
    product: np.ndarray
    fulfillment: np.ndarray
    mcf: np.ndarray
    channel: np.ndarray
    per_channel: list[dict[str, np.ndarray]]


def channel_days(trace, model, catalog) -> ChannelDays:
    """The channels' units, orders, revenue and costs by order day of one replication."""
    days, skus = trace.demand.shape
    zero = np.zeros((days, skus))
    parts = {
        k: zero.copy()
        for k in (
            "demand",
            "sold",
            "shipped",
            "on_time",
            "late",
            "delivery_days",
            "revenue",
            "product",
            "fulfillment",
            "mcf",
            "channel",
        )
    }
    per_channel = []
    for k, (ch, route) in enumerate(zip(catalog.channels, model.channel_routes, strict=True)):
        mine = {name: zero.copy() for name in parts}
        mine["demand"] += trace.channel_demand[:, k]
        sold = trace.channel_served[:, k].sum(axis=1)
        mine["sold"] += sold
        mine["revenue"] += sold * catalog.price
        mine["product"] += sold * catalog.unit_cost
        mine["channel"] += sold * (
            ch.fee_rate * catalog.price + ch.fee_per_order / catalog.units_per_order
        )
        for n, fees in zip(route.nodes, route.mcf, strict=True):
            units = trace.channel_served[:, k, n]
            sh = trace.channel_shippers[k][n]
            node = model.nodes[n]
            mine["shipped"] += sh.shipped
            mine["on_time"] += sh.on_time
            mine["late"] += sh.late
            mine["delivery_days"] += sh.delivery_days
            orders = units / catalog.units_per_order
            mine["fulfillment"] += orders * node.cost_per_order
            if node.dated_cost_per_order is not None:
                mine["fulfillment"] += orders * node.dated_cost_per_order[:, None]
            if fees is not None:
                mine["mcf"] += units * fees
        for name, value in mine.items():
            parts[name] += value
        per_channel.append(mine)
    return ChannelDays(**parts, per_channel=per_channel)


def channel_rows(
    trace, model, catalog, warmup: int, ch: ChannelDays, amazon: dict[str, float]
) -> np.ndarray:
    """(1 + channels, CHANNEL_METRICS) one replication's totals per channel, Amazon first
    (``amazon``: its metrics, as measured without the channels)."""
    out = np.full((1 + len(ch.per_channel), len(CHANNEL_METRICS)), np.nan)
    for name, value in amazon.items():
        out[0, CHANNEL_INDEX[name]] = value
    out[0, CHANNEL_INDEX["cost_mcf"]] = 0.0
    out[0, CHANNEL_INDEX["cost_channel"]] = 0.0
    w = warmup
    for k, mine in enumerate(ch.per_channel, start=1):
        total = {name: float(value[w:].sum()) for name, value in mine.items()}
        row = out[k]
        row[CHANNEL_INDEX["demand_units"]] = total["demand"]
        row[CHANNEL_INDEX["sold_units"]] = total["sold"]
        row[CHANNEL_INDEX["lost_units"]] = total["demand"] - total["sold"]
        row[CHANNEL_INDEX["fill_rate"]] = _ratio(total["sold"], total["demand"])
        row[CHANNEL_INDEX["orders_shipped"]] = total["shipped"]
        row[CHANNEL_INDEX["on_time_rate"]] = _ratio(total["on_time"], total["shipped"])
        row[CHANNEL_INDEX["revenue"]] = total["revenue"]
        row[CHANNEL_INDEX["cost_referral"]] = 0.0
        row[CHANNEL_INDEX["cost_fulfillment"]] = total["fulfillment"]
        row[CHANNEL_INDEX["cost_mcf"]] = total["mcf"]
        row[CHANNEL_INDEX["cost_channel"]] = total["channel"]
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def channel_names(catalog) -> list[str]:
    """``amazon`` and the channels besides it, in the order of per-channel results."""
    from sim.scenario import AMAZON_CHANNEL

    return [AMAZON_CHANNEL, *(ch.name for ch in catalog.channels)]


def mcf_fees(scenario, channel, catalog, cal, tables) -> np.ndarray:
    """(days, skus) MCF fee per unit of each SKU shipped on ``channel`` on each day (order
    day), priced once per fee period (``charges`` cuts the calendar where a dated entry of the
    tables starts or ends); located UserErrors for a SKU or speed the tables cannot price."""
    from sim.charges import _cut_days, _table_breakpoints
    from sim.fees import FeeError, Product, default_tables
    from sim.fees.mcf import mcf_fee

    t = tables or default_tables()
    skus = scenario.skus
    products = []
    for i, s in enumerate(skus):
        sizes = (s.length_in, s.width_in, s.height_in, s.weight_lb)
        if None in sizes:
            raise UserError(
                (
                    f"skus[{i}]",
                    f"SKU {s.id!r} ships {channel.name!r} orders by MCF: give length_in, "
                    "width_in, height_in and weight_lb (the MCF fee depends on them)",
                )
            )
        products.append(Product(*sizes, price=s.price or 0.0))
    cuts = _cut_days(cal.start, cal.days, _table_breakpoints(t.data, cal.start, cal.days))
    out = np.zeros((cal.days, len(skus)))
    ends = [*cuts[1:].tolist(), cal.days]
    for first, end in zip(cuts.tolist(), ends, strict=True):
        on = cal.start + dt.timedelta(days=first)
        for j, (s, product) in enumerate(zip(skus, products, strict=True)):
            try:
                quote = mcf_fee(product, on, s.units_per_order, channel.speed, tables=t)
            except FeeError as e:
                loc, msg = e.problems[0]
                where = f"channels.{channel.name}.speed" if loc == "speed" else f"skus[{j}]"
                raise UserError((where, f"{msg} (on {on.isoformat()})")) from None
            out[first:end, j] = quote.fee_per_unit
    return out


def channel_share(scenario, st, node: str, fulfil) -> np.ndarray:
    """(skus,) what a node's automatic policy levels add for channel demand, as a share of
    each SKU's Amazon demand: the mean of every channel whose route starts at the node ÷ the
    SKU's Amazon mean (0 where Amazon's mean is 0: give such a node's level explicitly); less
    Amazon's own demand (−1) at a node that ships no Amazon order and feeds no other node."""
    out = np.zeros(len(scenario.skus))
    starts = [c for c, route in st.channel_fulfil_from.items() if route and route[0] == node]
    if not starts:
        return out
    feeds = any(rep.source == node for rep in st.replenish.values())
    for j, s in enumerate(scenario.skus):
        amazon = DemandSampler(s.demand, np.ones(1)).expected_mean()
        if amazon <= 0:
            continue
        extra = sum(
            DemandSampler(s.channel_demand[c], np.ones(1)).expected_mean()
            for c in starts
            if c in s.channel_demand
        )
        out[j] = extra / amazon - (0.0 if node in fulfil or feeds else 1.0)
    return out
