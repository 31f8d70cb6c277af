"""``optimize --every-month``: the smallest ``service_level`` of a ``forecast_up_to`` policy, per
SKU and node, whose target metric meets the target in every calendar month of the counted days.

A month meets the target when the lower bound of its interval over replications (Student t, the
scenario's confidence) reaches the value; the metric of a month is computed over its counted days
from each replication's trace: ``fill_rate`` = units served from stock on the day / units
demanded, ``cycle_service_level`` = share of days with all the day's demand served. Months
without demand are not judged.

Service levels are searched on the grid ``GRID`` by bisection, every SKU of a node at once, each
with its own bracket, on common random numbers (replication inputs drawn once); this assumes the
worst month's bound rises with the service level. Nodes are searched one at a time in the
strategy's review order (downstream nodes first), the others held at their scenario values or
at their result. A final run at the results gives the reported intervals.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.errors import UserError
from sim.model import Model, StrategyModel
from sim.montecarlo import Inputs, Streams, draw_inputs, simulate_inputs
from sim.stats import interval

GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.998)
METRICS = ("fill_rate", "cycle_service_level")
BATCH = 64


def month_metric(model: Model, strategy: StrategyModel, inputs: list[Inputs], metric: str):
    """(replications, months, skus) ``metric`` per calendar month of the counted days (NaN where
    a month has no demand), and the months' ``YYYY-MM`` labels."""
    cal = model.calendar
    w = cal.warmup
    days = np.datetime64(cal.start, "D") + np.arange(w, cal.days)
    labels, month = np.unique(days.astype("datetime64[M]"), return_inverse=True)
    out = []
    for b in range(0, len(inputs), BATCH):
        batch = inputs[b : b + BATCH]
        reps = range(b, b + len(batch))
        traces = simulate_inputs(model, strategy, batch, [Streams(model.seed, r) for r in reps])
        for tr in traces:
            d = tr.demand[w:]
            served = tr.served[w:].sum(axis=1)
            n = len(labels)
            asked = np.zeros((n, d.shape[1]))
            np.add.at(asked, month, d)
            if metric == "fill_rate":
                got = np.zeros_like(asked)
                np.add.at(got, month, served)
                value = np.where(asked > 0, got / np.maximum(asked, 1), np.nan)
            else:
                ok = np.zeros_like(asked)
                np.add.at(ok, month, (served == d).astype(float))
                count = np.bincount(month, minlength=n)[:, None]
                value = np.where(asked > 0, ok / count, np.nan)
            out.append(value)
    return np.array(out), [str(m) for m in labels]


def _with_service(
    strategy: StrategyModel, lane_index: int, p: np.ndarray, fixed: bool
) -> StrategyModel:
    """``strategy`` with one forecast lane's service level per SKU replaced by ``p`` (and the
    node's initial on-hand following its day-0 level unless the scenario set it: ``fixed``)."""
    lanes = list(strategy.lanes)
    lane = lanes[lane_index]
    days = lane.levels.shape[0]
    fc = lane.forecast_model
    fc = dataclasses.replace(fc, service=np.broadcast_to(p, (days, len(p))).copy())
    levels = fc.levels()
    lanes[lane_index] = dataclasses.replace(
        lane, levels=levels, level=levels[0], forecast=fc if lane.forecast is not None else None
    )
    initial = strategy.initial_on_hand.copy()
    if not fixed:
        initial[lane.node] = levels[0]
    return dataclasses.replace(strategy, lanes=tuple(lanes), initial_on_hand=initial)


def worst_months(values: np.ndarray, labels: list[str], confidence: float):
    """Per SKU: the lowest interval lower bound over the months, that month's interval and
    label."""
    lows, cis, which = [], [], []
    for j in range(values.shape[2]):
        best = None
        for m, label in enumerate(labels):
            ci = interval(values[:, m, j], confidence)
            if ci.mean is None:
                continue
            low = ci.ci_low if ci.ci_low is not None else ci.mean
            if best is None or low < best[0]:
                best = (low, ci, label)
        if best is None:
            lows.append(np.inf)
            cis.append(None)
            which.append(None)
        else:
            lows.append(best[0])
            cis.append(best[1])
            which.append(best[2])
    return np.array(lows), cis, which


