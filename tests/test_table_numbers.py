"""The terminal table of ``run --format table`` shows the numbers of ``summary.json``: every
mean, interval half-width, probability, paired difference, interval and win rate printed is the
summary's value rounded as printed (parsed back from the text, not recomputed by the table's own
formatter)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from sim.table import COMPARED, HEADLINE
from tests.helpers import ROOT

NUMBER = re.compile(r"^(-?)\$?(-?[\d,]*\.?\d+)(%?)$")


def parse(text: str) -> tuple[float, float]:
    """A printed number and the rounding of its last digit (half a unit of it): "$44,538" →
    (44538, 0.5), "98.6%" → (0.986, 0.0005), "-$4.24" → (-4.24, 0.005)."""
    m = NUMBER.match(text.strip())
    assert m, text
    sign, digits, pct = m.groups()
    value = float(digits.replace(",", "")) * (-1 if sign else 1)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    tol = 0.5 * 10.0**-decimals
    return (value / 100, tol / 100) if pct else (value, tol)


def agrees(text: str, value: float | None, points: bool = False) -> bool:
    """``text`` is ``value`` rounded as printed; ``points``: a half-width of a rate, printed in
    percentage points without the % sign."""
    if value is None:
        return text.strip() == "–"
    got, tol = parse(text)
    if points:
        got, tol = got / 100, tol / 100
    return abs(got - value) <= tol + 1e-9 * max(1.0, abs(value))


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_printed_table_matches_summary_json(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *(sys.executable, "simulate.py", "run", "scenarios/starter.yaml", "--reps", "12"),
            *("--out", str(out), "--format", "table"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    lines = proc.stdout.splitlines()
    assert lines[0] == (
        f"{summary['scenario']['name']}: {summary['replications']} replications × "
        f"{summary['horizon_days'] - summary['warmup_days']} counted days, seed {summary['seed']}"
    )
    # ---- strategies side by side: "mean ± half-width" per metric
    start = next(i for i, line in enumerate(lines) if line.startswith("metric (mean ±"))
    names = columns(lines[start])[1:]
    assert names == list(summary["strategies"])
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = columns(line)
        rows[cells[0]] = cells[1:]
    assert set(HEADLINE) <= set(rows)
    checked = 0
    for metric in HEADLINE:
        for name, cell in zip(names, rows[metric], strict=True):
            stat = summary["strategies"][name]["metrics"][metric]
            mean, _, half = cell.partition(" ± ")
            assert agrees(mean, stat["mean"]), (metric, name, cell, stat)
            if stat["ci_low"] is None:
                assert not half
                continue
            true_half = (stat["ci_high"] - stat["ci_low"]) / 2
            assert agrees(half, true_half, points=mean.endswith("%")), (metric, name, cell)
            checked += 1
    assert checked >= len(HEADLINE) * len(names) - 3
    best = summary["decision"]["probability_best"]
    for name, cell in zip(names, rows["P(most profitable)"], strict=True):
        got, _ = parse(cell)
        assert abs(got - best[name]) <= 0.005 + 1e-12, (name, cell, best[name])
    # ---- paired differences vs the baseline
    start = next(i for i, line in enumerate(lines) if line.startswith("vs " + summary["baseline"]))
    comps = {
        (c["strategy"], c["metric"]): c for c in summary["comparisons"] if c["metric"] in COMPARED
    }
    seen = set()
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        strategy, metric, diff, ci, wins = columns(line)
        c = comps[(strategy, metric)]
        assert agrees(diff, c["diff_mean"]), (strategy, metric, diff, c)
        lo, hi = ci.strip("[]").split(", ")
        assert agrees(lo, c["ci_low"]) and agrees(hi, c["ci_high"]), (strategy, metric, ci, c)
        assert agrees(wins, c["win_rate"]), (strategy, metric, wins, c)
        seen.add((strategy, metric))
    assert seen == set(comps)
