"""Catalog-scale benchmark: the full model at 1,000 / 10,000 (/ 100,000) SKUs, one process each.

    python bench/catalog_scale.py [--skus 1000 10000] [--reps 10] [--huge] [--profile DIR]

Each case writes the benchmark catalog of ``bench/suite.py`` (FBA with Amazon's fees, an own
warehouse and a hybrid of the two; negative-binomial demand; 365 days; ``--reps`` replications
× 3 strategies), runs ``simulate.py run --workers 1 --no-report --quiet`` as a child process and
prints its wall time, strategy-SKU-days per second and the peak resident memory of that child
(``ru_maxrss`` of the child, read through a probe process). ``--huge`` adds 100,000 SKUs with
``--workers 2`` (several minutes, several GB; the peak is the largest single process).

The numpy baseline is the plain-numpy loop of the reference workload W (``shared/bench``,
reproduced below so that the script runs from a fresh clone): Poisson demand over (replications,
SKUs), daily order-up-to, lead time 6 days, lost sales. It runs in the same session, at the same
SKU count and replications, as a child process timed around the simulation only; the ``vs numpy``
column is how many times more time the full model takes per simulated SKU-day than the plain
loop: the engine's whole-process CPU seconds per strategy-SKU-day over the baseline's seconds
per SKU-day (CPU time both, steadier than wall time on a shared machine; the baseline's is
its simulation loop's).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import catalog

ROOT = Path(__file__).resolve().parent.parent
DAYS = 365

# The numpy baseline of workload W (shared/bench/numpy_baseline.py), run as ``python -c``.
BASELINE = """
import math, sys, time
import numpy as np
skus, reps, lead, days = int(sys.argv[1]), int(sys.argv[2]), 6, 365
means = np.geomspace(1.0, 100.0, skus)
S = np.array([int(round(m * lead + 1.65 * math.sqrt(m * lead))) for m in means], dtype=np.int64)
rng = np.random.default_rng(1)
shape = (reps, skus)
t0 = time.process_time()
on_hand = np.broadcast_to(S, shape).copy()
pipeline = np.zeros((lead,) + shape, dtype=np.int64)
position = on_hand.copy()
demanded = np.zeros(shape, dtype=np.int64)
served_total = np.zeros(shape, dtype=np.int64)
for t in range(days):
    slot = t % lead
    on_hand += pipeline[slot]
    pipeline[slot] = 0
    d = rng.poisson(means, size=shape)
    served = np.minimum(on_hand, d)
    on_hand -= served
    position -= served
    demanded += d
    served_total += served
    q = S - position
    pipeline[slot] += q
    position += q
print(time.process_time() - t0)
"""

PROBE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, "
    "text=True); sys.stdout.write(r.stdout); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(r.returncode, u.ru_maxrss, u.ru_utime + u.ru_stime)"
)


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak memory (MB) and stdout of one child process running
    ``cmd`` (CPU: user + system time of the child and its own children).

    With several workers the children's peak is the largest single process (``ru_maxrss`` of
    the waited-for descendants is a maximum, not a sum).
    """
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *cmd], cwd=cwd, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t0
    *out, last = done.stdout.rstrip("\n").split("\n")
    code, rss, cpu = last.split()
    if code != "0":
        sys.exit(f"{' '.join(cmd)} failed ({code}):\n{done.stderr}")
    return wall, float(cpu), int(rss) / 1024, "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--skus", type=int, nargs="*", default=[1000, 10_000])
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--huge", action="store_true", help="add 100,000 SKUs with --workers 2")
    a = p.parse_args()
    cases = [(n, 1) for n in a.skus] + ([(100_000, 2)] if a.huge else [])
    print(f"full model, 365 days x {a.reps} replications x 3 strategies (one a hybrid)")
    print(
        f"{'SKUs':>8} {'workers':>7} {'wall':>8} {'CPU':>8} {'strategy-SKU-days/s':>20}"
        f" {'peak MB':>8} {'numpy SKU-days/s':>17} {'vs numpy':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for skus, workers in cases:
            scenario = tmp / f"catalog-{skus}.yaml"
            scenario.write_text(yaml.safe_dump(catalog(skus, a.reps), sort_keys=False))
            cmd = [
                sys.executable,
                str(ROOT / "simulate.py"),
                "run",
                str(scenario),
                "--workers",
                str(workers),
                "--no-report",
                "--quiet",
                "--force",
                "--out",
                str(tmp / f"out-{skus}"),
            ]
            wall, cpu, peak, _ = measure(cmd, tmp)
            rate = skus * DAYS * a.reps * 3 / wall
            _, _, _, base_out = measure(
                [sys.executable, "-c", BASELINE, str(skus), str(a.reps)], tmp
            )
            base = skus * DAYS * a.reps / float(base_out)
            # per simulated SKU-day, on CPU time (steadier than wall time on a shared machine)
            slower = (cpu / (skus * DAYS * a.reps * 3)) / (float(base_out) / (skus * DAYS * a.reps))
            print(
                f"{skus:>8,} {workers:>7} {wall:>7.1f}s {cpu:>7.1f}s {rate / 1e6:>18.2f} M"
                f" {peak:>8.0f} {base / 1e6:>15.1f} M {slower:>8.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
