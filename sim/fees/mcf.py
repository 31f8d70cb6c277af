"""Multi-Channel Fulfillment (MCF) fee of one unit: Amazon ships an order of another sales
channel from FBA stock (rules and sources in ``data/mcf.yaml``, loaded under the key ``mcf``)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sim.fees.product import FeeError, Product
from sim.fees.tables import OZ_PER_LB, FeeTables, as_date, default_tables
from sim.fees.tiers import shipping_weight_lb, size_tier

MAX_COLUMN = 5  # the rate card's last column: orders of five units or more


@dataclass(frozen=True)
class McfQuote:
    """The MCF fee per unit of ``product`` on a date, for an order of ``units_per_order`` units
    shipped at ``speed``: card fee + peak surcharge, then the fuel surcharge on that."""

    speed: str
    units_per_order: int
    size_tier: str
    shipping_weight_lb: float
    base_fee: float
    peak: bool
    peak_surcharge: float
    fuel_surcharge: float
    fee_per_unit: float
    verified: bool
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["notes"] = list(self.notes)
        return out


def mcf_speeds(tables: FeeTables | None = None) -> list[str]:
    """The speeds the MCF tables price (``standard``, ``expedited`` as bundled)."""
    return list((tables or default_tables())["mcf"]["rates"])


def order_column(units_per_order: float) -> int:
    """The rate card's column for an order of ``units_per_order`` units: the nearest whole
    number (halves up), 1 at least and ``MAX_COLUMN`` (five or more) at most."""
    return min(MAX_COLUMN, max(1, math.floor(units_per_order + 0.5)))


def mcf_fee(
    product: Product,
    on: dt.date,
    units_per_order: float = 1,
    speed: str = "standard",
    *,
    tables: FeeTables | None = None,
) -> McfQuote:
    """The MCF fee per unit in force on ``on``. Raises FeeError (locations ``speed``,
    ``product``) for a speed or size tier the tables do not price."""
    t = tables or default_tables()
    on = as_date(on)
    mcf = t["mcf"]
    if speed not in mcf["rates"]:
        known = ", ".join(mcf["rates"])
        raise FeeError(
            (
                "speed",
                f"no MCF rates for speed {speed!r} (bundled: {known}; add the rows under "
                f"fee_overrides.mcf.rates.{speed})",
            )
        )
    tier = size_tier(product, on, tables=t)
    weight = shipping_weight_lb(product, tier, tables=t)
    rows = mcf["rates"][speed].get(tier)
    if not rows:
        raise FeeError(
            (
                "product",
                f"no MCF {speed} rates for size tier {tier} (the bundled card prices "
                f"small and large standard only; add fee_overrides.mcf.rates.{speed}.{tier})",
            )
        )
    column = order_column(units_per_order)
    row = _row(rows, weight, tier, speed)
    base = float(row["fee"][column - 1])
    if "per_lb" in row and weight > row.get("above_lb", 0.0):
        base += row["per_lb"] * math.ceil(round(weight - row["above_lb"], 9))
    base = round(base, 2)
    used: list[Mapping] = [mcf["card"], row]
    peak_rule = mcf.get("peak")
    in_peak = peak_rule is not None and _in_window(peak_rule["window"], on)
    surcharge = round(float(peak_rule["per_unit"]), 2) if in_peak else 0.0
    if in_peak:
        used.append(peak_rule)
    fee = round(base + surcharge, 2)
    fuel_rule = mcf.get("fuel_and_logistics")
    fuel = 0.0
    if fuel_rule is not None and on >= fuel_rule["effective_from"]:
        fuel = round(fee * fuel_rule["rate"], 2)
        used.append(fuel_rule)
    unverified = [u for u in used if u.get("unverified")]
    notes = tuple(dict.fromkeys(u["caveat"] for u in unverified if "caveat" in u))
    return McfQuote(
        speed=speed,
        units_per_order=column,
        size_tier=tier,
        shipping_weight_lb=weight,
        base_fee=base,
        peak=in_peak,
        peak_surcharge=surcharge,
        fuel_surcharge=fuel,
        fee_per_unit=round(fee + fuel, 2),
        verified=not unverified,
        notes=notes,
    )


def _row(rows: list[Mapping], weight_lb: float, tier: str, speed: str) -> Mapping:
    for row in rows:
        limit = row["max_oz"] / OZ_PER_LB if "max_oz" in row else row.get("max_lb", math.inf)
        if weight_lb <= limit:
            return row
    raise FeeError(
        ("product", f"no MCF {speed} row for a {tier} unit of {weight_lb:g} lb shipping weight")
    )


def _in_window(window: Mapping, on: dt.date) -> bool:
    start = tuple(int(x) for x in str(window["from"]).split("-"))
    end = tuple(int(x) for x in str(window["to"]).split("-"))
    day = (on.month, on.day)
    if start <= end:
        return start <= day <= end
    return day >= start or day <= end
