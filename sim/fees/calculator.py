"""US FBA fees of one product on one date, read from the tables in ``data/us.yaml``.

Every function is a few table look-ups: call it once per SKU (or per SKU and month) and cache
the result; nothing here needs per-day work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.fees import tiers
from sim.fees.product import FeeError, Product
from sim.fees.tables import FeeTables, as_date, band_fee, default_tables

__all__ = [
    "FeeError",
    "FeeQuote",
    "aged_inventory_fee",
    "fulfillment_fee",
    "fulfillment_fee_table",
    "inbound_placement_fee",
    "low_inventory_fee",
    "monthly_storage_rate",
    "removal_fee",
    "returns_processing_charge",
]


@dataclasses.dataclass(frozen=True)
class FeeQuote:
    """The FBA fulfilment fee of one unit on one date, with its parts and provenance.

    ``base_fee`` is the non-peak card fee for the product's price band; ``fulfillment_fee`` is
    what is charged on the date: base + peak surcharge + fuel surcharge. ``verified`` is false
    when any table used is marked unverified; ``notes`` then says which and why.
    """

    size_tier: str
    unit_weight_lb: float
    dimensional_weight_lb: float
    shipping_weight_lb: float
    price_band: str
    low_price: bool
    base_fee: float
    peak: bool
    peak_estimated: bool
    peak_surcharge: float
    fuel_surcharge: float
    fulfillment_fee: float
    fee_schedule: str
    verified: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (notes as a list)."""
        return dataclasses.asdict(self) | {"notes": list(self.notes)}


def fulfillment_fee(product: Product, on: dt.date, *, tables: FeeTables | None = None) -> FeeQuote:
    """The FBA fulfilment fee in force on ``on``, peak surcharge, low-price rate and the fuel
    and logistics surcharge included. Raises FeeError for dates before 2024-04-15."""
    t = tables or default_tables()
    on = as_date(on)
    schedule = t.in_force(t["fulfillment_schedules"], on, "fulfilment fee schedule")
    tier = tiers.size_tier(product, on, tables=t)
    weight = tiers.shipping_weight_lb(product, tier, tables=t)
    band = _price_band(schedule["price_bands"], product.price)
    c = _charge(t, on, schedule, tier, weight, band)
    notes = [entry["caveat"] for entry in c.used if entry.get("unverified")]
    if tiers.is_overmax(product, tier, on, tables=t):
        notes.append(c.used[0]["overmax"]["caveat"])
    return FeeQuote(
        size_tier=tier,
        unit_weight_lb=product.weight_lb,
        dimensional_weight_lb=tiers.dimensional_weight_lb(product, tier, tables=t),
        shipping_weight_lb=weight,
        price_band=band,
        low_price=band == schedule["low_price_band"],
        base_fee=c.base,
        peak=c.peak,
        peak_estimated=c.peak and bool(schedule["peak"].get("estimated")),
        peak_surcharge=c.surcharge,
        fuel_surcharge=c.fuel,
        fulfillment_fee=c.fee,
        fee_schedule=schedule["id"],
        verified=not any(entry.get("unverified") for entry in c.used),
        notes=tuple(dict.fromkeys(notes)),
    )


def fulfillment_fee_table(
    products: Sequence[Product],
    on: dt.date,
    *,
    tables: FeeTables | None = None,
    sizes: dict | None = None,
) -> tuple[list[str], list[float], list[float], list[float]]:
    """Size tier, shipping weight, non-peak base fee and fulfilment fee of each product on
    ``on``: the ``size_tier``, ``shipping_weight_lb``, ``base_fee`` and ``fulfillment_fee`` of
    :func:`fulfillment_fee`, with the rate-card look-ups done once per distinct (tier, shipping
    weight, price band) of the catalog. ``sizes``: a dict kept between calls (for the dates of
    one calendar) in which each product's tier and shipping weight are worked out once per
    size-tier table."""
    t = tables or default_tables()
    on = as_date(on)
    schedule = t.in_force(t["fulfillment_schedules"], on, "fulfilment fee schedule")
    bands = schedule["price_bands"]
    tier_set = id(tiers.size_tier_set(on, tables=t))
    sizes = {} if sizes is None else sizes
    charges: dict[tuple[str, float, str], _Charge] = {}
    tier_of, weight_of, base, fee = [], [], [], []
    for product in products:
        size = sizes.get((tier_set, product))
        if size is None:
            tier = tiers.size_tier(product, on, tables=t)
            size = sizes[tier_set, product] = (
                tier,
                tiers.shipping_weight_lb(product, tier, tables=t),
            )
        tier, weight = size
        key = (tier, weight, _price_band(bands, product.price))
        c = charges.get(key)
        if c is None:
            c = charges[key] = _charge(t, on, schedule, *key)
        tier_of.append(tier)
        weight_of.append(weight)
        base.append(c.base)
        fee.append(c.fee)
    return tier_of, weight_of, base, fee


