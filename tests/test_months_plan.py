"""Results by calendar month and the shipment plan, on deterministic scenarios computed by hand.

Demand is `empirical` with one value (a constant) and lead times are constants, so every
replication is the same and the numbers below are hand arithmetic (SPEC §3 timing: an order at
the end of day t with lead L joins stock at the start of day t + L). 2026-01-05 is a Monday.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from sim import montecarlo
from sim.loader import load_scenario, validate
from sim.metric_names import INDEX
from sim.model import compile_scenario
from sim.months import ADDITIVE, MONTH_INDEX, month_windows
from sim.plan import _rows_at_once, plan_calendar, plan_rows
from sim.results import summarize, write_results
from tests.helpers import ROOT
from tests.test_modes import CUBE, const, scen, strategy, up_to

ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def run(d: dict):
    return montecarlo.run(compile_scenario(validate(d)))


def jan_to_march() -> dict:
    """2026-01-05 .. 2026-03-31 (86 days: Jan days 0-26, Feb 27-54, Mar 55-85), warm-up 10
    days: counted from Thu 2026-01-15. Daily review, lead 2, lost sales. SKU A: demand 3,
    level 10 (never out); SKU B: demand 3, level 5, which sells 3 on even days and 2 on odd
    days (1 lost) from day 1 on, ordering 3 on even days and 2 on odd days."""
    skus = [
        {"id": "A", "price": 20.0, "unit_cost": 6.0, "demand": const(3)},
        {"id": "B", "price": 30.0, "unit_cost": 9.0, "demand": const(3)},
    ]
    wh = {
        "type": "fbm",
        "handling_days": 0,
        "ship_weekdays": ALL_WEEK,
        "transit_days": 1,
        "promise_days": 3,
        "fixed_cost_per_month": 304.375,  # 304.375 / 30.4375 = $10 a day
    }
    rep = up_to({"A": 10, "B": 5}, lead=2, freight_cost_per_unit=1.5)
    st = strategy(["wh"], {"wh": rep})  # starting stock: the levels
    return scen(skus, {"wh": wh}, [st], 86, warmup_days=10, replications=3)


def test_month_windows_cut_at_warmup_and_horizon():
    model = compile_scenario(validate(jan_to_march()))
    assert month_windows(model.calendar) == (
        ("2026-01", 10, 27),
        ("2026-02", 27, 55),
        ("2026-03", 55, 86),
    )


def test_month_metrics_by_hand_and_months_sum_to_the_run():
    """Counted days: Jan 17 (days 10-26: B loses on the 8 odd days 11..25), Feb 28 (days
    27-54: 14 odd days), Mar 31 (days 55-85: 16 odd days)."""
    results = run(jan_to_march())
    assert results.month_labels() == ["2026-01", "2026-02", "2026-03"]
    m = results.months[0, 0]  # replication 0, strategy 0: (months, metrics)

    def col(name):
        return m[:, MONTH_INDEX[name]]

    days = np.array([17, 28, 31])
    lost = np.array([8, 14, 16])
    np.testing.assert_array_equal(col("demand_units"), 6 * days)
    np.testing.assert_array_equal(col("lost_units"), lost)
    np.testing.assert_array_equal(col("sold_units"), 6 * days - lost)
    np.testing.assert_allclose(col("fill_rate"), (6 * days - lost) / (6 * days))
    # end-of-day on hand from day 1 on: A 10 - 3·2 = 4, B 0
    np.testing.assert_allclose(col("avg_on_hand_units"), 4.0)
    np.testing.assert_allclose(col("on_time_rate"), 1.0)  # ship the day, arrive the next
    revenue = 20 * 3 * days + 30 * (3 * days - lost)
    np.testing.assert_allclose(col("revenue"), revenue)
    np.testing.assert_allclose(col("cost_product"), 6 * 3 * days + 9 * (3 * days - lost))
    # orders by order day: A 3 a day; B 3 on even days, 2 on odd days = B's units sold
    np.testing.assert_allclose(col("cost_freight"), 1.5 * (3 * days + 3 * days - lost))
    np.testing.assert_allclose(col("cost_fixed"), 10.0 * days)
    # no category: Amazon's 15% referral fee on each unit sold (scenario.py, SKU category)
    np.testing.assert_allclose(col("cost_referral"), 0.15 * revenue)
    total = (
        6 * 3 * days + 9 * (3 * days - lost) + 1.5 * (6 * days - lost) + 10.0 * days
    ) + 0.15 * revenue
    np.testing.assert_allclose(col("total_cost"), total)
    np.testing.assert_allclose(col("profit"), revenue - total)
    # months sum to the whole run, per replication
    for name in ("sold_units", "revenue", "total_cost", "profit", "lost_units"):
        sums = results.months[:, 0, :, MONTH_INDEX[name]].sum(axis=1)
        np.testing.assert_allclose(sums, results.totals[:, 0, INDEX[name]], rtol=1e-12)


@pytest.mark.parametrize("name", ["starter", "q4-peak", "bulky-3pl-feeds-fba", "abc-split"])
def test_months_sum_to_the_run_on_bundled_scenarios(name):
    """FBA fees (storage, aged, LIL, placement, returns), referral, transfers, receiving and
    fixed costs: each month's share, summed, is the run's total (float rounding aside)."""
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml").scenario
    sc = sc.model_copy(update={"replications": 3})
    results = montecarlo.run(dataclasses.replace(compile_scenario(sc), check=False))
    for metric in ADDITIVE:
        sums = results.months[:, :, :, MONTH_INDEX[metric]].sum(axis=2)
        want = results.totals[:, :, INDEX[metric]]
        np.testing.assert_allclose(sums, want, rtol=1e-9, atol=1e-6, err_msg=metric)


def test_summary_months_keys_and_months_csv(tmp_path):
    d = jan_to_march()
    d["strategies"][0]["name"] = "=cmd"  # a formula-like name is neutralised in the CSV
    results = run(d)
    summary = summarize(results, "t", "0" * 64, 86, 10)
    months = summary["strategies"]["=cmd"]["months"]
    assert list(months) == ["2026-01", "2026-02", "2026-03"]
    for metric in ("demand_units", "sold_units", "lost_units", "fill_rate", "avg_on_hand_units"):
        assert set(months["2026-02"][metric]) == {"mean", "ci_low", "ci_high", "std"}
    for metric in ("on_time_rate", "revenue", "total_cost", "profit"):
        assert set(months["2026-02"][metric]) == {"mean", "ci_low", "ci_high", "std"}
    # three identical replications: std 0, the interval collapses on the mean
    assert months["2026-02"]["lost_units"] == {
        "mean": 14.0,
        "ci_low": 14.0,
        "ci_high": 14.0,
        "std": 0.0,
    }
    write_results(tmp_path, summary, results)
    reread = json.loads((tmp_path / "summary.json").read_text())
    assert reread["strategies"]["=cmd"]["months"] == months
    rows = list(csv.DictReader((tmp_path / "months.csv").open()))
    assert [(r["strategy"], r["month"]) for r in rows] == [
        ("'=cmd", "2026-01"),
        ("'=cmd", "2026-02"),
        ("'=cmd", "2026-03"),
    ]
    assert float(rows[0]["lost_units"]) == 8.0
    assert float(rows[2]["fill_rate"]) == pytest.approx((186 - 16) / 186)
    assert {"profit_ci_low", "profit_ci_high"} <= set(rows[0])


def test_month_intervals_are_student_t_over_replications():
    """Poisson demand: each month's interval is the Student-t interval of the replications'
    monthly values (sim.stats.interval), the same code as the whole-run metrics."""
    from sim.stats import interval

    d = jan_to_march()
    d["skus"][0]["demand"] = {"distribution": "poisson", "mean_per_day": 3}
    d["replications"] = 8
    results = run(d)
    summary = summarize(results, "t", "0" * 64, 86, 10)
    got = summary["strategies"]["s"]["months"]["2026-03"]["sold_units"]
    values = results.months[:, 0, 2, MONTH_INDEX["sold_units"]]
    assert values.std() > 0
    assert got == interval(values, 0.95).to_dict()


# --------------------------------------------------------------------------- the plan


def weekly() -> dict:
    """Weekly review (Mondays: days 0, 7, ...), lead 10, demand 4 a day, level 80, lost sales.
    Day 0 orders 80 - 76 = 4; from day 7 on each review orders the week's demand, 28, which
    arrives 10 days later, on the Thursday of the next week. Warm-up 14 days: counted weeks
    2026-W04 (Mon 2026-01-19, day 14) .. 2026-W11 (day 63; horizon 70 days)."""
    rep = up_to({"A": 80}, lead=10)
    rep["policy"]["review_days"] = 7
    st = strategy(["wh"], {"wh": rep})
    return scen(
        [{"id": "A", "price": 20.0, "unit_cost": 6.0, "demand": const(4)}],
        {"wh": {"type": "fbm"}},
        [st],
        70,
        warmup_days=14,
        replications=3,
    )


def test_plan_weekly_review_by_hand(tmp_path):
    results = run(weekly())
    rows = list(plan_rows(results.model, results.plan))
    assert [r["week"] for r in rows] == [f"2026-W{k:02d}" for k in range(4, 12)]
    for k, r in enumerate(rows):
        assert (r["strategy"], r["kind"], r["lane"], r["sku"]) == (
            "s",
            "order",
            "supplier->wh",
            "A",
        )
        assert (r["units_median"], r["units_p10"], r["units_p90"]) == (28, 28, 28)
        assert r["arrival_week"] == f"2026-W{k + 5:02d}"  # Monday + 10 days: next Thursday
        assert r["date"] == (dt.date(2026, 1, 19) + dt.timedelta(days=7 * k)).isoformat()
    summary = summarize(results, "t", "0" * 64, 70, 14)
    write_results(tmp_path, summary, results)
    lines = (tmp_path / "plan.csv").read_text().splitlines()
    assert lines[0] == (
        "strategy,kind,lane,sku,week,date,units_median,units_p10,units_p90,arrival_week"
    )
    assert lines[1] == "s,order,supplier->wh,A,2026-W04,2026-01-19,28.0,28.0,28.0,2026-W05"


def test_plan_daily_review_partial_first_week_and_arrival_median():
    """The Jan-Mar scenario, counted from Thu 2026-01-15 (day 10). Week 2026-W03 has 4 counted
    days (10-13): A orders 3 a day = 12, B 3, 2, 3, 2 = 10; the week's orders (6, 5, 6, 5
    units) arrive on days 12-15, the units-weighted median is day 13 (cumulative 6, 11 ≥ 22/2):
    Sun 2026-01-18, W03. A full week (W04, days 14-20): A 21, B 3+2+3+2+3+2+3 = 18; arrivals
    days 16-22, weights 6, 5, 6, 5, 6, 5, 6 (total 39): median the 4th, day 19 = Sat, W04."""
    results = run(jan_to_march())
    rows = [r for r in plan_rows(results.model, results.plan) if r["kind"] == "order"]
    by = {(r["sku"], r["week"]): r for r in rows}
    assert by["A", "2026-W03"]["units_median"] == 12
    assert by["B", "2026-W03"]["units_median"] == 10
    assert by["A", "2026-W03"]["arrival_week"] == "2026-W03"
    assert by["A", "2026-W04"]["units_median"] == 21
    assert by["B", "2026-W04"]["units_median"] == 18
    assert by["B", "2026-W04"]["arrival_week"] == "2026-W04"
    # the last week, W14 (Mon Mar 30 = day 84): 2 counted days; orders arrive after the horizon
    assert by["A", "2026-W14"]["units_median"] == 6
    assert by["A", "2026-W14"]["arrival_week"] == "2026-W14"  # days 86, 87 → Apr 1 (Wed)
    weeks = sorted({r["week"] for r in rows})
    assert weeks[0] == "2026-W03" and weeks[-1] == "2026-W14" and len(weeks) == 12
    # every unit ordered on counted days is in the plan
    a_total = sum(r["units_median"] for r in rows if r["sku"] == "A")
    assert a_total == 3 * 76


def test_plan_percentiles_over_replications():
    """Poisson demand: each cell's median and 10-90% are the quantiles over the replications
    of the week's units, summed straight from the traces' daily orders."""
    d = weekly()
    d["skus"][0]["demand"] = {"distribution": "poisson", "mean_per_day": 4}
    d["replications"] = 12
    results = run(d)
    rows = list(plan_rows(results.model, results.plan))
    model = results.model
    per_rep = []
    for r in range(12):
        (measured,) = montecarlo.run_replication(model, r)
        per_rep.append(measured.plan.units[0, :, 0])
    units = np.array(per_rep)  # (reps, weeks)
    assert units.std(axis=0).max() > 0
    for k, row in enumerate(rows):
        lo, mid, hi = np.quantile(units[:, k], [0.1, 0.5, 0.9])
        assert (row["units_p10"], row["units_median"], row["units_p90"]) == (
            round(lo, 2),
            round(mid, 2),
            round(hi, 2),
        )


def test_fba_stock_on_november_1_by_hand():
    """FBA with check-in 0 from 2026-10-01 (Nov 1 = day 31), demand 3, level 10, lead 2, daily
    review: end-of-day on hand 10 - 3·2 = 4; on the way on Oct 31: the orders of Oct 30 and
    31 (3 each, arriving Nov 1 and 2): 4 + 6 = 10, the level."""
    fba = {"type": "fba", "check_in_days": 0}
    st = strategy(["fba"], {"fba": up_to(10, lead=2)})
    d = scen(
        [{"id": "A", "price": 20.0, "unit_cost": 6.0, "demand": const(3), **CUBE}],
        {"fba": fba},
        [st],
        45,
        "2026-10-01",
        warmup_days=5,
    )
    results = run(d)
    rows = [r for r in plan_rows(results.model, results.plan) if r["kind"] != "order"]
    assert [(r["kind"], r["lane"], r["week"], r["date"], r["units_median"]) for r in rows] == [
        ("fba_on_hand", "fba", "2026-W44", "2026-11-01", 4),
        ("fba_on_hand_in_transit", "fba", "2026-W44", "2026-11-01", 10),
    ]


def test_report_shows_months_chart_and_plan(tmp_path):
    from sim.report import write_report

    d = jan_to_march()
    d["strategies"][0]["name"] = "<b>s</b>"
    results = run(d)
    summary = summarize(results, "t", "0" * 64, 86, 10)
    written = write_report(tmp_path, summary, results, "name: t\n")
    assert tmp_path / "chart-months.png" in written
    page = (tmp_path / "report.html").read_text()
    assert 'id="plan"' in page and "Shipment plan" in page
    assert "<b>s</b>" not in page and "&lt;b&gt;s&lt;/b&gt;" in page
    assert "supplier-&gt;wh" in page
    assert "http" not in page.replace("http://www.w3.org", "")


def test_whole_pallet_storage_is_dated_on_its_month_end():
    """tests/test_labels.py's 3PL, 45 days from 2026-01-01 with 9 warm-up days: January is
    billed 7 positions × $25 × 22/31 on Jan 31, February 6 × $25 × 14/28 on Feb 14."""
    from tests.test_labels import pallets

    results = run(pallets(45, "whole", warmup=9))
    assert results.month_labels() == ["2026-01", "2026-02"]
    storage = results.months[0, 0, :, MONTH_INDEX["cost_storage"]]
    np.testing.assert_allclose(storage, [7 * 25 * 22 / 31, 6 * 25 * 14 / 28])


def test_plan_in_blocks_of_rows_is_the_same_rows(monkeypatch):
    results = run(weekly())
    whole = list(plan_rows(results.model, results.plan))
    monkeypatch.setattr("sim.plan.ROWS_PER_BLOCK", 3)  # 8 order rows: three blocks
    assert list(plan_rows(results.model, results.plan)) == whole
    assert len(whole) == 8


def test_plan_parts_kept_in_the_smallest_type_give_the_same_rows(monkeypatch):
    results = run(weekly())
    part = results.plan.part(0, 0)
    assert part.units.dtype == np.uint8 and part.units.max() == 28  # weekly orders of 28
    small = list(plan_rows(results.model, results.plan))
    monkeypatch.setattr("sim.plan._smallest", lambda units: units)
    wide = run(weekly())
    assert wide.plan.part(0, 0).units.dtype == np.int32
    assert list(plan_rows(wide.model, wide.plan)) == small


def test_plan_percentiles_in_blocks_of_rows_are_the_whole_plans(monkeypatch):
    """The percentiles computed a few rows at a time (as a large catalog's, to bound memory)
    are the ones over the whole plan at once, order rows and November 1 rows alike."""
    fba = {"type": "fba", "check_in_days": 0}
    st = strategy(["fba"], {"fba": up_to({"A": 30, "B": 12, "C": 50}, lead=3)})
    skus = [
        {"id": k, "price": 20.0, "unit_cost": 6.0, **CUBE}
        | {"demand": {"distribution": "poisson", "mean_per_day": m}}
        for k, m in (("A", 4.0), ("B", 1.5), ("C", 7.0))
    ]
    d = scen(skus, {"fba": fba}, [st], 60, "2026-10-01", warmup_days=5, replications=7)
    results = run(d)
    monkeypatch.setattr("sim.plan.QUANTILE_BYTES", 2**40)  # every row at once
    whole = list(plan_rows(results.model, results.plan))
    kept = [results.plan.part(0, r) for r in range(results.plan.kept(0))]
    units = np.stack([p.units for p in kept]).astype(float)  # (reps, 1, weeks, 3)
    q = np.quantile(units[:, 0], [0.5, 0.1, 0.9], axis=0)
    orders = [r for r in whole if r["kind"] == "order"]
    assert len(orders) == 3 * q.shape[1] and len({r["units_p90"] for r in orders}) > 3
    labels = plan_calendar(results.model.calendar).labels
    for r in orders:
        k, week = results.model.catalog.ids.index(r["sku"]), labels.index(r["week"])
        assert (r["units_median"], r["units_p10"], r["units_p90"]) == tuple(
            round(float(q[c, week, k]), 2) for c in range(3)
        )
    assert {r["kind"] for r in whole} == {"order", "fba_on_hand", "fba_on_hand_in_transit"}
    monkeypatch.setattr("sim.plan.QUANTILE_BYTES", 8 * 7 * 2)  # two rows at once
    assert _rows_at_once(7) == 2
    assert list(plan_rows(results.model, results.plan)) == whole
