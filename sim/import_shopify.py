"""Reading a Shopify orders export for ``import-orders --channel NAME``.

Shopify's orders export (Orders › Export, CSV) has one row per line item. An order with several
line items repeats its ``Name`` (e.g. ``#1001``) on every row and fills the order-level columns
(``Created at``, ``Financial Status``, ``Fulfillment Status``, ``Cancelled at``, ``Currency``)
on its first row only: they are carried from the order's first row to its later rows. The
columns used: ``Name``, ``Created at``, ``Financial Status``, ``Cancelled at``, ``Currency``,
``Lineitem quantity``, ``Lineitem sku``, ``Lineitem price`` (a unit price). An order with a
``Cancelled at`` time is cancelled; one whose ``Financial Status`` is ``refunded`` or ``voided``
is refunded; both are left out and counted (a ``partially_refunded`` order is kept: its items
were sold). Rows that cannot be read are reported by line, as for Amazon's report.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from sim.errors import UserError, excerpt
from sim.import_orders import (
    _CONTROL,
    MAX_DAILY_DEMAND,
    MAX_FILE_BYTES,
    Parsed,
    Row,
    parse_day,
)
from sim.scenario_files import read_named

ORDER_COLUMNS = ("created at", "financial status", "fulfillment status", "cancelled at", "currency")
REQUIRED = ("name", "created at", "lineitem quantity", "lineitem sku")
REFUNDED = frozenset({"refunded", "voided"})


def read_shopify(path: Path, timezone=None) -> Parsed:
    """Parse a Shopify orders export into order lines, carrying order-level columns from each
    order's first row; bad rows are collected by line."""
    where = str(path)
    text = read_named(path, MAX_FILE_BYTES, "order files").decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise UserError((where, "the file is empty")) from None
    cols = {name: header.index(name) for name in header if name}
    missing = [name for name in REQUIRED if name not in cols]
    if missing:
        shown = ", ".join(h for h in header[:12] if h) or "none"
        raise UserError(
            (
                f"{where}:1",
                f"no column {' / '.join(m.title() for m in missing)}: expected a Shopify orders "
                f"export (Name, Created at, Lineitem quantity, Lineitem sku, …); found: {shown}",
            )
        )
    out = Parsed(kind="shopify")
    first_rows: dict[str, dict[str, str]] = {}  # order Name -> its order-level columns
    previous = reader.line_num
    for cells in reader:
        line = previous + 1
        previous = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        out.lines += 1
        if len(cells) != len(header):
            out.bad.append((line, f"has {len(cells)} fields, the header has {len(header)}"))
            continue

        def get(name: str, cells: list[str] = cells) -> str:
            i = cols.get(name)
            return cells[i].strip() if i is not None else ""

        order = get("name")
        if not order:
            out.bad.append((line, "no Name (order number)"))
            continue
        carried = first_rows.setdefault(order, {c: get(c) for c in ORDER_COLUMNS})
        for c in ORDER_COLUMNS:  # a later row may fill a column the first row left empty
            if not carried[c] and get(c):
                carried[c] = get(c)
        row, problem = _row(get, carried, timezone)
        if problem:
            out.bad.append((line, problem))
        else:
            out.rows.append(row)
    return out


def _row(get, order: dict[str, str], timezone) -> tuple[Row | None, str | None]:
    sku = get("lineitem sku")
    if not sku:
        return None, "no Lineitem sku"
    if not sku.isprintable():
        return None, f"sku {sku!r} contains a control character"
    day, problem = parse_day(order["created at"], timezone)
    if problem:
        return None, problem.replace("date", "Created at", 1)
    text = get("lineitem quantity")
    try:
        qty = float(text)
    except ValueError:
        return None, f"Lineitem quantity {excerpt(text)} is not a number" if text else "no quantity"
    if not math.isfinite(qty) or qty < 0 or qty > MAX_DAILY_DEMAND:
        return (
            None,
            f"Lineitem quantity {excerpt(text)} must be a number between 0 and {MAX_DAILY_DEMAND:,.0f}",
        )
    price = None
    price_text = get("lineitem price")
    if price_text:
        try:
            value = float(price_text.replace(",", ""))
            price = value if math.isfinite(value) and value > 0 else None
        except ValueError:
            price = None
    return Row(
        sku=sku,
        day=day,
        quantity=qty,
        channel=None,
        cancelled=bool(order["cancelled at"]),
        unit_price=price,
        currency=order["currency"] or None,
        name=_CONTROL.sub("", get("lineitem name")) or None,
        refunded=order["financial status"].lower() in REFUNDED,
    ), None
