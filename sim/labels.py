"""Seller-shipped carrier labels and 3PL whole-pallet storage: what a seller node pays.

Labels are priced on the billable weight of the package (an order of ``units_per_order`` units
is one package holding their total weight and volume):

    billable = ⌈max(weight, L × W × H ÷ dim_divisor)⌉ whole pounds   (dim_divisor 0: weight only)

UPS: "Divide the cubic size of your package in inches by 139 to determine the dimensional
weight in pounds. Increase any fraction to the next whole pound … The larger of the two weights
is the billable weight" (ups.com/content/cb/en/resources/ship/packaging/dim_weight.html, UPS
Daily Rates); FedEx and UPS moved their daily-rate divisor from 166 to 139 in January 2017
(Post & Parcel, 2016-11-21, postandparcel.info/76688). Verification: carrier pages and trade
press read 2026-12, not re-checked against the current service guides; the divisor is a
per-node input (contracts often negotiate 166 or more), so 139 ships as an overridable default.

The label's price is either linear (``label_cost_per_order`` + ``label_cost_per_lb`` × billable
pounds) or read from a rate table by billable-weight band × carrier zone, averaged over the
node's ``zones`` (share of orders per zone: the mean cost is exact, the spread across orders is
not modelled). ``surcharges`` add a fuel percentage of that base, a residential charge per
package and peak charges per package on the order days inside their date ranges.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

MAX_RATE_FILE_BYTES = 1_000_000
MAX_BANDS = 1_000
MAX_ZONES = 100
DEFAULT_DIM_DIVISOR = 139.0  # UPS / FedEx daily rates, cubic inches per lb (sources above)
EPS = 1e-9  # 20.000000001 lb from float rounding is 20 lb, not 21


# --------------------------------------------------------------------------- billable weight


def billable_weight(
    weight_lb: np.ndarray, cubic_in: np.ndarray, divisor: float, units_per_order: np.ndarray
) -> np.ndarray:
    """(skus,) whole pounds a carrier bills for one order's package.

    ``max(weight, volume ÷ divisor)`` rounded up to the next whole pound, where the package of
    an order holds ``units_per_order`` units (weight and volume scale with it); ``divisor`` 0
    bills the actual weight alone (still rounded up).
    """
    weight = np.asarray(weight_lb, dtype=float) * units_per_order
    if divisor > 0:
        weight = np.maximum(weight, np.asarray(cubic_in, dtype=float) * units_per_order / divisor)
    return np.maximum(1.0, np.ceil(weight - EPS))


# --------------------------------------------------------------------------- rate tables


def parse_rate_table(text: str, shown: str) -> dict[float, dict[int, float]]:
    """A rate table from a CSV file's text (read with ``sim.scenario_files``, which confines
    it to the scenario's folder and bounds its size by ``MAX_RATE_FILE_BYTES``):
    ``{max_lb: {zone: price}}``.

    Format: a header ``max_lb,zone_2,zone_3,…`` (a zone column is ``zone_N`` or ``N``), then one
    row per weight band: the band's largest billable weight in pounds and its price in each
    zone. Blank lines and lines starting with ``#`` are skipped. Problems are
    ``file:line: problem``.
    """
    header: list[int] | None = None
    bands: dict[float, dict[int, float]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        cells = [c.strip() for c in line.split(",")]
        if not any(cells) or cells[0].startswith("#"):
            continue
        at = f"{shown}:{n}"
        if header is None:
            header = _header(cells, at)
            continue
        if len(cells) != len(header) + 1:
            raise ValueError(f"{at}: {len(cells)} cells; the header has {len(header) + 1}")
        max_lb = _number(cells[0], at, "max_lb")
        if not 0 < max_lb <= 10_000:
            raise ValueError(f"{at}: max_lb must be > 0 and ≤ 10,000 (got {cells[0]})")
        if max_lb in bands:
            raise ValueError(f"{at}: band max_lb {cells[0]} is given twice")
        prices = {}
        for zone, cell in zip(header, cells[1:], strict=True):
            price = _number(cell, at, f"zone_{zone}")
            if not 0 <= price <= 10_000:
                raise ValueError(f"{at}: zone_{zone} price must be ≥ 0 and ≤ 10,000 (got {cell})")
            prices[zone] = price
        bands[max_lb] = prices
        if len(bands) > MAX_BANDS:
            raise ValueError(f"{at}: more than {MAX_BANDS:,} weight bands")
    if header is None or not bands:
        raise ValueError(f"{shown}: no rate rows (header max_lb,zone_2,…, then one row a band)")
    return bands


def _header(cells: list[str], at: str) -> list[int]:
    if cells[0].lower() != "max_lb":
        raise ValueError(f"{at}: the header must start with max_lb (got {cells[0]!r})")
    zones = []
    for cell in cells[1:]:
        name = cell.lower().removeprefix("zone_").removeprefix("zone ")
        if not name.isdigit() or not 1 <= int(name) <= 99:
            raise ValueError(f"{at}: {cell!r} is not a zone column (zone_2 … zone_99)")
        if int(name) in zones:
            raise ValueError(f"{at}: zone {int(name)} is given twice")
        zones.append(int(name))
    if not zones:
        raise ValueError(f"{at}: no zone columns after max_lb")
    if len(zones) > MAX_ZONES:
        raise ValueError(f"{at}: more than {MAX_ZONES} zone columns")
    return zones


def _number(cell: str, at: str, column: str) -> float:
    try:
        x = float(cell)
    except ValueError:
        raise ValueError(f"{at}: {cell!r} is not a number ({column})") from None
    if not math.isfinite(x):
        raise ValueError(f"{at}: {cell!r} is not a finite number ({column})")
    return x


def check_zones(bands: dict[float, dict[int, float]], zones: dict[int, float]) -> str | None:
    """Why the rate table cannot price every zone with a share of orders, or None."""
    for max_lb, prices in sorted(bands.items()):
        missing = [z for z, share in zones.items() if share > 0 and z not in prices]
        if missing:
            shown = ", ".join(str(z) for z in sorted(missing))
            return f"the band up to {max_lb:g} lb has no price for zone {shown}"
    return None


def expected_price(
    bands: dict[float, dict[int, float]], zones: dict[int, float], billable: np.ndarray
) -> tuple[np.ndarray, list[int]]:
    """(skus,) expected table price over the zones for each billable weight, and the indices
    of the SKUs heavier than the table's largest band (priced 0 there)."""
    limits = np.array(sorted(bands))
    means = np.array(
        [math.fsum(bands[b].get(z, 0.0) * s for z, s in zones.items()) for b in limits]
    )
    band = np.searchsorted(limits, billable - EPS, side="left")
    over = [int(j) for j in np.flatnonzero(band >= len(limits))]
    return np.where(band < len(limits), means[np.minimum(band, len(limits) - 1)], 0.0), over


