"""Benchmark suite: big catalogs, backends and sweeps through the real command line.

    python bench/suite.py [--skus 1000] [--reps 100] [--only NAME ...]

Each case runs ``simulate.py`` as a child process and prints its wall time, SKU-days per second
(SKUs × simulated days × replications × strategies ÷ seconds) and peak memory. Cases:

- ``catalog-1w`` / ``catalog-2w`` / ``catalog-dask``: a catalog of ``--skus`` SKUs (sizes, prices
  and negative-binomial demand drawn from a fixed seed) with three strategies — FBA only, own
  warehouse only, and FBA topped up from the warehouse with the warehouse as backup — run with
  1 local worker, 2 local workers and a 2-worker local Dask cluster;
- ``sweep-5``: ``sweep`` over five demand volumes on a 100-SKU version;
- ``memory-10k``: 10,000 SKUs × 365 days, 2 replications, 1 worker: peak memory.

Workload W against the numpy baseline is ``bench/run_bench.py``.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DAYS = 365


def catalog(skus: int, reps: int, seed: int = 1) -> dict:
    """The benchmark catalog: ``skus`` SKUs, three strategies (one a hybrid)."""
    rng = random.Random(seed)
    lead = {"dist": "triangular", "low": 30, "mode": 38, "high": 60}
    items = [
        {
            "id": f"SKU-{i:05d}",
            "length_in": round(rng.uniform(4, 16), 1),
            "width_in": round(rng.uniform(3, 10), 1),
            "height_in": round(rng.uniform(1, 6), 1),
            "weight_lb": round(rng.uniform(0.2, 3), 2),
            "price": round(rng.uniform(12, 60), 2),
            "unit_cost": round(rng.uniform(3, 15), 2),
            "category": "home_kitchen",
            "demand": {
                "distribution": "negative_binomial",
                "mean_per_day": round(rng.lognormvariate(0, 1), 3),
                "variance_to_mean": 1.8,
            },
        }
        for i in range(skus)
    ]
    policy = {"type": "order_up_to", "review_days": 7, "service_level": 0.95}
    return {
        "name": f"bench-{skus}",
        "start_date": "2026-02-02",
        "horizon_days": DAYS,
        "warmup_days": 30,
        "replications": reps,
        "seed": seed,
        "skus": items,
        "nodes": {
            "fba": {"type": "fba"},
            "wh": {
                "type": "fbm",
                "handling_days": 1,
                "transit_days": {"dist": "discrete", "values": [2, 3, 4], "probs": [0.5, 0.3, 0.2]},
                "promise_days": 6,
                "pick_pack_per_order": 1.0,
                "label_cost_per_order": 4.0,
            },
        },
        "strategies": [
            {
                "name": "fba",
                "fulfil_from": ["fba"],
                "replenish": {"fba": {"lead_time_days": lead, "policy": policy}},
            },
            {
                "name": "fbm",
                "fulfil_from": ["wh"],
                "replenish": {"wh": {"lead_time_days": lead, "policy": policy}},
            },
            {
                "name": "hybrid",
                "fulfil_from": ["fba", "wh"],
                "replenish": {
                    "fba": {
                        "from": "wh",
                        "lead_time_days": {"dist": "uniform", "low": 3, "high": 8},
                        "policy": {"type": "order_up_to", "review_days": 7, "cover_days": 21},
                    },
                    "wh": {"lead_time_days": lead, "policy": {**policy, "review_days": 14}},
                },
            },
        ],
    }


def measure(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one ``simulate.py`` child process."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, str(ROOT / "simulate.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - t0, int(done.stdout) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--skus", type=int, default=1000)
    p.add_argument("--reps", type=int, default=100)
    p.add_argument("--only", nargs="*", help="run only these cases")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / "catalog.yaml"
        big.write_text(yaml.safe_dump(catalog(a.skus, a.reps), sort_keys=False))
        small = tmp / "small.yaml"
        small.write_text(yaml.safe_dump(catalog(100, 50), sort_keys=False))
        huge = tmp / "huge.yaml"
        huge.write_text(yaml.safe_dump(catalog(10_000, 2), sort_keys=False))
        run = ["run", "--no-report", "--quiet", "--force", "--out"]
        volumes = "skus.*.demand.mean_per_day=0.5,1,2,4,8"
        sweep = [
            "sweep",
            str(small),
            "--set",
            volumes,
            "--workers",
            "2",
            "--quiet",
            "--force",
            "--out",
        ]
        cases = {
            "catalog-1w": ([*run, str(tmp / "o1"), str(big), "--workers", "1"], a.skus, a.reps),
            "catalog-2w": ([*run, str(tmp / "o2"), str(big), "--workers", "2"], a.skus, a.reps),
            "catalog-dask": (
                [*run, str(tmp / "o3"), str(big), "--workers", "2", "--backend", "dask"],
                a.skus,
                a.reps,
            ),
            "sweep-5": (
                [*sweep, str(tmp / "o4")],
                100,
                50 * 5,
            ),
            "memory-10k": ([*run, str(tmp / "o5"), str(huge), "--workers", "1"], 10_000, 2),
        }
        print(f"{'case':<14} {'wall':>9} {'SKU-days/s':>14} {'peak MB':>9}")
        for name, (args, skus, reps) in cases.items():
            if a.only and name not in a.only:
                continue
            wall, peak = measure(args, tmp)
            rate = skus * DAYS * reps * 3 / wall
            print(f"{name:<14} {wall:>8.1f}s {rate:>14,.0f} {peak:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
