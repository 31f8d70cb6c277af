"""Writes the synthetic order files next to this script (see README.md here).

    python tests/data/make_samples.py

Only ``random.random()`` is used (Python guarantees its sequence for a seed across versions),
so the files are reproduced byte for byte; ``tests/test_import_orders.py`` checks that.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260302
START = dt.date(2026, 3, 2)  # a Monday
DAYS = 56  # 8 weeks

HEADER = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "url", "ship-service-level",
    "product-name", "sku", "asin", "item-status", "quantity", "currency", "item-price",
    "item-tax", "shipping-price", "shipping-tax", "ship-city", "ship-state", "ship-postal-code",
    "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation",
]  # fmt: skip

# sku, product name, asin, unit price, fulfilment channel
PRODUCTS = {
    "KETTLE-GOOSENECK": ("Gooseneck Pour-Over Kettle, 1 L, Matte Black", "B0SYNTH001", 44.99),
    "FILTER-PAPER-100": ("Cone Paper Coffee Filters, Size 02, 100 Count", "B0SYNTH002", 12.99),
    "MUG-11OZ": ('Stoneware Coffee Mug 11 oz, 4.5" Tall, Speckled White', "B0SYNTH003", 24.99),
}
FILTER_WEEKLY = (1.2, 1.2, 1.2, 1.2, 1.2, 3.0, 3.6)  # orders a day, Mon..Sun
CITIES = [
    ("SEATTLE", "WA", "98101"), ("PORTLAND", "OR", "97205"), ("AUSTIN", "TX", "78701"),
    ("DENVER", "CO", "80202"), ("CHICAGO", "IL", "60601"), ("BROOKLYN", "NY", "11201"),
    ("ATLANTA", "GA", "30303"), ("SAN JOSE", "CA", "95113"),
]  # fmt: skip
CA_CITIES = [("TORONTO", "ON", "M5V 2T6"), ("VANCOUVER", "BC", "V6B 1A1")]


class Rng:
    """Small distributions on top of random.random() only."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def u(self) -> float:
        return self.r.random()

    def pick(self, items):
        return items[int(self.u() * len(items))]

    def poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, self.u()
        while p > limit:
            k += 1
            p *= self.u()
        return k

    def geometric(self, p: float) -> int:
        """Failures before the first success."""
        return int(math.log(1.0 - self.u()) / math.log(1.0 - p))

    def negative_binomial(self, r: int, p: float) -> int:
        """Mean r(1-p)/p, variance/mean 1/p."""
        return sum(self.geometric(p) for _ in range(r))

    def digits(self, n: int) -> str:
        return "".join(str(int(self.u() * 10)) for _ in range(n))


def _order(rng, day, sku, qty, *, status="Shipped", channel="Amazon.com", item_status=None):
    name, asin, price = PRODUCTS[sku]
    stamp = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(seconds=int(rng.u() * 86400))
    updated = stamp + dt.timedelta(hours=2 + int(rng.u() * 40))
    fba = rng.u() < 0.8
    ca = channel == "Amazon.ca"
    city, state, postal = rng.pick(CA_CITIES if ca else CITIES)
    currency, unit = ("CAD", round(price * 1.37, 2)) if ca else ("USD", price)
    cancelled = status == "Cancelled"
    pending = status == "Pending"
    priced = not (cancelled or pending)
    item_price = f"{unit * qty:.2f}" if priced else ""
    tax = f"{unit * qty * 0.08:.2f}" if priced else ""
    prefix = "702" if ca else rng.pick(["111", "112", "113", "114"])
    return {
        "amazon-order-id": f"{prefix}-{rng.digits(7)}-{rng.digits(7)}",
        "merchant-order-id": "" if fba else f"M{rng.digits(8)}",
        "purchase-date": stamp.isoformat(),
        "last-updated-date": updated.isoformat(),
        "order-status": status,
        "fulfillment-channel": "Amazon" if fba else "Merchant",
        "sales-channel": channel,
        "order-channel": "",
        "url": "",
        "ship-service-level": "Expedited" if fba else "Standard",
        "product-name": name,
        "sku": sku,
        "asin": asin,
        "item-status": item_status or ("Cancelled" if cancelled else status),
        "quantity": str(qty),
        "currency": currency,
        "item-price": item_price,
        "item-tax": tax,
        "shipping-price": "0.00" if priced else "",
        "shipping-tax": "0.00" if priced else "",
        "ship-city": city,
        "ship-state": state,
        "ship-postal-code": postal,
        "ship-country": "CA" if ca else "US",
        "promotion-ids": "",
        "is-business-order": "false",
        "purchase-order-number": "",
        "price-designation": "",
    }


