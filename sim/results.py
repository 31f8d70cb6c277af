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
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from sim.decide import decision, recommend
from sim.health import TARGETS
from sim.i18n import using
from sim.metrics import LOWER_IS_BETTER, METRICS, RATES, bounded
from sim.montecarlo import Results
from sim.months import MONTH_METRICS
from sim.plan import COLUMNS as PLAN_COLUMNS
from sim.plan import plan_rows
from sim.stats import interval, interval_dicts, paired

SCHEMA_VERSION = 1
PLAN = "plan.csv"


def summarize(results: Results, scenario_name: str, sha256: str, horizon: int, warmup: int) -> dict:
    """The content of ``summary.json`` for a finished (or interrupted) run."""
    model = results.model
    conf = model.confidence
    names = model.strategy_names
    strategies = {}
    for s, name in enumerate(names):
        metrics = {
            m: bounded(m, interval(results.totals[:, s, k], conf).to_dict())
            for k, m in enumerate(METRICS)
        }
        by_sku = interval_dicts(  # rows: SKUs, columns: metrics
            results.sku_count[s].T, results.sku_mean[s].T, results.sku_m2[s].T, conf
        )
        rates = [(k, m) for k, m in enumerate(METRICS) if m in RATES]
        for row in by_sku:
            for k, m in rates:
                row[k] = bounded(m, row[k])
        skus = {
            sku: {"metrics": dict(zip(METRICS, row, strict=True))}
            for sku, row in zip(model.catalog.ids, by_sku, strict=True)
        }
        strategies[name] = {
            "metrics": metrics,
            "account_health_breaches": account_health_breaches(metrics),
            "skus": skus,
        }
        if results.months is not None:
            strategies[name]["months"] = month_intervals(results, s)
    base = names.index(model.baseline)
    comparisons = []
    for s, name in enumerate(names):
        if s == base:
            continue
        for k, m in enumerate(METRICS):
            p = paired(
                results.totals[:, s, k], results.totals[:, base, k], conf, m in LOWER_IS_BETTER
            )
            diff = bounded(m, p.diff.to_dict(), difference=True)
            comparisons.append(
                {
                    "strategy": name,
                    "baseline": model.baseline,
                    "metric": m,
                    "diff_mean": p.diff.mean,
                    "ci_low": diff["ci_low"],
                    "ci_high": diff["ci_high"],
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
    with using("en"):  # summary.json is English whatever --lang says
        summary["recommendation"] = recommend(summary)
    return summary


def month_intervals(results: Results, s: int) -> dict:
    """``{"YYYY-MM": {metric: interval}}`` of strategy ``s`` (``sim.months``)."""
    conf = results.model.confidence
    return {
        label: {
            m: bounded(m, interval(results.months[:, s, i, k], conf).to_dict())
            for k, m in enumerate(MONTH_METRICS)
        }
        for i, label in enumerate(results.month_labels())
    }


def month_rows(summary: dict) -> list[dict]:
    """One row per (strategy, month): mean and interval of every month metric (``months.csv``)."""
    rows = []
    for name, strat in summary["strategies"].items():
        for month, metrics in strat.get("months", {}).items():
            row = {"strategy": name, "month": month}
            for m, st in metrics.items():
                row[m] = _cell(st["mean"])
                row[f"{m}_ci_low"] = _cell(st["ci_low"])
                row[f"{m}_ci_high"] = _cell(st["ci_high"])
            rows.append(row)
    return rows


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
            row = {"strategy": name, "replication": results.first + r}
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
    # the csv module quotes a cell holding the line terminator ("\n") but not a lone "\r",
    # which readers take for the end of the row: a row with one gets all its text quoted
    quoted = csv.DictWriter(
        buf, fieldnames=list(rows[0]), lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC
    )
    writer.writeheader()
    for row in rows:
        cells = {k: _safe_cell(v) for k, v in row.items()}
        cr = any(isinstance(v, str) and "\r" in v for v in cells.values())
        (quoted if cr else writer).writerow(cells)
    return buf.getvalue()


def _safe_cell(v):
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` via a temporary file and a
    rename, so the file is never half-written and a failed write (a full disk) leaves the old
    file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # a full disk fails here, before the old file is replaced
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
                    ]
                    + ([f'"months": {mapping(s["months"], "      ")}'] if "months" in s else []),
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
    if any("months" in s for s in summary["strategies"].values()):
        files["months.csv"] = csv_text(month_rows(summary))
    paths = []
    for name, text in files.items():
        write_atomic(out / name, text)
        paths.append(out / name)
    if any(results.plan):
        write_csv_atomic(out / PLAN, plan_rows(results.model, results.plan), PLAN_COLUMNS)
        paths.append(out / PLAN)
    return paths


def write_csv_atomic(path: Path, rows: Iterable[dict], columns: Sequence[str]) -> None:
    """``csv_text`` of ``rows`` streamed to ``path`` (atomically, as ``write_atomic``): the
    rows are written as they come, never all held in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _safe_cell(v) for k, v in row.items()})
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
