"""The ``fees`` command: size tier and FBA fee breakdown of one product on one date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import click

from sim.fees.calculator import fulfillment_fee, monthly_storage_rate
from sim.fees.product import CM_PER_INCH, KG_PER_LB, FeeError, Product, cubic_feet
from sim.fees.referral import describe_rule, referral_categories, referral_quote, referral_rows
from sim.fees.tables import default_tables

# (Product field, inch/pound option, metric option, unit flag, metric units per inch/pound)
_MEASURES = (
    ("length_in", "--length-in", "--length-cm", "cm", CM_PER_INCH),
    ("width_in", "--width-in", "--width-cm", "cm", CM_PER_INCH),
    ("height_in", "--height-in", "--height-cm", "cm", CM_PER_INCH),
    ("weight_lb", "--weight-lb", "--weight-kg", "kg", KG_PER_LB),
)


@click.command("fees")
@click.option("--length-in", type=float, help="Package length in inches (sides in any order).")
@click.option("--width-in", type=float, help="Package width in inches.")
@click.option("--height-in", type=float, help="Package height in inches.")
@click.option("--weight-lb", type=float, help="Unit weight as packaged, in pounds.")
@click.option("--length-cm", type=float, help="Length in centimetres (instead of --length-in).")
@click.option("--width-cm", type=float, help="Width in centimetres (instead of --width-in).")
@click.option("--height-cm", type=float, help="Height in centimetres (instead of --height-in).")
@click.option("--weight-kg", type=float, help="Weight in kilograms (instead of --weight-lb).")
@click.option("--cm", is_flag=True, help="Read the --*-in values as centimetres.")
@click.option("--kg", is_flag=True, help="Read the --weight-lb value as kilograms.")
@click.option("--price", type=float, help="Item price in USD (sets the price band).")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date the fee is charged, YYYY-MM-DD [default: today].",
)
@click.option(
    "--category",
    help="Referral fee category, snake_case of Amazon's name (see --list-categories) "
    "[default: everything_else, 15%].",
)
@click.option(
    "--list-categories",
    is_flag=True,
    help="List the referral fee categories and their rules on --date, then exit.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def fees(
    cm: bool,
    kg: bool,
    price: float | None,
    on: dt.datetime | None,
    category: str | None,
    list_categories: bool,
    fmt: str,
    **measures: float | None,
) -> None:
    """FBA size tier and fee breakdown of one product (Amazon US)."""
    day = on.date() if on else dt.date.today()
    if list_categories:
        click.echo(_categories(day, fmt))
        return
    values, where = _read_measures(measures, {"cm": cm, "kg": kg})
    where |= {"price": "--price", "date": "--date", "category": "--category"}
    try:
        product = Product(**values, price=price)
        report = _report(product, day, category)
    except FeeError as err:
        raise FeeError([(where.get(loc, loc), problem) for loc, problem in err.problems]) from None
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, allow_nan=False))
    else:
        click.echo(_table(report, today=on is None))


def _read_measures(
    options: dict[str, float | None], flags: dict[str, bool]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Each measure in inches/pounds, and the option to blame for a problem with it."""
    values: dict[str, float | None] = {}
    where: dict[str, str] = {}
    clashes = []
    for field, imperial, metric, flag, factor in _MEASURES:
        given = options[_key(imperial)]
        metric_value = options[_key(metric)]
        where[field] = metric if metric_value is not None else imperial
        if given is not None and metric_value is not None:
            clashes.append((imperial, f"give {imperial} or {metric}, not both"))
        elif metric_value is not None or flags[flag]:
            source = metric_value if metric_value is not None else given
            values[field] = source / factor if source is not None else None
        else:
            values[field] = given
    if clashes:
        raise FeeError(clashes)
    return values, where


def _key(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def _report(product: Product, day: dt.date, category: str | None) -> dict[str, Any]:
    quote = fulfillment_fee(product, day)
    referral = referral_quote(product.price, category, day)
    volume = cubic_feet(product)
    storage_rate = monthly_storage_rate(quote.size_tier, day)
    report = quote.to_dict()
    report["verified"] = quote.verified and referral.verified
    report["notes"] = [*quote.notes, *referral.notes]
    return {
        "date": day.isoformat(),
        "product": dataclasses.asdict(product),
        **report,
        "referral": referral.to_dict(),
        "storage": {
            "cubic_feet": round(volume, 4),
            "rate_per_cubic_foot": storage_rate,
            "monthly_per_unit": round(volume * storage_rate, 4),
        },
    }


def _table(report: dict[str, Any], today: bool = False) -> str:
    """The fee breakdown, the date it is for first (``today``: no --date was given)."""
    referral, storage = report["referral"], report["storage"]
    peak = "estimated " if report["peak_estimated"] else ""
    when = "today, no --date given; " if today else ""
    lines = [
        ("Date", f"{report['date']} ({when}fee schedule {report['fee_schedule']})"),
        ("Size tier", report["size_tier"]),
        ("Unit weight", f"{report['unit_weight_lb']:.3f} lb"),
        ("Dimensional weight", f"{report['dimensional_weight_lb']:.3f} lb"),
        ("Shipping weight", f"{report['shipping_weight_lb']:.3f} lb"),
        ("Price band", report["price_band"] + (" (low-price rate)" if report["low_price"] else "")),
        ("Base fee", f"${report['base_fee']:.2f}"),
        (
            "Peak surcharge",
            f"${report['peak_surcharge']:.2f}" + (f" ({peak}peak)" if report["peak"] else ""),
        ),
        ("Fuel surcharge", f"${report['fuel_surcharge']:.2f}"),
        ("Fulfillment fee", f"${report['fulfillment_fee']:.2f}"),
        (
            "Referral fee",
            f"${referral['fee']:.2f} ({referral['category']}: {referral['rule']})",
        ),
        (
            "Storage",
            f"${storage['monthly_per_unit']:.4f} per unit per month "
            f"({storage['cubic_feet']:.4f} cu ft x ${storage['rate_per_cubic_foot']:.2f})",
        ),
        ("Verified", "yes" if report["verified"] else "no (defaults from secondary sources)"),
    ]
    text = "\n".join(f"{label:<20}{value}" for label, value in lines)
    return "\n".join([text, *(f"note: {note}" for note in report["notes"])])


def _categories(day: dt.date, fmt: str) -> str:
    """The referral categories with Amazon's name and the rule in force on ``day``."""
    rows = []
    for key in referral_categories():
        row = default_tables().in_force(referral_rows(key), day, f"referral schedule of {key!r}")
        name = default_tables()["referral"]["categories"][key].get("name", key)
        rows.append((key, name, describe_rule(row), not row.get("unverified")))
    if fmt == "json":
        return json.dumps(
            [{"category": k, "name": n, "rule": r, "verified": v} for k, n, r, v in rows], indent=2
        )
    width = max(len(key) for key, *_ in rows)
    lines = [f"Referral fee categories on {day.isoformat()} (* = unverified default)"]
    lines += [f"{k:<{width}}  {r}{'' if v else ' *'}  ({n})" for k, n, r, v in rows]
    return "\n".join(lines)