def all_orders() -> list[dict]:
    """About 340 order lines: 3 SKUs over 8 weeks, some cancelled, some Amazon.ca / Non-Amazon."""
    rng = Rng(SEED)
    rows = []
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        last_days = i >= DAYS - 2
        status = "Pending" if last_days else "Shipped"
        for _ in range(rng.negative_binomial(2, 0.4)):  # 3 orders a day, variance/mean 2.5
            rows.append(_order(rng, day, "KETTLE-GOOSENECK", 1, status=status))
        for _ in range(rng.poisson(FILTER_WEEKLY[day.weekday()])):
            u = rng.u()
            qty = 1 if u < 0.75 else (2 if u < 0.95 else 3)
            rows.append(_order(rng, day, "FILTER-PAPER-100", qty, status=status))
        for _ in range(rng.poisson(0.9)):
            rows.append(_order(rng, day, "MUG-11OZ", 1, status=status))
        if rng.u() < 0.15:  # a cancelled order: quantity kept (order-status) or 0 (item-status)
            sku = rng.pick(list(PRODUCTS))
            if rng.u() < 0.5:
                rows.append(_order(rng, day, sku, 1 + int(rng.u() * 2), status="Cancelled"))
            else:
                rows.append(_order(rng, day, sku, 0, status="Shipped", item_status="Cancelled"))
        if rng.u() < 0.2:
            rows.append(_order(rng, day, rng.pick(list(PRODUCTS)), 1, channel="Amazon.ca"))
        if rng.u() < 0.05:
            rows.append(_order(rng, day, rng.pick(list(PRODUCTS)), 1, channel="Non-Amazon"))
    rows.sort(key=lambda r: r["purchase-date"])
    return rows


def tsv(rows: list[dict]) -> str:
    return "\n".join(["\t".join(HEADER), *("\t".join(r[h] for h in HEADER) for r in rows)]) + "\n"


# line number (1-based, header = 1) -> how that line is broken in the malformed variant
MALFORMED = {
    5: ("purchase-date", "2026-03-0x"),
    9: ("quantity", "two"),
    12: ("quantity", "-1"),
    15: ("sku", ""),
    18: None,  # truncated after the 10th field
    21: ("purchase-date", ""),
}


def malformed(rows: list[dict]) -> str:
    """The first 30 order lines of the sample with six lines broken (``MALFORMED``)."""
    lines = tsv(rows[:30]).splitlines()
    for n, change in MALFORMED.items():
        cells = lines[n - 1].split("\t")
        if change is None:
            cells = cells[:10]
        else:
            cells[HEADER.index(change[0])] = change[1]
        lines[n - 1] = "\t".join(cells)
    return "\n".join(lines) + "\n"


def daily_csv() -> str:
    """Daily units of two SKUs over 5 weeks, as a spreadsheet export: sku,date,quantity."""
    rng = Rng(SEED + 1)
    out = ["sku,date,quantity"]
    for i in range(35):
        day = START + dt.timedelta(days=i)
        for sku, lam in (("TOWEL-BATH-2PK", 4.0), ("SOAP-DISH", 0.6)):
            units = rng.poisson(lam)
            if units:  # days without sales are simply absent
                out.append(f"{sku},{day.isoformat()},{units}")
    return "\n".join(out) + "\n"


SHOPIFY_HEADER = [
    "Name", "Email", "Financial Status", "Fulfillment Status", "Currency", "Created at",
    "Cancelled at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
]  # fmt: skip
WEB_ORDERS = 1.6  # web-shop orders a day (Poisson); each has 1 to 3 line items


def shopify_csv() -> str:
    """A Shopify orders export of the same three products over the same 8 weeks: an order
    with several line items repeats its Name and leaves the order-level columns empty on its
    later rows, as Shopify writes them; about 1 order in 25 is cancelled, 1 in 25 refunded."""
    rng = Rng(SEED + 2)
    out, number = [",".join(SHOPIFY_HEADER)], 1001
    for i in range(DAYS):
        day = START + dt.timedelta(days=i)
        for _ in range(rng.poisson(WEB_ORDERS)):
            stamp = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=int(rng.u() * 86400))
            created = stamp.strftime("%Y-%m-%d %H:%M:%S -0500")
            u = rng.u()
            status, cancelled = "paid", ""
            if u < 0.04:
                cancelled = (stamp + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S -0500")
            elif u < 0.08:
                status = "refunded"
            fulfilled = "" if cancelled else "fulfilled"
            items = 1 + (rng.u() < 0.3) + (rng.u() < 0.1)
            for k in range(items):
                sku = rng.pick(list(PRODUCTS))
                name, _, price = PRODUCTS[sku]
                qty = 1 + (rng.u() < 0.2)
                order = (
                    [f"customer{number}@example.com", status, fulfilled, "USD", created, cancelled]
                    if k == 0
                    else ["", "", "", "", "", ""]
                )
                name = '"' + name.replace('"', '""') + '"'
                out.append(",".join([f"#{number}", *order, str(qty), name, f"{price:.2f}", sku]))
            number += 1
    return "\n".join(out) + "\n"


def files() -> dict[str, str]:
    rows = all_orders()
    return {
        "all-orders-sample.txt": tsv(rows),
        "all-orders-malformed.txt": malformed(rows),
        "daily-units.csv": daily_csv(),
        "shopify-orders-sample.csv": shopify_csv(),
    }


if __name__ == "__main__":
    for name, text in files().items():
        (HERE / name).write_text(text, encoding="utf-8", newline="")
        print(f"wrote {HERE / name}: {text.count(chr(10))} lines")
