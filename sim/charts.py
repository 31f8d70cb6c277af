"""The report's charts as PNG bytes: intervals, cost breakdown, months, inventory fan chart.

Built from ``summary.json`` data (and, for the fan chart, the inventory paths a run keeps), never
recomputed. matplotlib is imported inside the functions only, so ``run --no-report`` never pays
for it; figures are drawn on the Agg canvas without pyplot (no global figure state), with a fixed
DPI, bundled fonts and no timestamp or software tag in the PNG, so the same data give the same
bytes. Math text is off: a ``$`` in a strategy or SKU name is shown as typed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from sim.table import fmt

DPI = 110
INK = "#1f3b57"  # points, medians and bars of one series
MUTED = "#8a8f98"
# cost components keep one colour each, whichever parts a scenario uses
COST_COLOURS = {
    "cost_product": "#4e79a7",
    "cost_freight": "#a0cbe8",
    "cost_fulfillment": "#f28e2b",
    "cost_storage": "#ffbe7d",
    "cost_aged_inventory": "#59a14f",
    "cost_low_inventory": "#8cd17d",
    "cost_placement": "#b6992d",
    "cost_referral": "#e15759",
    "cost_returns": "#ff9d9a",
    "cost_transfer": "#79706e",
    "cost_receiving": "#d37295",
    "cost_fixed": "#b07aa1",
}
SPARE_COLOURS = ("#9d7660", "#d7b5a6", "#86bcb6", "#499894", "#bab0ac", "#fabfd2")
INTERVAL_METRICS = (
    ("profit", "money", "Profit", "$ over the counted days"),
    ("on_time_rate", "pct", "On-time delivery", "% of shipped orders"),
    ("fill_rate", "pct", "Fill rate", "% of units demanded, from stock on the day"),
    ("lost_units", "units", "Lost sales", "units"),
)
MONTH_PANELS = (
    ("fill_rate", "pct", "Fill rate by month", "% of the month's units demanded"),
    ("avg_on_hand_units", "units", "Units on hand by month", "mean end-of-day units, all nodes"),
)
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SERIES_COLOURS = ("#1f3b57", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1", "#9c755f")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
MAX_FAN_PANELS = 30  # (strategy, node) rows × SKU columns (at most 5) of the fan chart
LABEL_CHARS = 32

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 8.5,
    "axes.labelcolor": "#333333",
    "axes.edgecolor": "#777777",
    "axes.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "text.parse_math": False,
    "svg.hashsalt": "fulfilsim",
}


@dataclass(frozen=True)
class Chart:
    """One rendered chart: file name, title, a caption for the report, alt text and PNG bytes."""

    name: str
    title: str
    caption: str
    alt: str
    png: bytes


def render_charts(summary: dict, paths: dict | None, start: dt.date | None) -> list[Chart]:
    """Every chart the data allow, in report order (a chart without data is left out).

    ``paths`` is ``Results.inventory_paths()`` and ``start`` the scenario's first day; without
    them the fan chart is left out.
    """
    charts = [interval_chart(summary), cost_chart(summary)]
    if start is not None:
        charts.append(month_chart(summary, start))
    if paths and start is not None:
        charts.append(
            inventory_chart(paths, start, summary["warmup_days"], summary["replications"])
        )
    return [c for c in charts if c is not None]


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _label(name: str, chars: int = LABEL_CHARS) -> str:
    return name if len(name) <= chars else name[: chars - 1] + "…"


def _formatter(kind: str):
    from matplotlib.ticker import FuncFormatter

    if kind == "pct":
        return FuncFormatter(lambda x, _: f"{100 * x:.4g}%")
    if kind == "money":
        return FuncFormatter(lambda x, _: fmt(x, "money") if abs(x) >= 100 else f"${x:,.4g}")
    return FuncFormatter(lambda x, _: f"{x:,.4g}" if abs(x) < 1000 else f"{x:,.0f}")


def interval_chart(summary: dict) -> Chart | None:
    """Mean and confidence interval of profit, on-time rate, fill rate and lost units for every
    strategy, one panel each; the dashed line is the baseline's mean."""
    names = list(summary["strategies"])
    panels = [
        p
        for p in INTERVAL_METRICS
        if any(_stat(summary, n, p[0])["mean"] is not None for n in names)
    ]
    if not panels:
        return None
    conf = round(100 * summary["confidence"])
    cols = 2 if len(panels) > 1 else 1
    rows = -(-len(panels) // cols)
    height = rows * (0.75 + 0.32 * len(names)) + 0.2
    with _style():
        from matplotlib.ticker import MaxNLocator

        fig = _figure(9.6, height)
        axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
        y = np.arange(len(names))[::-1]
        for ax, (metric, kind, title, unit) in zip(axes, panels, strict=False):
            stats = [_stat(summary, n, metric) for n in names]
            for yi, st in zip(y, stats, strict=True):
                if st["mean"] is None:
                    ax.text(0.02, yi, "no data", va="center", color=MUTED, transform=_blend(ax))
                    continue
                if st["ci_low"] is not None:
                    ax.plot([st["ci_low"], st["ci_high"]], [yi, yi], color=INK, lw=1.6)
                    for end in (st["ci_low"], st["ci_high"]):
                        ax.plot([end, end], [yi - 0.15, yi + 0.15], color=INK, lw=1.2)
                ax.plot([st["mean"]], [yi], "o", color=INK, ms=5)
            base = _stat(summary, summary.get("baseline"), metric)
            if base["mean"] is not None and len(names) > 1:
                ax.axvline(base["mean"], color=MUTED, lw=0.8, ls="--", zorder=0)
            ax.set_title(title)
            ax.set_xlabel(unit)
            ax.xaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(_formatter(kind))
            ax.grid(axis="x")
            ax.margins(x=0.12)
            if kind == "pct":  # a rate cannot leave [0, 100%]; keep the axis inside it
                lo, hi = ax.get_xlim()
                ax.set_xlim(max(lo, -0.002), min(hi, 1.002))
            ax.set_yticks(y, [_label(n) for n in names])
            ax.set_ylim(-0.6, len(names) - 0.4)
            ax.tick_params(axis="y", length=0)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        png = _png(fig)
    return Chart(
        "chart-intervals.png",
        "Key metrics with intervals",
        f"Dot: mean over replications; whiskers: {conf}% confidence interval; dashed line: the "
        f"baseline ({summary.get('baseline')}).",
        "Mean and confidence interval of profit, on-time rate, fill rate and lost units for "
        "each strategy.",
        png,
    )


def _stat(summary: dict, strategy: str | None, metric: str) -> dict:
    none = {"mean": None, "ci_low": None, "ci_high": None, "std": None}
    strat = summary["strategies"].get(strategy) if strategy is not None else None
    if strat is None:
        return none
    st = strat["metrics"].get(metric, none)
    if st["mean"] is None or not np.isfinite(st["mean"]):
        return none
    return st


def _blend(ax):
    from matplotlib.transforms import blended_transform_factory

    return blended_transform_factory(ax.transAxes, ax.transData)


def cost_chart(summary: dict) -> Chart | None:
    """Each strategy's mean cost, stacked by component (components with a non-zero mean in some
    strategy), with mean revenue marked for scale."""
    names = list(summary["strategies"])
    order = summary.get("metric_order") or list(
        next(iter(summary["strategies"].values()))["metrics"] if names else []
    )
    parts = [
        m
        for m in order
        if m.startswith("cost_") and any((_stat(summary, n, m)["mean"] or 0) != 0 for n in names)
    ]
    if not parts:
        return None
    spare = iter(SPARE_COLOURS * 4)
    colours = {p: COST_COLOURS.get(p) or next(spare, MUTED) for p in parts}
    days = summary["horizon_days"] - summary["warmup_days"]
    height = 1.3 + 0.38 * len(names) + 0.22 * -(-(len(parts) + 1) // 6)
    with _style():
        fig = _figure(9.6, height)
        ax = fig.subplots()
        y = np.arange(len(names))[::-1]
        pos = np.zeros(len(names))
        neg = np.zeros(len(names))
        for part in parts:
            v = np.array([_stat(summary, n, part)["mean"] or 0.0 for n in names])
            left = np.where(v >= 0, pos, neg)
            ax.barh(
                y,
                v,
                left=left,
                height=0.62,
                color=colours[part],
                edgecolor="white",
                linewidth=0.5,
                label=part.removeprefix("cost_").replace("_", " "),
            )
            pos += np.where(v >= 0, v, 0)
            neg += np.where(v < 0, v, 0)
        revenue = [_stat(summary, n, "revenue")["mean"] for n in names]
        ry = [yi for yi, r in zip(y, revenue, strict=True) if r]
        if ry:
            ax.plot(
                [r for r in revenue if r],
                ry,
                "D",
                color="black",
                ms=5,
                label="revenue",
                zorder=3,
            )
        ax.set_yticks(y, [_label(n) for n in names])
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(f"$ over the {days} counted days (mean over replications)")
        ax.xaxis.set_major_formatter(_formatter("money"))
        ax.grid(axis="x")
        ax.set_ylim(-0.6, len(names) - 0.4)
        fig.legend(
            loc="outside lower left",
            ncol=min(6, len(parts) + bool(ry)),
            handlelength=1.2,
            columnspacing=1.2,
        )
        ax.set_title("Costs by component")
        png = _png(fig)
    return Chart(
        "chart-costs.png",
        "Costs by component",
        "Mean cost of each component over the counted days; components that are zero for every "
        "strategy are left out. Diamond: mean revenue (profit is the gap between it and the bar).",
        "Stacked bars of each strategy's mean cost by component, with mean revenue marked.",
        png,
    )


def month_chart(summary: dict, start: dt.date) -> Chart | None:
    """Fill rate and units on hand month by month, one line per strategy with its interval;
    the month with the most demand per counted day (the baseline's) is shaded: the peak."""
    from sim.model import Calendar
    from sim.months import month_windows

    names = [
        n
        for n, s in summary["strategies"].items()
        if any(m.get("fill_rate", {}).get("mean") is not None for m in s.get("months", {}).values())
    ]
    if not names:
        return None
    labels = list(summary["strategies"][names[0]]["months"])
    windows = month_windows(Calendar(start, summary["horizon_days"], summary["warmup_days"]))
    length = {label: hi - lo for label, lo, hi in windows}
    base = summary.get("baseline") if summary.get("baseline") in names else names[0]
    per_day = [
        (_month_stat(summary, base, m, "demand_units")["mean"] or 0) / max(1, length.get(m, 1))
        for m in labels
    ]
    peak = int(np.argmax(per_day)) if any(per_day) else None
    conf = round(100 * summary["confidence"])
    x = np.arange(len(labels))
    width = max(7.0, min(14.0, 3.0 + 0.55 * len(labels)))
    with _style():
        from matplotlib.ticker import MaxNLocator

        fig = _figure(width, 3.2 + 0.18 * -(-len(names) // 4))
        axes = fig.subplots(1, 2)
        for ax, (metric, kind, title, unit) in zip(axes, MONTH_PANELS, strict=True):
            if peak is not None:
                ax.axvspan(peak - 0.45, peak + 0.45, color="#fde9c8", lw=0, zorder=0)
                ax.text(
                    peak,
                    0.99,
                    "peak",
                    transform=_blend_x(ax),
                    ha="center",
                    va="top",
                    color="#8a4b00",
                    fontsize=8,
                )
            for k, name in enumerate(names):
                stats = [_month_stat(summary, name, m, metric) for m in labels]
                mean = np.array([np.nan if st["mean"] is None else st["mean"] for st in stats])
                colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
                lo = np.array([np.nan if st["ci_low"] is None else st["ci_low"] for st in stats])
                hi = np.array([np.nan if st["ci_high"] is None else st["ci_high"] for st in stats])
                offset = (k - (len(names) - 1) / 2) * min(0.08, 0.5 / len(names))
                ax.vlines(x + offset, lo, hi, color=colour, lw=1.1)
                ax.plot(
                    x + offset,
                    mean,
                    marker=SERIES_MARKERS[k % len(SERIES_MARKERS)],
                    ms=4,
                    lw=1.2,
                    color=colour,
                    label=_label(name) if metric == "fill_rate" else None,
                )
            ax.set_title(title)
            ax.set_ylabel(unit)
            ax.set_xticks(x, [_month_label(m) for m in labels], rotation=90 if len(x) > 14 else 0)
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_formatter(_formatter(kind))
            ax.grid(axis="y")
            if kind == "pct":
                lo, hi = ax.get_ylim()
                ax.set_ylim(max(lo, -0.002), min(hi, 1.002))
            else:
                ax.set_ylim(bottom=0)
        fig.legend(loc="outside lower left", ncol=min(4, len(names)), handlelength=1.6)
        png = _png(fig)
    peak_text = (
        f" Shaded: {labels[peak]}, the month with the most demand a day (the peak)."
        if peak is not None
        else ""
    )
    return Chart(
        "chart-months.png",
        "Month by month",
        f"Mean over replications of each calendar month's counted days; bars: {conf}% "
        f"confidence interval.{peak_text}",
        "Fill rate and average units on hand by calendar month for "
        + ", ".join(names)
        + (f"; the peak month {labels[peak]} is shaded." if peak is not None else "."),
        png,
    )


def _blend_x(ax):
    from matplotlib.transforms import blended_transform_factory

    return blended_transform_factory(ax.transData, ax.transAxes)


def _month_stat(summary: dict, strategy: str, month: str, metric: str) -> dict:
    none = {"mean": None, "ci_low": None, "ci_high": None, "std": None}
    st = summary["strategies"][strategy]["months"].get(month, {}).get(metric, none)
    if st["mean"] is None or not np.isfinite(st["mean"]):
        return none
    return st


def _month_label(month: str) -> str:
    """``2026-11`` as ``Nov`` (a January with its year below, so years stay readable)."""
    year, month_number = int(month[:4]), int(month[5:7])
    name = MONTH_NAMES[month_number - 1]
    return f"{name}\n{year}" if month_number == 1 else name


def inventory_chart(
    paths: dict, start: dt.date, warmup: int, replications: int | None = None
) -> Chart | None:
    """End-of-day on-hand units over time of the top SKUs at each node of each strategy: median
    and 10–90% band across the replications kept (``replications``: how many the run has);
    the warm-up is shaded."""
    rows = [(s, node, skus) for s, nodes in paths.items() for node, skus in nodes.items() if skus]
    if not rows:
        return None
    n_skus = max(len(r[2]) for r in rows)
    shown = rows[: max(1, MAX_FAN_PANELS // n_skus)]
    first = next(iter(shown[0][2].values()))
    days = first.shape[1]
    reps = first.shape[0]
    x = np.datetime64(start, "D") + np.arange(days)
    width = max(6.0, 2.4 * n_skus + 1.2)
    height = 0.9 + 1.75 * len(shown)
    with _style():
        import matplotlib.dates as mdates

        # fixed margins in inches: constrained layout would double the drawing time here
        fig = _figure(width, height, layout=None)
        fig.subplots_adjust(
            left=0.75 / width,
            right=1 - 0.15 / width,
            top=1 - 0.85 / height,
            bottom=0.35 / height,
            wspace=0.28,
            hspace=0.75,
        )
        axes = fig.subplots(len(shown), n_skus, squeeze=False, sharex=True)
        for r, (strategy, node, skus) in enumerate(shown):
            box = axes[r, 0].get_position()
            fig.text(
                0.12 / width,
                box.y1 + 0.33 / height,
                f"{_label(strategy)}  ·  at {_label(node)}",
                fontsize=9,
                fontweight="bold",
                va="bottom",
            )
            for c in range(n_skus):
                ax = axes[r, c]
                if c >= len(skus):
                    ax.set_visible(False)
                    continue
                sku, data = list(skus.items())[c]
                lo, mid, hi = np.percentile(data, [10, 50, 90], axis=0)
                if warmup > 0:
                    ax.axvspan(x[0], x[min(warmup, days - 1)], color="#efefef", lw=0, zorder=0)
                ax.fill_between(x, lo, hi, color="#a9c1d9", lw=0, step="post")
                ax.step(x, mid, where="post", color=INK, lw=1.0)
                ax.set_ylim(bottom=0)
                ax.yaxis.set_major_formatter(_formatter("units"))
                ax.grid(axis="y")
                ax.set_title(_label(sku, 28), fontsize=8.5, fontweight="normal")
                if c == 0:
                    ax.set_ylabel("units on hand")
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        for ax in axes[-1]:
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Line2D([], [], color=INK, lw=1.0), Patch(color="#a9c1d9")]
        labels = ["median", "10–90% of replications"]
        if warmup > 0:
            handles.append(Patch(color="#efefef"))
            labels.append(f"warm-up ({warmup} days, not counted)")
        fig.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.06 / height), ncol=3
        )
        png = _png(fig)
    kept = f"{reps} replication{'' if reps == 1 else 's'}"
    if replications is not None and replications > reps:
        kept = f"the first {reps} of {replications:,} replications"
    more = (
        f"; the first {len(shown)} of {len(rows)} strategy–node pairs"
        if len(rows) > len(shown)
        else ""
    )
    return Chart(
        "chart-inventory.png",
        "Inventory over time",
        f"End-of-day units on hand of the SKUs with the most demand, at each node of each "
        f"strategy{more}: median and 10–90% band over {kept}"
        + (", warm-up shaded." if warmup > 0 else "."),
        "Fan charts of units on hand over time of "
        + ", ".join(dict.fromkeys(sku for r in shown for sku in r[2]))
        + " at: "
        + "; ".join(f"{strategy} at {node}" for strategy, node, _ in shown)
        + ".",
        png,
    )
