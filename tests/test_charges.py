"""Tests of sim.charges: FBA charges of one node from daily arrays.

Expected amounts are hand arithmetic on the rates of shared/reference/amazon-us-facts.md (cited
as "facts §x"): storage §3.1, aged inventory §3.3, low-inventory-level fee §3.4, placement §3.5,
returns §3.6; fulfilment fees from the rate cards of sim/fees/data/us.yaml (std_2024_nonpeak,
std_2024_peak, std_2026_nonpeak) and the 3.5% fuel surcharge from 2026-04-17.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pytest

from sim.charges import build_fba_fees, fba_charges, returns_charges
from sim.fees import (
    FeeError,
    Product,
    fulfillment_fee,
    monthly_storage_rate,
    returns_processing_charge,
)

D = dt.date
BOX = Product(10, 6, 4, 1.1, price=24.99)  # large standard, 240 cu in (dim. weight 1.73 lb)
LIGHT = Product(8, 6, 2, 1.1, price=24.99)  # large standard, shipping weight 1.1 lb
TINY = Product(4, 2, 0.5, 0.2, price=9.0)  # small standard, 4 cu in
BOX_CUFT = 240 / 1728
TINY_CUFT = 4 / 1728


def run(fees, *, on_hand=0, received=0, shipped=0, initial=0, warmup=0):
    shape = (fees.days, fees.skus)
    full = [
        np.broadcast_to(np.asarray(a, dtype=np.int64), shape) for a in (on_hand, received, shipped)
    ]
    first = np.broadcast_to(np.asarray(initial, dtype=np.int64), (fees.skus,))
    return fba_charges(fees, *full, first, warmup)


def test_storage_constant_stock_over_2025():
    fees = build_fba_fees([BOX], [None], D(2025, 1, 1), 365)
    # facts §3.1: standard size $0.78/cu ft Jan-Sep, $2.40 Oct-Dec (from 2024-04-01)
    expected = 100 * BOX_CUFT * (0.78 * 9 + 2.40 * 3)
    assert run(fees, on_hand=100)["storage"][0] == pytest.approx(expected, rel=1e-12)
    # warm-up of Jan + Feb: only Mar-Dec are counted
    later = run(fees, on_hand=100, warmup=31 + 28)["storage"][0]
    assert later == pytest.approx(100 * BOX_CUFT * (0.78 * 7 + 2.40 * 3), rel=1e-12)
    # a partial month is charged per day: 10 days of January = 10/31 of the monthly rate
    assert fees.storage_per_unit_day[0, 0] == pytest.approx(0.78 * BOX_CUFT / 31)


def test_storage_bulky_rates():
    bulky = Product(30, 20, 15, 12, price=60)  # large bulky: $0.56 / $1.40 per cu ft (facts §3.1)
    fees = build_fba_fees([bulky], [None], D(2025, 9, 1), 61)  # September + October
    cuft = 30 * 20 * 15 / 1728
    assert run(fees, on_hand=1)["storage"][0] == pytest.approx(cuft * (0.56 + 1.40))


def test_fulfillment_across_peak_new_schedule_and_fuel_surcharge():
    start = D(2025, 10, 1)  # to 2026-04-30
    fees = build_fba_fees([LIGHT], [None], start, 212)
    per_day = fees.fulfillment[:, 0]

    def on(day):
        return per_day[(day - start).days]

    assert on(D(2025, 10, 14)) == 4.99  # 2024/25 card, large standard 1-1.25 lb
    assert on(D(2025, 10, 15)) == 5.29  # peak card (window 10-15 .. 01-14)
    assert on(D(2026, 1, 14)) == 5.29
    assert on(D(2026, 1, 15)) == 5.04  # 2026 card, $10-50 price band
    assert on(D(2026, 4, 16)) == 5.04
    assert on(D(2026, 4, 17)) == round(5.04 + round(5.04 * 0.035, 2), 2) == 5.22  # fuel 3.5%
    # one unit a day: 14 days at 4.99, 92 at 5.29 (Oct 15 - Jan 14), 92 at 5.04, 14 at 5.22
    expected = 14 * 4.99 + 92 * 5.29 + 92 * 5.04 + 14 * 5.22
    assert run(fees, shipped=1)["fulfillment"][0] == pytest.approx(expected)
    # warm-up drops October (31 days: 14 at 4.99, 17 at 5.29)
    assert run(fees, shipped=1, warmup=31)["fulfillment"][0] == pytest.approx(
        expected - 14 * 4.99 - 17 * 5.29
    )


def test_fee_periods_match_the_calculator_day_by_day():
    """Cross-check of the period cutting: the per-day arrays equal a per-day calculator call."""
    start, days = D(2024, 12, 20), 760  # two peaks, the 2026 card, the fuel surcharge
    fees = build_fba_fees([BOX, LIGHT], [None, None], start, days)
    for i in range(days):
        day = start + dt.timedelta(days=i)
        month_days = calendar.monthrange(day.year, day.month)[1]
        for j, (product, cu_in) in enumerate(((BOX, 240), (LIGHT, 96))):
            assert fees.fulfillment[i, j] == fulfillment_fee(product, day).fulfillment_fee
            rate = monthly_storage_rate("large_standard", day) * cu_in / 1728 / month_days
            assert fees.storage_per_unit_day[i, j] == pytest.approx(rate)


def aged_snapshots_2025(cuft):
    # 15th-of-month snapshot ages of a unit received 2025-01-01 (day 0): Jul 195, Aug 226,
    # Sep 257, Oct 287, Nov 318, Dec 348 -> bands 181-210 .. 331-365 (facts §3.3); charged on
    # the volume, not rounded per unit
    return [r * cuft for r in (0.50, 1.00, 1.50, 3.80, 4.00, 4.20)]


def test_aged_inventory_never_sold_stock():
    start, days = D(2025, 1, 1), 500  # to 2026-05-15
    fees = build_fba_fees([BOX, TINY], [None, None], start, days)
    got = run(fees, on_hand=10, initial=10)["aged_inventory"]
    # 2026 snapshots: Jan 379, Feb 410, Mar 438 (366-455: max($6.90/cu ft, $0.30/unit)),
    # Apr 469, May 499 (456+: max($7.90/cu ft, $0.35/unit)), table in force from 2024-02-15
    box = sum(aged_snapshots_2025(BOX_CUFT)) + 3 * 6.90 * BOX_CUFT + 2 * 7.90 * BOX_CUFT
    tiny = sum(aged_snapshots_2025(TINY_CUFT)) + 3 * 0.30 + 2 * 0.35  # per-unit minimums
    assert got[0] == pytest.approx(10 * box)
    assert got[1] == pytest.approx(10 * tiny)
    assert box == pytest.approx((0.5 + 1 + 1.5 + 3.8 + 4 + 4.2 + 3 * 6.9 + 2 * 7.9) * 240 / 1728)


def test_aged_inventory_fifo_exemption_and_switch_off():
    start = D(2025, 1, 1)
    fees = build_fba_fees([BOX, BOX], [None, "apparel"], start, 365)
    got = run(fees, on_hand=10, initial=10)["aged_inventory"]
    # apparel skips the 181-270 day bands (facts §3.3): Oct, Nov, Dec only
    assert got[1] == pytest.approx(10 * (3.80 + 4.00 + 4.20) * BOX_CUFT)
    # FIFO: 10 units on day 0, 5 more on day 100, 12 left from day 100. On Jul 15 (day 195) the
    # 5 new units are 95 days old, so 7 units are 181-210 days old: 7 x $0.50/cu ft
    short = build_fba_fees([BOX], [None], start, 200)
    on_hand = np.where(np.arange(200) < 100, 10, 12)[:, None]
    received = np.zeros((200, 1), dtype=np.int64)
    received[100] = 5
    got = run(short, on_hand=on_hand, received=received, initial=10)["aged_inventory"]
    assert got[0] == pytest.approx(7 * 0.50 * BOX_CUFT)
    # snapshot of Jul 15 not counted after a warm-up past it
    assert (
        run(short, on_hand=on_hand, received=received, initial=10, warmup=196)["aged_inventory"][0]
        == 0
    )
    off = build_fba_fees([BOX], [None], start, 200, aged_inventory=False)
    assert run(off, on_hand=on_hand, received=received, initial=10)["aged_inventory"][0] == 0


def test_low_inventory_level_fee():
    # facts §3.4, large standard <= 3 lb: $0.97 (< 14 days), $0.70 (14-20), $0.36 (21-27)
    skus = [LIGHT] * 5
    fees = build_fba_fees(skus, [None] * 5, D(2025, 3, 1), 120)
    on_hand = np.array([5, 0, 3000, 500, 0]) * np.ones((120, 1), dtype=np.int64)
    shipped = np.array([30, 2, 30, 30, 30]) * np.ones((120, 1), dtype=np.int64)
    got = run(fees, on_hand=on_hand, shipped=shipped)["low_inventory"]
    assert got[0] == pytest.approx(90 * 30 * 0.97)  # 5/30 days of supply; days 30..119 charged
    assert got[1] == 0  # 14 units shipped in 7 days < 20: exempt
    assert got[2] == 0  # 100 days of supply
    assert got[3] == pytest.approx(90 * 30 * 0.70)  # 500/30 = 16.7 days
    assert got[4] == pytest.approx(90 * 30 * 0.97)  # nothing on hand at end of day
    assert run(fees, on_hand=on_hand, shipped=shipped, warmup=100)["low_inventory"][0] == (
        pytest.approx(20 * 30 * 0.97)
    )
    off = build_fba_fees(skus, [None] * 5, D(2025, 3, 1), 120, low_inventory=False)
    assert not run(off, on_hand=on_hand, shipped=shipped)["low_inventory"].any()


def test_low_inventory_needs_both_windows_short():
    # 3000 on hand on days 0..59, then 0; 30 shipped a day. From day 90 the 30-day window is
    # 0 days of supply, but the 90-day window (days t-90..t-1) holds 150 - t stocked days:
    # 3000 (150 - t) / (30 x 90) < 28 only from t = 125: days 125..129 at $0.36 (21-27 days).
    fees = build_fba_fees([LIGHT], [None], D(2025, 3, 1), 130)
    on_hand = np.where(np.arange(130) < 60, 3000, 0)[:, None]
    got = run(fees, on_hand=on_hand, shipped=30)["low_inventory"][0]
    assert got == pytest.approx(5 * 30 * 0.36)


def test_low_inventory_level_fee_reaches_bulky_on_2026_01_15():
    # 24 x 18 x 14 in, 20 lb: dim. weight 6048 / 139 = 43.5 lb; large bulky on the 2024 tiers,
    # small bulky from 2026-01-15. Bulky paid no LIL fee until 2026-01-14 (facts §3.4); from
    # 2026-01-15 the default estimate (large standard > 3 lb rates, unverified) applies: 5 on hand
    # against 30 shipped a day is 0.17 days of supply -> $1.11 per unit shipped. Calendar
    # 2025-12-01 .. 2026-02-28: 2026-01-15 is day 45, so days 45..89 are charged.
    bulky = Product(24, 18, 14, 20, price=80)
    fees = build_fba_fees([bulky], [None], D(2025, 12, 1), 90)
    assert fees.size_tier[fees.period_of_day[44], 0] == "large_bulky"
    assert fees.size_tier[fees.period_of_day[45], 0] == "small_bulky"
    got = run(fees, on_hand=5, shipped=30)["low_inventory"][0]
    assert got == pytest.approx(45 * 30 * 1.11)


def test_placement_partial_and_amazon_optimized():
    # facts §3.5: large standard 0.75-1.5 lb partial $0.15-0.28 until 2026 (midpoint used),
    # $0.22 from 2026 (secondary, from 2026-01-15)
    start = D(2025, 1, 1)
    received = np.zeros((450, 1), dtype=np.int64)
    received[10], received[400] = 100, 50  # 2025-01-11 and 2026-02-05
    partial = build_fba_fees([LIGHT], [None], start, 450, placement="partial")
    got = run(partial, received=received)["placement"][0]
    assert got == pytest.approx(100 * (0.15 + 0.28) / 2 + 50 * 0.22)
    assert run(partial, received=received, warmup=11)["placement"][0] == pytest.approx(50 * 0.22)
    free = build_fba_fees([LIGHT], [None], start, 450)
    assert run(free, received=received)["placement"][0] == 0


def test_fee_errors():
    with pytest.raises(FeeError, match="2024-04-14"):
        build_fba_fees([LIGHT], [None], D(2024, 4, 14), 30)
    # no 2026 partial placement fee is known for large bulky
    bulky = Product(40, 30, 20, 30, price=100)
    with pytest.raises(FeeError, match="placement"):
        build_fba_fees([bulky], [None], D(2025, 12, 1), 60, placement="partial")
    # a category without a return-rate rule pays no returns fee (the scenario checks names)
    books = build_fba_fees([LIGHT], ["books"], D(2025, 1, 1), 30)
    assert not books.returns_charged.any()


def test_returns_charges():
    # facts §3.6: home & kitchen threshold 8.1%, apparel every return, < 25 shipped exempt;
    # fee per unit = non-peak fulfilment fee (our default), $4.99 for LIGHT in 2025
    fees = build_fba_fees([LIGHT] * 3, ["home_kitchen", "apparel", None], D(2025, 1, 1), 59)
    shipped = np.zeros((59, 3), dtype=np.int64)
    returned = np.zeros((59, 3), dtype=np.int64)
    shipped[0], returned[20] = 100, 10  # January: 10 returns > floor(8.1) -> 2 charged
    shipped[31], returned[40] = 20, 10  # February: 20 shipped < 25
    got = returns_charges(fees, shipped, returned, 0)
    assert got == pytest.approx([2 * 4.99, 20 * 4.99, 0])
    assert returns_charges(fees, shipped, returned, 31) == pytest.approx([0, 10 * 4.99, 0])


def test_returns_charges_agree_with_the_calculator():
    rng = np.random.default_rng(7)
    cats = ["home_kitchen", "toys_games", "apparel", "consumer_electronics"]
    fees = build_fba_fees([LIGHT, BOX, BOX, LIGHT], cats, D(2025, 3, 1), 31)
    for _ in range(50):
        shipped = rng.poisson(rng.uniform(0, 3), (31, 4))
        returned = rng.binomial(shipped, 0.1)
        expected = [
            returns_processing_charge(
                p, D(2025, 3, 1), c, shipped[:, j].sum(), returned[:, j].sum()
            )
            for j, (p, c) in enumerate(zip([LIGHT, BOX, BOX, LIGHT], cats, strict=True))
        ]
        assert returns_charges(fees, shipped, returned, 0) == pytest.approx(expected)


def test_shape_check():
    fees = build_fba_fees([LIGHT], [None], D(2025, 1, 1), 10)
    with pytest.raises(ValueError, match="shipped"):
        fba_charges(fees, np.zeros((10, 1)), np.zeros((10, 1)), np.zeros((9, 1)), np.zeros(1), 0)
