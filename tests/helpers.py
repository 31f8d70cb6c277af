"""Shared test helpers: build small scenarios in memory and run them in-process."""

from __future__ import annotations

import copy
from pathlib import Path

from sim import montecarlo
from sim.loader import load_scenario, validate
from sim.metric_names import INDEX
from sim.model import compile_scenario

ROOT = Path(__file__).resolve().parent.parent

BASE = {
    "name": "test",
    "start_date": "2026-01-05",  # a Monday
    "horizon_days": 56,
    "warmup_days": 0,
    "replications": 20,
    "seed": 7,
    "skus": [
        {
            "id": "A",
            "price": 20.0,
            "unit_cost": 5.0,
            "demand": {"distribution": "poisson", "mean_per_day": 4},
        },
        {
            "id": "B",
            "price": 30.0,
            "unit_cost": 9.0,
            "demand": {"distribution": "poisson", "mean_per_day": 1.5},
        },
    ],
    "nodes": {"wh": {"type": "fbm"}},
    "strategies": [
        {
            "name": "base",
            "fulfil_from": ["wh"],
            "replenish": {
                "wh": {
                    "from": "supplier",
                    "lead_time_days": 3,
                    "policy": {"type": "order_up_to", "review_days": 1, "level": {"A": 20, "B": 8}},
                }
            },
        }
    ],
}


def scenario(**changes) -> dict:
    """A deep copy of the base scenario with top-level keys replaced."""
    d = copy.deepcopy(BASE)
    d.update(copy.deepcopy(changes))
    return d


def run_dict(d: dict, workers: int = 1):
    """Validate, compile and run a scenario dict; return the ``Results``."""
    return montecarlo.run(compile_scenario(validate(d)), workers=workers)


def metric(results, strategy: int, name: str):
    """Per-replication values of a strategy-total metric."""
    return results.totals[:, strategy, INDEX[name]]


def starter_report(out: Path, replications: int):
    """Run the bundled starter with ``replications`` and write its report into ``out``:
    (summary, written paths)."""
    from sim.report import write_report
    from sim.results import summarize

    path = ROOT / "scenarios" / "starter.yaml"
    loaded = load_scenario(path)
    sc = loaded.scenario.model_copy(update={"replications": replications})
    results = montecarlo.run(compile_scenario(sc))
    summary = summarize(results, sc.name, loaded.sha256, sc.horizon_days, sc.warmup_days)
    return summary, write_report(out, summary, results, path.read_text(encoding="utf-8"))
