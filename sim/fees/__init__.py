"""Amazon US FBA fees: size tiers and fee schedules as data (``data/us.yaml``) + one calculator.

Typical use::

    from sim.fees import Product, fulfillment_fee
    quote = fulfillment_fee(Product(10, 6, 4, 1.1, price=24.99), datetime.date(2026, 3, 1))
    quote.fulfillment_fee, quote.size_tier, quote.verified
"""

from sim.fees.calculator import (
    FeeQuote,
    aged_inventory_fee,
    fulfillment_fee,
    fulfillment_fee_table,
    inbound_placement_fee,
    low_inventory_fee,
    monthly_storage_rate,
    removal_fee,
    returns_processing_charge,
)
from sim.fees.product import FeeError, Product, cubic_feet
from sim.fees.referral import ReferralQuote, referral_categories, referral_fee, referral_quote
from sim.fees.tables import FeeTables, default_tables, load_tables
from sim.fees.tiers import SIZE_TIERS, dimensional_weight_lb, shipping_weight_lb, size_tier

__all__ = [
    "SIZE_TIERS",
    "FeeError",
    "FeeQuote",
    "FeeTables",
    "Product",
    "ReferralQuote",
    "aged_inventory_fee",
    "cubic_feet",
    "default_tables",
    "dimensional_weight_lb",
    "fulfillment_fee",
    "fulfillment_fee_table",
    "inbound_placement_fee",
    "load_tables",
    "low_inventory_fee",
    "monthly_storage_rate",
    "referral_categories",
    "referral_fee",
    "referral_quote",
    "removal_fee",
    "returns_processing_charge",
    "shipping_weight_lb",
    "size_tier",
]
