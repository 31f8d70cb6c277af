"""Amazon US referral fees: the "Selling on Amazon fee schedule" rows of ``data/us.yaml``.

A category's fee on a date comes from its row in force: a flat ``rate``, ``price_tiers`` (the
whole total sales price at the rate of the first tier whose ``max_price`` it does not exceed) or
``portion_tiers`` (each portion of the price up to a tier's ``up_to`` at that tier's rate); then
the greater of that and the row's ``minimum_fee``, rounded to the cent, plus any per-item
``closing_fee`` (media).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
from collections.abc import Mapping
from typing import Any

from sim.fees.product import FeeError
from sim.fees.tables import FeeTables, as_date, default_tables

__all__ = [
    "ReferralQuote",
    "describe_rule",
    "referral_categories",
    "referral_fee",
    "referral_quote",
    "referral_rows",
    "unknown_category",
]


_RULES = {"rate", "price_tiers", "portion_tiers"}


@dataclasses.dataclass(frozen=True)
class ReferralQuote:
    """The referral fee of one item sold at ``price`` on ``date``.

    ``rate`` is the percentage fee over the price (for portion tiers, the blended rate; 0 for a
    price of 0); ``fee`` = max(price x rate, ``minimum_fee``) rounded to the cent, plus
    ``closing_fee``. ``verified`` is false when the row is an unverified default (``notes``).
    """

    category: str
    name: str
    price: float
    rate: float
    minimum_fee: float
    closing_fee: float
    fee: float
    rule: str
    verified: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (notes as a list)."""
        return dataclasses.asdict(self) | {"notes": list(self.notes)}


def referral_categories(tables: FeeTables | None = None) -> tuple[str, ...]:
    """Every referral fee category key, sorted."""
    t = tables or default_tables()
    return tuple(sorted(t["referral"]["categories"]))


def unknown_category(category: object, tables: FeeTables | None = None) -> str:
    """The message for a category the schedule does not know, with a did-you-mean hint."""
    known = referral_categories(tables)
    close = difflib.get_close_matches(str(category), known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"unknown category {category!r}{hint} (`fees --list-categories` lists the "
        f"{len(known)} categories)"
    )


def referral_rows(category: str | None, tables: FeeTables | None = None) -> list[Mapping]:
    """The dated rows of a category (None: the default category). FeeError if unknown."""
    t = tables or default_tables()
    section = t["referral"]
    key = section["default_category"] if category is None else category
    entry = section["categories"].get(key) if isinstance(key, str) else None
    if entry is None:
        raise FeeError(("category", unknown_category(category, t)))
    if "rows" not in entry:
        return [entry]
    if _RULES & set(entry):
        raise FeeError(
            (
                "referral",
                f"category {key!r} has dated `rows` and a rate of its own: override its `rows`",
            )
        )
    return list(entry["rows"])


def referral_quote(
    price: float,
    category: str | None = None,
    on: dt.date | None = None,
    *,
    tables: FeeTables | None = None,
) -> ReferralQuote:
    """Referral fee of one item at total sales price ``price`` on ``on`` (default: today).

    ``category`` None pays the default category (Everything Else). FeeError for an unknown
    category or a date no row of the category covers.
    """
    t = tables or default_tables()
    key, row = _row(category, on, t)
    percentage = _percentage_fee(row, price)
    unverified = bool(row.get("unverified"))
    return ReferralQuote(
        category=key,
        name=str(t["referral"]["categories"][key].get("name", key)),
        price=price,
        rate=round(percentage / price, 6) if price > 0 else 0.0,
        minimum_fee=float(row.get("minimum_fee", 0.0)),
        closing_fee=float(row.get("closing_fee", 0.0)),
        fee=_fee(row, price),
        rule=describe_rule(row),
        verified=not unverified,
        notes=(row["caveat"],) if unverified and row.get("caveat") else (),
    )


def referral_fee(
    price: float,
    category: str | None = None,
    on: dt.date | None = None,
    *,
    tables: FeeTables | None = None,
) -> float:
    """Referral fee (USD) of one item at ``price`` on ``on``: see :func:`referral_quote`."""
    return _fee(_row(category, on, tables or default_tables())[1], price)


def describe_rule(row: Mapping) -> str:
    """A row's rule in words, e.g. ``8% at a price up to $10.00, 15% above; min $0.30``."""
    if "price_tiers" in row:
        text = _tiers(row["price_tiers"], "max_price", "at a price up to", "above")
    elif "portion_tiers" in row:
        text = _tiers(row["portion_tiers"], "up_to", "of the portion up to", "of the rest")
    else:
        text = _pct(row["rate"])
    minimum = float(row.get("minimum_fee", 0.0))
    text += f"; min ${minimum:.2f}" if minimum else "; no minimum"
    if row.get("closing_fee"):
        text += f" + ${float(row['closing_fee']):.2f} closing fee"
    return text


def _row(category: str | None, on: dt.date | None, t: FeeTables) -> tuple[str, Mapping]:
    """The category key (the default for None) and its row in force on ``on`` (default today)."""
    on = as_date(on) if on is not None else dt.date.today()
    key = t["referral"]["default_category"] if category is None else category
    return key, t.in_force(referral_rows(category, t), on, f"referral schedule of {key!r}")


def _fee(row: Mapping, price: float) -> float:
    """max(percentage fee, minimum) rounded to the cent, plus the closing fee."""
    fee = round(max(_percentage_fee(row, price), float(row.get("minimum_fee", 0.0))), 2)
    return round(fee + float(row.get("closing_fee", 0.0)), 2)


def _percentage_fee(row: Mapping, price: float) -> float:
    """Unrounded percentage fee of ``price`` under ``row``."""
    if "price_tiers" in row:
        tier = next(t for t in row["price_tiers"] if price <= t.get("max_price", math.inf))
        return price * tier["rate"]
    if "portion_tiers" in row:
        fee, lower = 0.0, 0.0
        for tier in row["portion_tiers"]:
            upper = tier.get("up_to", math.inf)
            fee += max(0.0, min(price, upper) - lower) * tier["rate"]
            lower = upper
            if price <= upper:
                break
        return fee
    return price * row["rate"]


def _tiers(tiers: list[Mapping], limit: str, words: str, last: str) -> str:
    parts = []
    for tier in tiers:
        if limit in tier:
            parts.append(f"{_pct(tier['rate'])} {words} ${tier[limit]:,.2f}")
        else:
            parts.append(f"{_pct(tier['rate'])} {last}")
    return ", ".join(parts)


def _pct(rate: float) -> str:
    return f"{rate * 100:g}%"
