"""Which strategy to choose: the decision numbers and a plain-language recommendation.

``decision`` works on the per-replication strategy totals (common random numbers make every
replication a fair head-to-head), and its result goes into ``summary.json``; ``recommend`` turns
a summary into a few sentences a seller can act on, reading nothing but the summary.
"""

from __future__ import annotations

import math

import numpy as np

from sim.health import TARGETS
from sim.metrics import COST_PARTS, INDEX
from sim.stats import paired, t_quantile
from sim.table import fmt

DECISION_METRIC = "profit"


def decision(totals: np.ndarray, names: list[str], confidence: float) -> dict:
    """The most profitable strategy, the runner-up, and how sure we are.

    ``totals`` is (replications, strategies, metrics). ``probability_best`` is the share of
    replications in which each strategy has the highest profit (ties shared);
    ``difference`` is the paired profit difference best − runner-up; ``replications_needed``
    estimates how many replications would make that interval exclude 0 if the mean difference
    and its spread stay as estimated (None when it already does or cannot be estimated).
    ``cost_drivers`` lists, by size, how each cost line and revenue move profit from the
    runner-up to the best.
    """
    k = INDEX[DECISION_METRIC]
    profit = totals[:, :, k]
    ok = ~np.isnan(profit).any(axis=1)
    profit = profit[ok]
    n = len(profit)
    out: dict = {"metric": DECISION_METRIC, "replications": n}
    if n == 0:
        return out
    top = profit == profit.max(axis=1, keepdims=True)
    share = (top / top.sum(axis=1, keepdims=True)).mean(axis=0)
    out["probability_best"] = {name: float(p) for name, p in zip(names, share, strict=True)}
    order = np.argsort(-profit.mean(axis=0), kind="stable")
    best = int(order[0])
    out["best"] = names[best]
    if len(names) == 1:
        return out
    second = int(order[1])
    out["runner_up"] = names[second]
    p = paired(profit[:, best], profit[:, second], confidence, lower_is_better=False)
    out["difference"] = p.diff.to_dict() | {"win_rate": p.win_rate}
    out["replications_needed"] = _needed(p.diff.mean, p.diff.std, p.diff.ci_low, n, confidence)
    drivers = []
    lines = ["revenue", *(f"cost_{part}" for part in COST_PARTS)]
    means = totals[ok][:, :, [INDEX[x] for x in lines]].mean(axis=0)  # (strategies, lines)
    drivers.append(("revenue", float(means[best, 0] - means[second, 0])))
    for i, line in enumerate(lines[1:], start=1):
        drivers.append((line, -float(means[best, i] - means[second, i])))
    drivers.sort(key=lambda d: -abs(d[1]))
    out["cost_drivers"] = [{"line": line, "profit_effect": v} for line, v in drivers if v != 0]
    return out


def _needed(mean, std, low, n, confidence) -> int | None:
    if mean is None or std is None or low is None or low > 0 or std == 0 or mean == 0:
        return None
    z = t_quantile(0.5 + confidence / 2, max(n - 1, 1))
    return max(n + 1, math.ceil((z * std / abs(mean)) ** 2))


