"""Benchmark: workload W through the real command line against the pure-numpy baseline.

    python bench/run_bench.py [--skus 100] [--reps 100] [--repeat 3] [--shared bench/w]

Writes W with ``bench/w/make_scenario.py``, times ``simulate.py run W --workers 1
--no-report --quiet`` and ``numpy_baseline.py`` as whole processes (start-up included, best of
``--repeat``, after one untimed warm-up run of each), and prints wall times, the ratio, SKU-days
per second and peak memory. Both run with Python's bytecode cache allowed (the warm-up fills
it), as on an installed machine: ``PYTHONDONTWRITEBYTECODE`` would otherwise make every run
recompile fulfilsim's modules from source.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of one run of ``cmd`` and its stdout."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, done.stdout


def peak_rss_mb(cmd: list[str], cwd: Path) -> float:
    """Peak resident memory of a child process running ``cmd`` (MB)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout) / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skus", type=int, default=100)
    p.add_argument("--reps", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--shared", type=Path, default=ROOT / "bench" / "w")
    a = p.parse_args()
    shared = a.shared.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "catalog-w.yaml"
        text = subprocess.run(
            [sys.executable, "make_scenario.py", "--skus", str(a.skus), "--reps", str(a.reps)],
            cwd=shared,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        scenario.write_text(text)
        engine = [
            sys.executable,
            str(ROOT / "simulate.py"),
            "run",
            str(scenario),
            "--workers",
            "1",
            "--no-report",
            "--quiet",
            "--format",
            "json",
            "--out",
            str(Path(tmp) / "out"),
            "--force",  # the same folder on every repeat
        ]
        baseline = [
            sys.executable,
            "numpy_baseline.py",
            "--skus",
            str(a.skus),
            "--reps",
            str(a.reps),
        ]
        timed(baseline, shared)  # warm-up: bytecode caches, file system caches
        timed(engine, ROOT)
        runs_engine, runs_base = [], []
        for _ in range(a.repeat):
            runs_base.append(timed(baseline, shared))
            runs_engine.append(timed(engine, ROOT))
        t_engine, out_engine = min(runs_engine)
        t_base, out_base = min(runs_base)
        fill_engine = json.loads(out_engine)["strategies"]["base-stock"]["metrics"]["fill_rate"]
        fill_base = json.loads(out_base)["fill_rate"]
        sku_days = a.skus * 365 * a.reps
        print(f"workload W: {a.skus} SKUs x 365 days x {a.reps} replications (best of {a.repeat})")
        print(
            f"  fulfilsim run --workers 1 : {t_engine:6.2f} s  {sku_days / t_engine:12,.0f} SKU-days/s"
            f"  peak {peak_rss_mb(engine, ROOT):5.0f} MB  fill rate {fill_engine['mean']:.4f}"
            f" [{fill_engine['ci_low']:.4f}, {fill_engine['ci_high']:.4f}]"
        )
        print(
            f"  numpy baseline            : {t_base:6.2f} s  {sku_days / t_base:12,.0f} SKU-days/s"
            f"  peak {peak_rss_mb(baseline, shared):5.0f} MB  fill rate {fill_base:.4f}"
        )
        print(f"  ratio (whole process)     : {t_engine / t_base:6.2f}x  (target <= 2)")


if __name__ == "__main__":
    main()
