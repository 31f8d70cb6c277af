"""Amazon Warehousing and Distribution (AWD): dated rates and the charges of one AWD node.

AWD is bulk storage upstream of FBA: it holds stock, is fed by supply lanes and refills FBA
nodes by transfer; it never ships to customers. Its fees (``sim/fees/data/awd.yaml``, Amazon
help pages GAYG62Q3MPE6STFS and GPB467PZW3AZC4V3) are charged from the replication's trace:

* storage: ``on_hand[t] x cubic feet x monthly rate / days in that calendar month`` summed over
  the days, which is Amazon's "average volume used over the month x the monthly rate"
  (``cost_storage``, dated on the day it accrues);
* inbound processing (from 2025-04-01): per box of each shipment received, boxes =
  ``ceil(units / units_per_carton)`` per SKU and shipment, at the rate of the receipt day
  (``cost_receiving``, dated on the receipt day);
* outbound processing (the single processing fee until 2025-03-31) and transportation per cubic
  foot: per transfer to FBA, boxes counted the same way (``cost_transfer``, dated on the day the
  transfer leaves AWD, at that day's rates, like every transfer cost; Amazon bills them on
  delivery, the lane's lead time later).

Stock on hand at day 0 was received before the run: it pays no inbound processing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.fees import FeeTables, default_tables
from sim.fees.tables import as_date


@dataclass(frozen=True)
class AwdRates:
    """The AWD rates of one tier on one day (USD)."""

    storage_per_cubic_foot_month: float
    inbound_per_box: float
    outbound_per_box: float
    transport_per_cubic_foot: float
    verified: bool
    source: tuple[str, ...]


def awd_rates(rate: str, on: dt.date, tables: FeeTables | None = None) -> AwdRates:
    """The rates of tier ``rate`` in force on ``on`` (FeeError, location ``date``, outside the
    table). ``verified`` is False for a row marked unverified and for days after the table's
    ``verified_until`` (the last rates Amazon published, carried on)."""
    t = tables or default_tables()
    section = t["awd"]
    on = as_date(on)
    row = t.in_force(section["versions"], on, "AWD fee table")
    until = section.get("verified_until")
    verified = row.get("verification") == "official" and not row.get("unverified")
    if isinstance(until, dt.date) and on > until:
        verified = False
    return AwdRates(
        storage_per_cubic_foot_month=float(_tier(row["storage_per_cubic_foot_month"], rate)),
        inbound_per_box=float(row["processing_per_box"]["inbound"]),
        outbound_per_box=float(row["processing_per_box"]["outbound"]),
        transport_per_cubic_foot=float(_tier(row["transport_per_cubic_foot"], rate)),
        verified=verified,
        source=tuple(row.get("source", ())),
    )


def _tier(value, rate: str) -> float:
    return value[rate] if isinstance(value, Mapping) else value


@dataclass(frozen=True, eq=False)
class AwdFees:
    """Per-day AWD rates of one node over the calendar (numpy arrays)."""

    rate: str
    storage_per_unit_day: np.ndarray  # (days, skus) USD per unit on hand at the end of day t
    inbound_per_box: np.ndarray  # (days,) USD per box received on day t
    outbound_per_box: np.ndarray  # (days,) USD per box of a transfer leaving on day t
    transport_per_cubic_foot: np.ndarray  # (days,) USD per cu ft of a transfer leaving on day t
    cubic_feet: np.ndarray  # (skus,)
    units_per_carton: np.ndarray  # (skus,)


def build_awd_fees(
    rate: str,
    start: dt.date,
    days: int,
    cubic_feet: np.ndarray,
    units_per_carton: np.ndarray,
    tables: FeeTables | None = None,
) -> AwdFees:
    """Price tier ``rate`` on every day of ``start .. start + days - 1``: looked up once per
    piece of the calendar between month starts and the table's dates."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    cuts = [0] + [i for i in range(1, days) if dates[i].day == 1 or _edge(tables, dates[i])]
    storage = np.zeros(days)  # USD per cu ft per day
    inbound, outbound, transport = np.zeros(days), np.zeros(days), np.zeros(days)
    for lo, hi in zip(cuts, [*cuts[1:], days], strict=True):
        on = dates[lo]
        r = awd_rates(rate, on, tables)
        storage[lo:hi] = r.storage_per_cubic_foot_month / calendar.monthrange(on.year, on.month)[1]
        inbound[lo:hi], outbound[lo:hi] = r.inbound_per_box, r.outbound_per_box
        transport[lo:hi] = r.transport_per_cubic_foot
    cubic_feet = np.asarray(cubic_feet, dtype=float)
    return AwdFees(
        rate=rate,
        storage_per_unit_day=storage[:, None] * cubic_feet[None, :],
        inbound_per_box=inbound,
        outbound_per_box=outbound,
        transport_per_cubic_foot=transport,
        cubic_feet=cubic_feet,
        units_per_carton=np.asarray(units_per_carton, dtype=float),
    )


def _edge(tables: FeeTables | None, on: dt.date) -> bool:
    """A version of the AWD table starts on ``on`` (or the previous one ended the day before),
    or ``on`` is the first day past ``verified_until``."""
    section = (tables or default_tables())["awd"]
    for row in section["versions"]:
        if row.get("effective_from") == on:
            return True
        end = row.get("effective_to")
        if isinstance(end, dt.date) and end + dt.timedelta(days=1) == on:
            return True
    until = section.get("verified_until")
    return isinstance(until, dt.date) and until + dt.timedelta(days=1) == on


def boxes(units: np.ndarray, units_per_carton: np.ndarray) -> np.ndarray:
    """Boxes of each shipment: ``ceil(units / units_per_carton)`` per SKU (cartons hold one SKU)."""
    return np.ceil(units / units_per_carton)


def awd_charges(fees: AwdFees, trace, model, n: int) -> dict[str, np.ndarray]:
    """USD charged by AWD node ``n`` in one replication, ``(days, skus)`` by the day each charge
    is dated (see the module docstring), keyed by the cost part it joins: ``storage``,
    ``receiving`` (inbound processing) and ``transfer`` (outbound processing + transport)."""
    on_hand = trace.on_hand[:, n]
    storage = on_hand * fees.storage_per_unit_day
    receiving = np.zeros(on_hand.shape)
    transfer = np.zeros(on_hand.shape)
    upc = fees.units_per_carton
    arrived = trace.arrived()
    for i, lane in enumerate(model.lanes):
        orders = trace.orders[i]
        if lane.node == n:
            t = np.flatnonzero(arrived[i] & orders.any(axis=1))
            due = t + trace.lead_days[i, t]
            np.add.at(receiving, due, boxes(orders[t], upc) * fees.inbound_per_box[due, None])
        if lane.source == n:
            out = boxes(orders, upc) * fees.outbound_per_box[:, None]
            transfer += out + orders * fees.cubic_feet * fees.transport_per_cubic_foot[:, None]
    return {"storage": storage, "receiving": receiving, "transfer": transfer}