def recommend(summary: dict) -> list[str]:
    """A few sentences: the winner on profit, by how much and how surely, what it costs in
    service and account health, which lines drive it, and whether to run more replications."""
    d = summary.get("decision") or {}
    strategies = summary["strategies"]
    if "best" not in d:
        return ["No replication finished, so there is nothing to recommend yet."]
    best = d["best"]
    m = strategies[best]["metrics"]
    days = summary["horizon_days"] - summary["warmup_days"]
    pct = round(100 * summary["confidence"])
    lines = []
    if "runner_up" not in d:
        lines.append(
            f"Only one strategy ({best}): profit {fmt(m['profit']['mean'], 'money')} over "
            f"{days} days, fill rate {fmt(m['fill_rate']['mean'], 'pct')}, on time "
            f"{fmt(m['on_time_rate']['mean'], 'pct')}. Add strategies to compare."
        )
        return lines
    second = d["runner_up"]
    diff = d["difference"]
    prob = d["probability_best"][best]
    weak = diff["ci_low"] is None or diff["ci_low"] <= 0
    if d["replications"] < 2:
        lines.append(
            f"{best} makes {fmt(diff['mean'], 'money')} more profit than {second} over {days} "
            "days in this single replication; one replication gives no interval, so run more "
            "to see how sure that is."
        )
    elif not weak:
        lines.append(
            f"Choose {best}: it makes {fmt(diff['mean'], 'money')} more profit than {second} "
            f"over {days} days ({pct}% interval {fmt(diff['ci_low'], 'money')} to "
            f"{fmt(diff['ci_high'], 'money')}), wins in {_share(diff['win_rate'])} of the "
            f"replications and is the most profitable strategy in {_share(prob)} of them."
        )
    else:
        lines.append(
            f"{best} and {second} are too close to call on profit: {best} is ahead by "
            f"{fmt(diff['mean'], 'money')} on average over {days} days, but the {pct}% interval "
            f"({fmt(diff['ci_low'], 'money')} to {fmt(diff['ci_high'], 'money')}) includes 0 "
            f"and {best} is the most profitable in only {_share(prob)} of the replications."
        )
        needed = d.get("replications_needed")
        if needed:
            lines.append(
                f"Run about {needed:,} replications (now {d['replications']:,}; "
                f"--reps {needed}) to tell them apart if the difference is real; if it stays "
                "this small, choose on service or risk instead."
            )
    lines.append(_service(strategies, best, second))
    risk = m["account_health_breach_rate"]["mean"] or 0.0
    if risk >= 0.5:
        safe = [
            n
            for n, v in strategies.items()
            if (v["metrics"]["account_health_breach_rate"]["mean"] or 0.0) < 0.05
        ]
        broke = [(rate, t.label) for t in TARGETS if (rate := _mean(m, f"breach_{t.name}")) > 0]
        which = "; ".join(f"{label} in {_share(rate)}" for rate, label in sorted(broke)[::-1])
        verb = "stays" if len(safe) == 1 else "stay"
        within = f"; {', '.join(safe)} {verb} within the limits." if safe else "."
        lines.append(
            f"Warning: {best} crosses an Amazon account-health target in {_share(risk)} of the "
            f"replications ({which or 'seller-fulfilled orders'}), which puts the selling "
            f"account at risk{within}"
        )
    badge = _mean(m, "sfp_breach_rate")
    if badge > 0:
        lines.append(
            f"Note: {best} loses its Seller Fulfilled Prime badge in {_share(badge)} of the "
            f"replications ({fmt(_mean(m, 'badge_lost_days'), 'days')} days without it on "
            "average; the Prime customers of those days are lost and already in its profit). "
            "That is SFP eligibility, not an account-health breach."
        )
    drivers = [x for x in d.get("cost_drivers", []) if abs(x["profit_effect"]) >= 0.5][:3]
    if drivers:
        parts = [
            f"{_line_name(x['line'])} ({'+' if x['profit_effect'] > 0 else '−'}"
            f"{fmt(abs(x['profit_effect']), 'money')})"
            for x in drivers
        ]
        lines.append(f"What moves profit from {second} to {best}: " + ", ".join(parts) + ".")
    return lines


def _service(strategies: dict, best: str, second: str) -> str:
    a, b = strategies[best]["metrics"], strategies[second]["metrics"]

    def pair(metric, kind="pct"):
        return f"{fmt(a[metric]['mean'], kind)} vs {fmt(b[metric]['mean'], kind)}"

    text = (
        f"Service, {best} vs {second}: fill rate {pair('fill_rate')}, on time "
        f"{pair('on_time_rate')}, lost units {pair('lost_units', 'units')}"
    )
    risk_a = a["account_health_breach_rate"]["mean"] or 0.0
    risk_b = b["account_health_breach_rate"]["mean"] or 0.0
    if risk_a or risk_b:
        text += (
            f"; account-health breach in {fmt(risk_a, 'pct')} vs {fmt(risk_b, 'pct')} of "
            "replications"
        )
    badge_a, badge_b = _mean(a, "sfp_breach_rate"), _mean(b, "sfp_breach_rate")
    if badge_a or badge_b:
        text += (
            f"; SFP badge lost in {fmt(badge_a, 'pct')} vs {fmt(badge_b, 'pct')} of replications"
        )
    return text + "."


def _mean(metrics: dict, name: str) -> float:
    """A metric's mean, 0 when missing or undefined."""
    stat = metrics.get(name)
    return (stat["mean"] or 0.0) if stat else 0.0


def _share(p: float | None) -> str:
    return "–" if p is None else f"{100 * p:.0f}%"


def _line_name(line: str) -> str:
    return line.removeprefix("cost_").replace("_", " ") + (
        " cost" if line.startswith("cost_") else ""
    )
