"""Which strategy to choose: the decision numbers and a plain-language recommendation.

``decision`` works on the per-replication strategy totals (common random numbers make every
replication a fair head-to-head), and its result goes into ``summary.json``; ``recommend`` turns
a summary into a few sentences a seller can act on, reading nothing but the summary.
"""

from __future__ import annotations

import math

import numpy as np

from sim.health_targets import TARGETS
from sim.i18n import t
from sim.metric_names import COST_PARTS, INDEX
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
        return [t("No replication finished, so there is nothing to recommend yet.")]
    best = d["best"]
    m = strategies[best]["metrics"]
    days = summary["horizon_days"] - summary["warmup_days"]
    pct = round(100 * summary["confidence"])
    lines = []
    if "runner_up" not in d:
        lines.append(
            t(
                "Only one strategy ({best}): profit {profit} over {days} days, fill rate "
                "{fill}, on time {on_time}. Add strategies to compare.",
                best=best,
                profit=fmt(m["profit"]["mean"], "money"),
                days=days,
                fill=fmt(m["fill_rate"]["mean"], "pct"),
                on_time=fmt(m["on_time_rate"]["mean"], "pct"),
            )
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
            t(
                "Choose {best}: it makes {diff} more profit than {second} over {days} days "
                "({pct}% interval {low} to {high}), wins in {wins} of the replications and is "
                "the most profitable strategy in {prob} of them.",
                best=best,
                diff=fmt(diff["mean"], "money"),
                second=second,
                days=days,
                pct=pct,
                low=fmt(diff["ci_low"], "money"),
                high=fmt(diff["ci_high"], "money"),
                wins=_share(diff["win_rate"]),
                prob=_share(prob),
            )
        )
    else:
        lines.append(
            t(
                "{best} and {second} are too close to call on profit: {best} is ahead by "
                "{diff} on average over {days} days, but the {pct}% interval ({low} to "
                "{high}) includes 0 and {best} is the most profitable in only {prob} of the "
                "replications.",
                best=best,
                second=second,
                diff=fmt(diff["mean"], "money"),
                days=days,
                pct=pct,
                low=fmt(diff["ci_low"], "money"),
                high=fmt(diff["ci_high"], "money"),
                prob=_share(prob),
            )
        )
        needed = d.get("replications_needed")
        if needed:
            lines.append(
                t(
                    "Run about {needed} replications (now {now}; --reps {reps}) to tell them "
                    "apart if the difference is real; if it stays this small, choose on "
                    "service or risk instead.",
                    needed=f"{needed:,}",
                    now=f"{d['replications']:,}",
                    reps=needed,
                )
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
        which = "; ".join(
            t("{target} in {share}", target=t(label), share=_share(rate))
            for rate, label in sorted(broke)[::-1]
        )
        if not safe:
            within = t(".")
        elif len(safe) == 1:
            within = t("; {safe} stays within the limits.", safe=safe[0])
        else:
            within = t("; {safe} stay within the limits.", safe=", ".join(safe))
        lines.append(
            t(
                "Warning: {best} crosses an Amazon account-health target in {share} of the "
                "replications ({which}), which puts the selling account at risk",
                best=best,
                share=_share(risk),
                which=which or t("seller-fulfilled orders"),
            )
            + within
        )
    badge = _mean(m, "sfp_breach_rate")
    if badge > 0:
        lines.append(
            t(
                "Note: {best} loses its Seller Fulfilled Prime badge in {share} of the "
                "replications ({days} days without it on average; the Prime customers of those "
                "days are lost and already in its profit). That is SFP eligibility, not an "
                "account-health breach.",
                best=best,
                share=_share(badge),
                days=fmt(_mean(m, "badge_lost_days"), "days"),
            )
        )
    drivers = [x for x in d.get("cost_drivers", []) if abs(x["profit_effect"]) >= 0.5][:3]
    if drivers:
        parts = [
            f"{_line_name(x['line'])} ({'+' if x['profit_effect'] > 0 else '−'}"
            f"{fmt(abs(x['profit_effect']), 'money')})"
            for x in drivers
        ]
        lines.append(
            t(
                "What moves profit from {second} to {best}: {parts}.",
                second=second,
                best=best,
                parts=t(", ").join(parts),
            )
        )
    return lines


def _service(strategies: dict, best: str, second: str) -> str:
    a, b = strategies[best]["metrics"], strategies[second]["metrics"]

    def pair(metric, kind="pct"):
        return t("{a} vs {b}", a=fmt(a[metric]["mean"], kind), b=fmt(b[metric]["mean"], kind))

    text = t(
        "Service, {best} vs {second}: fill rate {fill}, on time {on_time}, lost units {lost}",
        best=best,
        second=second,
        fill=pair("fill_rate"),
        on_time=pair("on_time_rate"),
        lost=pair("lost_units", "units"),
    )
    risk_a = a["account_health_breach_rate"]["mean"] or 0.0
    risk_b = b["account_health_breach_rate"]["mean"] or 0.0
    if risk_a or risk_b:
        text += t(
            "; account-health breach in {a} vs {b} of replications",
            a=fmt(risk_a, "pct"),
            b=fmt(risk_b, "pct"),
        )
    badge_a, badge_b = _mean(a, "sfp_breach_rate"), _mean(b, "sfp_breach_rate")
    if badge_a or badge_b:
        text += t(
            "; SFP badge lost in {a} vs {b} of replications",
            a=fmt(badge_a, "pct"),
            b=fmt(badge_b, "pct"),
        )
    return text + t(".")


def _mean(metrics: dict, name: str) -> float:
    """A metric's mean, 0 when missing or undefined."""
    stat = metrics.get(name)
    return (stat["mean"] or 0.0) if stat else 0.0


def _share(p: float | None) -> str:
    return "–" if p is None else f"{100 * p:.0f}%"


def _line_name(line: str) -> str:
    name = line.removeprefix("cost_").replace("_", " ")
    if not line.startswith("cost_"):
        return t(name)
    return t("{part} cost", part=t(name))
