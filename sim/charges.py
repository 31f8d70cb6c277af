"""Amazon FBA charges of one FBA node over one simulated replication, from daily arrays.

Two phases:

* :func:`build_fba_fees` runs once per scenario. It prices every SKU on every day of the
  calendar with the fee calculator of :mod:`sim.fees`, but only once per *fee period*: fees
  change only where a dated entry of the fee tables starts or ends (``effective_from`` /
  ``effective_to``, surcharge dates included), at the edges of a peak window and, for storage,
  at month changes. The calendar is cut at those dates and each piece is priced on its first day;
  the tables hold one row per piece (``period_of_day`` maps a day to its row).
* :func:`fba_charges` and :func:`returns_charges` run once per replication: vectorized numpy on
  the replication's ``(days, skus)`` arrays, summed over the counted days ``t >= warmup``; a
  large catalog's daily rates are built and summed a block of days (``sim.blocks``), and its
  inventory ages a block of SKUs, at a time.

Conventions (day ``t`` is ``start + t``; all arrays are ``(days, skus)`` unless said otherwise):

* ``on_hand[t]``: sellable units at the node at the end of day ``t``; ``received[t]``: units
  that became sellable at the start of day ``t``; ``shipped[t]``: units shipped to customers on
  day ``t``; ``initial``: units on hand at the start of day 0, counted as received on day 0
  for inventory age (age 0 on day 0) but never charged a placement fee.
* Fulfilment: ``shipped[t] x fee(t)``, peak surcharge, low-price rate and fuel surcharge included.
* Storage: ``on_hand[t] x monthly rate per cu ft x cu ft / days in that calendar month``. Amazon
  bills the month on the daily average volume; summing the daily form over a month is the same.
  The storage utilization surcharge is not modelled (no 2024+ amounts known).
* Aged inventory: on the snapshot days (the 15th of each month of the calendar), inventory age
  is FIFO, so the units older than ``a`` days are the on-hand units not covered by the receipts
  of the last ``a`` days: ``N(a) = max(0, on_hand[t] - sum(received[t-a+1 .. t]))`` (``initial``
  added to ``received[0]``), and ``N(a) = 0`` for ``a > t``. A band ``lo..hi`` holds
  ``N(lo) - N(hi + 1)`` units, each charged :func:`sim.fees.aged_inventory_fee` of the band (per
  cu ft, per-unit minimum where the band has one, category exemptions) of the table in force.
* Low-inventory-level fee (LIL): per unit shipped on day ``t`` when the historical days of supply
  is below 28 on both the 30-day and the 90-day window ending on day ``t - 1`` (days of supply =
  average on hand / average units shipped over the window = the ratio of the window sums;
  windows are cut at day 0 at the start of the run; no shipments in a window means no fee). The
  rate is :func:`sim.fees.low_inventory_fee` on the larger of the two (the data's bands stop at
  28 days). Not charged on the first 30 days of the calendar, nor on a day after fewer than 20
  units shipped over days ``t - 7 .. t - 1`` (Amazon exemption from 2024-05-15), nor before
  2024-05-15 (Amazon credited all charges of 2024-04-01..2024-05-14). Computed per SKU and
  per node (Amazon: per parent ASIN in 2024, per FNSKU from 2026, on the whole FBA network).
* Placement: ``received[t] x`` :func:`sim.fees.inbound_placement_fee` on day ``t`` (Amazon bills
  it 45 days after receipt; the timing is ignored). ``amazon_optimized`` is free.
* Returns (:func:`returns_charges`): per calendar month, units returned that month against units
  shipped that month (Amazon compares the returns of the ship month and the next 2 months; this
  is the steady-state equivalent), through the rules of
  :func:`sim.fees.returns_processing_charge`, vectorized.

Unverified inputs (see ``sim/fees/data/us.yaml``, each block's ``caveat``): LIL rates are
secondary-source (Amazon's rate page not seen) and no 2026 LIL table is known, so the 2024-25
rates are carried on and, from 2026-01-15, small and large bulky pay an estimate (the
large-standard > 3 lb rates); aged-inventory bands above 365 days are
unverified; 2026 placement fees come from one secondary source; the returns fee per unit is
assumed to be the non-peak fulfilment fee and the category thresholds are secondary examples.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.blocks import carried_sums, day_blocks
from sim.fees import (
    FeeTables,
    Product,
    aged_inventory_fee,
    cubic_feet,
    default_tables,
    fulfillment_fee_table,
    inbound_placement_fee,
    low_inventory_fee,
    monthly_storage_rate,
    returns_processing_charge,
)
from sim.fees.tables import as_date

__all__ = ["CHARGE_KEYS", "FbaFees", "build_fba_fees", "fba_charges", "returns_charges"]

CHARGE_KEYS = ("fulfillment", "storage", "aged_inventory", "low_inventory", "placement")

AGED_SNAPSHOT_DAY = 15
LIL_WINDOWS = (30, 90)
LIL_FIRST_DAY = 30  # no LIL charge on the first 30 days of the calendar
LIL_EXEMPT_WINDOW = 7
LIL_EXEMPT_BELOW_UNITS = 20
LIL_CHARGED_FROM = dt.date(2024, 5, 15)  # charges 2024-04-01..2024-05-14 were credited
_NO_BAND = 10**9  # lower/upper age of padding bands (never reached)


@dataclass(frozen=True, eq=False)
class FbaFees:
    """Per-day, per-SKU FBA rates of one FBA node over the calendar (numpy arrays).

    Rate periods are the pieces of the calendar over which the fulfilment fee, size tier,
    placement and LIL rates are constant; ``period_of_day`` maps a day to its period.
    """

    start: dt.date
    days: int
    categories: tuple[str | None, ...]
    placement_option: str
    fulfillment_by_period: np.ndarray  # (periods, skus) USD per unit shipped (peak, low-price,
    # fuel incl.)
    storage_by_piece: np.ndarray  # (pieces, skus) USD per unit on hand at the end of a day
    storage_piece_of_day: np.ndarray  # (days,) storage piece (period cut at month changes)
    placement_by_period: np.ndarray  # (periods, skus) USD per unit received
    cubic_feet: np.ndarray  # (skus,)
    period_start: np.ndarray  # (periods,) first day of each rate period
    period_of_day: np.ndarray  # (days,) rate period of each day
    size_tier: np.ndarray  # (periods, skus) str
    shipping_weight_lb: np.ndarray  # (periods, skus)
    base_fee: np.ndarray  # (periods, skus) non-peak card fee (returns fee per unit)
    aged_days: np.ndarray  # (snapshots,) day index of each 15th-of-month snapshot
    aged_min_days: np.ndarray  # (snapshots, bands) first age of each band (padded: huge)
    aged_next_days: np.ndarray  # (snapshots, bands) last age + 1 (open band / padded: huge)
    aged_per_unit: np.ndarray  # (snapshots, bands, skus) USD per unit in the band
    lil_thresholds: np.ndarray  # (k,) days-of-supply band edges, increasing
    lil_per_unit: np.ndarray | None  # (periods, k + 1, skus) USD per unit shipped; None = off
    lil_first_day: int  # first day the LIL fee can be charged
    month_start: np.ndarray  # (months + 1,) first day of each calendar month piece, then days
    returns_charged: np.ndarray  # (skus,) bool: has a category (None is not charged)
    returns_every_unit: np.ndarray  # (skus,) bool: every returned unit is charged
    returns_threshold: np.ndarray  # (skus,) allowed return rate (0 where unused)
    returns_min_units: int  # no fee below this many units shipped in the month

    @property
    def skus(self) -> int:
        """Number of SKUs."""
        return self.cubic_feet.shape[0]

    # The daily rates, (days, skus), built on demand: the charges price the days a block at a
    # time from the per-period tables (at 10,000 SKUs a daily table is 29 MB).

    @property
    def fulfillment(self) -> np.ndarray:
        """(days, skus) USD per unit shipped on each day."""
        return self.fulfillment_by_period[self.period_of_day]

    @property
    def storage_per_unit_day(self) -> np.ndarray:
        """(days, skus) USD per unit on hand at the end of each day."""
        return self.storage_by_piece[self.storage_piece_of_day]

    @property
    def placement_per_unit(self) -> np.ndarray:
        """(days, skus) USD per unit received on each day."""
        return self.placement_by_period[self.period_of_day]


def build_fba_fees(
    products: Sequence[Product],
    categories: Sequence[str | None],
    start: dt.date,
    days: int,
    *,
    placement: str = "amazon_optimized",
    aged_inventory: bool = True,
    low_inventory: bool = True,
    tables: FeeTables | None = None,
) -> FbaFees:
    """Price every SKU of an FBA node on every day of ``start .. start + days - 1``.

    ``categories`` (one per product) drive aged-inventory exemptions and returns fees (None:
    no exemption, no returns fee). ``placement`` is the inbound placement option
    (``amazon_optimized``, ``partial`` or ``minimal``). ``aged_inventory=False`` or
    ``low_inventory=False`` switch those charges off. Raises FeeError (from :mod:`sim.fees`)
    when a day is outside every fee schedule (fulfilment fees start 2024-04-15; with any SKU
    that has a category, the returns table too, from 2024-06-01), a product fits no size tier, a
    placement fee or a category is unknown, etc.; ValueError on inconsistent arguments.
    """
    t = tables or default_tables()
    start = as_date(start)
    n = len(products)
    if len(categories) != n:
        raise ValueError(f"{n} products but {len(categories)} categories")
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    cats = tuple(categories)
    cu_ft = np.array([cubic_feet(p) for p in products], dtype=float).reshape(n)

    # Rate periods: fulfilment fee, tier, placement and LIL rates are constant within each.
    period_start = _cut_days(start, days, _table_breakpoints(t.data, start, days))
    period_of_day = np.searchsorted(period_start, np.arange(days), side="right") - 1
    periods = len(period_start)
    fee = np.zeros((periods, n))
    base = np.zeros((periods, n))
    weight = np.zeros((periods, n))
    tier = np.empty((periods, n), dtype=object)
    sizes: dict = {}  # each product's tier and shipping weight, once per size-tier table
    for p, first in enumerate(period_start):
        tier[p], weight[p], base[p], fee[p] = fulfillment_fee_table(
            products, dates[first], tables=t, sizes=sizes
        )
    tier = tier.astype(str)

    # Storage: also cut at month changes (rate by month and size class, / days in month).
    month_start = _cut_days(start, days, _month_starts(start, days))
    storage_start = np.union1d(period_start, month_start)
    storage = np.zeros((len(storage_start), n))
    for s, first in enumerate(storage_start):
        on, p = dates[first], period_of_day[first]
        in_month = calendar.monthrange(on.year, on.month)[1]
        rate = {name: monthly_storage_rate(name, on, tables=t) for name in set(tier[p])}
        storage[s] = np.array([rate[name] for name in tier[p]]) * cu_ft / in_month
    storage_of_day = np.searchsorted(storage_start, np.arange(days), side="right") - 1

    place = np.zeros((periods, n))
    for p, first in enumerate(period_start):
        cache: dict[tuple[str, float], float] = {}
        for j in range(n):
            key = (tier[p, j], weight[p, j])
            if key not in cache:
                cache[key] = inbound_placement_fee(*key, placement, dates[first], tables=t)
            place[p, j] = cache[key]

    aged = _aged_tables(t, dates, cu_ft, cats) if aged_inventory else _no_aged(n)

    lil_thresholds = _lil_thresholds(t)
    lil = None
    if low_inventory:
        edges = [0.0, *lil_thresholds]
        lil = np.zeros((periods, len(edges), n))
        for p, first in enumerate(period_start):
            cache_lil: dict[tuple[str, float], list[float]] = {}
            for j in range(n):
                key = (tier[p, j], weight[p, j])
                if key not in cache_lil:
                    cache_lil[key] = [
                        low_inventory_fee(*key, edge, dates[first], tables=t) for edge in edges
                    ]
                lil[p, :, j] = cache_lil[key]
    charged_from = (LIL_CHARGED_FROM - start).days

    returns = _returns_rules(t, products, cats, [dates[i] for i in month_start])
    return FbaFees(
        start=start,
        days=days,
        categories=cats,
        placement_option=placement,
        fulfillment_by_period=fee,
        storage_by_piece=storage,
        storage_piece_of_day=storage_of_day,
        placement_by_period=place,
        cubic_feet=cu_ft,
        period_start=period_start,
        period_of_day=period_of_day,
        size_tier=tier,
        shipping_weight_lb=weight,
        base_fee=base,
        aged_days=aged[0],
        aged_min_days=aged[1],
        aged_next_days=aged[2],
        aged_per_unit=aged[3],
        lil_thresholds=np.array(lil_thresholds, dtype=float),
        lil_per_unit=lil,
        lil_first_day=max(LIL_FIRST_DAY, charged_from),
        month_start=np.append(month_start, days),
        returns_charged=returns[0],
        returns_every_unit=returns[1],
        returns_threshold=returns[2],
        returns_min_units=returns[3],
    )


def fba_charges(
    fees: FbaFees,
    on_hand: np.ndarray,
    received: np.ndarray,
    shipped: np.ndarray,
    initial: np.ndarray,
    warmup: int,
) -> dict[str, np.ndarray]:
    """USD charged per SKU over the counted days ``t >= warmup`` of one replication.

    ``on_hand``, ``received`` and ``shipped`` are ``(days, skus)`` unit counts at the node (see
    the module docstring), ``initial`` the ``(skus,)`` units on hand at the start of day 0.
    Returns a dict of ``(skus,)`` float arrays keyed ``fulfillment``, ``storage``,
    ``aged_inventory``, ``low_inventory`` and ``placement``.
    """
    on_hand, received, shipped = (np.asarray(a) for a in (on_hand, received, shipped))
    shape = (fees.days, fees.skus)
    for name, array in (("on_hand", on_hand), ("received", received), ("shipped", shipped)):
        if array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
    if not 0 <= warmup <= fees.days:
        raise ValueError(f"warmup must be in 0..{fees.days}, got {warmup}")
    w = warmup
    return {
        "fulfillment": _dot(shipped, fees.fulfillment_by_period, fees.period_of_day, w),
        "storage": _dot(on_hand, fees.storage_by_piece, fees.storage_piece_of_day, w),
        "aged_inventory": _aged_charge(fees, on_hand, received, initial, w),
        "low_inventory": _lil_charge(fees, on_hand, shipped, w),
        "placement": _dot(received, fees.placement_by_period, fees.period_of_day, w),
    }


def rowdot(units: np.ndarray, table: np.ndarray, of_day: np.ndarray) -> np.ndarray:
    """(days,) ``sum_j units[t, j] * table[of_day[t], j]``: each day's charge over the SKUs,
    the daily rates built a block of days at a time."""
    out = np.empty(units.shape[0])
    for lo, hi in day_blocks(0, units.shape[0], units.shape[1]):
        out[lo:hi] = np.einsum("ij,ij->i", units[lo:hi], table[of_day[lo:hi]], dtype=float)
    return out


def returns_charges(
    fees: FbaFees, shipped: np.ndarray, returned: np.ndarray, warmup: int
) -> np.ndarray:
    """Returns processing fees per SKU (USD, ``(skus,)``) over the counted days of a run.

    For each calendar month (its days ``>= warmup`` only, so the first and last months may be
    partial), the units shipped and the units returned (``returned[t]``: returns received on day
    ``t``) that month go through the rules of :func:`sim.fees.returns_processing_charge`: every
    returned unit for apparel and shoes, else the returns above the category's threshold share
    of units shipped, nothing when fewer than 25 units shipped; times the non-peak fulfilment fee
    in force on the month's first counted day, rounded to the cent. A SKU whose category is None
    is not charged (0).
    """
    shipped, returned = np.asarray(shipped), np.asarray(returned)
    total = np.zeros(fees.skus)
    for lo, hi in _month_pieces(fees, warmup):
        units = shipped[lo:hi].sum(axis=0)
        back = returned[lo:hi].sum(axis=0)
        allowed = np.floor(fees.returns_threshold * units)
        over = np.where(units < fees.returns_min_units, 0, np.maximum(0, back - allowed))
        charged = np.where(fees.returns_every_unit, back, over) * fees.returns_charged
        total += np.round(charged * fees.base_fee[fees.period_of_day[lo]], 2)
    return total


# --- per-replication pieces --------------------------------------------------------------


def _dot(units: np.ndarray, table: np.ndarray, of_day: np.ndarray, warmup: int) -> np.ndarray:
    """(skus,) ``sum_{t >= warmup} units[t] * table[of_day[t]]``. A large catalog goes a block
    of days at a time, each block's first row carrying the sum so far, so that every SKU's sum
    still runs day by day in order: the same float sums as one einsum over the whole daily
    table (which sums day by day whenever there are several SKUs, the only case with several
    blocks)."""
    blocks = list(day_blocks(warmup, units.shape[0], units.shape[1]))
    if len(blocks) == 1:
        return np.einsum("ij,ij->j", units[warmup:], table[of_day[warmup:]], dtype=float)
    priced = (units[lo:hi] * table[of_day[lo:hi]] for lo, hi in blocks)
    return carried_sums(priced, units.shape[1])


def _aged_charge(
    fees: FbaFees, on_hand: np.ndarray, received: np.ndarray, initial: np.ndarray, warmup: int
) -> np.ndarray:
    total = np.zeros(fees.skus)
    for _, charge in aged_snapshots(fees, on_hand, received, initial, warmup):
        total += charge
    return total


def aged_snapshots(
    fees: FbaFees, on_hand: np.ndarray, received: np.ndarray, initial: np.ndarray, warmup: int
) -> Iterator[tuple[int, np.ndarray]]:
    """(day, (skus,) USD) of each aged-inventory snapshot on a counted day ``>= warmup``.
    Worked out ``SKU_BLOCK`` SKUs at a time (every SKU's ages are its own)."""
    counted = np.flatnonzero(fees.aged_days >= warmup)
    if not len(counted):
        return
    charge = np.zeros((len(counted), fees.skus))
    for lo in range(0, fees.skus, SKU_BLOCK):
        cols = slice(lo, lo + SKU_BLOCK)
        arrivals = np.array(received[:, cols], dtype=np.int64)
        arrivals[0] += np.asarray(initial[cols], dtype=np.int64)
        cum = np.cumsum(arrivals, axis=0)  # cum[t] = units received on days 0..t
        for i, k in enumerate(counted):
            t = int(fees.aged_days[k])
            older = _older_than(fees.aged_min_days[k], t, on_hand[t, cols], cum)
            newer = _older_than(fees.aged_next_days[k], t, on_hand[t, cols], cum)
            charge[i, cols] = ((older - newer) * fees.aged_per_unit[k][:, cols]).sum(axis=0)
    for i, k in enumerate(counted):
        yield int(fees.aged_days[k]), charge[i]


def _older_than(ages: np.ndarray, t: int, on_hand: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """(bands, skus) units on hand on day t aged >= each age (FIFO), 0 for ages above t."""
    valid = ages <= t
    before = cum[np.where(valid, t - ages, 0)]  # received on days <= t - age
    recent = cum[t] - before
    return np.where(valid[:, None], np.maximum(0, on_hand - recent), 0)


def _lil_charge(fees: FbaFees, on_hand: np.ndarray, shipped: np.ndarray, warmup: int) -> np.ndarray:
    total = np.zeros(fees.skus)
    first, cols, rate = _lil_payers(fees, on_hand, shipped, warmup)
    if rate is not None:
        # C order, as the full array's: einsum then sums each column day by day in order
        units = np.ascontiguousarray(np.asarray(shipped)[first:, cols])
        total[cols] = np.einsum("ij,ij->j", units, rate, dtype=float)
    return total


def lil_rates(
    fees: FbaFees, on_hand: np.ndarray, shipped: np.ndarray, warmup: int
) -> tuple[int, np.ndarray | None]:
    """The first day charged and the ``(days - first, skus)`` LIL fee per unit shipped on each
    day from it (None when no day is charged)."""
    first, cols, rate = _lil_payers(fees, on_hand, shipped, warmup)
    if rate is None:
        return first, None
    full = np.zeros((fees.days - first, fees.skus))
    full[:, cols] = rate
    return first, full


LIL_BLOCK = 256  # SKUs priced at once: each (days, block) temporary fits in the CPU cache
SKU_BLOCK = 1024  # SKUs whose inventory ages are worked out at once


def _lil_payers(
    fees: FbaFees, on_hand: np.ndarray, shipped: np.ndarray, warmup: int
) -> tuple[int, np.ndarray, np.ndarray | None]:
    """The first day charged, the SKUs that pay a LIL fee on some day (indices, increasing) and
    their ``(days - first, payers)`` fee per unit shipped on each day from it (None when no
    day is charged). A SKU pays on no day on which fewer than ``LIL_EXEMPT_BELOW_UNITS`` units
    shipped over the previous ``LIL_EXEMPT_WINDOW`` days, so most slow movers are skipped
    before their days of supply are worked out; the others go in blocks of ``LIL_BLOCK``."""
    first = max(fees.lil_first_day, warmup)
    none = np.zeros(0, dtype=np.int64)
    if fees.lil_per_unit is None or first >= fees.days:
        return first, none, None
    days = np.arange(first, fees.days)  # window of day t: days max(0, t - W) .. t - 1
    sold_days = np.asarray(shipped)[: fees.days - 1]
    zero = np.zeros((1, LIL_BLOCK))
    cols, rates = [], []
    for lo in range(0, fees.skus, LIL_BLOCK):
        block = slice(lo, lo + LIL_BLOCK)
        sold = sold_days[:, block]
        cum_sh = np.concatenate([zero[:, : sold.shape[1]], np.cumsum(sold, axis=0, dtype=float)])
        charged = cum_sh[days] - cum_sh[days - LIL_EXEMPT_WINDOW] >= LIL_EXEMPT_BELOW_UNITS
        payers = np.flatnonzero(charged.any(axis=0))
        if not len(payers):
            continue
        rate = _lil_block(fees, on_hand[:, lo + payers], cum_sh[:, payers], days, lo + payers)
        rate[~charged[:, payers]] = 0.0
        cols.append(lo + payers)
        rates.append(rate)
    if not cols:
        return first, none, np.zeros((len(days), 0))
    return first, np.concatenate(cols), np.concatenate(rates, axis=1)


def _lil_block(
    fees: FbaFees, on_hand: np.ndarray, cum_sh: np.ndarray, days: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """The LIL fee per unit shipped of the SKUs ``cols`` on ``days`` by their days of supply
    (before the exemption): ``on_hand`` and ``cum_sh`` (shipped, cumulated from day 0, with a
    leading row of 0) are those SKUs' columns."""
    zero = np.zeros((1, len(cols)))
    cum_on = np.concatenate([zero, np.cumsum(on_hand[:-1], axis=0, dtype=float)])
    supply = []
    for window in LIL_WINDOWS:
        lo = np.maximum(0, days - window)
        sold = cum_sh[days] - cum_sh[lo]
        stock = cum_on[days] - cum_on[lo]
        supply.append(np.divide(stock, sold, out=np.full_like(stock, np.inf), where=sold > 0))
    days_of_supply = np.maximum(*supply)
    band = np.searchsorted(fees.lil_thresholds, days_of_supply, side="right")
    return fees.lil_per_unit[fees.period_of_day[days][:, None], band, cols]


def _month_pieces(fees: FbaFees, warmup: int) -> Iterator[tuple[int, int]]:
    for lo, hi in zip(fees.month_start[:-1], fees.month_start[1:], strict=True):
        lo = max(int(lo), warmup)
        if lo < hi:
            yield lo, int(hi)


# --- build helpers ------------------------------------------------------------------------


def _table_breakpoints(data: object, start: dt.date, days: int) -> set[dt.date]:
    """Every date on which some dated entry of the tables starts or stops applying, and the
    edges of every peak window in the years around the calendar."""
    found: set[dt.date] = set()
    years = range(start.year - 1, (start + dt.timedelta(days=days)).year + 2)

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "effective_from" and isinstance(value, dt.date):
                    found.add(value)
                elif key == "effective_to" and isinstance(value, dt.date):
                    found.add(value + dt.timedelta(days=1))
                elif key == "window" and isinstance(value, Mapping):
                    for year in years:
                        found.update(_window_edges(value, year))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return found


def _window_edges(window: Mapping, year: int) -> set[dt.date]:
    edges = set()
    for key, shift in (("from", 0), ("to", 1)):
        month, day = (int(x) for x in str(window[key]).split("-"))
        try:
            edges.add(dt.date(year, month, day) + dt.timedelta(days=shift))
        except ValueError:  # 02-29 in a common year
            continue
    return edges


def _month_starts(start: dt.date, days: int) -> set[dt.date]:
    end = start + dt.timedelta(days=days)
    firsts, year, month = set(), start.year, start.month
    while (first := dt.date(year, month, 1)) < end:
        firsts.add(first)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return firsts


def _cut_days(start: dt.date, days: int, dates: set[dt.date]) -> np.ndarray:
    """Day 0 and the day index of every date strictly inside the calendar, sorted."""
    inside = {(d - start).days for d in dates if 0 < (d - start).days < days}
    return np.array(sorted({0} | inside), dtype=np.int64)


def _aged_tables(
    t: FeeTables, dates: list[dt.date], cu_ft: np.ndarray, cats: tuple[str | None, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    section = t["aged_inventory_surcharge"]
    snaps = [i for i, d in enumerate(dates) if d.day == AGED_SNAPSHOT_DAY]
    versions = [t.in_force(section["versions"], dates[i], "aged-inventory table") for i in snaps]
    width = max((len(v["bands"]) for v in versions), default=0)
    n = len(cats)
    lows = np.full((len(snaps), width), _NO_BAND, dtype=np.int64)
    nexts = np.full((len(snaps), width), _NO_BAND, dtype=np.int64)
    per_unit = np.zeros((len(snaps), width, n))
    priced: dict[int, np.ndarray] = {}
    for k, (i, version) in enumerate(zip(snaps, versions, strict=True)):
        bands = version["bands"]
        for b, band in enumerate(bands):
            lows[k, b] = band["min_days"]
            nexts[k, b] = band["max_days"] + 1 if "max_days" in band else _NO_BAND
        if id(version) not in priced:  # the fee depends on the date only through the version
            priced[id(version)] = np.array(
                [
                    [
                        aged_inventory_fee(
                            cu_ft[j], band["min_days"], dates[i], category=cats[j], tables=t
                        )
                        for j in range(n)
                    ]
                    for band in bands
                ]
            ).reshape(len(bands), n)
        per_unit[k, : len(bands)] = priced[id(version)]
    return np.array(snaps, dtype=np.int64), lows, nexts, per_unit


def _no_aged(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    empty = np.zeros((0, 0), dtype=np.int64)
    return np.zeros(0, dtype=np.int64), empty, empty, np.zeros((0, 0, n))


def _lil_thresholds(t: FeeTables) -> list[float]:
    versions = t["low_inventory_level_fee"]["versions"]
    rows = [row for version in versions for row in version["rates_per_unit"]]
    return sorted({float(band["below_days"]) for row in rows for band in row["bands"]})


def _returns_rules(
    t: FeeTables,
    products: Sequence[Product],
    cats: tuple[str | None, ...],
    month_firsts: list[dt.date],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    section = t["returns_processing_fee"]
    min_units = int(section["min_units_shipped"])
    # Validate each category on each month's first day through the calculator itself (FeeError
    # for an unknown category or a date the returns table does not cover).
    # Categories without a return-rate rule (e.g. books) pay no returns processing fee.
    known = set(section["thresholds"]) | set(section["every_return_categories"])
    cats = tuple(cat if cat in known else None for cat in cats)
    probes = {cat: products[j] for j, cat in reversed(list(enumerate(cats))) if cat is not None}
    for cat, product in probes.items():
        for on in month_firsts:
            returns_processing_charge(product, on, cat, min_units, 0, tables=t)
    charged = np.array([cat is not None for cat in cats], dtype=bool)
    every = np.array([cat in section["every_return_categories"] for cat in cats], dtype=bool)
    threshold = np.array([section["thresholds"].get(cat, 0.0) for cat in cats], dtype=float)
    return charged, every, threshold, min_units
