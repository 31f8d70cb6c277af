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
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from sim.decide import decision, recommend
from sim.health_targets import TARGETS
from sim.i18n import using
from sim.metric_names import LOWER_IS_BETTER, METRICS, RATES
from sim.metrics import bounded
from sim.montecarlo import Results
from sim.months import MONTH_METRICS
from sim.plan import COLUMNS as PLAN_COLUMNS
from sim.plan import plan_blocks
from sim.stats import interval, interval_arrays, paired

SCHEMA_VERSION = 1
PLAN = "plan.csv"
SKUS = "skus.csv"
# Catalogs up to this many SKUs have their per-SKU results in summary.json as well as in
# skus.csv; larger ones in skus.csv only (summary.json says so with ``skus_file``): at 10,000
# SKUs the per-SKU part made summary.json 99 MB and took longer to write than to simulate.
SKUS_IN_SUMMARY = 1000


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
        strategies[name] = {
            "metrics": metrics,
            "account_health_breaches": account_health_breaches(metrics),
        }
        if len(model.catalog.ids) <= SKUS_IN_SUMMARY:
            strategies[name]["skus"] = sku_dicts(results, s)
        else:
            strategies[name]["skus_file"] = SKUS
        if results.months is not None:
            strategies[name]["months"] = month_intervals(results, s)
        if results.channels is not None:
            strategies[name]["channels"] = channel_intervals(results, s)
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
    if model.uncertain is not None:  # drawn once per replication: part of every interval
        summary["uncertain"] = model.uncertain.describe()
    with using("en"):  # summary.json is English whatever --lang says
        summary["recommendation"] = recommend(summary)
    return summary


def channel_intervals(results: Results, s: int) -> dict:
    """``{channel: {"metrics": {metric: interval}}}`` of strategy ``s``, ``amazon`` first
    (``sim.channels``)."""
    from sim.channels import channel_names
    from sim.metric_names import CHANNEL_METRICS

    conf = results.model.confidence
    return {
        name: {
            "metrics": {
                m: bounded(m, interval(results.channels[:, s, c, k], conf).to_dict())
                for k, m in enumerate(CHANNEL_METRICS)
            }
        }
        for c, name in enumerate(channel_names(results.model.catalog))
    }


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


def sku_intervals(results: Results, s: int) -> tuple[np.ndarray, ...]:
    """``(n, mean, ci_low, ci_high, std)`` of strategy ``s`` per metric and SKU, each
    ``(metrics, skus)``: the per-SKU results (rates' bounds clipped as :func:`bounded` does).
    ``n`` counts the replications with a value: no mean without one, no interval without two."""
    conf = results.model.confidence
    n, mean, low, high, std = interval_arrays(
        results.sku_count[s], results.sku_mean[s], results.sku_m2[s], conf
    )
    for k, m in enumerate(METRICS):
        if m in RATES:
            low[k] = np.minimum(np.maximum(low[k], 0.0), 1.0)
            high[k] = np.minimum(np.maximum(high[k], 0.0), 1.0)
    return n, mean, low, high, std


def sku_dicts(results: Results, s: int, skus: Sequence[int] | None = None) -> dict:
    """``{sku: {"metrics": {metric: interval dict}}}`` of strategy ``s`` (summary.json's
    ``skus``), for the SKUs ``skus`` (indices, in that order; default all)."""
    ids = results.model.catalog.ids
    pick = slice(None) if skus is None else list(skus)
    n, mean, low, high, std = (a[:, pick].T.tolist() for a in sku_intervals(results, s))
    chosen = ids if skus is None else [ids[j] for j in skus]
    out = {}
    for sku, *row in zip(chosen, n, mean, low, high, std, strict=True):
        cells = {}
        for m, k, mu, lo, hi, sd in zip(METRICS, *row, strict=True):
            if k > 1:
                cells[m] = {"mean": mu, "ci_low": lo, "ci_high": hi, "std": sd}
            else:
                cells[m] = {"mean": mu if k else None, "ci_low": None, "ci_high": None, "std": None}
        out[sku] = {"metrics": cells}
    return out


