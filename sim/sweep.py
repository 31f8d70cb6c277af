"""Parameter sweeps: rerun a scenario over a grid of values and find break-even points.

A ``--set KEY=V1,V2,...`` names a dotted path into the scenario's plain YAML data: each part is a
mapping key, a list index, or ``*`` (every list item or mapping value). The key must already be
in the file; with ``*``, items that lack the rest of the path are skipped, and a path that
matches nothing anywhere is an error. Values are read as YAML scalars (``12``, ``0.5``, ``true``,
``poisson``). Several ``--set`` options make the grid their Cartesian product (the last one
varies fastest).

Every grid point runs with the same seed, so replication i sees the same random numbers at every
point (demand streams are keyed by SKU id): differences between points are paired, like
differences between strategies. A break-even is where the paired difference strategy − baseline
on a metric changes sign along the (first) swept parameter, interpolated linearly between grid
values; its interval is where the confidence band of the mean difference still holds 0.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim import montecarlo
from sim.errors import YAML_VALUE_ERRORS, UserError
from sim.loader import format_loc, validate
from sim.metric_names import BREAK_EVEN_METRICS, INDEX, LOWER_IS_BETTER, METRICS
from sim.metrics import bounded
from sim.model import compile_scenario
from sim.packed import Packed
from sim.scenario import Scenario
from sim.stats import Interval, interval
from sim.table import fmt_ci, render
from sim.yaml_dialect import ScenarioLoader

WHERE = "--set"
MAX_POINTS = 10_000
TABLE_METRICS = (
    ("profit", "money"),
    ("total_cost", "money"),
    ("fill_rate", "pct"),
    ("on_time_rate", "pct"),
    ("lost_units", "units"),
)


@dataclass(frozen=True)
class Parameter:
    """One ``--set``: the key as typed, its path parts and the values to try."""

    key: str
    parts: tuple[str, ...]
    values: tuple[Any, ...]


def parse_set(text: str) -> Parameter:
    """Read ``KEY=V1,V2,...``; raise ``UserError`` located at ``--set`` on bad syntax."""
    key, eq, rest = text.partition("=")
    key = key.strip()
    if not eq or not key or not rest.strip():
        raise UserError((WHERE, f"{text!r}: expected KEY=V1,V2,..."))
    parts = tuple(p.strip() for p in key.split("."))
    if not all(parts):
        raise UserError((WHERE, f"{key!r}: empty part in the dotted path"))
    return Parameter(key, parts, tuple(parse_value(v, key) for v in rest.split(",")))


def parse_sets(texts: list[str] | tuple[str, ...]) -> list[Parameter]:
    """Read every ``--set``; a key may appear only once."""
    params = [parse_set(t) for t in texts]
    keys = [p.key for p in params]
    for key in keys:
        if keys.count(key) > 1:
            raise UserError((WHERE, f"{key}: given twice"))
    return params


def parse_value(text: str, key: str = "") -> Any:
    """One value as a YAML scalar (``12`` → 12, ``true`` → True, ``poisson`` → 'poisson')."""
    if not text.strip():
        raise UserError((WHERE, f"{key}: empty value in the list"))
    try:
        value = yaml.load(text, Loader=ScenarioLoader)  # a safe loader
    except (yaml.YAMLError, *YAML_VALUE_ERRORS):
        raise UserError((WHERE, f"{key}: {text.strip()!r} is not a YAML value")) from None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        raise UserError((WHERE, f"{key}: {text.strip()!r} is not a single value"))
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError((WHERE, f"{key}: {text.strip()!r} is not a finite number"))
    return value


def set_path(data: Any, param: Parameter, value: Any) -> int:
    """Set every place ``param``'s path matches in ``data`` to ``value``; return how many.

    Raise ``UserError`` when the path matches nothing, naming the first part that did not match.
    """
    misses: list[str] = []
    count = _set(data, param.parts, (), value, misses)
    if count == 0:
        raise UserError((WHERE, f"{param.key}: {misses[0]}"))
    return count


def _set(node: Any, parts: tuple[str, ...], at: tuple, value: Any, misses: list[str]) -> int:
    keys = _matches(node, parts[0])
    if not keys:
        misses.append(f"nothing matches {parts[0]!r} at {format_loc(at)}{_choices(node)}")
        return 0
    if len(parts) == 1:
        for k in keys:
            node[k] = value
        return len(keys)
    return sum(_set(node[k], parts[1:], (*at, k), value, misses) for k in keys)


def _matches(node: Any, part: str) -> list:
    if isinstance(node, list):
        if part == "*":
            return list(range(len(node)))
        return [int(part)] if part.isdigit() and int(part) < len(node) else []
    if isinstance(node, dict):
        if part == "*":
            return list(node)
        return [part] if part in node else []
    return []


def _choices(node: Any) -> str:
    if isinstance(node, list):
        return f" (a list of {len(node)} items: use an index or *)"
    if isinstance(node, dict):
        shown = ", ".join(str(k) for k in list(node)[:12])
        return f" (keys: {shown}{' …' if len(node) > 12 else ''})"
    return " (a single value, not a mapping or list)"


def grid(params: list[Parameter]) -> list[tuple[int, ...]]:
    """Every grid point as a tuple of value indices, one per parameter (last varies fastest)."""
    size = math.prod(len(p.values) for p in params)
    if size > MAX_POINTS:
        raise UserError((WHERE, f"the grid has {size:,} points; the limit is {MAX_POINTS:,}"))
    return list(itertools.product(*(range(len(p.values)) for p in params)))


def point_values(params: list[Parameter], point: tuple[int, ...]) -> list:
    """The parameter values of a grid point."""
    return [p.values[i] for p, i in zip(params, point, strict=True)]


def point_label(params: list[Parameter], point: tuple[int, ...]) -> str:
    """``KEY=V, KEY2=W`` for messages."""
    return ", ".join(
        f"{p.key}={_text(v)}" for p, v in zip(params, point_values(params, point), strict=True)
    )


def prepare(
    data: dict,
    lines: dict,
    base_dir: Path,
    params: list[Parameter],
    overrides: dict | None = None,
    allow_outside_files: bool = False,
) -> Packed:
    """One validated scenario per grid point: ``overrides`` (top-level keys) then the ``--set``s.
    They wait packed (``sim.packed``): one point's objects in memory at a time.

    Raise ``UserError`` naming the point when a grid point makes the scenario invalid, or when
    the points do not all have the same strategies and baseline.
    """
    base = {**data, **(overrides or {})}
    scenarios = Packed()
    first = None
    for point in grid(params):
        d = copy.deepcopy(base)
        for p, v in zip(params, point_values(params, point), strict=True):
            set_path(d, p, v)
        try:
            sc = validate(d, lines, base_dir, allow_outside_files)
        except UserError as e:
            label = point_label(params, point)
            problems = [(WHERE, f"at {label}: {loc}: {msg}") for loc, msg in e.problems]
            raise UserError(problems) from None
        first = first or _names(sc)
        if _names(sc) != first:
            raise UserError((WHERE, "every grid point must have the same strategies and baseline"))
        scenarios.append(sc)
    return scenarios


def _names(sc: Scenario) -> tuple[list[str], str]:
    """A point's strategy names and baseline."""
    return [s.name for s in sc.strategies], sc.baseline_name


