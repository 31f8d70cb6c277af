"""The ``import-orders`` command: fit per-SKU demand from an Amazon order report.

Reads Amazon's "All Orders" flat file (tab-separated, one line per order item) or a plain CSV
with ``sku``, ``date`` and ``quantity`` columns, adds up the units per SKU and calendar day (days
without orders count as 0 over the report's date range) and fits, per SKU:

* ``mean_per_day``: units a day over the range;
* the spread: the Pearson variance-to-mean ratio r = Σ (x − μ)² / μ / (days − k), with μ the
  day's fitted mean (the overall mean, k = 1, or the weekday's mean, k = 7). ``poisson`` when
  r ≤ 1.1 or r is not significantly above 1 (χ² test, 5 %), else ``negative_binomial`` with
  ``variance_to_mean: r``;
* a weekly profile (7 multipliers Mon..Sun, mean 1) when the range has at least 4 weeks and
  the weekday means differ significantly (quasi-Poisson F test, 5 %);
* ``price``: the median of item-price ÷ quantity, when the file has prices.

Every row that cannot be read (an unparseable date, a quantity that is not a number ≥ 0, no
SKU, a wrong number of fields) is reported as ``FILE:LINE: problem``; nothing is dropped without
being counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import click

from sim.errors import UserError, excerpt, format_problem
from sim.outdir import check_target, write_file
from sim.scenario_files import read_named

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
POISSON_MAX_RATIO = 1.1
ALPHA = 0.05
MIN_WEEKS_FOR_PROFILE = 4
MAX_LISTED_BAD_ROWS = 100
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_DAILY_DEMAND = 1e7  # units a day a scenario holds: sim.scenario.MAX_DAILY_DEMAND (tested)
MAX_FILE_BYTES = 2 * 1024**3

# Header names (lower case, '_' and ' ' read as '-') that mean each column.
COLUMNS = {
    "sku": ("sku", "seller-sku", "msku", "merchant-sku"),
    "date": ("purchase-date", "date", "order-date", "purchase-day", "day"),
    "quantity": ("quantity", "quantity-purchased", "quantity-ordered", "qty", "units"),
    "order_status": ("order-status",),
    "item_status": ("item-status",),
    "channel": ("sales-channel", "marketplace"),
    "price": ("item-price",),
    "currency": ("currency",),
    "name": ("product-name",),
}
REQUIRED = ("sku", "date", "quantity")
CANCELLED = frozenset({"cancelled", "canceled"})


@dataclass
class Row:
    """One usable order line."""

    sku: str
    day: dt.date
    quantity: float
    channel: str | None
    cancelled: bool
    unit_price: float | None
    currency: str | None
    name: str | None
    refunded: bool = False  # a shop order refunded in full (``sim.import_shopify``)


@dataclass
class Parsed:
    """What reading the file found."""

    kind: str  # "amazon" (tab-separated flat file), "csv" or "shopify" (orders export)
    rows: list[Row] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line, problem)
    lines: int = 0  # data rows read (blank lines not counted)
    has_channel: bool = False
    unreadable_prices: int = 0


@dataclass
class Fit:
    """The demand fitted to one SKU's daily units."""

    sku: str
    units: float
    days_with_orders: int
    mean: float
    ratio: float | None  # Pearson variance-to-mean ratio of the chosen mean model
    ratio_p: float | None  # P(ratio this high | Poisson)
    distribution: str
    weekly: list[float] | None
    weekly_p: float | None
    price: float | None
    name: str | None
    first_day: dt.date


# --------------------------------------------------------------------------- reading


def _norm(name: str) -> str:
    return name.strip().strip('"').strip().lower().replace("_", "-").replace(" ", "-")


def read_orders(path: Path, timezone: dt.tzinfo | None = None) -> Parsed:
    """Parse an All Orders flat file or a sku/date/quantity CSV; collect bad rows by line."""
    where = str(path)
    raw = read_named(path, MAX_FILE_BYTES, "order files")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # older Amazon reports (Windows-1252)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise UserError((where, "the file is empty"))
    header_line = lines[first]
    if "\t" in header_line:
        kind, reader = "amazon", csv.reader(lines[first:], delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        delim = ";" if ";" in header_line and "," not in header_line else ","
        kind, reader = "csv", csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=delim)
    header = [_norm(h) for h in next(reader)]
    cols = _columns(header, where, first + 1, kind)
    out = Parsed(kind=kind, has_channel="channel" in cols)
    previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:  # e.g. a quoted CSV field that never closes
            out.lines += 1
            out.bad.append((first + previous + 1, f"cannot read the row: {e}"))
            previous = reader.line_num
            continue
        line = first + previous + 1  # the physical line the record starts on
        previous = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        out.lines += 1
        row, problem = _row(cells, cols, len(header), timezone, out)
        if problem:
            out.bad.append((line, problem))
        else:
            out.rows.append(row)
    return out