def search(
    scenario, model: Model, s: int, metric: str, value: float, progress=lambda _: None
) -> dict:
    """The ``every_month`` entry of strategy ``s``: per SKU and forecast node, the smallest grid
    service level meeting the target in every month."""
    if metric not in METRICS:
        raise UserError(("--every-month", f"works with {' or '.join(METRICS)} targets"))
    strategy = model.strategies[s]
    inputs = [draw_inputs(model, r) for r in range(model.replications)]
    ids = model.catalog.ids
    conf = model.confidence
    notes: list[str] = []
    if not any(lane.policy == "forecast_up_to" for lane in strategy.lanes):
        notes.append("no forecast_up_to lane: nothing to search by month")
    skus: dict[str, dict] = {}
    current = strategy
    for i, lane in enumerate(strategy.lanes):
        name = strategy.nodes[lane.node].name
        if lane.policy != "forecast_up_to":
            continue
        if lane.forecast_model.service is None:
            notes.append(f"{name}: forecast_up_to without service_level kept as given")
            continue
        fixed = name in scenario.strategies[s].initial_on_hand

        def evaluate(index: np.ndarray, i=i, fixed=fixed, base=current) -> np.ndarray:
            p = np.array([GRID[k] for k in index])
            candidate = _with_service(base, i, p, fixed)
            values, labels = month_metric(model, candidate, inputs, metric)
            return worst_months(values, labels, conf)[0] >= value - 1e-12

        top = len(GRID) - 1
        lo, hi = np.full(len(ids), -1), np.full(len(ids), top)
        met_top = evaluate(hi)
        rounds = 1
        while (step := met_top & (hi - lo > 1)).any():
            mid = np.where(step, (lo + hi) // 2, hi)  # SKUs done stay at their result
            ok = evaluate(mid)
            hi = np.where(step & ok, mid, hi)
            lo = np.where(step & ~ok, mid, lo)
            rounds += 1
            progress(f"{strategy.name}: {name} every-month search, run {rounds}")
        p = np.array([GRID[k] for k in hi])
        current = _with_service(current, i, p, fixed)
        values, labels = month_metric(model, current, inputs, metric)
        _, cis, which = worst_months(values, labels, conf)
        for j, sku in enumerate(ids):
            ci = cis[j]
            skus.setdefault(sku, {})[name] = {
                "service_level": float(p[j]),
                "status": "no_demand" if ci is None else ("ok" if met_top[j] else "not_met"),
                "worst_month": which[j],
                "metric": None if ci is None else ci.to_dict(),
            }
    return {"metric": metric, "value": value, "grid": list(GRID), "skus": skus, "notes": notes}


def table(name: str, entry: dict) -> str:
    """Plain-text lines of one strategy's every-month result."""
    rows = [
        f"{name}: smallest service_level meeting {entry['metric']} ≥ {entry['value']:g} in "
        "every month (lower bound of each month's interval)"
    ]
    for sku, nodes in entry["skus"].items():
        for node, e in nodes.items():
            ci = e["metric"]
            shown = (
                "no demand"
                if ci is None
                else f"worst {e['worst_month']}: {100 * ci['mean']:.1f}% "
                f"[{100 * (ci['ci_low'] if ci['ci_low'] is not None else ci['mean']):.1f}%, "
                f"{100 * (ci['ci_high'] if ci['ci_high'] is not None else ci['mean']):.1f}%]"
            )
            status = "" if e["status"] == "ok" else f"  ({e['status'].replace('_', ' ')})"
            rows.append(
                f"  {sku:<14} {node:<8} service_level {e['service_level']:<6g} {shown}{status}"
            )
    rows += [f"  note: {n}" for n in entry["notes"]]
    return "\n".join(rows)