def top_skus(summary: dict, results: Results, count: int) -> dict:
    """A copy of ``summary`` whose strategies hold the per-SKU results (``skus``) of the
    ``count`` SKUs with the most mean demand under the baseline (catalog order among equals),
    in that order, and ``sku_total`` the catalog's size: for the report of a catalog too large
    for summary.json to hold every SKU."""
    names = results.model.strategy_names
    base = names.index(results.model.baseline)
    k = METRICS.index("demand_units")
    n, mean = results.sku_count[base, k], results.sku_mean[base, k]
    order = np.argsort(-np.where(n > 0, mean, 0.0), kind="stable")[:count].tolist()
    strategies = {
        name: {**summary["strategies"][name], "skus": sku_dicts(results, s, order)}
        for s, name in enumerate(names)
    }
    return {**summary, "strategies": strategies, "sku_total": len(results.model.catalog.ids)}


SKU_ROWS_PER_BLOCK = 5_000  # skus.csv rows built at once (as Python lists, then written)


def sku_header() -> list[str]:
    """``skus.csv``'s header: strategy, SKU, then each metric's mean and interval."""
    header = ["strategy", "sku"]
    for m in METRICS:
        header += [m, f"{m}_ci_low", f"{m}_ci_high"]
    return header


def sku_blocks(results: Results) -> Iterator[list[list]]:
    """``skus.csv``'s columns, a block of rows at a time: one row per (strategy, SKU), the mean
    and interval of every metric ("" where there is none), straight from the per-SKU moment
    arrays; at most ``SKU_ROWS_PER_BLOCK`` rows a block, so that a large catalog's cells are
    never all Python objects at once."""
    ids = list(results.model.catalog.ids)
    for s, name in enumerate(results.model.strategy_names):
        n, mean, low, high, _ = sku_intervals(results, s)
        for lo in range(0, len(ids), SKU_ROWS_PER_BLOCK):
            part = slice(lo, lo + SKU_ROWS_PER_BLOCK)
            block = [[name] * len(ids[part]), ids[part]]
            for k in range(len(METRICS)):
                for values, least in ((mean, 1), (low, 2), (high, 2)):
                    block.append(_present(values[k, part], n[k, part] >= least))
            yield block


def _present(values: np.ndarray, ok: np.ndarray) -> list:
    """``values`` as Python floats, "" where not ``ok``."""
    got = values.tolist()
    if ok.all():
        return got
    return [v if o else "" for v, o in zip(got, ok.tolist(), strict=True)]


def sku_rows(results: Results) -> list[dict]:
    """One dict per (strategy, SKU): the rows of ``skus.csv``."""
    header = sku_header()
    return [
        dict(zip(header, row, strict=True))
        for block in sku_blocks(results)
        for row in zip(*block, strict=True)
    ]


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