def _columns(header: list[str], where: str, line: int, kind: str) -> dict[str, int]:
    cols = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name in header:
                cols[key] = header.index(name)
                break
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in cols]
    if missing:
        names = [h for h in header if h]
        shown = ", ".join(names[:12]) + (" …" if len(names) > 12 else "") if names else "none"
        need = (
            "an Amazon All Orders report (purchase-date, sku, quantity, …)"
            if kind == "amazon"
            else "a CSV with a header row sku,date,quantity"
        )
        raise UserError(
            (f"{where}:{line}", f"no column {' / '.join(missing)}: expected {need}; found: {shown}")
        )
    return cols


def _row(cells, cols, width, timezone, out: Parsed) -> tuple[Row | None, str | None]:
    if len(cells) != width:
        return None, f"has {len(cells)} fields, the header has {width}"

    def get(key):
        i = cols.get(key)
        return cells[i].strip() if i is not None else ""

    sku = get("sku")
    if not sku:
        return None, "no sku"
    if not sku.isprintable():
        return None, f"sku {sku!r} contains a control character"
    day, problem = parse_day(get("date"), timezone)
    if problem:
        return None, problem
    qty_text = get("quantity")
    try:
        qty = float(qty_text)
    except ValueError:
        return None, f"quantity {excerpt(qty_text)} is not a number" if qty_text else "no quantity"
    if not math.isfinite(qty) or qty < 0:
        return None, f"quantity {excerpt(qty_text)} must be a number ≥ 0"
    if qty > MAX_DAILY_DEMAND:
        return None, (
            f"quantity {excerpt(qty_text)} must be a number between 0 and "
            f"{MAX_DAILY_DEMAND:,.0f} (a day's demand a scenario can hold)"
        )
    status = {get("order_status").lower(), get("item_status").lower()}
    unit_price = None
    price_text = get("price")
    if price_text and qty > 0:
        try:
            total = float(price_text.replace(",", ""))
            unit_price = total / qty if math.isfinite(total) and total > 0 else None
        except ValueError:
            out.unreadable_prices += 1
    return Row(
        sku=sku,
        day=day,
        quantity=qty,
        channel=get("channel") if "channel" in cols else None,
        cancelled=bool(status & CANCELLED),
        unit_price=unit_price,
        currency=get("currency") or None,
        name=_CONTROL.sub("", get("name")) or None,  # a name is shown and pasted: no ESC…
    ), None


def parse_day(text: str, timezone: dt.tzinfo | None = None) -> tuple[dt.date | None, str | None]:
    """The calendar day of ``YYYY-MM-DD`` or an ISO 8601 date-time (in ``timezone`` if given)."""
    if not text:
        return None, "no date"
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text), None
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return None, f"date {text!r} is not YYYY-MM-DD or an ISO 8601 date-time"
    if timezone is not None and stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone)
    return stamp.date(), None


def parse_timezone(text: str | None) -> dt.tzinfo | None:
    """``None``, ``UTC``, ``+05:30`` / ``-08:00`` or an IANA name such as America/Los_Angeles."""
    if text is None:
        return None
    t = text.strip()
    if t.upper() in ("UTC", "Z"):
        return dt.UTC
    if t and t[0] in "+-" and len(t) in (3, 6):
        try:
            hours, minutes = int(t[1:3]), int(t[4:6] or 0) if len(t) == 6 else 0
            if hours > 23 or minutes > 59 or (len(t) == 6 and t[3] != ":"):
                raise ValueError
        except ValueError:
            raise UserError(("--timezone", f"{text!r} is not ±HH or ±HH:MM")) from None
        sign = -1 if t[0] == "-" else 1
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(t)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserError(
            ("--timezone", f"unknown time zone {text!r} (e.g. America/Los_Angeles, UTC, -08:00)")
        ) from None