# --------------------------------------------------------------------------- per-order cost


@dataclass(frozen=True)
class LabelCost:
    """A seller node's label cost per order: a part per SKU, and a dated part per order day."""

    per_order: np.ndarray  # (skus,) every day
    by_day: np.ndarray | None  # (days,) added on the order days of a peak surcharge


def label_cost(node, catalog, calendar, ships: np.ndarray | None = None) -> LabelCost:
    """The label cost per order of a seller node (``fbm``, ``sfp``, ``3pl``) for every SKU.

    Raises ValueError naming the SKUs the node ships (``ships``, a (skus,) mask; default all)
    that a rate table cannot price (heavier than its last band).
    """
    billable = billable_weight(
        catalog.weight_lb, catalog.cubic_feet * 1728.0, node.dim_divisor, catalog.units_per_order
    )
    if node.label_rates is not None:
        base, over = expected_price(node.label_rates.bands, node.zones, billable)
        over = [j for j in over if ships is None or ships[j]]
        if over:
            top = max(node.label_rates.bands)
            shown = ", ".join(f"{catalog.ids[j]} ({billable[j]:g} lb)" for j in over[:5]) + (
                " …" if len(over) > 5 else ""
            )
            raise ValueError(
                f"the rate table's largest band is {top:g} lb; billable weight above it: {shown}"
            )
    else:
        base = node.label_cost_per_order + node.label_cost_per_lb * billable
    s = node.surcharges
    if s is None:
        return LabelCost(base, None)
    per_order = base * (1 + s.fuel_percent / 100) + s.residential_per_package
    peak = peak_by_day(s.peak, calendar.start, calendar.days)
    return LabelCost(per_order, peak if peak.any() else None)


def peak_by_day(peaks, start: dt.date, days: int) -> np.ndarray:
    """(days,) peak surcharge per package on each day of the run (ranges inclusive)."""
    out = np.zeros(days)
    day0 = np.datetime64(start, "D")
    for p in peaks:
        lo = int((np.datetime64(p.start, "D") - day0).astype(int))
        hi = int((np.datetime64(p.end, "D") - day0).astype(int)) + 1
        out[max(lo, 0) : max(min(hi, days), 0)] += p.per_package
    return out


# --------------------------------------------------------------------------- whole pallets


@dataclass(frozen=True)
class WholePallets:
    """3PL storage billed per whole pallet position at each month end (``pallet_billing:
    whole``): per SKU ⌈units on hand × unit cubic feet ÷ cubic feet per pallet⌉ positions ×
    the monthly rate. A month cut by the start or end of the counted days is billed pro rata
    (counted days of that month ÷ its days) on the position of its last counted day.

    Partial pallets billed as full positions on a monthly count: common 3PL practice per
    secondary sources (racklify.com "Storage Fee (3PL)", 2025; DCL Logistics' help centre, a
    count on the first business day of each month); contracts differ: an option, not a fact."""

    pallets_per_unit: np.ndarray  # (skus,) unit cubic feet ÷ cubic feet per pallet
    rate: float  # USD per pallet position per month
    days: np.ndarray  # (snapshots,) day index of each billed snapshot
    weights: np.ndarray  # (snapshots,) share of that month billed

    def cost(self, on_hand: np.ndarray) -> np.ndarray:
        """(skus,) storage over the counted days from the end-of-day on-hand (days, skus)."""
        pallets = np.ceil(on_hand[self.days] * self.pallets_per_unit - EPS)
        return self.rate * (self.weights @ np.maximum(pallets, 0.0))


def whole_pallets(pallets_per_unit: np.ndarray, rate: float, calendar) -> WholePallets:
    """The month-end snapshots of the counted days and the share of a month each bills."""
    first, last = calendar.warmup, calendar.days - 1
    month = (np.datetime64(calendar.start, "D") + np.arange(calendar.days)).astype("datetime64[M]")
    t = np.arange(first, last + 1)
    ends = t[(t == last) | (month[np.minimum(t + 1, last)] != month[t])]
    opens = month[ends].astype("datetime64[D]")
    length = ((month[ends] + 1).astype("datetime64[D]") - opens).astype(np.int64)
    opened = (opens - np.datetime64(calendar.start, "D")).astype(np.int64)  # day index
    counted = ends - np.maximum(first, opened) + 1
    return WholePallets(pallets_per_unit, rate, ends, counted / length)