def write_atomic(path: Path, content: str | bytes | Iterable[str]) -> None:
    """Write ``content`` (text as UTF-8, bytes, or text in pieces written as they come) to
    ``path`` via a temporary file and a rename, so the file is never half-written and a failed
    write (a full disk) leaves the old file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces = [content] if isinstance(content, str | bytes) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for piece in pieces:
                f.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
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
    """The exact text of ``summary.json`` (see :func:`summary_pieces`)."""
    return "".join(summary_pieces(summary))


def summary_pieces(summary: dict) -> Iterator[str]:
    """``summary.json``'s text in pieces, one metric, SKU or comparison per line, so that a
    large catalog's file is written as it is encoded (never held whole, nor its lines).

    Leaves are encoded by the C JSON encoder (pretty-printing all of a large catalog with
    ``indent`` would take longer than simulating it).
    """

    def enc(x) -> str:
        return json.dumps(x, ensure_ascii=False, allow_nan=False)

    def block(items: Iterable, pad: str, open_: str, close: str) -> Iterator[str]:
        # each item a string or an iterator of pieces, one line (or nested block) each
        first = True
        for item in items:
            yield (open_ + "\n" if first else ",\n") + pad + "  "
            first = False
            if isinstance(item, str):
                yield item
            else:
                yield from item
        yield open_ + close if first else "\n" + pad + close

    def mapping(d: dict, pad: str) -> Iterator[str]:
        return block((f"{enc(k)}: {enc(v)}" for k, v in d.items()), pad, "{", "}")

    def keyed(key: str, pieces: Iterable[str]) -> Iterator[str]:
        yield f"{enc(key)}: "
        yield from pieces

    def strategy(s: dict) -> Iterator[str | Iterator[str]]:
        pad = "      "
        yield keyed("metrics", mapping(s["metrics"], pad))
        yield f'"account_health_breaches": {enc(s["account_health_breaches"])}'
        if "skus" in s:
            yield keyed("skus", mapping(s["skus"], pad))
        else:
            yield f'"skus_file": {enc(s["skus_file"])}'
        for key in ("months", "channels"):
            if key in s:
                yield keyed(key, mapping(s[key], pad))

    def top() -> Iterator[str | Iterator[str]]:
        for key, value in summary.items():
            if key == "strategies":
                strategies = (
                    keyed(name, block(strategy(s), "    ", "{", "}")) for name, s in value.items()
                )
                yield keyed(key, block(strategies, "  ", "{", "}"))
            elif key == "comparisons":
                yield keyed(key, block((enc(c) for c in value), "  ", "[", "]"))
            else:
                yield f"{enc(key)}: {enc(value)}"

    yield from block(top(), "", "{", "}")
    yield "\n"


def write_results(out: Path, summary: dict, results: Results) -> list[Path]:
    """Write summary.json, replications.csv, skus.csv (and months.csv, plan.csv when the run
    has them) into ``out``; return the paths."""
    files = {
        "summary.json": summary_pieces(summary),
        "replications.csv": csv_text(replications_rows(results)),
    }
    if any("months" in s for s in summary["strategies"].values()):
        files["months.csv"] = csv_text(month_rows(summary))
    paths = []
    for name, text in files.items():
        write_atomic(out / name, text)
        paths.append(out / name)
    write_columns_atomic(out / SKUS, sku_header(), ((b, (0, 1)) for b in sku_blocks(results)))
    paths.insert(2, out / SKUS)
    if results.plan:
        blocks = plan_blocks(results.model, results.plan)
        write_columns_atomic(out / PLAN, list(PLAN_COLUMNS), blocks)
        paths.append(out / PLAN)
    return paths


def write_columns_atomic(
    path: Path, header: Sequence[str], blocks: Iterable[tuple[Sequence[list], Sequence[int]]]
) -> None:
    """A CSV file (the same bytes as ``csv_text`` of its rows) written atomically, as
    ``write_atomic``, from blocks of columns: each block is ``(columns, text)``, equally long
    lists of cells and the indices of the columns that hold user text (the only cells that may
    need the formula prefix or the quoting of a lone ``\r``). Rows are written block by block,
    never all held as dicts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            quoted = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(header)
            for columns, text in blocks:
                columns = list(columns)
                cr = False
                for c in text:  # few distinct names: each checked once
                    safe = {v: _safe_cell(v) for v in set(columns[c])}
                    if any(v is not k for k, v in safe.items()):
                        columns[c] = [safe[v] for v in columns[c]]
                    cr = cr or any(isinstance(v, str) and "\r" in v for v in safe.values())
                if not cr:
                    writer.writerows(zip(*columns, strict=True))
                    continue
                for row in zip(*columns, strict=True):
                    has_cr = any(isinstance(row[c], str) and "\r" in row[c] for c in text)
                    (quoted if has_cr else writer).writerow(row)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
