"""The names of the metrics (SPEC §4) and of what each command accepts: plain Python (no numpy),
so the command line can offer them (choices, ``--help``) before the engine is loaded."""

from __future__ import annotations

from sim.health_targets import BREACH_METRICS

COST_PARTS = (
    "product",
    "freight",
    "fulfillment",
    "storage",
    "aged_inventory",
    "low_inventory",
    "placement",
    "referral",
    "returns",
    "transfer",
    "receiving",
    "fixed",
    "mcf",
    "channel",
)
METRICS = (
    "demand_units",
    "sold_units",
    "fill_rate",
    "cycle_service_level",
    "lost_units",
    "backordered_units",
    "cancelled_units",
    "avg_on_hand_units",
    "avg_backorder_units",
    "orders_shipped",
    "on_time_rate",
    "late_shipment_rate",
    "cancel_rate",
    "valid_tracking_rate",
    "order_defect_rate",
    "avg_delivery_days",
    "revenue",
    *(f"cost_{p}" for p in COST_PARTS),
    "total_cost",
    "profit",
    "lost_margin",
    "account_health_breach_rate",
    "account_health_breach_days",
    *BREACH_METRICS,
    "badge_lost_days",
    "sfp_breach_rate",
)
INDEX = {m: i for i, m in enumerate(METRICS)}
# shares of something, between 0 and 1 by definition: their intervals are clipped to [0, 1]
# (and paired differences of them to [-1, 1]); add any new rate here
RATES = frozenset(
    {
        "fill_rate",
        "cycle_service_level",
        "on_time_rate",
        "late_shipment_rate",
        "cancel_rate",
        "valid_tracking_rate",
        "order_defect_rate",
        "account_health_breach_rate",
        *BREACH_METRICS,
        "sfp_breach_rate",
    }
)
LOWER_IS_BETTER = frozenset(
    {
        "lost_units",
        "backordered_units",
        "cancelled_units",
        "avg_on_hand_units",
        "avg_backorder_units",
        "late_shipment_rate",
        "cancel_rate",
        "order_defect_rate",
        "avg_delivery_days",
        *(f"cost_{p}" for p in COST_PARTS),
        "total_cost",
        "lost_margin",
        "account_health_breach_rate",
        "account_health_breach_days",
        *BREACH_METRICS,
        "badge_lost_days",
        "sfp_breach_rate",
    }
)
# per sales channel (``sim.channels``), Amazon first
CHANNEL_METRICS = (
    "demand_units",
    "sold_units",
    "lost_units",
    "fill_rate",
    "orders_shipped",
    "on_time_rate",
    "revenue",
    "cost_referral",
    "cost_fulfillment",
    "cost_mcf",
    "cost_channel",
)
TARGET_METRICS = ("cycle_service_level", "fill_rate", "on_time_rate")  # optimize --target
BREAK_EVEN_METRICS = ("profit", "total_cost")  # sweep's default break-even metrics