# --------------------------------------------------------------------------- fitting


def fit_sku(
    sku: str,
    daily,
    start: dt.date,
    rows: list[Row],
    min_days: int,
) -> Fit:
    """Fit one SKU's daily units (``daily[i]`` is day ``start + i``)."""
    import numpy as np
    from scipy.special import chdtrc, fdtrc

    x = np.asarray(daily, dtype=float)
    n = len(x)
    mean = float(x.mean())
    weekday = (start.weekday() + np.arange(n)) % 7
    ratio = ratio_p = weekly = weekly_p = None
    if mean > 0 and n >= max(min_days, 2):
        # weekday means: the mean model when the profile is kept
        by_day = np.array(
            [x[weekday == w].mean() if (weekday == w).any() else mean for w in range(7)]
        )
        if n >= 7 * MIN_WEEKS_FOR_PROFILE:
            mu_w = by_day[weekday]
            within = _pearson(x, mu_w) / (n - 7)
            between = float(np.sum((mu_w - mean) ** 2) / mean)  # Σ_w n_w (x̄_w − x̄)² / x̄
            f_stat = between / 6 / max(within, 1.0)
            weekly_p = float(fdtrc(6, n - 7, f_stat))
            if weekly_p < ALPHA:
                level = float(by_day.mean())
                weekly = [round(float(v) / level, 2) for v in by_day]
                mean = level
        mu = np.full(n, mean) if weekly is None else by_day[weekday]
        df = n - (1 if weekly is None else 7)
        ratio = _pearson(x, mu) / df
        ratio_p = float(chdtrc(df, ratio * df))
    negative_binomial = ratio is not None and ratio > POISSON_MAX_RATIO and ratio_p < ALPHA
    prices = [r.unit_price for r in rows if r.unit_price is not None]
    names = Counter(r.name for r in rows if r.name)
    return Fit(
        sku=sku,
        units=float(x.sum()),
        days_with_orders=int((x > 0).sum()),
        mean=mean,
        ratio=ratio,
        ratio_p=ratio_p,
        distribution="negative_binomial" if negative_binomial else "poisson",
        weekly=weekly,
        weekly_p=weekly_p,
        price=round(statistics.median(prices), 2) if prices else None,
        name=names.most_common(1)[0][0] if names else None,
        first_day=min(r.day for r in rows if r.quantity > 0) if mean > 0 else start,
    )


def _pearson(x, mu) -> float:
    """Σ (x − μ)² / μ over the days with μ > 0 (a weekday with μ = 0 had only zeros)."""
    keep = mu > 0
    return float((((x - mu) ** 2)[keep] / mu[keep]).sum())


# --------------------------------------------------------------------------- the whole import


@dataclass
class Report:
    """The fitted SKUs and the account of every row."""

    source: str
    kind: str
    start: dt.date
    end: dt.date
    fits: list[Fit]
    rows_read: int
    rows_used: int
    skipped: dict[str, int]  # reason -> rows
    other_channels: Counter
    bad: list[tuple[int, str]]
    warnings: list[str]
    marketplace: str | None
    timezone: str | None
    channel: str | None = None  # --channel: a shop's export, written as channel_demand


