"""FBA size tiers, dimensional weight and shipping weight (rules in ``data/us.yaml``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sim.fees.product import FeeError, Product
from sim.fees.tables import FeeTables, as_date, default_tables

SIZE_TIERS = (
    "small_standard",
    "large_standard",
    "small_bulky",
    "large_bulky",
    "extra_large_0_50",
    "extra_large_50_70",
    "extra_large_70_150",
    "extra_large_150_plus",
)
_DIMENSION_LIMITS = (("longest_in", 0), ("median_in", 1), ("shortest_in", 2))


def size_tier_set(on: dt.date, *, tables: FeeTables | None = None) -> Mapping:
    """The size-tier table in force on ``on`` (FeeError before 2024-02-05)."""
    t = tables or default_tables()
    return t.in_force(t["size_tiers"], as_date(on), "size-tier table")


def dimensional_weight_lb(product: Product, tier: str, *, tables: FeeTables | None = None) -> float:
    """L x W x H / 139, with width and height floored at 2 in for bulky and extra-large tiers."""
    rules = (tables or default_tables())["dimensional_weight"]
    longest, median, shortest = product.sorted_dims
    if tier in rules["min_width_height_applies_to"]:
        floor = rules["min_width_height_in"]
        median, shortest = max(median, floor), max(shortest, floor)
    return longest * median * shortest / rules["divisor_cubic_inches_per_lb"]


def shipping_weight_lb(product: Product, tier: str, *, tables: FeeTables | None = None) -> float:
    """The weight a tier's fee is read on: unit weight for small standard and extra-large 150+,
    otherwise the greater of unit and dimensional weight."""
    t = tables or default_tables()
    if tier in t["dimensional_weight"]["unit_weight_only"]:
        return product.weight_lb
    return max(product.weight_lb, dimensional_weight_lb(product, tier, tables=t))


def size_tier(product: Product, on: dt.date, *, tables: FeeTables | None = None) -> str:
    """The product's size tier on ``on``: the first tier of the table in force whose dimension
    and length-plus-girth limits the product meets and whose weight limit its shipping weight
    *for that tier* meets (so dimensional weight can push an item into a larger tier)."""
    t = tables or default_tables()
    for tier, limits in size_tier_set(on, tables=t)["tiers"].items():
        if _fits(product, limits) and (
            shipping_weight_lb(product, tier, tables=t) <= limits.get("max_weight_lb", float("inf"))
        ):
            return tier
    raise FeeError(("product", "too large or too heavy for every FBA size tier"))


def is_overmax(
    product: Product, tier: str, on: dt.date, *, tables: FeeTables | None = None
) -> bool:
    """Whether an extra-large item falls under the 2026 Overmax rule (none before 2026)."""
    t = tables or default_tables()
    rule = size_tier_set(on, tables=t).get("overmax")
    if rule is None or not tier.startswith("extra_large"):
        return False
    return shipping_weight_lb(product, tier, tables=t) <= rule["max_weight_lb"] and (
        product.sorted_dims[0] > rule["longest_in_over"]
        or product.length_plus_girth_in > rule["length_plus_girth_in_over"]
    )


def _fits(product: Product, limits: Mapping) -> bool:
    dims = product.sorted_dims
    if any(key in limits and dims[i] > limits[key] for key, i in _DIMENSION_LIMITS):
        return False
    return product.length_plus_girth_in <= limits.get("length_plus_girth_in", float("inf"))