@dataclasses.dataclass(frozen=True)
class _Charge:
    """The parts of a fulfilment fee set by the tier, shipping weight and price band alone."""

    base: float
    peak: bool
    surcharge: float
    fuel: float
    fee: float
    used: list  # the table entries read (the size-tier table first)


def _charge(
    t: FeeTables, on: dt.date, schedule: Mapping, tier: str, weight: float, band: str
) -> _Charge:
    card = _card(t, schedule["nonpeak"][band])
    base = _tier_fee(card, tier, weight, band)
    used = [tiers.size_tier_set(on, tables=t), schedule, card]
    peak = schedule.get("peak")
    in_peak = peak is not None and _in_window(peak["window"], on)
    surcharge = 0.0
    if in_peak:
        surcharge, peak_card = _peak_surcharge(t, peak, tier, weight, band, base)
        used += [peak, peak_card]
    fee = round(base + surcharge, 2)
    fuel_rule = t["surcharges"]["fuel_and_logistics"]
    fuel = 0.0
    if on >= fuel_rule["effective_from"]:
        fuel = round(fee * fuel_rule["rate"], 2)
        used.append(fuel_rule)
    return _Charge(base, in_peak, surcharge, fuel, round(fee + fuel, 2), used)


def monthly_storage_rate(
    size_class_or_tier: str, on: dt.date, *, tables: FeeTables | None = None
) -> float:
    """Monthly storage fee per cubic foot on ``on`` for ``standard``, ``bulky`` or a size tier
    (Oct-Dec rates in Oct-Dec, Jan-Sep rates otherwise)."""
    t = tables or default_tables()
    on = as_date(on)
    storage = t["storage"]
    size_class = _size_class(storage["size_classes"], size_class_or_tier)
    rates = t.in_force(storage["monthly_per_cubic_foot"], on, "storage fee table")[size_class]
    return rates["oct_dec"] if on.month in storage["peak_months"] else rates["jan_sep"]


def aged_inventory_fee(
    cubic_feet: float,
    age_days: int,
    on: dt.date,
    *,
    category: str | None = None,
    tables: FeeTables | None = None,
) -> float:
    """Monthly aged-inventory surcharge for ONE unit of ``cubic_feet`` aged ``age_days`` on the
    15th-of-month snapshot (0 below 181 days; per-unit minimum where the band has one), in
    unrounded dollars (round the total of many units, not each unit)."""
    t = tables or default_tables()
    section = t["aged_inventory_surcharge"]
    version = t.in_force(section["versions"], as_date(on), "aged-inventory table")
    for band in version["bands"]:
        if band["min_days"] <= age_days <= band.get("max_days", math.inf):
            if category in section["exempt_categories"] and age_days <= section["exempt_max_days"]:
                return 0.0
            # not rounded per unit: Amazon prices the volume, so cents add up over many units
            return max(band["per_cu_ft"] * cubic_feet, band.get("per_unit_min", 0.0))
    return 0.0


def low_inventory_fee(
    tier: str,
    shipping_weight_lb: float,
    days_of_supply: float,
    on: dt.date,
    *,
    tables: FeeTables | None = None,
) -> float:
    """Low-inventory-level fee per unit shipped. ``days_of_supply`` is the larger of the 30-day
    and 90-day historical days of supply, so the fee applies only when both are below 28."""
    t = tables or default_tables()
    section = t["low_inventory_level_fee"]
    version = t.in_force(section["versions"], as_date(on), "low-inventory-level fee table")
    row = _weight_row(version["rates_per_unit"], tier, shipping_weight_lb)
    if row is None:
        return 0.0
    return next((b["fee"] for b in row["bands"] if days_of_supply < b["below_days"]), 0.0)