def import_file(
    path: Path,
    marketplace: str | None = "Amazon.com",
    start: dt.date | None = None,
    end: dt.date | None = None,
    min_days: int = 28,
    timezone: str | None = None,
    skip_bad: bool = False,
    channel: str | None = None,
) -> Report:
    """Read ``path``, filter it, and fit every SKU. With ``channel``, ``path`` is a Shopify
    orders export (``sim.import_shopify``) of that sales channel.

    Rows that cannot be read raise ``UserError`` (one ``FILE:LINE`` problem each) unless
    ``skip_bad``; then they are left out and listed in ``Report.bad``.
    """
    import numpy as np

    where = str(path)
    if start and end and start > end:
        raise UserError(("--start", f"{start} is after --end {end}"))
    if channel is not None:
        from sim.import_shopify import read_shopify

        parsed = read_shopify(path, parse_timezone(timezone))
        marketplace = None
    else:
        parsed = read_orders(path, parse_timezone(timezone))
    if parsed.bad and not skip_bad:
        problems = [(f"{where}:{line}", p) for line, p in parsed.bad[:MAX_LISTED_BAD_ROWS]]
        if len(parsed.bad) > MAX_LISTED_BAD_ROWS:
            problems.append((where, f"{len(parsed.bad) - MAX_LISTED_BAD_ROWS} more bad rows"))
        problems.append(
            (
                where,
                f"{len(parsed.bad)} of {parsed.lines} rows cannot be read: nothing written; fix "
                "them, or use --skip-bad to leave them out",
            )
        )
        raise UserError(problems)
    keep_all = marketplace is None or marketplace.lower() == "all"
    skipped: dict[str, int] = {}
    other = Counter()
    used: list[Row] = []
    seen_days = []
    for r in parsed.rows:
        seen_days.append(r.day)
        if r.cancelled:
            skipped["cancelled"] = skipped.get("cancelled", 0) + 1
        elif r.refunded:
            skipped["refunded"] = skipped.get("refunded", 0) + 1
        elif not keep_all and parsed.has_channel and r.channel.lower() != marketplace.lower():
            other[r.channel or "(empty)"] += 1
        elif (start and r.day < start) or (end and r.day > end):
            skipped["outside --start/--end"] = skipped.get("outside --start/--end", 0) + 1
        else:
            used.append(r)
    if other:
        skipped["other sales channels"] = sum(other.values())
    if not used:
        reasons = {**skipped, "bad (--skip-bad)": len(parsed.bad)}
        why = "; ".join(f"{n} {k}" for k, n in reasons.items() if n) or "no order rows"
        listed = [(f"{where}:{line}", p) for line, p in parsed.bad[:MAX_LISTED_BAD_ROWS]]
        raise UserError(
            [*listed, (where, f"no orders left to fit ({why})" + _channel_hint(other, marketplace))]
        )
    # The range: --start/--end, else the first and last purchase day of any readable row.
    lo = start or min(seen_days)
    hi = end or max(seen_days)
    n = (hi - lo).days + 1
    by_sku: dict[str, list[Row]] = defaultdict(list)
    for r in used:
        by_sku[r.sku].append(r)
    fits = []
    for sku, rows in by_sku.items():
        daily = np.zeros(n)
        for r in rows:
            daily[(r.day - lo).days] += r.quantity
        if daily.max() > MAX_DAILY_DEMAND:
            day = lo + dt.timedelta(days=int(daily.argmax()))
            raise UserError(
                (
                    path.name,
                    f"SKU {excerpt(sku)} has {daily.max():,.0f} units on {day}: more than the "
                    f"{MAX_DAILY_DEMAND:,.0f} a day a scenario can hold",
                )
            )
        fits.append(fit_sku(sku, daily, lo, rows, min_days))
    fits.sort(key=lambda f: (-f.units, f.sku))
    warnings = _warnings(fits, n, lo, hi, min_days, used, parsed)
    return Report(
        source=path.name,
        kind=parsed.kind,
        start=lo,
        end=hi,
        fits=fits,
        rows_read=parsed.lines,
        rows_used=len(used),
        skipped=skipped,
        other_channels=other,
        bad=parsed.bad,
        warnings=warnings,
        marketplace=None if keep_all or not parsed.has_channel else marketplace,
        timezone=timezone,
        channel=channel,
    )


def _channel_hint(other: Counter, marketplace: str | None) -> str:
    if not other:
        return ""
    shown = ", ".join(f"{c} ({n})" for c, n in other.most_common(5))
    return f"; sales channels in the file: {shown}; choose one with --marketplace, or 'all'"


def _warnings(fits, n, lo, hi, min_days, used, parsed) -> list[str]:
    out = []
    if n < min_days:
        out.append(
            f"the range {lo} .. {hi} has only {n} days (< --min-days {min_days}): every SKU is "
            "fitted as poisson with its mean only; the spread and weekday profile need more data"
        )
    else:
        for f in fits:
            left = (hi - f.first_day).days + 1
            if f.units > 0 and left < min_days:
                out.append(
                    f"{f.sku}: first order on {f.first_day}, only {left} days before the end of "
                    f"the range (< --min-days {min_days}): too little data to fit reliably; if it "
                    f"launched then, its mean is too low (rerun with --start {f.first_day})"
                )
    currencies = {r.currency for r in used if r.currency and r.unit_price is not None}
    if currencies - {"USD"}:
        out.append(
            f"prices are in {', '.join(sorted(currencies))}: scenarios are in US dollars; "
            "convert price before running"
        )
    if parsed.unreadable_prices:
        out.append(f"{parsed.unreadable_prices} rows have an unreadable item-price (not used)")
    return out


