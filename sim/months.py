"""Results by calendar month (``summary.json`` ``strategies.NAME.months["YYYY-MM"]``).

Each replication's strategy totals are cut into the calendar months of its counted days (after
warm-up): the month of the warm-up's end counts only its days from the warm-up on, the last
month only its days within the horizon. Every quantity is dated the way ``sim.metrics`` counts
it, so the months of an additive metric sum to the whole run's value (``check_months``, run on
every replication under ``FULFILSIM_CHECK`` / ``run --check``):

* units demanded, sold, lost and backordered, customer orders shipped and on time, revenue,
  product cost, referral fees, FBM pick/pack/label costs: the **order day** (a backordered unit
  sold later keeps its order day, as in ``sold_units``);
* freight and transfer costs: the day the replenishment is **ordered** (per unit, and per
  shipment on each day the lane ships); AWD's outbound processing and transportation too (the
  day the transfer leaves AWD), and AWD's inbound processing on the **receipt** day
  (``cost_receiving``), its storage on the day it accrues (``cost_storage``; ``sim.awd``);
* a 3PL's whole-pallet storage (``pallet_billing: whole``): the month's last counted day, on
  which it is billed;
* storage (seller's rates and FBA's), FBA aged-inventory surcharge (its 15th-of-month snapshot
  day), FBA fulfilment and low-inventory fees, returns (the ship day the return is drawn on):
  the day the charge **accrues**; FBA placement and receiving fees: the **receipt** day; FBA
  returns processing fees: the calendar month Amazon compares (``charges.returns_charges``);
* channels besides Amazon (``sim.channels``): their units, orders, revenue, product cost,
  per-order fulfilment costs, MCF fees (``cost_mcf``) and channel fees (``cost_channel``): the
  **order day** (a channel unit ships the day it is ordered or is lost);
* a node's fixed cost per month: spread evenly over the counted days (``fixed_cost_per_month``
  × days / 30.4375, as the whole-run metric does).

Ratios and averages of a month are taken over that month alone: ``fill_rate`` = units served
from stock on the day ÷ units demanded that month, ``on_time_rate`` = orders placed that month
delivered on time ÷ shipped, ``avg_on_hand_units`` = mean end-of-day on-hand over the month's
counted days.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np

from sim.awd import awd_charges
from sim.charges import aged_snapshots, lil_rates, returns_charges, rowdot
from sim.engine import Trace
from sim.labels import EPS
from sim.metric_names import COST_PARTS, INDEX
from sim.metrics import deliveries_by_day, units_shipped
from sim.model import DAYS_PER_MONTH, Calendar, CatalogModel, StrategyModel

RATIOS = ("fill_rate", "avg_on_hand_units", "on_time_rate")
MONTH_METRICS = (
    "demand_units",
    "sold_units",
    "lost_units",
    "backordered_units",
    "fill_rate",
    "avg_on_hand_units",
    "orders_shipped",
    "on_time_rate",
    "revenue",
    *(f"cost_{p}" for p in COST_PARTS),
    "total_cost",
    "profit",
)
MONTH_INDEX = {m: i for i, m in enumerate(MONTH_METRICS)}
ADDITIVE = tuple(m for m in MONTH_METRICS if m not in RATIOS)


@functools.lru_cache(maxsize=8)
def month_windows(calendar: Calendar) -> tuple[tuple[str, int, int], ...]:
    """``("YYYY-MM", first day, end day)`` of every calendar month with counted days, the
    days cut to ``warmup .. days - 1``."""
    out = []
    t = calendar.warmup
    while t < calendar.days:
        day = calendar.start + dt.timedelta(days=t)
        nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        end = min(calendar.days, t + (nxt - day).days)
        out.append((f"{day.year:04d}-{day.month:02d}", t, end))
        t = end
    return tuple(out)


def measure_months(
    trace: Trace,
    model: StrategyModel,
    catalog: CatalogModel,
    calendar: Calendar,
    streams,
) -> np.ndarray:
    """(months, ``MONTH_METRICS``) strategy totals of one replication, month by month (the
    months of ``month_windows``). ``streams`` must be the replication's, as given to
    ``metrics.measure`` (the returns are drawn again from the same stream)."""
    windows = month_windows(calendar)
    w = calendar.warmup
    days = calendar.days
    cuts = np.array([lo for _, lo, _ in windows], dtype=np.int64)
    daily: dict[str, np.ndarray] = {}
    monthly = np.zeros((len(windows), len(MONTH_METRICS)))

    def add(name: str, per_day: np.ndarray, first: int = 0) -> None:
        row = daily.setdefault(name, np.zeros(days))
        row[first:] += per_day

    sold = trace.served.sum(axis=1, dtype=trace.served.dtype)  # (days, skus) served that day,
    same_day = sold.sum(axis=1)
    for fill in trace.fills:  # then by order day with the backorder fills (they fit too)
        sold[fill.order_day] += fill.units
    demand = trace.demand.sum(axis=1)
    add("demand_units", demand)
    add("same_day", same_day)
    add("sold_units", sold.sum(axis=1))
    # cancelled orders are lost demand even under backorder (as in ``metrics.measure``)
    cancelled = (
        np.zeros_like(same_day) if trace.cancelled is None else trace.cancelled.sum(axis=(1, 2))
    )
    unmet = demand - same_day - cancelled
    add("lost_units", cancelled if model.backorder else cancelled + unmet)
    if model.backorder:
        add("backordered_units", unmet)
    add("on_hand", trace.on_hand.sum(axis=(1, 2)))
    shipped, on_time = deliveries_by_day(trace)
    add("orders_shipped", shipped)
    add("on_time", on_time)
    add("revenue", sold @ catalog.price)
    add("cost_product", sold @ catalog.unit_cost)
    per_day = catalog.referral_per_unit_day
    add(
        "cost_referral",
        sold @ catalog.referral_per_unit if per_day is None else _rowdot(sold, per_day),
    )
    if trace.channel_served is not None:  # channels besides Amazon: by order day
        from sim.channels import channel_days

        ch = channel_days(trace, model, catalog)
        add("demand_units", ch.demand.sum(axis=1))
        add("same_day", ch.sold.sum(axis=1))
        add("sold_units", ch.sold.sum(axis=1))
        add("lost_units", (ch.demand - ch.sold).sum(axis=1))
        add("orders_shipped", ch.shipped.sum(axis=1))
        add("on_time", ch.on_time.sum(axis=1))
        add("revenue", ch.revenue.sum(axis=1))
        add("cost_product", ch.product.sum(axis=1))
        add("cost_fulfillment", ch.fulfillment.sum(axis=1))
        add("cost_mcf", ch.mcf.sum(axis=1))
        add("cost_channel", ch.channel.sum(axis=1))
    for i, lane in enumerate(model.lanes):
        orders = trace.orders[i]
        cost = orders @ lane.cost_per_unit
        if lane.cost_per_shipment:
            cost = cost + lane.cost_per_shipment * orders.any(axis=1)
        add("cost_transfer" if lane.is_transfer else "cost_freight", cost)
    returns_rng = streams.new("returns") if catalog.return_rate.any() else None
    for n, node in enumerate(model.nodes):
        units_out = None  # (days, skus), needed for FBA fees and returns only
        if node.fba is not None or (returns_rng is not None and n in trace.shippers):
            units_out = units_shipped(trace, n)
        on_hand = trace.on_hand[:, n]
        add("cost_storage", on_hand @ node.storage_per_unit_day)
        if node.whole_pallets is not None:  # billed on each month's last counted day
            wp = node.whole_pallets
            billed = np.zeros(days)
            pallets = np.maximum(np.ceil(on_hand[wp.days] * wp.pallets_per_unit - EPS), 0.0)
            billed[wp.days] = wp.rate * wp.weights * pallets.sum(axis=1)
            add("cost_storage", billed)
        if node.receiving_per_unit or node.receiving_per_carton:
            received = trace.received[:, n]
            cartons = np.ceil(received / catalog.units_per_carton).sum(axis=1)
            add("cost_receiving", node.receiving_per_unit * received.sum(axis=1))
            add("cost_receiving", node.receiving_per_carton * cartons)
        if n in trace.shippers:
            orders = trace.shippers[n].shipped  # by order day
            add("cost_fulfillment", orders @ node.cost_per_order)
            if node.dated_cost_per_order is not None:
                add("cost_fulfillment", node.dated_cost_per_order * orders.sum(axis=1))
        if node.fixed_cost_per_month:
            add("cost_fixed", np.full(days, node.fixed_cost_per_month / DAYS_PER_MONTH))
        if node.fba is not None:
            _fba_by_day(node.fba, trace, n, units_out, w, add)
        if node.awd is not None:
            for part, by_day in awd_charges(node.awd, trace, model, n).items():
                add(f"cost_{part}", by_day.sum(axis=1))
        if returns_rng is not None and n in trace.shippers:
            returned = returns_rng.binomial(units_out, catalog.return_rate)
            refund = catalog.price - catalog.resellable * catalog.unit_cost
            add("cost_returns", returned @ (refund + node.return_handling_per_unit))
            if node.fba is not None:
                # from each month's first counted day on, less from the next month's
                after = [returns_charges(node.fba, units_out, returned, t).sum() for t in cuts]
                after.append(0.0)
                monthly[:, MONTH_INDEX["cost_returns"]] += -np.diff(after)

    def total(name: str) -> np.ndarray:
        row = daily.get(name)
        if row is None:
            return np.zeros(len(windows))
        return np.add.reduceat(row[w:], cuts - w) if len(windows) else np.zeros(0)

    for name in ADDITIVE:
        monthly[:, MONTH_INDEX[name]] += total(name)
    costs = [MONTH_INDEX[f"cost_{p}"] for p in COST_PARTS]
    monthly[:, MONTH_INDEX["total_cost"]] = monthly[:, costs].sum(axis=1)
    revenue = monthly[:, MONTH_INDEX["revenue"]]
    monthly[:, MONTH_INDEX["profit"]] = revenue - monthly[:, MONTH_INDEX["total_cost"]]
    length = np.array([hi - lo for _, lo, hi in windows], dtype=float)
    monthly[:, MONTH_INDEX["fill_rate"]] = _ratio(total("same_day"), total("demand_units"))
    monthly[:, MONTH_INDEX["avg_on_hand_units"]] = total("on_hand") / length
    monthly[:, MONTH_INDEX["on_time_rate"]] = _ratio(total("on_time"), total("orders_shipped"))
    return monthly


def _fba_by_day(fees, trace: Trace, n: int, shipped: np.ndarray, warmup: int, add) -> None:
    """FBA charges of node ``n`` by the day they accrue (as ``charges.fba_charges``)."""
    on_hand, received = trace.on_hand[:, n], trace.received[:, n]
    add("cost_fulfillment", rowdot(shipped, fees.fulfillment_by_period, fees.period_of_day))
    add("cost_storage", rowdot(on_hand, fees.storage_by_piece, fees.storage_piece_of_day))
    add("cost_placement", rowdot(received, fees.placement_by_period, fees.period_of_day))
    aged = np.zeros(on_hand.shape[0])
    for t, charge in aged_snapshots(fees, on_hand, received, trace.initial[n], warmup):
        aged[t] += charge.sum()
    add("cost_aged_inventory", aged)
    first, rate = lil_rates(fees, on_hand, shipped, warmup)
    if rate is not None:
        add("cost_low_inventory", _rowdot(shipped[first:], rate), first)


def _rowdot(units: np.ndarray, rate: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", units, rate, dtype=float)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(den.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def check_months(months: np.ndarray, total: np.ndarray, strategy: str) -> None:
    """Raise when the months of an additive metric do not sum to the run's total (float
    rounding aside): a cost or count that ``measure_months`` does not date."""
    for name in ADDITIVE:
        if name not in INDEX:
            continue
        got, want = months[:, MONTH_INDEX[name]].sum(), total[INDEX[name]]
        if not np.isclose(got, want, rtol=1e-9, atol=1e-6):
            raise RuntimeError(
                f"strategy {strategy!r}: months of {name} sum to {got!r}, the run to {want!r}"
            )
