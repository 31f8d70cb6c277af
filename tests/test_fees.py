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
    referral_fee,
    referral_rate,
    removal_fee,
    returns_processing_charge,
    size_tier,
)
from sim.fees.command import fees

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


def test_referral_fees():
    # Not in the project's reference: R1/R2 in us.yaml (15% default, $0.30 minimum; 8% CE).
    assert referral_rate() == (0.15, 0.30)
    assert referral_rate("consumer_electronics") == (0.08, 0.30)
    assert referral_fee(1.00) == 0.30
    assert referral_fee(24.99) == 3.75
    # a category the tables know without a referral rate of its own gets the default
    assert referral_rate("home_kitchen") == (0.15, 0.30)
    with pytest.raises(FeeError, match=r"unknown category 'toys'.*toys_games"):
        referral_rate("toys")


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
    tables = load_tables({"referral": {"default": {"rate": 0.10}}})
    assert referral_rate(tables=tables) == (0.10, 0.30)
    assert referral_rate() == (0.15, 0.30)


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
    assert out["referral"]["fee"] == 2.25  # 15% of $15 (R2)
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


def test_cli_bad_input_is_not_a_crash():
    result = CliRunner().invoke(fees, [*PHONE_ARGS, "--price", "-1"])
    assert result.exit_code != 0
    assert isinstance(result.exception, UserError)