def inbound_placement_fee(
    tier: str,
    shipping_weight_lb: float,
    option: str,
    on: dt.date,
    *,
    tables: FeeTables | None = None,
) -> float:
    """Inbound placement fee per unit for ``option`` (amazon_optimized, partial or minimal);
    the midpoint where Amazon gives a range. FeeError where no fee is known."""
    t = tables or default_tables()
    section = t["inbound_placement_fee"]
    if option == section["free_option"]:
        return 0.0
    version = t.in_force(section["versions"], as_date(on), "inbound placement fee table")
    row = _weight_row(version["rows"], tier, shipping_weight_lb)
    value = None if row is None else row.get(option)
    if value is None:
        options = sorted({section["free_option"], "partial", "minimal"})
        raise FeeError(
            (
                "placement",
                f"no known {option!r} placement fee for {tier} on {on} (options: "
                f"{', '.join(options)}); use {section['free_option']} or override the table",
            )
        )
    return sum(value) / len(value) if isinstance(value, list) else value


def returns_processing_charge(
    product: Product,
    on: dt.date,
    category: str,
    units_shipped: int,
    units_returned: int,
    *,
    tables: FeeTables | None = None,
) -> float:
    """Returns processing fee for one ship month: every returned unit for apparel and shoes,
    else only units above the category's return-rate threshold; none under 25 units shipped."""
    t = tables or default_tables()
    section = t["returns_processing_fee"]
    on = as_date(on)
    t.in_force([section], on, "returns processing fee table")
    if category in section["every_return_categories"]:
        charged = units_returned
    elif units_shipped < section["min_units_shipped"]:
        charged = 0
    elif category in section["thresholds"]:
        allowed = math.floor(section["thresholds"][category] * units_shipped)
        charged = max(0, units_returned - allowed)
    else:
        known = ", ".join(sorted([*section["thresholds"], *section["every_return_categories"]]))
        raise FeeError(("category", f"no return-rate threshold for {category!r} (known: {known})"))
    return round(charged * fulfillment_fee(product, on, tables=t).base_fee, 2)


def removal_fee(
    tier: str, shipping_weight_lb: float, on: dt.date, *, tables: FeeTables | None = None
) -> float:
    """Removal or disposal fee per unit (weight rounded up to 0.1 lb for standard-size under
    1 lb, else to the whole lb)."""
    t = tables or default_tables()
    section = t["removal_disposal_fee"]
    version = t.in_force(section["versions"], as_date(on), "removal fee table")
    if tier in section["standard_tiers"]:
        rows = version["standard"]
        step = 0.1 if shipping_weight_lb < 1 else 1.0
    else:
        rows, step = version["bulky"], 1.0
    rounded = math.ceil(round(shipping_weight_lb / step, 9)) * step
    return band_fee(rows, rounded)


def _peak_surcharge(
    tables: FeeTables, peak: Mapping, tier: str, weight_lb: float, band: str, base: float
) -> tuple[float, Mapping]:
    """Peak surcharge and the card it came from: published peak card minus the non-peak fee,
    or an estimated surcharge card read directly."""
    if "cards" in peak:
        card = _card(tables, peak["cards"][band])
        return round(_tier_fee(card, tier, weight_lb, band) - base, 2), card
    card = _card(tables, peak["surcharge_card"])
    return _tier_fee(card, tier, weight_lb, band), card


def _card(tables: FeeTables, card_id: str) -> Mapping:
    return tables["rate_cards"][card_id]


def _tier_fee(card: Mapping, tier: str, weight_lb: float, band: str) -> float:
    if tier not in card:
        raise FeeError(("fee_tables", f"rate card has no {tier} rows"))
    return band_fee(card[tier], weight_lb, band)


def _price_band(bands: list[Mapping], price: float) -> str:
    for band in bands:
        if "price_below" in band and price >= band["price_below"]:
            continue
        if "price_at_most" in band and price > band["price_at_most"]:
            continue
        return band["band"]
    raise FeeError(("price", f"no price band holds {price}"))


def _in_window(window: Mapping, on: dt.date) -> bool:
    start = tuple(int(x) for x in window["from"].split("-"))
    end = tuple(int(x) for x in window["to"].split("-"))
    day = (on.month, on.day)
    return start <= day <= end if start <= end else day >= start or day <= end


def _size_class(classes: Mapping[str, list[str]], name: str) -> str:
    if name in classes:
        return name
    for size_class, members in classes.items():
        if name in members:
            return size_class
    raise FeeError(("size_class", f"unknown size class or tier {name!r}"))


def _weight_row(rows: list[Mapping], tier: str, weight_lb: float) -> Mapping | None:
    return next(
        (
            row
            for row in rows
            if row["tier"] == tier and weight_lb <= row.get("max_shipping_weight_lb", math.inf)
        ),
        None,
    )