def run_points(
    scenarios: Sequence[Scenario],
    workers: int,
    progress: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
) -> tuple[list[montecarlo.RunTotals], bool]:
    """Run every grid point; on Ctrl-C keep the points already finished (and say so)."""
    results = []
    for i in range(len(scenarios)):
        res = montecarlo.run(
            compile_scenario(scenarios[i]),  # the validated point is dropped once compiled
            workers=workers,
            progress=progress,
            backend=backend,
            scheduler=scheduler,
        )
        if not res.complete:
            return results, False
        results.append(res.totals_only())  # not the model and per-SKU results of every point
    return results, True


def crossings(x: np.ndarray, d: np.ndarray) -> list[float]:
    """Where ``d`` (over ascending ``x``) changes sign, interpolated linearly.

    NaN points are ignored. Between two nonzero points of opposite sign that are neighbours, the
    crossing is the linear interpolation; when exact zeros lie between them, it is the middle of
    those zeros (a single zero: that grid value).
    """
    ok = ~np.isnan(d)
    x, d = np.asarray(x, dtype=float)[ok], np.asarray(d, dtype=float)[ok]
    nonzero = np.flatnonzero(d != 0)
    out = []
    for i, j in itertools.pairwise(nonzero):
        if np.sign(d[i]) == np.sign(d[j]):
            continue
        if j == i + 1:
            out.append(float(x[i] + (x[j] - x[i]) * d[i] / (d[i] - d[j])))
        else:
            out.append(float((x[i + 1] + x[j - 1]) / 2))
    return out


def break_even(
    x: np.ndarray, diffs: np.ndarray, confidence: float
) -> list[tuple[float, Interval, int]]:
    """Break-evens of paired differences ``diffs`` (replications, points) over ascending ``x``.

    Each crossing of the mean curve comes with an interval found by inverting the pointwise
    confidence band of the mean difference: the values of x at which the band still holds 0,
    i.e. the nearest crossings of the band's lower and upper curves on either side (None on a
    side where the band does not cross within the grid). Also returned: how many replications'
    own curves change sign somewhere. ``(value, Interval, replications crossing)``.
    """
    crossing = sum(1 for row in diffs if crossings(x, row))
    band = [interval(diffs[:, i], confidence) for i in range(diffs.shape[1])]
    mean = _mean_curve(diffs)
    low = np.array([mean[i] if b.ci_low is None else b.ci_low for i, b in enumerate(band)])
    high = np.array([mean[i] if b.ci_high is None else b.ci_high for i, b in enumerate(band)])
    edges = crossings(x, low) + crossings(x, high)
    out = []
    for value in crossings(x, mean):
        below = max((c for c in edges if c <= value + 1e-12), default=None)
        above = min((c for c in edges if c >= value - 1e-12), default=None)
        out.append((value, Interval(value, below, above, None, diffs.shape[0]), crossing))
    return out


