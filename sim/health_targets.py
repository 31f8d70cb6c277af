"""Amazon's account-health targets for seller-fulfilled orders: the published rules, as plain
data (no numpy), so the command line and the tables can name them before the engine is loaded.
``sim.health`` judges them over rolling windows of a replication's orders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One account-health target: ``rate`` over ``window`` order days must stay below
    ``limit`` (``below``) or above it (otherwise); each rate is numerator ÷ denominator."""

    name: str  # the breach metric is breach_<name>
    window: int
    limit: float
    below: bool
    numerator: str  # a field of SellerRecord
    denominator: str
    label: str = ""  # in words, for the recommendation


# Amazon US, help page 200370550 (Customer service performance) and facts §5.1 (official):
TARGETS = (
    # late shipment rate < 4 %, over 10 and over 30 days (SP-API lateShipmentRate 0.04
    # LESS_THAN; both ranges count: Amazon forum, "Late shipment rate. 10 day or 30 day?")
    Target(
        "late_shipment_10d", 10, 0.04, True, "late", "shipped", "late shipments ≥ 4 % over 10 days"
    ),
    Target(
        "late_shipment_30d", 30, 0.04, True, "late", "shipped", "late shipments ≥ 4 % over 30 days"
    ),
    # pre-fulfilment cancel rate < 2.5 % over 7 days: cancelled ÷ orders (shipped + cancelled)
    Target("cancel_7d", 7, 0.025, True, "cancelled", "orders", "cancellations ≥ 2.5 % over 7 days"),
    # valid tracking rate > 95 % over 30 days (help G201817070 "95% target"; SP-API
    # validTrackingRate 0.95 GREATER_THAN; an older Amazon e-mail says "at least 95%")
    Target(
        "valid_tracking_30d",
        30,
        0.95,
        False,
        "valid",
        "shipped",
        "valid tracking ≤ 95 % over 30 days",
    ),
    # on-time delivery > 90 % over 14 days (SP-API unitOnTimeDeliveryRate 0.9 GREATER_THAN;
    # window from an Amazon forum reply; help 200847280 recommends > 97 %: not a target)
    Target(
        "on_time_delivery_14d",
        14,
        0.90,
        False,
        "on_time",
        "shipped",
        "on-time delivery ≤ 90 % over 14 days",
    ),
    # order defect rate < 1 % over 60 days (help 200370550 "under 1%"; SP-API 0.01 LESS_THAN)
    Target(
        "order_defect_60d", 60, 0.01, True, "defects", "shipped", "order defects ≥ 1 % over 60 days"
    ),
)
BREACH_METRICS = tuple(f"breach_{t.name}" for t in TARGETS)
