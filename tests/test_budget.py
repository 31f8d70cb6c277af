"""Doomed runs are refused before anything large is allocated (``sim.budget``)."""

from __future__ import annotations

import pytest
import yaml

from sim import budget, cli
from sim.errors import UserError
from sim.loader import validate
from sim.metric_names import METRICS
from sim.months import MONTH_METRICS
from tests.helpers import scenario

MIB = 2**20


def big(skus: int, days: int) -> dict:
    """The test scenario with ``skus`` Poisson SKUs over ``days`` days."""
    d = scenario(horizon_days=days)
    d["skus"] = [
        {"id": f"S{i}", "demand": {"distribution": "poisson", "mean_per_day": 2}}
        for i in range(skus)
    ]
    d["strategies"][0]["replenish"]["wh"]["policy"]["level"] = 10
    return d


def write(tmp_path, d: dict):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def no_compiling(monkeypatch):
    """Compiling a scenario fails the test: the refusal must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("compiled before the memory check")

    import sim.model
    import sim.sweep

    monkeypatch.setattr(sim.model, "compile_scenario", refuse)
    monkeypatch.setattr(sim.sweep, "compile_scenario", refuse)


def test_the_estimate_from_the_parsed_scenario_by_hand():
    """2 Poisson SKUs × 56 days with a constant mean, one strategy (1 node, 1 lane, 1
    fulfilment node), no fees. Model: 2 SKUs × 2,048 bytes + 56 days × 16 bytes = 4,992 (no
    daily demand parameters). A trace: 56 × 2 × (4 · (3 + 2 + 1) + 16) = 4,480 bytes; the
    batch counts 8 · 56 · 2 · (3 + 2 + 1 + 4) = 8,960 bytes a replication, so 16 fit in 64 MiB;
    a worker: 40 MiB + 16 · (4,480 + 2 · 8 · 112) + 4,480 / 2."""
    shape = budget.shape_of(validate(scenario()))
    assert (shape.skus, shape.days, shape.replications) == (2, 56, 20)
    assert shape.model_bytes == 4992 and shape.fee_sku_days == 0
    assert shape.batch == 16
    assert shape.worker_bytes() == 40 * MIB + 16 * (4480 + 1792) + 2240
    # results: 640 bytes per (strategy, metric, SKU) (summary.json holds every SKU's
    # intervals); what loading left, 16 KiB a SKU; 20 replications' paths of the top 5
    # SKUs at 1 node (4 bytes a day); every replication's totals, kept and stacked (8 bytes);
    # the shipment plan, the same for any number of replications (they wait in a file): one
    # replication's units and the ordered cells, 6 bytes by lane, ISO week (56 // 7 + 2 = 10)
    # and SKU, and the percentiles' floats, 3 × QUANTILE_BYTES; month results: 8 bytes ×
    # (56 // 28 + 2 = 4) months × month metrics
    m = 40
    plan = 6 * 1 * 10 * 2 + 3 * 8 * MIB
    months = 8 * 20 * 1 * 4 * len(MONTH_METRICS)
    assert shape.results_bytes(m) == (
        1 * m * 2 * 640 + 2 * 16 * 1024 + 20 * 4 * 56 * 1 * 5 + 2 * 8 * 20 * m + plan + months
    )
    one, two = budget.run_need(shape, 1), budget.run_need(shape, 2)
    assert two.workers == 2 * one.workers and two.model == one.model  # forked: shared model
    assert budget.run_need(shape, 2, "dask").model == 3 * one.model  # a copy per Dask worker
    assert budget.run_need(shape, 2, "dask", local=False).workers == 0  # a remote cluster's


def test_a_too_big_run_is_refused_before_compiling(tmp_path, monkeypatch, capsys, no_compiling):
    """20,000 SKUs × 100 years crashed with a traceback after compiling; now: exit 2 in the
    time it takes to read the file, saying what is too big, how much and what to reduce."""
    path = write(tmp_path, big(20_000, 36_500))
    monkeypatch.setattr(budget, "available_memory", lambda: 16 * budget.GB)
    with pytest.raises(SystemExit) as e:
        cli.main(["run", str(path), "--workers", "2", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("scenario: too big for this machine: 20,000 SKUs × 36,500 days × 1 ")
    assert "GB of memory with 2 worker(s)" in err and "16.0 GB is available" in err
    assert "fewer SKUs or a shorter horizon_days" in err and "Traceback" not in err
    assert "--workers 1" not in err  # one worker does not fit either: not suggested
    assert not (tmp_path / "o").exists()


def test_fewer_workers_are_suggested_when_they_would_fit(monkeypatch):
    shape = budget.shape_of(validate(big(100, 3650)))
    need = budget.run_need(shape, 8)
    per_worker = need.workers // 8
    have = need.total - 5 * per_worker  # room for 3 workers
    monkeypatch.setattr(budget, "available_memory", lambda: have)
    with pytest.raises(UserError, match=r"use --workers 3, fewer SKUs or a shorter"):
        budget.check_memory(need, shape)
    monkeypatch.setattr(budget, "available_memory", lambda: need.total)
    budget.check_memory(need, shape)  # fits exactly: no error


def test_validate_refuses_a_scenario_too_big_to_compile(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, big(2_000, 36_500))
    need = budget.shape_of(validate(big(2_000, 36_500))).model_bytes + budget.BASE_MEMORY
    monkeypatch.setattr(budget, "available_memory", lambda: need - 1)
    with pytest.raises(SystemExit) as e:
        cli.main(["validate", str(path)])
    assert e.value.code == 2
    assert "scenario: too big for this machine" in capsys.readouterr().err


def test_sweep_counts_its_largest_point_and_what_every_point_keeps(
    tmp_path, monkeypatch, capsys, no_compiling
):
    """One grid point runs at a time: the largest counts once (model, workers, results); every
    point waits packed and keeps its strategy totals. The refusal comes before any compiling."""
    small, large = (budget.shape_of(validate(big(200, d))) for d in (365, 3650))
    both = budget.sweep_need([small, large], 2, "local", True)
    alone = budget.run_need(large, 2)
    assert (both.model, both.workers) == (alone.model, alone.workers)
    per_point = budget.PACKED_SKU_BYTES * 200 + 8 * 20 * len(METRICS)  # 20 reps × 1 strategy
    assert (large.replications, len(large.strategies)) == (20, 1)
    assert both.results == alone.results + 2 * per_point
    assert budget.sweep_need([large] * 50, 2, "local", True).total == alone.total + 50 * per_point
    path = write(tmp_path, big(200, 365))
    monkeypatch.setattr(budget, "available_memory", lambda: alone.total)
    with pytest.raises(SystemExit) as e:
        cli.main(["sweep", str(path), "--set", "horizon_days=365,3650", "--workers", "2"])
    assert e.value.code == 2
    assert "scenario: sweep over 2 grid points: too big for this machine" in capsys.readouterr().err


def test_optimize_counts_its_workers_inputs(tmp_path, monkeypatch, capsys, no_compiling):
    shape = budget.shape_of(validate(big(1000, 3650)))
    run2, opt2 = budget.run_need(shape, 2), budget.optimize_need(shape, 2, "local", True)
    assert opt2.total > run2.total
    assert budget.optimize_need(shape, 4, "local", True).total > opt2.total
    path = write(tmp_path, big(1000, 3650))
    monkeypatch.setattr(budget, "available_memory", lambda: run2.total)
    with pytest.raises(SystemExit) as e:
        cli.main(["optimize", str(path), "--target", "fill_rate>=0.9", "--workers", "2"])
    assert e.value.code == 2
    assert "scenario: too big for this machine" in capsys.readouterr().err


def test_an_unbounded_backlog_is_announced_before_the_run():
    """1,000 orders a day (500 units/day of each of 2 SKUs, 1 unit an order) against 1 order
    a ship day on 5 days a week (5/7 a day): the backlog grows by 999.29 a day; after 56 days,
    55,960 orders need 55,960 / (5/7) = 78,344 days (214 years) of shipping."""
    d = big(2, 56)
    for s in d["skus"]:
        s["demand"]["mean_per_day"] = 500
    d["nodes"]["wh"].update(
        daily_order_capacity=1, ship_weekdays=["mon", "tue", "wed", "thu", "fri"]
    )
    sc = validate(d)
    ((node, orders, per_day, days),) = budget.backlogs(sc)
    assert (node, orders, per_day) == ("wh", 1000, pytest.approx(5 / 7))
    assert days == pytest.approx((1000 - 5 / 7) * 56 / (5 / 7))
    lines = budget.notes(sc, budget.shape_of(sc), 1)
    assert lines[0][0] == "nodes.wh"
    assert "grows without bound and ships over about 214 years after the horizon" in lines[0][1]


def test_a_capacity_that_keeps_up_is_not_announced():
    d = big(2, 56)
    d["nodes"]["wh"]["daily_order_capacity"] = 4  # 2 + 2 orders a day
    sc = validate(d)
    assert budget.backlogs(sc) == []
    assert budget.notes(sc, budget.shape_of(sc), 1) == []


def test_a_long_run_is_announced_with_its_rough_time():
    """1,000 SKUs × 3,650 days × 20 replications × 1 strategy = 7.3e7 SKU-days; at 4e6 a
    second on one worker: 18.25 s; at 200 replications 182.5 s, about 3 minutes."""
    sc = validate(big(1000, 3650))
    shape = budget.shape_of(sc)
    assert budget.run_seconds(shape, 1) == pytest.approx(18.25)
    assert budget.notes(sc, shape, 1) == []
    sc = sc.model_copy(update={"replications": 200})
    shape = budget.shape_of(sc)
    ((loc, text),) = budget.notes(sc, shape, 1)
    assert loc == "" and text.startswith("a large run: about 3 minutes on 1 worker(s)")


def test_precision_counts_the_replications_it_may_add(tmp_path, monkeypatch, capsys, no_compiling):
    """--precision may add replications up to --max-reps: their totals count (8 bytes per
    strategy and metric, kept and stacked; paths only of the first 200), and the estimate is
    made for the cap."""
    d = big(2, 56)
    d["strategies"] += [{**d["strategies"][0], "name": f"s{i}"} for i in range(99)]
    sc = validate(d)
    few, many = (
        budget.shape_of(sc),
        budget.shape_of(sc.model_copy(update={"replications": 100_000})),
    )
    paths = (200 - 20) * 100 * 4 * 56 * 5  # inventory paths: of the first 200 only
    totals = 2 * 8 * (100_000 - 20) * 100 * 40
    # the plan's memory does not grow (its replications wait in a file); month results for
    # every replication (8 bytes × 4 months × metrics)
    months = 8 * (100_000 - 20) * 100 * 4 * len(MONTH_METRICS)
    assert many.results_bytes(40) - few.results_bytes(40) == paths + totals + months
    path = write(tmp_path, d)
    monkeypatch.setattr(budget, "available_memory", lambda: budget.run_need(few, 1).total * 2)
    with pytest.raises(SystemExit) as e:
        cli.main(["run", str(path), "--precision", "profit=1", "--max-reps", "100000"])
    assert e.value.code == 2 and "too big" in capsys.readouterr().err


def test_a_seasonal_sku_keeps_daily_demand_parameters_a_constant_one_does_not():
    flat = big(10, 3650)
    seasonal = big(10, 3650)
    for s in seasonal["skus"]:
        s["demand"]["monthly"] = {"nov": 1.5, "dec": 2.0}
    a, b = (budget.shape_of(validate(d)).model_bytes for d in (flat, seasonal))
    assert b - a == 3650 * 10 * budget.DEMAND_BYTES["poisson"]


def test_above_the_summarys_bound_a_sku_costs_its_moments_only():
    from sim.results import SKUS_IN_SUMMARY

    m = 40
    small, large = (budget.shape_of(validate(big(n, 56))) for n in (SKUS_IN_SUMMARY, 3000))
    extra = large.results_bytes(m) - small.results_bytes(m)
    plan_and_loaded = (3000 - SKUS_IN_SUMMARY) * (budget.LOADED_SKU_BYTES + 6 * 10)
    assert extra == (3000 - SKUS_IN_SUMMARY) * m * budget.MOMENT_BYTES + plan_and_loaded
