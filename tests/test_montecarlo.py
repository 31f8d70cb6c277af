"""Determinism and common random numbers across replications, strategies and workers."""

from __future__ import annotations

import numpy as np
import pytest

from sim import montecarlo
from sim.loader import load_scenario, validate
from sim.metric_names import INDEX, METRICS
from sim.model import compile_scenario
from sim.results import summarize, summary_json
from tests.helpers import BASE, ROOT, run_dict, scenario

SCENARIOS = ROOT / "scenarios"


def two_strategies(second: dict | None = None) -> dict:
    first = BASE["strategies"][0]
    other = dict(first, name="copy") if second is None else second
    return scenario(strategies=[first, other])


def test_same_seed_same_numbers_for_any_worker_count():
    d = scenario(replications=9)
    one = summary_json(summarize(run_dict(d, workers=1), "t", "x", 56, 0))
    two = summary_json(summarize(run_dict(d, workers=2), "t", "x", 56, 0))
    assert one == two


def test_different_seed_changes_the_numbers():
    a = run_dict(scenario(seed=1)).totals
    b = run_dict(scenario(seed=2)).totals
    assert not np.array_equal(a, b)


def test_identical_strategies_have_exactly_zero_paired_differences():
    res = run_dict(two_strategies())
    summary = summarize(res, "t", "x", 56, 0)
    assert np.array_equal(res.totals[:, 0], res.totals[:, 1], equal_nan=True)
    for c in summary["comparisons"]:
        if c["diff_mean"] is not None:
            assert c["diff_mean"] == 0.0
            assert c["ci_low"] in (0.0, None) and c["ci_high"] in (0.0, None)


def test_every_strategy_sees_the_same_demand():
    """CRN: a strategy with a different policy still sees replication i's demand."""
    other = dict(BASE["strategies"][0], name="lean")
    other["replenish"] = {
        "wh": {"lead_time_days": 3, "policy": {"type": "order_up_to", "level": {"A": 5, "B": 2}}}
    }
    res = run_dict(two_strategies(other))
    k = INDEX["demand_units"]
    assert np.array_equal(res.totals[:, 0, k], res.totals[:, 1, k])
    assert not np.array_equal(
        res.totals[:, 0, INDEX["lost_units"]], res.totals[:, 1, INDEX["lost_units"]]
    )


def test_a_skus_demand_does_not_depend_on_the_rest_of_the_catalog():
    model_full = compile_scenario(validate(scenario()))
    alone = scenario(skus=[BASE["skus"][1]])
    alone["strategies"][0]["replenish"]["wh"]["policy"]["level"] = 8
    model_one = compile_scenario(validate(alone))
    for r in range(3):
        full, _ = montecarlo.draw_demand(model_full, montecarlo.Streams(7, r))
        one, _ = montecarlo.draw_demand(model_one, montecarlo.Streams(7, r))
        assert np.array_equal(full[:, 1], one[:, 0])


def test_replications_are_independent_streams():
    model = compile_scenario(validate(scenario()))
    a, _ = montecarlo.draw_demand(model, montecarlo.Streams(7, 0))
    b, _ = montecarlo.draw_demand(model, montecarlo.Streams(7, 1))
    assert not np.array_equal(a, b)


def test_per_sku_statistics_match_the_per_replication_values():
    """The running (Welford) per-SKU moments equal a direct computation."""
    d = scenario(replications=12)
    model = compile_scenario(validate(d))
    res = montecarlo.run(model)
    direct = np.stack([[m.skus for m in montecarlo.run_replication(model, r)] for r in range(12)])
    mean = np.nanmean(direct, axis=0)
    assert np.allclose(res.sku_mean, mean, equal_nan=True)
    var = np.nanvar(direct, axis=0, ddof=1)
    assert np.allclose(res.sku_m2 / np.maximum(res.sku_count - 1, 1), var, equal_nan=True)
    assert len(METRICS) == direct.shape[2]


def test_an_interrupted_run_keeps_finished_replications(monkeypatch):
    model = compile_scenario(validate(scenario(replications=10)))
    real = montecarlo.run_batch
    calls = {"n": 0}

    def flaky(m, replications):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(m, replications)

    monkeypatch.setattr(montecarlo, "run_batch", flaky)
    monkeypatch.setattr(montecarlo, "batch_size", lambda m: 2)
    res = montecarlo.run(model, workers=1)
    assert not res.complete
    assert res.replications == 4  # two batches of two finished
    assert np.array_equal(res.totals, montecarlo.run(model).totals[:4])


@pytest.mark.parametrize("name", [p.stem for p in sorted(SCENARIOS.glob("*.yaml"))])
def test_a_replication_has_the_same_numbers_in_any_batch(name):
    """Replications simulated side by side give exactly what each gives alone, whatever the
    batch and its first replication: every bundled scenario (backorders, transfers, capacity,
    SFP badges, Prime uplift, stockout penalties)."""
    sc = load_scenario(SCENARIOS / f"{name}.yaml").scenario
    model = compile_scenario(sc.model_copy(update={"horizon_days": sc.warmup_days + 120}))
    for replications in (range(0, 5), range(3, 5)):
        batch = montecarlo.run_batch(model, replications)
        for r, together in zip(replications, batch, strict=True):
            for a, b in zip(together, montecarlo.run_replication(model, r), strict=True):
                assert np.array_equal(a.skus, b.skus, equal_nan=True)
                assert np.array_equal(a.total, b.total, equal_nan=True)
                assert np.array_equal(a.paths, b.paths)


def test_adaptive_precision_stops_when_narrow_enough_with_fixed_run_numbers():
    """Batches reuse the replication indices a fixed run uses: the result equals a fixed run of
    the same size, and every strategy's interval meets the target (or the cap is reached)."""
    from sim.montecarlo import Precision
    from sim.stats import interval

    model = compile_scenario(validate(scenario(replications=5)))
    target = Precision("fill_rate", 0.01, max_reps=400)
    adaptive = montecarlo.run(model, precision=target)
    n = adaptive.replications
    assert 5 < n < 400
    for s in range(len(model.strategies)):
        k = montecarlo.METRICS.index("fill_rate")
        assert interval(adaptive.totals[:, s, k], model.confidence).half_width <= 0.01
    fixed = montecarlo.run(compile_scenario(validate(scenario(replications=n))))
    assert np.array_equal(adaptive.totals, fixed.totals)


def test_adaptive_precision_respects_the_cap():
    from sim.montecarlo import Precision

    model = compile_scenario(validate(scenario(replications=3)))
    capped = montecarlo.run(model, precision=Precision("fill_rate", 1e-9, max_reps=25))
    assert capped.replications == 25
