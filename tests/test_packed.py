"""Grid points kept packed: the same scenarios back, and one point's objects alive at a time."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import yaml

from sim import sensitivity as se
from sim import sweep as sw
from sim.loader import load_scenario, validate
from sim.model import compile_scenario
from sim.packed import Packed
from tests.helpers import ROOT, scenario

CATALOG = ROOT / "scenarios" / "catalog-50.yaml"


def test_unpacked_scenarios_equal_the_validated_ones_and_compile_alike():
    sc = load_scenario(CATALOG, False).scenario
    packed = Packed()
    packed.append(sc)
    packed.append(validate(scenario()))
    assert len(packed) == 2
    again = packed[0]
    assert again == sc and again is not sc and packed[0] is not again  # a fresh copy each time
    assert [s.name for s in packed] == [sc.name, "test"]
    a, b = compile_scenario(sc), compile_scenario(again)
    assert a.catalog.ids == b.catalog.ids
    assert (a.catalog.unit_cost == b.catalog.unit_cost).all()


def _alive_during_runs(monkeypatch, module) -> list[int]:
    """How many of the scenarios compiled so far are still alive as each is compiled."""
    seen: list[weakref.ref] = []
    alive: list[int] = []

    def compile_counting(sc):
        gc.collect()
        alive.append(sum(r() is not None for r in seen))
        seen.append(weakref.ref(sc))
        return compile_scenario(sc)

    monkeypatch.setattr(module, "compile_scenario", compile_counting)
    return alive


def test_a_sweep_holds_one_validated_point_at_a_time(monkeypatch):
    alive = _alive_during_runs(monkeypatch, sw)
    points = sw.prepare(scenario(replications=2), {}, ROOT, sw.parse_sets(["seed=1,2,3,4"]))
    results, complete = sw.run_points(points, workers=1)
    assert complete and len(results) == 4
    assert alive == [0, 0, 0, 0]  # none of the points before is still alive


def test_a_sensitivity_plan_holds_one_validated_run_at_a_time(monkeypatch):
    alive = _alive_during_runs(monkeypatch, se)
    data = yaml.safe_load(Path(CATALOG).read_text())
    plan = se.prepare(
        data,
        {},
        ROOT,
        se.parse_varies(["skus.*.demand.mean_per_day=x0.8,x1.2"]),
        {"replications": 2},
    )
    assert (len(plan.scenarios), plan.name, plan.replications) == (3, data["name"], 2)
    results, complete = se.run_plan(plan, workers=1)
    assert complete and len(results) == 3
    assert alive == [0, 0, 0]
