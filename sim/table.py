"""Terminal tables built from ``summary.json`` data: strategies side by side, mean ± half-width."""

from __future__ import annotations

import re
import shutil
import unicodedata

from sim.health_targets import BREACH_METRICS
from sim.i18n import t
from sim.metric_names import CHANNEL_METRICS

HEADLINE = (
    "profit",
    "revenue",
    "total_cost",
    "fill_rate",
    "cycle_service_level",
    "on_time_rate",
    "late_shipment_rate",
    "lost_units",
    "backordered_units",
    "avg_on_hand_units",
    "avg_delivery_days",
    "account_health_breach_rate",
)
# shown only when some strategy has a non-zero mean (e.g. an SFP node's badge)
OPTIONAL = (
    "cancel_rate",
    "order_defect_rate",
    *BREACH_METRICS,
    "sfp_breach_rate",
    "badge_lost_days",
)
KINDS = {
    "avg_delivery_days": "days",
    "account_health_breach_days": "days",
    "badge_lost_days": "days",
    "cycle_service_level": "pct",
    "fill_rate": "pct",
    "revenue": "money",
    "total_cost": "money",
    "profit": "money",
    "lost_margin": "money",
}


COMPARED = (
    "profit",
    "total_cost",
    "fill_rate",
    "on_time_rate",
    "lost_units",
    "account_health_breach_rate",
)


def kind_of(metric: str) -> str:
    """How a metric is formatted: ``money``, ``pct``, ``days`` or ``units`` (the terminal table
    and the HTML report use the same)."""
    if metric in KINDS:
        return KINDS[metric]
    if metric.startswith("cost_"):
        return "money"
    if metric.startswith("breach_"):
        return "pct"
    return "pct" if metric.endswith("_rate") else "units"


def fmt(value: float | None, kind: str) -> str:
    """A number for people: money with thousands separators, rates as percentages; a value
    that rounds to zero has no minus sign (``0.0%``, not ``-0.0%``)."""
    if value is None:
        return "–"
    text = _fmt(value, kind)
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def _fmt(value: float, kind: str) -> str:
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "money":
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.0f}" if abs(value) >= 100 else f"{sign}${abs(value):,.2f}"
    if kind == "days":
        return f"{value:.2f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def fmt_ci(stat: dict, kind: str) -> str:
    """``mean ± half-width`` (the half-width of the confidence interval), or ``mean [low, high]``
    when the interval is not centred on the mean (a rate's interval clipped to [0, 1])."""
    mean = fmt(stat["mean"], kind)
    if stat["ci_low"] is None:
        return mean
    lo, hi = stat["ci_low"], stat["ci_high"]
    half = (hi - lo) / 2
    if abs(lo + half - stat["mean"]) > 1e-9 * max(1.0, abs(stat["mean"])):
        return f"{mean} [{fmt(lo, kind)}, {fmt(hi, kind)}]"
    if kind == "pct":
        return f"{mean} ± {100 * half:.1f}"
    return f"{mean} ± {fmt(half, kind).lstrip('$')}"


