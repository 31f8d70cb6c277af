"""The ``fees`` command: size tier and FBA fee breakdown of one product on one date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sim.fees.product import Product

# (Product field, inch/pound option, metric option, unit flag): the flag names the metric unit
_MEASURES = (
    ("length_in", "--length-in", "--length-cm", "cm"),
    ("width_in", "--width-in", "--width-cm", "cm"),
    ("height_in", "--height-in", "--height-cm", "cm"),
    ("weight_lb", "--weight-lb", "--weight-kg", "kg"),
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
    "--channel",
    type=click.Choice(["fba", "mcf"]),
    default="fba",
    show_default=True,
    help="fba: an Amazon order's FBA fees; mcf: the Multi-Channel Fulfillment fee of an order "
    "from another sales channel shipped from FBA stock.",
)
@click.option(
    "--units-per-order",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="MCF: units in the order (the rate card's columns 1 to 5+).",
)
@click.option(
    "--speed",
    type=click.Choice(["standard", "expedited", "priority"]),
    default="standard",
    show_default=True,
    help="MCF: shipping speed.",
)
@click.option(
    "--awd-rate",
    type=click.Choice(["base", "smart_storage", "amazon_managed"]),
    default="base",
    show_default=True,
    help="AWD rate tier of the AWD line (from 2025-04-01; smart_storage needs auto-replenishment).",
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
    channel: str,
    units_per_order: int,
    speed: str,
    awd_rate: str,
    fmt: str,
    **measures: float | None,
) -> None:
    """FBA size tier and fee breakdown of one product (Amazon US); with --channel mcf, its
    Multi-Channel Fulfillment fee."""
    from sim.fees.product import FeeError, Product  # here: --help needs no fee tables

    day = on.date() if on else dt.date.today()
    if list_categories:
        click.echo(_categories(day, fmt))
        return
    values, where = _read_measures(measures, {"cm": cm, "kg": kg})
    where |= {"price": "--price", "date": "--date", "category": "--category", "speed": "--speed"}
    try:
        product = Product(**values, price=price)
        if channel == "mcf":
            report = _mcf_report(product, day, units_per_order, speed)
        else:
            report = _report(product, day, category, awd_rate)
    except FeeError as err:
        raise FeeError([(where.get(loc, loc), problem) for loc, problem in err.problems]) from None
    if fmt == "json":
        click.echo(json.dumps(report, indent=2, allow_nan=False))
    else:
        click.echo(
            _mcf_table(report, today=on is None)
            if channel == "mcf"
            else _table(report, today=on is None)
        )


def _mcf_report(product: Product, day: dt.date, units: int, speed: str) -> dict[str, Any]:
    from sim.fees.mcf import mcf_fee

    quote = mcf_fee(product, day, units, speed)
    return {
        "date": day.isoformat(),
        "channel": "mcf",
        "product": dataclasses.asdict(product),
        **quote.to_dict(),
        "fee_per_order": round(quote.fee_per_unit * units, 2),
    }


def _mcf_table(report: dict[str, Any], today: bool = False) -> str:
    column = report["units_per_order"]
    lines = [
        ("Date", report["date"] + (" (today, no --date given)" if today else "")),
        ("Channel", "MCF (Multi-Channel Fulfillment, sim/fees/data/mcf.yaml)"),
        ("Speed", report["speed"]),
        ("Units per order", f"{column}{'+' if column == 5 else ''} (rate card column)"),
        ("Size tier", report["size_tier"]),
        ("Shipping weight", f"{report['shipping_weight_lb']:.3f} lb"),
        ("Base fee", f"${report['base_fee']:.2f} per unit"),
        (
            "Peak surcharge",
            f"${report['peak_surcharge']:.2f}" + (" (peak)" if report["peak"] else ""),
        ),
        ("Fuel surcharge", f"${report['fuel_surcharge']:.2f}"),
        (
            "MCF fee",
            f"${report['fee_per_unit']:.2f} per unit, ${report['fee_per_order']:.2f} per order",
        ),
        ("Verified", "yes" if report["verified"] else "no (defaults: see the notes)"),
    ]
    text = "\n".join(f"{label:<20}{value}" for label, value in lines)
    return "\n".join([text, *(f"note: {note}" for note in report["notes"])])


def _read_measures(
    options: dict[str, float | None], flags: dict[str, bool]
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Each measure in inches/pounds, and the option to blame for a problem with it."""
    from sim.fees.product import CM_PER_INCH, KG_PER_LB, FeeError

    per_unit = {"cm": CM_PER_INCH, "kg": KG_PER_LB}
    values: dict[str, float | None] = {}
    where: dict[str, str] = {}
    clashes = []
    for field, imperial, metric, flag in _MEASURES:
        given = options[_key(imperial)]
        metric_value = options[_key(metric)]
        where[field] = metric if metric_value is not None else imperial
        if given is not None and metric_value is not None:
            clashes.append((imperial, f"give {imperial} or {metric}, not both"))
        elif metric_value is not None or flags[flag]:
            source = metric_value if metric_value is not None else given
            values[field] = source / per_unit[flag] if source is not None else None
        else:
            values[field] = given
    if clashes:
        raise FeeError(clashes)
    return values, where


def _key(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def _report(product: Product, day: dt.date, category: str | None, awd_rate: str) -> dict[str, Any]:
    from sim.fees.calculator import fulfillment_fee, monthly_storage_rate
    from sim.fees.product import cubic_feet
    from sim.fees.referral import referral_quote

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
        "awd": _awd(volume, day, awd_rate),
    }


def _awd(volume: float, day: dt.date, rate: str) -> dict[str, Any]:
    """AWD's rates on ``day`` for a unit of ``volume`` cu ft (``sim.awd``)."""
    from sim.awd import awd_rates

    r = awd_rates(rate, day)
    return {
        "rate": rate,
        "storage_per_cubic_foot_month": r.storage_per_cubic_foot_month,
        "storage_monthly_per_unit": round(volume * r.storage_per_cubic_foot_month, 4),
        "inbound_processing_per_box": r.inbound_per_box,
        "outbound_processing_per_box": r.outbound_per_box,
        "transport_per_cubic_foot": r.transport_per_cubic_foot,
        "transport_per_unit": round(volume * r.transport_per_cubic_foot, 4),
        "verified": r.verified,
        "source": list(r.source),
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
        *_awd_lines(report["awd"]),
    ]
    text = "\n".join(f"{label:<20}{value}" for label, value in lines)
    return "\n".join([text, *(f"note: {note}" for note in report["notes"])])


def _awd_lines(awd: dict[str, Any]) -> list[tuple[str, str]]:
    mark = "" if awd["verified"] else " (unverified: later rates not confirmed)"
    return [
        (
            "AWD storage",
            f"${awd['storage_monthly_per_unit']:.4f} per unit per month "
            f"(${awd['storage_per_cubic_foot_month']:.2f} per cu ft, {awd['rate']}){mark}",
        ),
        (
            "AWD processing",
            f"${awd['inbound_processing_per_box']:.2f} per box in + "
            f"${awd['outbound_processing_per_box']:.2f} per box out",
        ),
        (
            "AWD transport",
            f"${awd['transport_per_unit']:.4f} per unit to FBA "
            f"(${awd['transport_per_cubic_foot']:.2f} per cu ft)",
        ),
    ]


def _categories(day: dt.date, fmt: str) -> str:
    """The referral categories with Amazon's name and the rule in force on ``day``."""
    from sim.fees.referral import describe_rule, referral_categories, referral_rows
    from sim.fees.tables import default_tables

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
