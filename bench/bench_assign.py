"""Benchmark: ``assign`` on a 200-SKU catalog with 3 candidate routes, through the real command
line on 2 workers (target: within minutes).

    python bench/bench_assign.py [--copies 4] [--reps 100] [--workers 2] [--repeat 1]

Builds the catalog from ``scenarios/catalog-50.yaml``: its 50 products ``--copies`` times (ids
suffixed ``-1``, ``-2``, …, demand scaled ×0.6, ×0.8, ×1.2, ×1.4, …), the same FBA node, own
warehouse and strategies; times ``simulate.py assign --strategy fba-with-home-backup --routes fba
--routes home --routes fba,home`` as a whole process (start-up included, best of ``--repeat``)
and prints the wall time, the whole-catalog evaluations and SKU-days simulated per second.
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
LIMIT_SECONDS = 600  # "within minutes" on 2 cores, allowing for a machine shared with other jobs
SCALES = (0.6, 0.8, 1.2, 1.4, 1.0, 0.5, 1.5, 0.9)


def scenario(copies: int, reps: int) -> dict:
    """catalog-50 with its SKUs repeated ``copies`` times (deterministic)."""
    d = yaml.safe_load((ROOT / "scenarios" / "catalog-50.yaml").read_text(encoding="utf-8"))
    skus = []
    for c in range(copies):
        for s in d["skus"]:
            demand = {
                **s["demand"],
                "mean_per_day": round(s["demand"]["mean_per_day"] * SCALES[c % len(SCALES)], 3),
            }
            skus.append({**s, "id": f"{s['id']}-{c + 1}", "demand": demand})
    return {**d, "name": f"assign-bench-{len(skus)}", "skus": skus, "replications": reps}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=4)
    p.add_argument("--reps", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1)
    a = p.parse_args()
    sc = scenario(a.copies, a.reps)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(sc, sort_keys=False))
        cmd = [
            sys.executable,
            str(ROOT / "simulate.py"),
            "assign",
            str(path),
            "--strategy",
            "fba-with-home-backup",
            *("--routes", "fba", "--routes", "home", "--routes", "fba,home"),
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
    skus = len(sc["skus"])
    sku_days = rep["evaluations"] * a.reps * sc["horizon_days"] * skus
    print(f"assign: {skus} SKUs, 3 routes, {a.reps} replications, --workers {a.workers}")
    print(
        f"whole-catalog evaluations: {rep['evaluations']}, moves tried {rep['moves_tried']}, "
        f"taken {rep['moves']}; routes used {rep['routes_used']}"
    )
    print(f"{sku_days / best:,.0f} SKU-days per second")
    verdict = "ok" if best < LIMIT_SECONDS else "TOO SLOW"
    print(f"wall time: {best:.1f} s (target < {LIMIT_SECONDS} s: {verdict})")


if __name__ == "__main__":
    main()
