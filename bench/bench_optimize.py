"""Benchmark: ``optimize`` on a 20-SKU catalog through the real command line (target < 60 s).

    python bench/bench_optimize.py [--skus 20] [--reps 200] [--workers 2]
                                   [--target cycle_service_level>=0.95 | --profit] [--repeat 1]

Writes a scenario like ``scenarios/starter.yaml`` with ``--skus`` mugs of varied demand, size and
price (FBA with Amazon's fees, an own FBM warehouse, and FBA with the warehouse as backup and
transfer source: 4 stocked nodes, 20 (SKU, node) searches each), times ``simulate.py optimize``
as a whole process (start-up included, best of ``--repeat``), and prints the wall time, the
number of candidate runs and SKU-days simulated per second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 60


def scenario(skus: int, reps: int) -> dict:
    """A starter-like scenario with ``skus`` SKUs (deterministic: no random numbers here)."""
    items = []
    for i in range(skus):
        mean = round(0.5 + 30 * (i / max(1, skus - 1)) ** 2, 3)  # 0.5 .. 30.5 units a day
        items.append(
            {
                "id": f"SKU-{i:02d}",
                "length_in": 5 + i % 7,
                "width_in": 4 + i % 5,
                "height_in": 3 + i % 4,
                "weight_lb": round(0.4 + 0.15 * (i % 9), 2),
                "category": "home_kitchen",
                "price": round(14.99 + 2.5 * (i % 11), 2),
                "unit_cost": round(4 + 0.8 * (i % 11), 2),
                "demand": (
                    {"distribution": "poisson", "mean_per_day": mean}
                    if i % 3
                    else {
                        "distribution": "negative_binomial",
                        "mean_per_day": mean,
                        "variance_to_mean": 2.0,
                    }
                ),
            }
        )
    ocean = {"dist": "triangular", "low": 30, "mode": 38, "high": 60}
    return {
        "name": f"optimize-bench-{skus}",
        "start_date": "2026-01-05",
        "horizon_days": 364,
        "warmup_days": 28,
        "replications": reps,
        "seed": 42,
        "skus": items,
        "nodes": {
            "fba": {"type": "fba"},
            "home": {
                "type": "fbm",
                "handling_days": 1,
                "ship_weekdays": ["mon", "tue", "wed", "thu", "fri"],
                "transit_days": {"dist": "discrete", "values": [2, 3, 4], "probs": [0.4, 0.4, 0.2]},
                "promise_days": 7,
                "pick_pack_per_order": 1.2,
                "label_cost_per_order": 3.5,
                "storage_per_cubic_foot_month": 0.5,
            },
        },
        "strategies": [
            {
                "name": "fba-only",
                "fulfil_from": ["fba"],
                "replenish": {
                    "fba": {
                        "from": "supplier",
                        "lead_time_days": ocean,
                        "cost_per_shipment": 350,
                        "policy": {"type": "order_up_to", "review_days": 7, "service_level": 0.95},
                    }
                },
            },
            {
                "name": "fbm-only",
                "fulfil_from": ["home"],
                "replenish": {
                    "home": {
                        "from": "supplier",
                        "lead_time_days": ocean,
                        "policy": {"type": "order_up_to", "review_days": 7, "service_level": 0.95},
                    }
                },
            },
            {
                "name": "fba-with-home-backup",
                "fulfil_from": ["fba", "home"],
                "replenish": {
                    "fba": {
                        "from": "home",
                        "lead_time_days": {"dist": "uniform", "low": 4, "high": 8},
                        "policy": {
                            "type": "order_up_to",
                            "review_days": 7,
                            "cover_days": 14,
                            "safety": {"days": 7},
                        },
                    },
                    "home": {
                        "from": "supplier",
                        "lead_time_days": ocean,
                        "policy": {"type": "order_up_to", "review_days": 14, "service_level": 0.95},
                    },
                },
            },
        ],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skus", type=int, default=20)
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--target", default="cycle_service_level>=0.95")
    p.add_argument("--profit", action="store_true", help="--objective profit instead")
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(scenario(a.skus, a.reps), sort_keys=False))
        cmd = [
            sys.executable,
            str(ROOT / "simulate.py"),
            "optimize",
            str(path),
            *(["--objective", "profit"] if a.profit else ["--target", a.target]),
            "--workers",
            str(a.workers),
            "--quiet",
            "--format",
            "json",
            "--out",
            str(Path(tmp) / "out"),
            "--force",  # the same folder on every repeat
        ]
        best, rep = float("inf"), {}
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
            best = min(best, time.perf_counter() - t0)
            rep = json.loads(done.stdout)
    cells = sum(len(n) for st in rep["strategies"].values() for n in st["skus"].values())
    sku_days = rep["runs"] * a.reps * 364 * a.skus
    print(
        f"optimize: {a.skus} SKUs, {len(rep['strategies'])} strategies, {cells} (SKU, node) "
        f"searches, {a.reps} replications, --workers {a.workers}, "
        + ("--objective profit" if a.profit else f"--target {a.target}")
    )
    print(f"candidate runs: {rep['runs']} ({sku_days / best:,.0f} SKU-days per second)")
    verdict = "ok" if best < LIMIT_SECONDS else "TOO SLOW"
    print(f"wall time: {best:.1f} s (target < {LIMIT_SECONDS} s: {verdict})")


if __name__ == "__main__":
    main()
