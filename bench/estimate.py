"""How good is ``run --estimate``? Estimate against actual, per bundled scenario.

    python bench/estimate.py [--reps 100,2000] [--only starter ...] [--workers N]

For each scenario in ``scenarios/`` (and ``assign`` on ``catalog-50``, the row
``catalog-50 assign``) and each replication count, prints what ``--estimate`` says, then runs the same command for real (report included, as a user runs it) and prints its
wall time, the CPU time of the command and its workers, and the machine's load average before
and after: on a machine shared with other work, wall time grows with the load while CPU time
does not, so a ratio far from 1 with a high load is the machine, not the estimate. The README's
Speed section has the table.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "COLUMNS")}
ESTIMATE = re.compile(r"estimate: about ([\d,]+) s, ([\d,]+) MB on (\d+) workers?")


# commands besides ``run`` that --estimate covers, on the bundled scenario they are shown with
OTHERS = {
    "catalog-50 assign": [
        "assign",
        "scenarios/catalog-50.yaml",
        "--strategy",
        "fba-with-home-backup",
        "--routes",
        "fba",
        "--routes",
        "home",
        "--routes",
        "fba,home",
    ],
}


def command(case: str | Path, reps: int, workers: int | None, *extra: str) -> list[str]:
    """The command line: ``run SCENARIO`` for a scenario file, else ``OTHERS[case]``."""
    args = OTHERS[case] if isinstance(case, str) else ["run", str(case)]
    cmd = [sys.executable, str(ROOT / "simulate.py"), *args, "--reps", str(reps)]
    return cmd + (["--workers", str(workers)] if workers else []) + list(extra)


def estimate(scenario: str | Path, reps: int, workers: int | None) -> tuple[float, float]:
    """(seconds, MB) that ``run --estimate`` prints."""
    done = subprocess.run(
        command(scenario, reps, workers, "--estimate"),
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
        cwd=ROOT,
    )
    m = ESTIMATE.search(done.stdout)
    if m is None:
        raise SystemExit(f"no estimate line in: {done.stdout!r}")
    return float(m[1].replace(",", "")), float(m[2].replace(",", ""))


def actual(scenario: str | Path, reps: int, workers: int | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its workers) of the real run."""
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            command(scenario, reps, workers, "--quiet", "--out", str(Path(tmp) / "out")),
            check=True,
            env=ENV,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", default="100,2000", help="replication counts, comma-separated")
    p.add_argument("--only", nargs="*", default=None, help="scenario names (default: all)")
    p.add_argument("--workers", type=int, default=None, help="default: all cores")
    a = p.parse_args()
    counts = [int(r) for r in a.reps.split(",")]
    scenarios = sorted((ROOT / "scenarios").glob("*.yaml"))
    cases: list[str | Path] = [*scenarios, *OTHERS]
    if a.only:
        cases = [c for c in cases if (c.stem if isinstance(c, Path) else c) in a.only]
    print(f"{os.cpu_count()} cores; workers: {a.workers or 'all cores'}")
    print("| scenario | replications | estimate | wall time | ratio | CPU time | load |")
    print("|---|---|---|---|---|---|---|")
    worst = 1.0
    for reps in counts:
        for scenario in cases:
            name = scenario.stem if isinstance(scenario, Path) else scenario
            seconds, _ = estimate(scenario, reps, a.workers)
            load = os.getloadavg()[0]
            wall, cpu = actual(scenario, reps, a.workers)
            ratio = wall / seconds
            worst = max(worst, ratio, 1 / ratio)
            print(
                f"| {name} | {reps:,} | {seconds:,.0f} s | {wall:,.1f} s | "
                f"{ratio:.2f} | {cpu:,.1f} s | {load:.1f}–{os.getloadavg()[0]:.1f} |",
                flush=True,
            )
    print(f"\nworst factor between estimate and wall time: {worst:.2f}")


if __name__ == "__main__":
    main()
