"""``summary.json`` (SPEC §4) and the CSV files built from it, written atomically.

The summary is the single source for every other output: the CSV files and the terminal table
are built from the summary's data, never recomputed from the simulation.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from sim.decide import decision, recommend
from sim.health import TARGETS
from sim.metrics import LOWER_IS_BETTER, METRICS
from sim.montecarlo import Results
from sim.stats import interval, interval_dicts, paired

SCHEMA_VERSION = 1


def summarize(results: Results, scenario_name: str, sha256: str, horizon: int, warmup: int) -> dict:
    """The content of ``summary.json`` for a finished (or interrupted) run."""
    model = results.model
    conf = model.confidence
    names = model.strategy_names
    strategies = {}
    for s, name in enumerate(names):
        metrics = {
            m: interval(results.totals[:, s, k], conf).to_dict() for k, m in enumerate(METRICS)
        }
        by_sku = interval_dicts(  # rows: SKUs, columns: metrics
            results.sku_count[s].T, results.sku_mean[s].T, results.sku_m2[s].T, conf
        )
        skus = {
            sku: {"metrics": dict(zip(METRICS, row, strict=True))}
            for sku, row in zip(model.catalog.ids, by_sku, strict=True)
        }
        strategies[name] = {
            "metrics": metrics,
            "account_health_breaches": account_health_breaches(metrics),
            "skus": skus,
        }
    base = names.index(model.baseline)
    comparisons = []
    for s, name in enumerate(names):
        if s == base:
            continue
        for k, m in enumerate(METRICS):
            p = paired(
                results.totals[:, s, k], results.totals[:, base, k], conf, m in LOWER_IS_BETTER
            )
            comparisons.append(
                {
                    "strategy": name,
                    "baseline": model.baseline,
                    "metric": m,
                    "diff_mean": p.diff.mean,
                    "ci_low": p.diff.ci_low,
                    "ci_high": p.diff.ci_high,
                    "win_rate": p.win_rate,
                }
            )
    summary = {
        "schema_version": SCHEMA_VERSION,
        "complete": results.complete,
        "scenario": {"name": scenario_name, "sha256": sha256},
        "seed": model.seed,
        "replications": results.replications,
        "horizon_days": horizon,
        "warmup_days": warmup,
        "confidence": conf,
        "baseline": model.baseline,
        "metric_order": list(METRICS),
        "strategies": strategies,
        "comparisons": comparisons,
        "decision": decision(results.totals, names, conf),
    }
    summary["recommendation"] = recommend(summary)
    return summary


def account_health_breaches(metrics: dict) -> dict[str, float]:
    """The account-health targets that broke in some replication, with their breach rate
    (share of replications), worst first: e.g. ``{"late_shipment_10d": 0.4}``."""
    broke = {}
    for t in TARGETS:
        rate = metrics[f"breach_{t.name}"]["mean"]
        if rate:
            broke[t.name] = rate
    return dict(sorted(broke.items(), key=lambda kv: -kv[1]))


def replications_rows(results: Results) -> list[dict]:
    """One row per (strategy, replication) with every metric (SPEC §4 ``replications.csv``)."""
    rows = []
    for s, name in enumerate(results.model.strategy_names):
        for r in range(results.replications):
            row = {"strategy": name, "replication": r}
            for k, m in enumerate(METRICS):
                v = results.totals[r, s, k]
                row[m] = "" if np.isnan(v) else float(v)
            rows.append(row)
    return rows


def sku_rows(summary: dict) -> list[dict]:
    """One row per (strategy, SKU): mean and interval of every metric (``skus.csv``)."""
    rows = []
    for name, strat in summary["strategies"].items():
        for sku, data in strat["skus"].items():
            row = {"strategy": name, "sku": sku}
            for m, st in data["metrics"].items():
                row[m] = _cell(st["mean"])
                row[f"{m}_ci_low"] = _cell(st["ci_low"])
                row[f"{m}_ci_high"] = _cell(st["ci_high"])
            rows.append(row)
    return rows


def _cell(v):
    return "" if v is None else v


def csv_text(rows: list[dict]) -> str:
    """CSV a spreadsheet opens as is; cells that would start a formula are neutralised."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return buf.getvalue()


def _safe_cell(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` via a temporary file and a
    rename, so the file is never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # what a plain open() would give, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def summary_json(summary: dict) -> str:
    """The exact text of ``summary.json``: one metric, SKU or comparison per line.

    Leaves are encoded by the C JSON encoder (pretty-printing all of a large catalog with
    ``indent`` would take longer than simulating it).
    """

    def enc(x) -> str:
        return json.dumps(x, ensure_ascii=False, allow_nan=False)

    def block(items: list[str], pad: str, open_: str, close: str) -> str:
        if not items:
            return open_ + close
        return open_ + "\n" + ",\n".join(pad + "  " + i for i in items) + "\n" + pad + close

    def mapping(d: dict, pad: str) -> str:
        return block([f"{enc(k)}: {enc(v)}" for k, v in d.items()], pad, "{", "}")

    lines = []
    for key, value in summary.items():
        if key == "strategies":
            strategies = [
                f"{enc(name)}: "
                + block(
                    [
                        f'"metrics": {mapping(s["metrics"], "      ")}',
                        f'"account_health_breaches": {enc(s["account_health_breaches"])}',
                        f'"skus": {mapping(s["skus"], "      ")}',
                    ],
                    "    ",
                    "{",
                    "}",
                )
                for name, s in value.items()
            ]
            lines.append(f"{enc(key)}: " + block(strategies, "  ", "{", "}"))
        elif key == "comparisons":
            lines.append(f"{enc(key)}: " + block([enc(c) for c in value], "  ", "[", "]"))
        else:
            lines.append(f"{enc(key)}: {enc(value)}")
    return block(lines, "", "{", "}") + "\n"


def write_results(out: Path, summary: dict, results: Results) -> list[Path]:
    """Write summary.json, replications.csv and skus.csv into ``out``; return the paths."""
    files = {
        "summary.json": summary_json(summary),
        "replications.csv": csv_text(replications_rows(results)),
        "skus.csv": csv_text(sku_rows(summary)),
    }
    paths = []
    for name, text in files.items():
        write_atomic(out / name, text)
        paths.append(out / name)
    return paths