def _mean_curve(diffs: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(diffs)
    total = np.where(ok, diffs, 0.0).sum(axis=0)
    n = ok.sum(axis=0)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def break_evens(
    params: list[Parameter],
    points: list[tuple[int, ...]],
    results: list[montecarlo.RunTotals],
    metrics: tuple[str, ...],
) -> list[dict]:
    """Break-even entries along the first parameter, at each combination of the others.

    Only a numeric first parameter has break-evens; with one parameter the entries have no
    ``at`` key. Points are paired over the replications every point has.
    """
    first = params[0]
    if not _numeric(first.values) or not results:
        return []
    reps = min(r.replications for r in results)
    out = []
    for rest, idx in _lines(points[: len(results)]):
        order = sorted(idx, key=lambda i: first.values[points[i][0]])
        x = np.array([first.values[points[i][0]] for i in order], dtype=float)
        totals = np.stack([results[i].totals[:reps] for i in order], axis=1)  # (reps, pts, s, m)
        at = {p.key: p.values[v] for p, v in zip(params[1:], rest, strict=True)}
        out += _entries(x, totals, results[0], metrics, {"at": at} if rest else {})
    return out


def _entries(
    x: np.ndarray, totals: np.ndarray, run: montecarlo.RunTotals, metrics, at: dict
) -> list[dict]:
    """Each strategy vs the baseline on each metric, along one line of the grid."""
    names = run.strategy_names
    base = names.index(run.baseline)
    out = []
    for metric in metrics:
        k = INDEX[metric]
        for s, name in enumerate(names):
            if s == base:
                continue
            diffs = totals[:, :, s, k] - totals[:, :, base, k]
            mean = _mean_curve(diffs)
            for value, ci, n in break_even(x, diffs, run.confidence):
                below = _better(mean[x < value], metric, name, run.baseline, last=True)
                above = _better(mean[x > value], metric, name, run.baseline, last=False)
                out.append(
                    {
                        "metric": metric,
                        "strategy": name,
                        "baseline": run.baseline,
                        **at,
                        "value": value,
                        "ci_low": ci.ci_low,
                        "ci_high": ci.ci_high,
                        "replications_crossing": n,
                        "better_below": below,
                        "better_above": above,
                    }
                )
    return out


def _better(side: np.ndarray, metric: str, strategy: str, baseline: str, last: bool):
    """The strategy better on ``metric`` at the grid value next to a break-even on one side
    (``side`` holds the mean differences strategy − baseline there; None when both are equal
    or there is no grid value on that side)."""
    side = side[~np.isnan(side)]
    if not len(side):
        return None
    d = side[-1] if last else side[0]
    if d == 0:
        return None
    return strategy if (d > 0) != (metric in LOWER_IS_BETTER) else baseline


def _numeric(values) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _lines(points: list[tuple[int, ...]]) -> list[tuple[tuple[int, ...], list[int]]]:
    """Group point indices by the values of every parameter but the first."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, p in enumerate(points):
        groups.setdefault(p[1:], []).append(i)
    return list(groups.items())


def report(
    params: list[Parameter],
    results: list[montecarlo.RunTotals],
    complete: bool,
    scenario: dict,
    metrics: tuple[str, ...] = BREAK_EVEN_METRICS,
) -> dict:
    """The content of ``sweep.json`` (SPEC §1) for the points that ran.

    With one parameter ``parameter`` is its key and each value a scalar; with several,
    ``parameter`` is the list of keys and each value a list (one item per key).
    """
    points = grid(params)
    single = len(params) == 1
    values = [point_values(params, p)[0] if single else point_values(params, p) for p in points]
    first = results[0] if results else None
    return {
        "schema_version": 1,
        "complete": complete,
        "scenario": scenario,
        "parameter": params[0].key if single else [p.key for p in params],
        "values": values,
        "seed": first.seed if first else None,
        "replications": min((r.replications for r in results), default=0),
        "confidence": first.confidence if first else None,
        "baseline": first.baseline if first else None,
        "points": [
            {"value": v, "strategies": _strategies(r)}
            for v, r in zip(values, results, strict=False)
        ],
        "break_even": break_evens(params, points, results, metrics),
    }


def _strategies(results: montecarlo.RunTotals) -> dict:
    conf = results.confidence
    return {
        name: {
            "metrics": {
                m: bounded(m, interval(results.totals[:, s, k], conf).to_dict())
                for k, m in enumerate(METRICS)
            }
        }
        for s, name in enumerate(results.strategy_names)
    }


def csv_rows(rep: dict) -> list[dict]:
    """One row per grid point × strategy × metric: the parameter value(s), mean and interval."""
    keys = rep["parameter"] if isinstance(rep["parameter"], list) else [rep["parameter"]]
    rows = []
    for point in rep["points"]:
        values = point["value"] if isinstance(rep["parameter"], list) else [point["value"]]
        where = dict(zip(keys, values, strict=True))
        for name, strat in point["strategies"].items():
            for metric, st in strat["metrics"].items():
                rows.append(
                    {
                        **where,
                        "strategy": name,
                        "metric": metric,
                        "mean": _cell(st["mean"]),
                        "ci_low": _cell(st["ci_low"]),
                        "ci_high": _cell(st["ci_high"]),
                    }
                )
    return rows


def _cell(v):
    return "" if v is None else v


def tables(rep: dict) -> str:
    """A table per strategy (rows = grid values, headline metrics mean ± half-width) and the
    break-even lines."""
    keys = rep["parameter"] if isinstance(rep["parameter"], list) else [rep["parameter"]]
    pct = round(100 * (rep["confidence"] or 0.95))
    parts = [
        f"{rep['scenario']['name']}: sweep over {', '.join(keys)}, {rep['replications']} "
        f"replications per point, seed {rep['seed']} (common random numbers)"
        + ("" if rep["complete"] else "  [INCOMPLETE: interrupted]")
    ]
    names = list(rep["points"][0]["strategies"]) if rep["points"] else []
    for name in names:
        rows = [[*keys, *(m for m, _ in TABLE_METRICS)]]
        for point in rep["points"]:
            values = point["value"] if isinstance(rep["parameter"], list) else [point["value"]]
            stats = point["strategies"][name]["metrics"]
            rows.append([*map(_text, values), *(fmt_ci(stats[m], k) for m, k in TABLE_METRICS)])
        parts += ["", f"{name} (mean ± {pct}% CI half-width):", render(rows, right_from=0)]
    parts += ["", *break_even_lines(rep)]
    return "\n".join(parts)


def break_even_lines(rep: dict) -> list[str]:
    """One line per break-even (or a line saying why there is none)."""
    first = [v[0] for v in rep["values"]] if isinstance(rep["parameter"], list) else rep["values"]
    if not _numeric(first):
        return ["No break-even: the first --set has values that are not numbers."]
    if not rep["break_even"]:
        return ["No break-even: no paired difference changes sign over the grid."]
    pct = round(100 * rep["confidence"])
    key = rep["parameter"][0] if isinstance(rep["parameter"], list) else rep["parameter"]
    grid = sorted({float(v) for v in first})
    spacing = min((b - a for a, b in itertools.pairwise(grid)), default=0.0)
    lines = []
    for b in rep["break_even"]:
        at = "".join(f", {k}={_text(v)}" for k, v in b.get("at", {}).items())
        known = [v for v in (b["ci_low"], b["ci_high"]) if v is not None]
        width = max(known) - min(known) if len(known) == 2 else 0.0
        scale = width / 10 if width > 0 else spacing / 100
        num = lambda v, s=scale: _num(v, s)  # noqa: E731
        low = "below the grid" if b["ci_low"] is None else num(b["ci_low"])
        high = "above the grid" if b["ci_high"] is None else num(b["ci_high"])
        ci = f"{pct}% CI {low} – {high}"
        lines.append(
            f"break-even {b['metric']}: {_flip(b, num(b['value']))} ({key}{at}; {ci}; "
            f"{b['replications_crossing']} of {rep['replications']} replications cross)"
        )
    return lines


def _flip(b: dict, value: str) -> str:
    """Which strategy is ahead below the break-even and which above, in words."""
    does = {"profit": "makes more profit", "total_cost": "costs less"}.get(
        b["metric"], f"does better on {b['metric']}"
    )
    below, above = b.get("better_below"), b.get("better_above")
    if below and above and below != above:
        return f"{below} {does} below {value}, {above} above"
    return f"{b['strategy']} − {b['baseline']} changes sign at {value}"


def _num(v: float, scale: float = 0.0) -> str:
    """``v`` to the decimals that ``scale`` (the precision worth showing) calls for."""
    if scale > 0 and math.isfinite(scale):
        decimals = min(6, max(0, -math.floor(math.log10(scale))))
        return f"{v:,.{decimals}f}"
    return f"{v:,.6g}"


def _text(v: Any) -> str:
    """A parameter value as typed in YAML."""
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    return f"{v:g}" if isinstance(v, float) else str(v)