# --------------------------------------------------------------------------- output


def _comment(s: str) -> str:
    """``s`` made safe for a one-line YAML comment (no line breaks or control characters)."""
    return "".join(c if c.isprintable() else " " for c in s)


def _num(x: float, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits, written without an exponent."""
    v = float(f"{x:.{digits}g}")
    return str(int(v)) if v == int(v) else f"{v:.12f}".rstrip("0").rstrip(".")


_KIND_NAMES = {
    "amazon": "Amazon All Orders report",
    "csv": "CSV",
    "shopify": "Shopify orders export",
}


def to_yaml(rep: Report) -> str:
    """The ``skus:`` section with a comment header (source, range, rows used and skipped)."""
    from sim.yaml_dialect import scalar  # PyYAML: not for --help

    n = (rep.end - rep.start).days + 1
    skipped = ", ".join(f"{v} {k}" for k, v in rep.skipped.items())
    lines = [
        f"# Demand fitted by `fulfilsim import-orders` from {_comment(rep.source)}",
        f"# ({_KIND_NAMES[rep.kind]}"
        + (f", sales channel {rep.marketplace}" if rep.marketplace else "")
        + (f", days in {rep.timezone}" if rep.timezone else "")
        + (f", sales channel {rep.channel}: channel_demand" if rep.channel else "")
        + ")",
        f"# Range: {rep.start} .. {rep.end} ({n} days; days without orders count as 0)",
        f"# Rows: {rep.rows_read} read, {rep.rows_used} used"
        + (f"; skipped: {skipped}" if skipped else ""),
    ]
    if rep.other_channels:
        shown = ", ".join(f"{c} {k}" for c, k in rep.other_channels.most_common())
        lines.append(f"#   other sales channels: {shown} (--marketplace all keeps them)")
    if rep.bad:
        shown = ", ".join(str(line) for line, _ in rep.bad[:20])
        more = f" and {len(rep.bad) - 20} more" if len(rep.bad) > 20 else ""
        lines.append(f"#   bad rows skipped (--skip-bad): {len(rep.bad)}, lines {shown}{more}")
    lines += [
        "# Fit: poisson when variance/mean ≤ 1.1 or not significantly > 1 (5 % test), else",
        "# negative_binomial; weekly (Mon..Sun, mean 1) only when ≥ 4 weeks and significant (5 %);",
        "# price = median item-price / quantity. Add each SKU's length_in, width_in, height_in,",
        "# weight_lb, unit_cost and category before using an fba node.",
    ]
    if rep.channel:
        lines += [
            f"# Merge each SKU's channel_demand.{_comment(rep.channel)} into the SKU of the same id",
            f"# in your scenario, and define channels.{_comment(rep.channel)} (fee_rate, "
            "fee_per_order, promise_days).",
        ]
    lines.append("skus:")
    pad = "  " if rep.channel else ""
    for f in rep.fits:
        note = f"{_num(f.units, 9)} units, orders on {f.days_with_orders} of {n} days"
        if f.ratio is not None:
            note += f", variance/mean {f.ratio:.2f} (p {f.ratio_p:.2g})"
        if f.weekly_p is not None and f.weekly is None:
            note += f", no weekday pattern (p {f.weekly_p:.2g})"
        lines.append(f"  # {_comment(f.sku)}: {note}")
        lines.append(f"  - id: {scalar(f.sku)}")
        if f.name:
            lines.append(f"    name: {scalar(f.name[:500])}")
        if f.price is not None:
            lines.append(f"    price: {f.price:.2f}")
        if rep.channel:
            lines.append("    channel_demand:")
            lines.append(f"      {scalar(rep.channel)}:")
        else:
            lines.append("    demand:")
        lines.append(f"{pad}      distribution: {f.distribution}")
        lines.append(f"{pad}      mean_per_day: {_num(f.mean)}")
        if f.distribution == "negative_binomial":
            lines.append(f"{pad}      variance_to_mean: {_num(max(f.ratio, 1.001), 3)}")
        if f.weekly is not None:
            week = ", ".join(f"{v:g}" for v in f.weekly)
            lines.append(f"{pad}      weekly: [{week}]    # Mon..Sun (p {f.weekly_p:.2g})")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError((f"--{param.name}", f"{value!r} is not a date (YYYY-MM-DD)")) from None


@click.command("import-orders")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--marketplace",
    default="Amazon.com",
    show_default=True,
    help="Keep rows of this sales-channel only ('all' keeps every channel).",
)
@click.option("--start", callback=_date, metavar="YYYY-MM-DD", help="First day to use.")
@click.option("--end", callback=_date, metavar="YYYY-MM-DD", help="Last day to use.")
@click.option(
    "--timezone",
    metavar="TZ",
    help="Count days in this time zone (America/Los_Angeles, -08:00, UTC) "
    "[default: as the file writes the date].",
)
@click.option(
    "--min-days",
    type=click.IntRange(1, 36_500),
    default=28,
    show_default=True,
    help="Days of data needed to fit more than a Poisson mean; SKUs first sold later than "
    "this before the end of the range are flagged.",
)
@click.option(
    "--skip-bad",
    is_flag=True,
    help="Write the result even if some rows cannot be read (they are listed and counted).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the skus: section here [default: stdout].",
)
@click.option(
    "--channel",
    metavar="NAME",
    help="FILE is a Shopify orders export of sales channel NAME (a key of the scenario's "
    "channels): write each SKU's channel_demand.NAME instead of demand.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def import_orders(
    file, marketplace, start, end, timezone, min_days, skip_bad, channel, out, force
) -> None:
    """Fit per-SKU demand from an Amazon order report and print a `skus:` section.

    \b
    FILE is Amazon's "All Orders" report (Seller Central › Reports › Fulfillment › All Orders,
    or the flat file GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL: tab-separated,
    columns purchase-date, order-status, sales-channel, sku, quantity, item-price, …) or a CSV
    with a header row sku,date,quantity (one row per order or per day).

    \b
    Cancelled orders (order-status or item-status Cancelled) are left out, and so are other
    sales channels than --marketplace; both are counted. Units are added up per SKU and
    calendar day; days without orders count as 0 between the first and last purchase day in
    the file (or --start/--end). Per SKU: mean units a day; poisson when the variance-to-mean
    ratio is ≤ 1.1 or not significantly above 1, else negative_binomial; a weekly profile when
    there are ≥ 4 weeks and the weekdays differ significantly; price = median unit price.

    \b
    Rows that cannot be read are listed as FILE:LINE: problem on stderr and nothing is written
    (exit 2), unless --skip-bad: then the result is written and the header says what was
    skipped.

    \b
    With --channel NAME, FILE is a Shopify orders export (one row per line item; an order's
    later rows leave Created at and the other order-level columns empty: they are carried
    from its first row). Cancelled orders (Cancelled at) and refunded ones (Financial Status
    refunded or voided) are left out and counted; the SKUs get channel_demand.NAME.
    """
    if out is not None:
        check_target(out, force)  # before reading the orders
    if channel is not None and (not channel.isidentifier() or channel == "amazon"):
        raise UserError(
            ("--channel", f"{excerpt(channel)} must be a channel name like web (not 'amazon')")
        )
    rep = import_file(file, marketplace, start, end, min_days, timezone, skip_bad, channel)
    for line, problem in rep.bad[:MAX_LISTED_BAD_ROWS]:
        click.echo(format_problem(f"{file}:{line}", problem), err=True)
    if len(rep.bad) > MAX_LISTED_BAD_ROWS:
        click.echo(f"{file}: {len(rep.bad) - MAX_LISTED_BAD_ROWS} more bad rows", err=True)
    text = to_yaml(rep)
    summary = f"{file}: {rep.rows_used} of {rep.rows_read} rows used, {len(rep.fits)} SKUs"
    details = [f"{n} {k}" for k, n in rep.skipped.items()]
    if rep.bad:
        details.append(f"{len(rep.bad)} bad (--skip-bad)")
    if details:
        summary += "; skipped " + ", ".join(details)
    click.echo(summary, err=True)
    for w in rep.warnings:
        click.echo(f"{file}: note: {w}", err=True)
    if out is None:
        click.echo(text, nl=False)
        return
    write_file(out, text)
    click.echo(f"wrote {out}", err=True)