def render(rows: list[list[str]], right_from: int = 1) -> str:
    """Align a table's columns (first row is the header); a Chinese character takes two
    terminal columns."""
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            c + " " * (w - display_width(c)) if i < right_from else " " * (w - display_width(c)) + c
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def comparison_table(summary: dict) -> str:
    """Strategies side by side on the headline metrics, then paired differences vs the baseline."""
    names = list(summary["strategies"])
    pct = round(100 * summary["confidence"])
    rows = [[t("metric (mean ± {pct}% CI half-width)", pct=pct), *names]]
    strategies = summary["strategies"]
    optional = [m for m in OPTIONAL if any(strategies[n]["metrics"][m]["mean"] for n in names)]
    for metric in (*HEADLINE, *optional):
        kind = kind_of(metric)
        rows.append(
            [metric, *(fmt_ci(summary["strategies"][n]["metrics"][metric], kind) for n in names)]
        )
    reps = summary["replications"]
    runs = t("1 replication") if reps == 1 else t("{reps} replications", reps=f"{reps:,}")
    if summary.get("rerun_replication") is not None:
        runs = t(
            "replication {n} alone (its numbers in a full run)", n=summary["rerun_replication"]
        )
    head = t(
        "{name}: {runs} × {days} counted days, seed {seed}",
        name=summary["scenario"]["name"],
        runs=runs,
        days=summary["horizon_days"] - summary["warmup_days"],
        seed=summary["seed"],
    ) + ("" if summary["complete"] else t("  [INCOMPLETE: interrupted]"))
    best = (summary.get("decision") or {}).get("probability_best")
    if best and len(names) > 1:
        rows.append([t("P(most profitable)"), *(f"{100 * best[n]:.0f}%" for n in names)])
    unknown = summary.get("uncertain")
    if unknown:
        from sim.uncertain import uncertain_lines

        head += "\n" + t("uncertain inputs (drawn once per replication, shared by the strategies):")
        head += "".join(f"\n  {line}" for line in uncertain_lines(summary))
    parts = [head, "", render(_fit(rows))]
    comps = [c for c in summary["comparisons"] if c["metric"] in COMPARED]
    if comps:
        crow = [
            [
                t("vs {baseline}", baseline=summary["baseline"]),
                t("metric"),
                t("difference"),
                t("{pct}% CI", pct=pct),
                t("wins"),
            ]
        ]
        for c in comps:
            kind = kind_of(c["metric"])
            ci = (
                f"[{fmt(c['ci_low'], kind)}, {fmt(c['ci_high'], kind)}]"
                if c["ci_low"] is not None
                else "–"
            )
            wins = "–" if c["win_rate"] is None else f"{100 * c['win_rate']:.0f}%"
            crow.append([c["strategy"], c["metric"], fmt(c["diff_mean"], kind), ci, wins])
        parts += [
            "",
            t("Paired differences (common random numbers; wins = share of replications better):"),
            render(crow, right_from=2),
        ]
    channels = channel_breakdown(summary)
    if channels:
        crow = [[t("channel"), t("metric"), *names]]
        for channel, metric, stats in channels:
            crow.append([channel, metric, *(fmt_ci(st, kind_of(metric)) for st in stats)])
        parts += ["", t("By sales channel (Amazon first):"), render(_fit(crow), right_from=2)]
    if summary.get("recommendation"):
        parts += ["", t("Recommendation:"), *(bullet(line) for line in summary["recommendation"])]
    return "\n".join(parts)


# the channel breakdown's rows: every channel metric but the two that repeat sold and lost units
CHANNEL_SHOWN = tuple(m for m in CHANNEL_METRICS if m not in ("demand_units", "orders_shipped"))


def channel_breakdown(summary: dict) -> list[tuple[str, str, list[dict]]]:
    """``(channel, metric, [interval per strategy])`` rows of the per-channel results
    (``strategies.NAME.channels``) when the scenario has more than one channel, else []."""
    strategies = list(summary["strategies"].values())
    if not strategies or len(strategies[0].get("channels", {})) < 2:
        return []
    rows = []
    for channel in strategies[0]["channels"]:
        for metric in CHANNEL_SHOWN:
            rows.append(
                (channel, metric, [s["channels"][channel]["metrics"][metric] for s in strategies])
            )
    return rows


def bullet(text: str) -> str:
    """``text`` as a bullet (``- …``) wrapped to the terminal (at most 100 columns)."""
    import textwrap

    width = min(100, shutil.get_terminal_size((100, 24)).columns)
    if display_width(text) > len(text):  # wide characters: two columns each, few spaces
        return _wrap_wide(text, width)
    return textwrap.fill(text, width=width, initial_indent="- ", subsequent_indent="  ")


def _wrap_wide(text: str, width: int) -> str:
    """``bullet`` for text with wide (CJK) characters: a line may break before any of them, and
    at spaces, never inside a run of other characters (a number, a name)."""
    tokens = re.findall(r"\s+|[^\s\u2e80-\uffef]+|.", text)
    lines, line = [], "- "
    for token in tokens:
        if display_width(line) + display_width(token) > width and line.strip() not in ("", "-"):
            lines.append(line.rstrip())
            line = "  "
            token = token.lstrip()
        line += token
    lines.append(line.rstrip())
    return "\n".join(lines)


def _fit(rows: list[list[str]]) -> list[list[str]]:
    """Keep the table within the terminal by truncating long strategy names."""
    width = shutil.get_terminal_size((120, 24)).columns
    if sum(max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))) <= width:
        return rows
    head = [h if len(h) <= 14 else h[:13] + "…" for h in rows[0]]
    return [head, *rows[1:]]
