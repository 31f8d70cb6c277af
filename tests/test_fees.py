"""Tests of the US FBA fee engine against the project's sourced reference.

Expected numbers come from shared/reference/amazon-us-facts.md (cited as "facts §x") and
shared/reference/fba-fees-us.yaml (cited by block name), or from a cited row's own formula
("$6.92 + $0.08 per 4 oz above 3 lb" and the like). Values that rest on a documented choice of
ours cite it as C1..C5 (the choices listed at the top of sim/fees/data/us.yaml).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.errors import UserError
from sim.fees import (
    FeeError,
    Product,
    aged_inventory_fee,
    cubic_feet,
    default_tables,
    fulfillment_fee,
    inbound_placement_fee,
    load_tables,
    low_inventory_fee,
    monthly_storage_rate,
    referral_categories,
    referral_fee,
    referral_quote,
    removal_fee,
    returns_processing_charge,
    size_tier,
)
from sim.fees_command import fees

D = dt.date
NONPEAK_2024 = D(2024, 6, 1)
PEAK_2024 = D(2024, 11, 15)
NONPEAK_2025 = D(2025, 6, 1)
PEAK_2025 = D(2025, 11, 15)
EARLY_2026 = D(2026, 3, 1)  # 2026 card, before the fuel surcharge

# Amazon's worked examples (facts §2.2 / §2.3, source S5). Sizes are ours, chosen to land in the
# example's tier and weight band.
PHONE_CASE = Product(6, 3, 0.5, 3 / 16, price=15)  # small standard, 2-4 oz
BABY_COT = Product(20, 10, 5, 8, price=60)  # large bulky (2024), 8 lb; dim weight 7.19 lb
MONITOR = Product(30, 20, 10, 66, price=200)  # extra-large 50-70 lb; dim weight 43.2 lb
TWO_OZ = Product(6, 3, 0.5, 2 / 16, price=20)  # small standard, <= 2 oz


def fee(product: Product, on: dt.date) -> float:
    return fulfillment_fee(product, on).fulfillment_fee


def priced(product: Product, price: float) -> Product:
    return Product(product.length_in, product.width_in, product.height_in, product.weight_lb, price)


# --- Amazon's worked examples -------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "tier", "nonpeak", "peak"),
    [
        (PHONE_CASE, "small_standard", 3.15, 3.34),  # facts §2.2 / §2.3: 3.15 -> 3.34
        (BABY_COT, "large_bulky", 12.27, 13.31),  # 9.61 + 7 x 0.38 -> 13.31
        (MONITOR, "extra_large_50_70", 51.37, 54.18),  # 40.12 + 15 x 0.75 -> 54.18
    ],
)
def test_amazon_examples_2024_and_2025(product, tier, nonpeak, peak):
    # The 2025 seasons reuse the 2024 cards (facts §2.1: no 2025 increase; 2025 peak = 2024 peak).
    for on in (NONPEAK_2024, NONPEAK_2025):
        quote = fulfillment_fee(product, on)
        assert (quote.size_tier, quote.fulfillment_fee, quote.peak) == (tier, nonpeak, False)
    for on in (PEAK_2024, PEAK_2025):
        quote = fulfillment_fee(product, on)
        assert (quote.fulfillment_fee, quote.base_fee, quote.peak) == (peak, nonpeak, True)
        assert quote.peak_surcharge == pytest.approx(peak - nonpeak)


def test_2024_quote_is_verified_and_names_its_schedule():
    quote = fulfillment_fee(PHONE_CASE, NONPEAK_2024)
    assert quote.fee_schedule == "2024-04-15"
    assert quote.verified is True
    assert quote.notes == ()
    assert quote.peak_estimated is False


# --- Low-Price FBA (< $10) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "on", "expected"),
    [
        (priced(TWO_OZ, 9.99), NONPEAK_2024, 2.29),  # facts §2.2: small std <= 2 oz $2.29
        (Product(16, 6, 0.5, 14 / 16, 9.99), NONPEAK_2024, 3.78),  # large std 12-16 oz $3.78
        (Product(20, 1, 1, 1, 9.99), NONPEAK_2024, 8.84),  # large bulky $8.84
        (priced(TWO_OZ, 9.99), PEAK_2024, 2.48),  # facts §2.3, S3 peak table: $2.48
        (Product(20, 1, 1, 1, 9.99), PEAK_2024, 9.88),  # S3: large bulky $9.88
        (Product(80, 40, 30, 151, 9.99), PEAK_2024, 202.69),  # S3: XL 150+ $202.69
    ],
)
def test_low_price_rates(product, on, expected):
    quote = fulfillment_fee(product, on)
    assert quote.low_price is True
    assert quote.fulfillment_fee == expected


def test_ten_dollars_is_not_low_price_in_2024():
    # fba-fees-us.yaml meta.low_price_fba: "item price < $10" -> $10.00 pays the standard $3.06.
    quote = fulfillment_fee(priced(TWO_OZ, 10.0), NONPEAK_2024)
    assert (quote.low_price, quote.fulfillment_fee) == (False, 3.06)


# --- 2026 card: price bands, fuel surcharge, estimated peak --------------------------------


@pytest.mark.parametrize(
    ("price", "band", "expected"),
    [
        (9.99, "under_10", 2.43),  # facts §2.5: small std <= 2 oz, <$10 $2.43
        (10.00, "ten_to_fifty", 3.32),  # "10 <= price <= 50": $3.32
        (50.00, "ten_to_fifty", 3.32),
        (50.01, "over_50", 3.58),  # >$50: $3.58
    ],
)
def test_2026_price_bands_and_edges(price, band, expected):
    quote = fulfillment_fee(priced(TWO_OZ, price), EARLY_2026)
    assert (quote.price_band, quote.fulfillment_fee) == (band, expected)
    assert quote.low_price is (band == "under_10")
    assert quote.fee_schedule == "2026-01-15"
    assert quote.verified is False  # the 2026 card is unverified (facts §2.5)
    assert quote.notes


@pytest.mark.parametrize(
    ("product", "tier", "expected"),
    [
        (BABY_COT, "small_bulky", 10.21),  # facts §2.5: 7.55 + 0.38/lb above 1 lb, 8 lb
        (Product(40, 5, 3, 8, 60), "large_bulky", 12.01),  # 9.35 + 7 x 0.38
        (MONITOR, "extra_large_50_70", 48.57),  # 37.32 + 15 x 0.75
        (Product(10, 10, 5, 25, 30), "small_bulky", 16.67),  # 25 lb: too heavy for large std
    ],
)
def test_2026_bulky_and_extra_large(product, tier, expected):
    quote = fulfillment_fee(product, EARLY_2026)
    assert (quote.size_tier, quote.fulfillment_fee) == (tier, expected)


def test_fuel_surcharge_starts_2026_04_17():
    # facts §2.1: 3.5% on the fulfilment fee from 2026-04-17; 3.32 x 0.035 = 0.1162 -> $0.12.
    before = fulfillment_fee(TWO_OZ, D(2026, 4, 16))
    after = fulfillment_fee(TWO_OZ, D(2026, 4, 17))
    assert (before.fuel_surcharge, before.fulfillment_fee) == (0.0, 3.32)
    assert (after.fuel_surcharge, after.fulfillment_fee) == (0.12, 3.44)
    # 48.57 x 0.035 = 1.69995 -> $1.70 (C5: rounded to the cent).
    assert fee(MONITOR, D(2026, 5, 1)) == 50.27


def test_2026_27_peak_is_an_unverified_estimate():
    # facts §2.3: estimate = 2026 non-peak + 2024/25 surcharge, e.g. 3.32 + 0.19 = 3.51; plus fuel
    # 3.51 x 0.035 = 0.12285 -> $0.12 (C5).
    quote = fulfillment_fee(TWO_OZ, D(2026, 11, 1))
    assert (quote.peak, quote.peak_estimated, quote.verified) == (True, True, False)
    assert (quote.base_fee, quote.peak_surcharge, quote.fuel_surcharge) == (3.32, 0.19, 0.12)
    assert quote.fulfillment_fee == 3.63
    assert any("estimated" in note for note in quote.notes)
    # C3: bulky uses the 2024/25 base delta too: large bulky 12.01 + 1.04 (facts §2.3) + fuel.
    bulky = fulfillment_fee(Product(40, 5, 3, 8, 60), D(2026, 12, 1))
    assert bulky.peak_surcharge == 1.04


@pytest.mark.parametrize(
    ("on", "peak", "expected", "schedule"),
    [
        (D(2024, 10, 14), False, 3.06, "2024-04-15"),  # facts §2.2 / §2.3, <= 2 oz
        (D(2024, 10, 15), True, 3.25, "2024-04-15"),
        (D(2025, 1, 14), True, 3.25, "2024-04-15"),
        (D(2025, 1, 15), False, 3.06, "2024-04-15"),
        (D(2026, 1, 14), True, 3.25, "2024-04-15"),  # last day of the 2025-26 peak
        (D(2026, 1, 15), False, 3.32, "2026-01-15"),  # facts §2.5 $10-50
        (D(2026, 10, 14), False, 3.44, "2026-01-15"),  # 3.32 + fuel 0.12
        (D(2027, 1, 14), True, 3.63, "2026-01-15"),  # estimated peak, see above
        (D(2027, 1, 15), False, 3.44, "2026-01-15"),  # C2: card carried forward
    ],
)
def test_schedule_and_peak_window_edges(on, peak, expected, schedule):
    quote = fulfillment_fee(TWO_OZ, on)
    assert (quote.peak, quote.fulfillment_fee, quote.fee_schedule) == (peak, expected, schedule)


# --- Dimensional and shipping weight -------------------------------------------------------


def test_dimensional_weight_wins_for_large_standard():
    # 12 x 10 x 8 / 139 = 6.906 lb > 2 lb unit; facts §2.2 row "3+-20 lb: $6.92 + $0.08 per 4 oz
    # above first 3 lb": ceil(3.906 / 0.25) = 16 intervals -> 6.92 + 1.28 = 8.20.
    quote = fulfillment_fee(Product(12, 10, 8, 2, 30), NONPEAK_2024)
    assert quote.size_tier == "large_standard"
    assert quote.shipping_weight_lb == pytest.approx(960 / 139)
    assert quote.fulfillment_fee == 8.20


def test_unit_weight_wins_for_large_standard():
    # Same box at 8 lb: 20 intervals above 3 lb -> 6.92 + 1.60 = 8.52 (same row).
    quote = fulfillment_fee(Product(12, 10, 8, 8, 30), NONPEAK_2024)
    assert quote.shipping_weight_lb == 8
    assert quote.fulfillment_fee == 8.52


@pytest.mark.parametrize(("weight", "expected"), [(3.25, 7.00), (3.26, 7.08), (3.0, 6.62)])
def test_four_ounce_intervals_above_three_pounds(weight, expected):
    # facts §2.2: 2.75+-3 lb $6.62; 3+-20 lb $6.92 + $0.08 per started 4 oz above 3 lb.
    assert fee(Product(16, 4, 2, weight, 30), NONPEAK_2024) == expected


def test_small_standard_ignores_dimensional_weight():
    # facts §1.4: small standard uses unit weight only; 15 x 12 x 0.75 / 139 = 0.97 lb, 2 oz
    # unit -> the <= 2 oz fee $3.06 (facts §2.2).
    quote = fulfillment_fee(Product(15, 12, 0.75, 2 / 16, 20), NONPEAK_2024)
    assert quote.size_tier == "small_standard"
    assert quote.dimensional_weight_lb == pytest.approx(135 / 139)
    assert (quote.shipping_weight_lb, quote.fulfillment_fee) == (2 / 16, 3.06)


def test_width_and_height_floored_at_two_inches_for_extra_large():
    # facts §1.4: 60 x 2 x 2 / 139 = 1.727 lb > 1 lb unit; XL 0-50 $26.33 + $0.38/lb above 1 lb.
    quote = fulfillment_fee(Product(60, 1, 1, 1, 20), NONPEAK_2024)
    assert quote.size_tier == "extra_large_0_50"
    assert quote.dimensional_weight_lb == pytest.approx(240 / 139)
    assert quote.fulfillment_fee == 26.71


def test_dimensional_weight_pushes_into_a_heavier_tier():
    # 40 x 30 x 6 fits large bulky's sizes but 7200 / 139 = 51.8 lb > 50 -> XL 50-70:
    # $40.12 + $0.75/lb above 51 lb -> 40.87 (facts §2.2).
    quote = fulfillment_fee(Product(40, 30, 6, 10, 100), NONPEAK_2024)
    assert (quote.size_tier, quote.fulfillment_fee) == ("extra_large_50_70", 40.87)


def test_heavy_dimensional_weight_goes_to_150_plus_on_unit_weight():
    # C4: 60 x 30 x 20 / 139 = 259 lb -> XL 150+, whose fee uses unit weight: $194.95 (facts §2.2).
    quote = fulfillment_fee(Product(60, 30, 20, 40, 100), NONPEAK_2024)
    assert (quote.size_tier, quote.shipping_weight_lb, quote.fulfillment_fee) == (
        "extra_large_150_plus",
        40,
        194.95,
    )


# --- Size-tier boundaries (facts §1.1 and §1.3) --------------------------------------------


@pytest.mark.parametrize(
    ("dims", "weight", "on", "tier"),
    [
        ((15, 12, 0.75), 1.0, NONPEAK_2024, "small_standard"),
        ((15.01, 12, 0.75), 1.0, NONPEAK_2024, "large_standard"),
        ((15, 12.01, 0.75), 1.0, NONPEAK_2024, "large_standard"),
        ((15, 12, 0.76), 1.0, NONPEAK_2024, "large_standard"),
        ((15, 12, 0.75), 1.01, NONPEAK_2024, "large_standard"),
        ((8, 18, 14), 20, NONPEAK_2024, "large_standard"),  # order of sides does not matter
        ((18.01, 14, 8), 20, NONPEAK_2024, "large_bulky"),
        ((18, 14.01, 8), 20, NONPEAK_2024, "large_bulky"),
        ((18, 14, 8.01), 20, NONPEAK_2024, "large_bulky"),
        ((18, 14, 8), 20.01, NONPEAK_2024, "large_bulky"),
        ((59, 10, 5), 5, NONPEAK_2024, "large_bulky"),
        ((59.01, 10, 5), 5, NONPEAK_2024, "extra_large_0_50"),
        ((59, 33, 2.5), 5, NONPEAK_2024, "large_bulky"),  # L+G = 130
        ((59, 33, 2.6), 5, NONPEAK_2024, "extra_large_0_50"),  # L+G = 130.2
        ((30, 20, 6), 50, NONPEAK_2024, "large_bulky"),
        ((30, 20, 6), 50.01, NONPEAK_2024, "extra_large_50_70"),
        ((60, 10, 5), 70, NONPEAK_2024, "extra_large_50_70"),
        ((60, 10, 5), 70.01, NONPEAK_2024, "extra_large_70_150"),
        ((60, 10, 5), 150, NONPEAK_2024, "extra_large_70_150"),
        ((60, 10, 5), 150.01, NONPEAK_2024, "extra_large_150_plus"),
        ((37, 10, 5), 5, EARLY_2026, "small_bulky"),
        ((37.01, 10, 5), 5, EARLY_2026, "large_bulky"),
        ((30, 28, 4), 5, EARLY_2026, "small_bulky"),
        ((30, 28.01, 4), 5, EARLY_2026, "large_bulky"),
        ((30, 20, 6), 50, EARLY_2026, "small_bulky"),
        ((30, 20, 6), 50.01, EARLY_2026, "extra_large_50_70"),
        ((18.01, 14, 8), 20, EARLY_2026, "small_bulky"),
    ],
)
def test_size_tier_boundaries(dims, weight, on, tier):
    assert size_tier(Product(*dims, weight, price=20), on) == tier


def test_size_tiers_exist_before_the_first_fee_schedule():
    # The 2024 tiers start 2024-02-05 (facts §1.1); fees only from 2024-04-15 (C1).
    assert size_tier(PHONE_CASE, D(2024, 2, 5)) == "small_standard"
    with pytest.raises(FeeError, match="2024-04-15"):
        fulfillment_fee(PHONE_CASE, D(2024, 4, 14))
    assert fee(PHONE_CASE, D(2024, 4, 15)) == 3.15


def test_overmax_items_carry_a_note_in_2026_only():
    # facts §1.3: XL <= 150 lb with longest > 96 in is Overmax; its handling fee is not included.
    long_item = Product(100, 10, 5, 30, 100)
    assert any("Overmax" in note for note in fulfillment_fee(long_item, EARLY_2026).notes)
    assert fulfillment_fee(long_item, NONPEAK_2024).notes == ()


# --- Units ----------------------------------------------------------------------------------


def test_metric_input_matches_inches_and_pounds():
    metric = Product.from_metric(2.54, 5.08, 7.62, 0.45359237, 12)
    assert (metric.length_in, metric.width_in, metric.height_in) == pytest.approx((1, 2, 3))
    assert metric.weight_lb == pytest.approx(1)
    # 15.24 x 7.62 x 1.27 cm = 6 x 3 x 0.5 in; 0.085 kg = 3.0 oz -> the phone case's $3.15.
    phone = Product.from_metric(15.24, 7.62, 1.27, 0.085, 15)
    assert fulfillment_fee(phone, NONPEAK_2024).fulfillment_fee == 3.15


# --- Storage, aged inventory, low inventory, placement, referral, returns, removal ----------


@pytest.mark.parametrize(
    ("size", "on", "rate"),
    [
        ("standard", D(2024, 6, 1), 0.78),  # facts §3.1, from 1 Apr 2024
        ("large_standard", D(2024, 10, 1), 2.40),
        ("small_standard", D(2024, 3, 31), 0.87),  # before 1 Apr 2024
        ("bulky", D(2025, 3, 1), 0.56),
        ("extra_large_0_50", D(2025, 12, 31), 1.40),
        ("small_bulky", D(2026, 9, 30), 0.56),
        ("standard", D(2026, 6, 1), 0.78),  # carried into 2026 (reported unchanged)
    ],
)
def test_monthly_storage_rate(size, on, rate):
    assert monthly_storage_rate(size, on) == rate


def test_storage_errors_and_cubic_feet():
    assert cubic_feet(Product(12, 12, 12, 1, 10)) == 1.0
    with pytest.raises(FeeError):
        monthly_storage_rate("huge", NONPEAK_2024)
    with pytest.raises(FeeError, match="covered"):
        monthly_storage_rate("standard", D(2023, 1, 1))


@pytest.mark.parametrize(
    ("cu_ft", "age", "on", "category", "expected"),
    [
        (1, 180, NONPEAK_2024, None, 0.0),  # facts §3.3
        (1, 181, NONPEAK_2024, None, 0.50),
        (1, 210, NONPEAK_2024, None, 0.50),
        (1, 211, NONPEAK_2024, None, 1.00),
        (1, 365, NONPEAK_2024, None, 4.20),
        (0.01, 400, D(2023, 6, 15), None, 0.15),  # 2023 table: greater of 6.90/cu ft, 0.15/unit
        (0.01, 400, NONPEAK_2024, None, 0.30),  # later change: 366-455 greater of 6.90, 0.30
        (1, 500, NONPEAK_2024, None, 7.90),  # 456+: 7.90/cu ft
        (1, 200, NONPEAK_2024, "apparel", 0.0),  # apparel exempt from 181-270 days
        (1, 300, NONPEAK_2024, "apparel", 3.80),
    ],
)
def test_aged_inventory_fee(cu_ft, age, on, category, expected):
    assert aged_inventory_fee(cu_ft, age, on, category=category) == expected


@pytest.mark.parametrize(
    ("tier", "weight", "days", "expected"),
    [
        ("small_standard", 0.5, 10, 0.89),  # facts §3.4
        ("small_standard", 0.5, 14, 0.63),
        ("small_standard", 0.5, 21, 0.32),
        ("small_standard", 0.5, 27.9, 0.32),
        ("small_standard", 0.5, 28, 0.0),
        ("large_standard", 3.0, 5, 0.97),
        ("large_standard", 3.01, 5, 1.11),
        ("large_standard", 3.01, 20, 0.87),
        ("large_bulky", 10, 5, 0.0),  # standard-size only (2024)
    ],
)
def test_low_inventory_fee(tier, weight, days, expected):
    assert low_inventory_fee(tier, weight, days, NONPEAK_2024) == expected


def test_low_inventory_fee_bulky_from_2026_is_a_flagged_estimate():
    # From 2026-01-15 bulky tiers pay the fee (S13); no rate found, so the large-standard > 3 lb
    # rates are the default: $1.11 (< 14 days), $0.87 (14-20), $0.47 (21-27); none before.
    assert low_inventory_fee("large_bulky", 10, 5, D(2026, 1, 14)) == 0.0
    assert low_inventory_fee("large_bulky", 10, 5, D(2026, 1, 15)) == 1.11
    assert low_inventory_fee("small_bulky", 30, 20, EARLY_2026) == 0.87
    assert low_inventory_fee("small_bulky", 30, 27, EARLY_2026) == 0.47
    assert low_inventory_fee("small_bulky", 30, 28, EARLY_2026) == 0.0
    assert low_inventory_fee("extra_large_0_50", 30, 5, EARLY_2026) == 0.0
    version = default_tables()["low_inventory_level_fee"]["versions"][-1]
    assert version["unverified"] and version["estimated"] and "bulky" in version["caveat"]


def test_low_inventory_fee_starts_2024_04_01():
    with pytest.raises(FeeError):
        low_inventory_fee("small_standard", 0.5, 10, D(2024, 3, 31))


def test_inbound_placement_fee():
    # facts §3.5: small std minimal $0.16-0.30, partial $0.12-0.21 -> midpoints (our choice).
    assert inbound_placement_fee("small_standard", 0.5, "minimal", NONPEAK_2024) == pytest.approx(
        0.23
    )
    assert inbound_placement_fee("small_standard", 0.5, "partial", NONPEAK_2024) == pytest.approx(
        0.165
    )
    assert inbound_placement_fee("large_standard", 10, "minimal", NONPEAK_2024) == pytest.approx(
        0.525
    )  # 3-20 lb: $0.37-0.68
    assert inbound_placement_fee("large_bulky", 30, "minimal", NONPEAK_2024) == 1.60
    assert inbound_placement_fee("small_standard", 0.5, "amazon_optimized", NONPEAK_2024) == 0.0
    # 2026 point values (cratefit): small std minimal $0.26.
    assert inbound_placement_fee("small_standard", 0.5, "minimal", EARLY_2026) == 0.26
    with pytest.raises(FeeError, match="amazon_optimized"):
        inbound_placement_fee("large_bulky", 30, "partial", EARLY_2026)
    with pytest.raises(FeeError):
        inbound_placement_fee("extra_large_0_50", 30, "minimal", NONPEAK_2024)


# Referral fees: Amazon's "Selling on Amazon fee schedule" (200336920) as copied in us.yaml
# (R1..R9). Every expected fee below is worked by hand from the row's rule.
AFTER_APPAREL_CHANGE = D(2025, 3, 1)


@pytest.mark.parametrize(
    ("category", "price", "expected"),
    [
        # flat: Home and Kitchen 15%, min $0.30 (R5, R6); no category = Everything Else 15%
        ("home_kitchen", 24.99, 3.75),  # 0.15 x 24.99 = 3.7485
        (None, 24.99, 3.75),
        ("consumer_electronics", 20.00, 1.60),  # 8%
        # minimum fee: 0.15 x 1.00 = 0.15 < $0.30
        ("home_kitchen", 1.00, 0.30),
        ("consumer_electronics", 3.00, 0.30),  # 0.08 x 3 = 0.24 < 0.30
        ("grocery_gourmet", 1.00, 0.08),  # 8%, no minimum (R6)
        # price-tiered on the whole total sales price, "$10.00 or less" -> 8%
        ("beauty_health_personal_care", 10.00, 0.80),  # 0.08 x 10
        ("beauty_health_personal_care", 10.01, 1.50),  # 0.15 x 10.01 = 1.5015
        ("baby_products", 9.99, 0.80),  # 0.08 x 9.99 = 0.7992
        ("baby_products", 3.00, 0.30),  # 0.24 < min 0.30
        # grocery: "$15.00 or less" -> 8%
        ("grocery_gourmet", 15.00, 1.20),
        ("grocery_gourmet", 15.01, 2.25),  # 0.15 x 15.01 = 2.2515
        # apparel from 2024-01-15 (R4 verbatim): <= $15 5%, > $15 and <= $20 10%, > $20 17%
        ("apparel", 15.00, 0.75),
        ("apparel", 15.01, 1.50),  # 0.10 x 15.01 = 1.501
        ("apparel", 18.00, 1.80),  # the issue's example
        ("apparel", 20.00, 2.00),
        ("apparel", 20.01, 3.40),  # 0.17 x 20.01 = 3.4017
        ("apparel", 4.00, 0.30),  # 0.05 x 4 = 0.20 < 0.30
        # portion-tiered: 20% of the first $250, 5% of the rest (the issue's example)
        ("jewelry", 300.00, 52.50),  # 0.20 x 250 + 0.05 x 50
        ("jewelry", 250.00, 50.00),
        ("jewelry", 1.00, 0.30),  # 0.20 < 0.30
        ("electronics_accessories", 150.00, 19.00),  # 0.15 x 100 + 0.08 x 50
        ("furniture", 500.00, 60.00),  # 0.15 x 200 + 0.10 x 300
        ("compact_appliances", 400.00, 53.00),  # 0.15 x 300 + 0.08 x 100
        ("watches", 2000.00, 255.00),  # 0.16 x 1500 + 0.03 x 500
        ("collectible_coins", 2000.00, 172.50),  # 0.15 x 250 + 0.10 x 750 + 0.06 x 1000
        ("fine_art", 4.00, 1.00),  # 0.20 x 4 = 0.80 < min $1.00 (R4)
        # media closing fee added to the percentage fee: 0.15 x 20 + 1.80
        ("books", 20.00, 4.80),
    ],
)
def test_referral_fee_schedule(category, price, expected):
    assert referral_fee(price, category, AFTER_APPAREL_CHANGE) == pytest.approx(expected)


def test_referral_rows_are_dated():
    # Clothing and Accessories was 17% flat until 2024-01-14 (R3): 0.17 x 18 = 3.06
    assert referral_fee(18, "apparel", D(2024, 1, 14)) == pytest.approx(3.06)
    assert referral_fee(18, "apparel", D(2024, 1, 15)) == pytest.approx(1.80)


def test_referral_quote_fields_and_verification():
    quote = referral_quote(300, "jewelry", AFTER_APPAREL_CHANGE)
    assert (quote.category, quote.name, quote.fee) == ("jewelry", "Jewelry", 52.50)
    assert quote.rate == pytest.approx(52.50 / 300)
    assert quote.minimum_fee == 0.30
    assert quote.verified and not quote.notes
    # a row sources disagree on is a flagged default
    grocery = referral_quote(5, "grocery_gourmet", AFTER_APPAREL_CHANGE)
    assert not grocery.verified
    assert "Grocery" in grocery.notes[0]
    assert referral_quote(5, None, AFTER_APPAREL_CHANGE).category == "everything_else"


def test_unknown_referral_category_suggests_the_nearest():
    with pytest.raises(FeeError, match=r"unknown category 'jewlery'; did you mean 'jewelry'"):
        referral_fee(10, "jewlery", AFTER_APPAREL_CHANGE)
    with pytest.raises(FeeError) as err:
        referral_fee(10, "toys", AFTER_APPAREL_CHANGE)
    assert err.value.problems[0][0] == "category"


def test_every_category_key_of_the_tables_is_a_referral_category():
    # returns thresholds and aged-inventory exemptions use the referral schedule's keys
    tables = default_tables()
    known = set(referral_categories())
    returns = tables["returns_processing_fee"]
    assert set(returns["thresholds"]) <= known
    assert set(returns["every_return_categories"]) <= known
    assert set(tables["aged_inventory_surcharge"]["exempt_categories"]) <= known
    assert tables["referral"]["default_category"] in known


def test_every_referral_row_cites_a_source():
    tables = default_tables()
    sources = set(tables["sources"])
    for key, entry in tables["referral"]["categories"].items():
        for row in entry.get("rows", [entry]):
            assert row["verification"], key
            assert set(row["source"]) <= sources, key
            if row["unverified"]:
                assert row["caveat"], key


def test_returns_processing_charge():
    # facts §3.6: home & kitchen threshold 8.1%; 100 shipped, 10 returned -> 8 allowed, 2 charged
    # at the product's non-peak fulfilment fee (our default) $3.15 -> $6.30.
    assert returns_processing_charge(PHONE_CASE, NONPEAK_2024, "home_kitchen", 100, 10) == 6.30
    assert returns_processing_charge(PHONE_CASE, NONPEAK_2024, "home_kitchen", 24, 10) == 0.0
    assert returns_processing_charge(PHONE_CASE, NONPEAK_2024, "apparel", 10, 3) == 9.45
    with pytest.raises(FeeError, match="threshold"):
        returns_processing_charge(PHONE_CASE, NONPEAK_2024, "garden", 100, 10)
    with pytest.raises(FeeError):
        returns_processing_charge(PHONE_CASE, D(2024, 5, 31), "home_kitchen", 100, 10)


@pytest.mark.parametrize(
    ("tier", "weight", "on", "expected"),
    [
        ("small_standard", 0.3, NONPEAK_2024, 1.04),  # facts §3.7
        ("small_standard", 0.5, NONPEAK_2024, 1.04),
        ("small_standard", 0.51, NONPEAK_2024, 1.53),  # rounds up to 0.6 lb
        ("large_standard", 2.3, NONPEAK_2024, 3.95),  # rounds up to 3 lb: 2.89 + 1.06
        ("large_bulky", 0.4, NONPEAK_2024, 3.12),
        ("large_bulky", 5, NONPEAK_2024, 10.04),
        ("small_standard", 0.3, EARLY_2026, 0.84),  # from 15 Jan 2026
    ],
)
def test_removal_fee(tier, weight, on, expected):
    assert removal_fee(tier, weight, on) == expected


# --- The data file against the rules it was derived with -----------------------------------


def _cells(card: dict) -> list[float]:
    out = []
    for tier in sorted(k for k in card if k.endswith(("standard", "bulky")) or "extra" in k):
        for row in card[tier] if isinstance(card[tier], list) else [card[tier]]:
            out.append(row["fee"] if "fee" in row else row["base"])
    return out


def test_low_price_cards_are_standard_minus_77_cents():
    # fba-fees-us.yaml meta.low_price_fba: Low-Price rates are $0.77 below standard (official).
    cards = default_tables()["rate_cards"]
    for std, low in [
        ("std_2024_nonpeak", "low_price_2024_nonpeak"),
        ("std_2024_peak", "low_price_2024_peak"),
    ]:
        for s, lo in zip(_cells(cards[std]), _cells(cards[low]), strict=True):
            assert s - lo == pytest.approx(0.77)


def test_peak_deltas_are_peak_minus_nonpeak():
    # fba-fees-us.yaml peak_surcharge_deltas_2024_2025 = std_2024_peak - std_2024_nonpeak.
    cards = default_tables()["rate_cards"]
    delta = dict(cards["peak_delta_2024_2025"])
    delta.pop("small_bulky")  # C3: no 2024/25 small-bulky tier
    peak, nonpeak = _cells(cards["std_2024_peak"]), _cells(cards["std_2024_nonpeak"])
    for d, p, n in zip(_cells(delta), peak, nonpeak, strict=True):
        assert d == pytest.approx(p - n)


# --- Errors and overrides -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "location"),
    [
        ((None, 3, 1, 1, 10), "length_in"),
        ((6, 3, 0, 1, 10), "height_in"),
        ((6, 3, 1, 0, 10), "weight_lb"),
        ((6, 3, 1, float("nan"), 10), "weight_lb"),
        ((6, 3, 1, 1, -0.01), "price"),
        ((6, 3, 1, 1, None), "price"),
    ],
)
def test_bad_products_are_refused(args, location):
    with pytest.raises(FeeError) as err:
        Product(*args)
    assert [loc for loc, _ in err.value.problems] == [location]
    assert isinstance(err.value, UserError)


def test_dates_before_every_table_are_refused():
    with pytest.raises(FeeError, match="covered") as err:
        size_tier(PHONE_CASE, D(2024, 2, 4))
    assert err.value.problems[0][0] == "date"
    with pytest.raises(FeeError, match="2024-04-15"):
        fulfillment_fee(PHONE_CASE, D(2023, 12, 1))


def test_too_large_for_every_tier_with_a_capped_table():
    # The reference gives extra-large 150+ no upper limit; a table that caps it must refuse.
    tier_sets = copy.deepcopy(default_tables()["size_tiers"])
    tier_sets[0]["tiers"]["extra_large_150_plus"] = {"max_weight_lb": 1000}
    tables = load_tables({"size_tiers": tier_sets})
    with pytest.raises(FeeError, match="too large"):
        size_tier(Product(100, 50, 50, 1500, 100), NONPEAK_2024, tables=tables)


def test_overrides_replace_defaults_without_touching_them():
    tables = load_tables({"referral": {"categories": {"home_kitchen": {"rate": 0.10}}}})
    assert referral_fee(20, "home_kitchen", NONPEAK_2025, tables=tables) == 2.00
    assert referral_fee(20, "home_kitchen", NONPEAK_2025) == 3.00


# --- The `fees` command ---------------------------------------------------------------------


def argv(line: str) -> list[str]:
    return line.split()


PHONE_ARGS = argv("--length-in 6 --width-in 3 --height-in 0.5 --weight-lb 0.1875")


def run_json(args: list[str]) -> dict:
    result = CliRunner().invoke(fees, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_json_has_the_contract_keys():
    out = run_json([*PHONE_ARGS, "--price", "15", "--date", "2024-11-15"])
    contract = {"size_tier", "shipping_weight_lb", "fulfillment_fee", "peak", "fee_schedule"}
    assert contract <= set(out)
    # facts §2.3: phone case peak $3.34.
    assert (out["size_tier"], out["fulfillment_fee"], out["peak"]) == ("small_standard", 3.34, True)
    assert out["fee_schedule"] == "2024-04-15"
    assert out["shipping_weight_lb"] == 0.1875
    assert out["referral"]["fee"] == 2.25  # 15% of $15 (Everything Else, R5)
    assert out["referral"]["category"] == "everything_else"
    # 6 x 3 x 0.5 in = 9 / 1728 cu ft at $2.40 in November (facts §3.1).
    assert out["storage"]["monthly_per_unit"] == pytest.approx(9 / 1728 * 2.40, abs=1e-4)


@pytest.mark.parametrize(
    "metric_args",
    [
        argv("--length-cm 15.24 --width-cm 7.62 --height-cm 1.27 --weight-kg 0.085"),
        argv("--length-in 15.24 --width-in 7.62 --height-in 1.27 --weight-lb 0.085 --cm --kg"),
    ],
)
def test_cli_metric_units(metric_args):
    out = run_json([*metric_args, "--price", "15", "--date", "2024-06-01"])
    assert out["product"]["length_in"] == pytest.approx(6)
    assert out["fulfillment_fee"] == 3.15  # facts §2.2 phone case


def test_cli_table_and_default_date():
    result = CliRunner().invoke(fees, [*PHONE_ARGS, "--price", "15"])
    assert result.exit_code == 0, result.output
    assert "small_standard" in result.output
    assert dt.date.today().isoformat() in result.output


@pytest.mark.parametrize(
    ("args", "location"),
    [
        (argv("--width-in 3 --height-in 1 --weight-lb 1 --price 5"), "--length-in"),
        ([*PHONE_ARGS[:-1], "0", "--price", "5"], "--weight-lb"),
        ([*PHONE_ARGS[:-2], "--weight-kg", "-1", "--price", "5"], "--weight-kg"),
        ([*PHONE_ARGS, "--length-cm", "10", "--price", "5"], "--length-in"),
        (PHONE_ARGS, "--price"),
        ([*PHONE_ARGS, "--price", "5", "--date", "2023-01-01"], "--date"),
        ([*PHONE_ARGS, "--price", "5", "--category", "toys"], "--category"),
    ],
)
def test_cli_bad_input_names_the_option(args, location):
    with pytest.raises(UserError) as err:
        fees.main(args, standalone_mode=False)
    assert location in [loc for loc, _ in err.value.problems]


def test_cli_referral_examples_of_the_issue():
    args = [*PHONE_ARGS, "--date", "2025-03-01", "--category"]
    assert run_json([*args, "apparel", "--price", "18"])["referral"]["fee"] == 1.80
    out = run_json([*args, "jewelry", "--price", "300"])
    assert out["referral"]["fee"] == 52.50  # 0.20 x 250 + 0.05 x 50
    assert {"size_tier", "shipping_weight_lb", "fulfillment_fee", "peak", "fee_schedule"} <= set(
        out
    )
    assert out["referral"]["rule"].startswith("20% of the portion up to $250.00")


def test_cli_unknown_category_exits_2_with_a_suggestion():
    # today `--category jewelry` was silently charged the 15% default; a typo is now a user error
    proc = subprocess.run(
        [
            sys.executable,
            "simulate.py",
            "fees",
            *PHONE_ARGS,
            "--price",
            "5",
            "--category",
            "jewlery",
        ],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert first.startswith("--category: unknown category 'jewlery'; did you mean 'jewelry'?")
    assert "Traceback" not in proc.stderr


def test_cli_lists_the_categories():
    result = CliRunner().invoke(fees, ["--list-categories", "--date", "2025-03-01"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 + len(referral_categories())
    apparel = next(line for line in lines if line.startswith("apparel "))
    assert "5% at a price up to $15.00, 10% at a price up to $20.00, 17% above" in apparel
    old = CliRunner().invoke(
        fees, ["--list-categories", "--date", "2024-01-01", "--format", "json"]
    )
    rows = {row["category"]: row for row in json.loads(old.output)}
    assert rows["apparel"]["rule"] == "17%; min $0.30"
    assert rows["grocery_gourmet"]["verified"] is False


def test_cli_bad_input_is_not_a_crash():
    result = CliRunner().invoke(fees, [*PHONE_ARGS, "--price", "-1"])
    assert result.exit_code != 0
    assert isinstance(result.exception, UserError)
