"""Amazon's account-health targets for seller-fulfilled orders, judged over rolling windows.

Only orders shipped by seller nodes (``fbm``, ``sfp``, ``3pl``) count: Amazon answers for FBA's.
Seller Fulfilled Prime eligibility is a different matter (``sim.engine``: the badge); losing the
badge is not an account-health breach.

Every target is a rate over a trailing window of order days (Amazon correlates the metrics with
the order date, help page G202124800) that must stay strictly below or strictly above Amazon's
number. Amazon's Selling Partner API states each target's condition as ``LESS_THAN`` or
``GREATER_THAN`` "to stay in good status" (``accountHealthReport`` schema, amzn/
selling-partner-api-models, schemas/reports/accountHealthReport-2020-11-18.json), and the
help pages say "under 4 %", "under 2.5 %", "under 1 %": so a late-shipment rate of exactly
4 % breaches, and a valid-tracking rate of exactly 95 % does too.

Valid tracking and order defects are drawn per order shipped from the node's own streams
(``("valid_tracking", node)``, ``("order_defects", node)``: common random numbers); cancelled
orders are drawn by the engine when they are taken from the shelf.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import Trace
from sim.health_targets import TARGETS, Target
from sim.model import StrategyModel


@dataclass
class SellerRecord:
    """Seller-fulfilled orders by order day and SKU, (days, skus) each: shipped, shipped late,
    delivered on time, cancelled, shipped with valid tracking, with a defect. ``cancelled`` and
    ``defects`` are None when there are none, ``valid`` None when every order has valid
    tracking (big catalogs: no array is built that nothing needs)."""

    shipped: np.ndarray
    late: np.ndarray
    on_time: np.ndarray
    cancelled: np.ndarray | None
    valid: np.ndarray | None
    defects: np.ndarray | None

    def get(self, name: str) -> np.ndarray:
        """A field as an array (0 for no cancellations or defects, ``shipped`` for valid
        tracking on every order); ``orders`` = shipped + cancelled."""
        if name == "orders":
            return self.shipped if self.cancelled is None else self.shipped + self.cancelled
        value = getattr(self, name)
        if value is not None:
            return value
        return self.shipped if name == "valid" else np.zeros(self.shipped.shape)

    def fine(self, target: Target) -> bool:
        """Every order meets the target by construction: no window can breach."""
        if target.numerator in ("cancelled", "defects"):
            return getattr(self, target.numerator) is None
        if target.numerator == "valid":
            return self.valid is None
        return False

    def total(self) -> SellerRecord:
        """The same record with all SKUs together, (days, 1) each."""
        return SellerRecord(
            *(None if a is None else a.sum(axis=1, keepdims=True) for a in self.__dict__.values())
        )


def seller_record(trace: Trace, model: StrategyModel, streams) -> SellerRecord | None:
    """The seller-fulfilled orders of one replication (None when no seller node ships)."""
    seller = [n for n in trace.shippers if model.nodes[n].seller_fulfilled]
    if not seller:
        return None
    parts: dict[str, list] = {k: [] for k in SellerRecord.__dataclass_fields__}
    for n in seller:
        node, sh = model.nodes[n], trace.shippers[n]
        parts["shipped"].append(sh.shipped)
        parts["late"].append(sh.late)
        parts["on_time"].append(sh.on_time)
        if trace.cancelled is not None and node.cancel_rate > 0:
            parts["cancelled"].append(trace.cancelled[:, n] * sh.per_order)
        parts["valid"].append(
            _draw(sh, node.valid_tracking_rate, streams, "valid_tracking", node.name)
        )
        if node.defect_rate > 0:
            parts["defects"].append(
                _draw(sh, node.defect_rate, streams, "order_defects", node.name)
            )
    if all(v is sh for v, sh in zip(parts["valid"], parts["shipped"], strict=True)):
        parts["valid"] = []  # every order with valid tracking
    return SellerRecord(**{k: _sum(v) for k, v in parts.items()})


def _sum(arrays: list[np.ndarray]) -> np.ndarray | None:
    if not arrays:
        return None
    return arrays[0] if len(arrays) == 1 else sum(arrays[1:], arrays[0])


def _draw(shipper, p: float, streams, *stream: str) -> np.ndarray:
    """(days, skus) orders of ``shipper.shipped`` that have a property of probability ``p``
    each: a binomial draw per order day and SKU on the units shipped (exact per order when each
    order is one unit), from the node's own stream; no draw when p is 1 (or 0)."""
    if p >= 1.0:
        return shipper.shipped
    if p <= 0.0:
        return np.zeros(shipper.shipped.shape)
    units = np.rint(shipper.shipped / shipper.per_order).astype(np.int64)
    return streams.new(*stream).binomial(units, p) * shipper.per_order


def breaches(record: SellerRecord, warmup: int, least: float) -> dict[str, np.ndarray]:
    """Per target, (counted days, width) True where its window ending that day breached."""
    out = {}
    for t in TARGETS:
        if record.fine(t):
            out[t.name] = None  # every order fine: no window can breach
            continue
        num, den = record.get(t.numerator), record.get(t.denominator)
        if (t.below and not num.any()) or (not t.below and np.array_equal(num, den)):
            out[t.name] = None
            continue
        rate = rolling_rate(num, den, t.window, warmup, least)
        with np.errstate(invalid="ignore"):
            hit = rate >= t.limit - 1e-12 if t.below else rate <= t.limit + 1e-12
        out[t.name] = hit
    return out


def rolling_rate(
    num: np.ndarray, den: np.ndarray, window: int, warmup: int, least: float = 1
) -> np.ndarray:
    """(counted days, width) rate over the trailing ``window`` counted days ending on each day;
    NaN before the first full window and where a window has fewer than ``least`` orders. A
    horizon shorter than the window is judged once, on all its counted days."""
    num, den = num[warmup:], den[warmup:]
    days = len(den)
    window = min(window, days)
    cn = np.cumsum(num, axis=0)
    cd = np.cumsum(den, axis=0)
    pad = np.zeros((1, num.shape[1]))
    cn = np.vstack([pad, cn])
    cd = np.vstack([pad, cd])
    n = cn[window:] - cn[:-window]
    d = cd[window:] - cd[:-window]
    out = np.full(num.shape, np.nan)
    judged = (d > 0) & (d >= least - 1e-9)
    out[window - 1 :] = np.where(judged, n / np.where(judged, d, 1), np.nan)
    return out
