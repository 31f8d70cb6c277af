"""The report's charts as PNG bytes: intervals, profit differences (the decision), cost
breakdown, months, inventory fan chart; most also in a narrow layout for phones.

Built from ``summary.json`` data (and, for the fan chart, the inventory paths a run keeps), never
recomputed. matplotlib is imported inside the functions only, so ``run --no-report`` never pays
for it; figures are drawn on the Agg canvas without pyplot (no global figure state), with a fixed
DPI, bundled fonts and no timestamp or software tag in the PNG, so the same data give the same
bytes. Math text is off: a ``$`` in a strategy or SKU name is shown as typed.

Text drawn in a chart follows the language (``sim.i18n``); Chinese needs a CJK font, looked for
among the installed ones (``cjk_font``). Without one the chart text stays English (never boxes
for missing glyphs) and the report says so; captions and alt text are translated either way.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.i18n import DEFAULT, N_, language, t
from sim.table import fmt

DPI = 110
PHONE_WIDTH = 4.2  # inches: a phone shows the narrow layout ~380 px wide, text ≈ 8.5 pt
PHONE_DPI = 2 * DPI  # sharp on a phone's dense screen, shown at half its pixel size
# CJK fonts by family name, most wanted first; files matched by name when matplotlib's font
# list predates their installation
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
)
CJK_FILES = re.compile(
    r"(NotoSansCJK|NotoSansSC|SourceHanSans|wqy-(microhei|zenhei)|DroidSansFallback|msyh|simhei"
    r"|PingFang|Hiragino Sans GB|STHeiti)",
    re.IGNORECASE,
)
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
    ("profit", "money", N_("Profit"), N_("$ over the counted days")),
    ("on_time_rate", "pct", N_("On-time delivery"), N_("% of shipped orders")),
    ("fill_rate", "pct", N_("Fill rate"), N_("% of units demanded, from stock on the day")),
    ("lost_units", "units", N_("Lost sales"), N_("units")),
)
MONTH_PANELS = (
    ("fill_rate", "pct", N_("Fill rate by month"), N_("% of the month's units demanded")),
    (
        "avg_on_hand_units",
        "units",
        N_("Units on hand by month"),
        N_("mean end-of-day units, all nodes"),
    ),
)
MONTH_NAMES = tuple(
    N_(m)
    for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
)
# ConciseDateFormatter's formats for Chinese chart text: year, month, day as 年 / 月 / 日
ZH_DATE_FORMATS = {
    "formats": ["%Y年", "%-m月", "%-d日", "%H:%M", "%H:%M", "%S.%f"],
    "zero_formats": ["", "%Y年", "%-m月", "%-m月%-d日", "%H:%M", "%H:%M"],
    "offset_formats": ["", "%Y年", "%Y年%-m月", "%Y年%-m月%-d日", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
}
SERIES_COLOURS = ("#1f3b57", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1", "#9c755f")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
MAX_TICKS = 2_000  # replications drawn one by one in the decision chart (all go into its box)
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
    """One rendered chart: file name, title, a caption for the report, alt text and PNG bytes;
    ``phone`` the same chart laid out for a narrow screen (shown in the report only)."""

    name: str
    title: str
    caption: str
    alt: str
    png: bytes
    phone: bytes | None = None


def render_charts(
    summary: dict,
    paths: dict | None,
    start: dt.date | None,
    profits: dict[str, np.ndarray] | None = None,
) -> list[Chart]:
    """Every chart the data allow, in report order (a chart without data is left out).

    ``paths`` is ``Results.inventory_paths()`` and ``start`` the scenario's first day; without
    them the fan chart is left out. ``profits`` maps each strategy to its profit in every
    replication (the decision chart); without it the decision chart is left out.
    """
    charts = [
        _both(interval_chart, summary),
        _both(decision_chart, summary, profits),
        _both(cost_chart, summary),
    ]
    if start is not None:
        charts.append(_both(month_chart, summary, start))
    if paths and start is not None:
        charts.append(
            inventory_chart(paths, start, summary["warmup_days"], summary["replications"])
        )
    return [c for c in charts if c is not None]


def _both(chart, *args) -> Chart | None:
    """``chart(*args)`` with its phone layout added."""
    wide = chart(*args)
    if wide is None:
        return None
    narrow = chart(*args, phone=True)
    return Chart(wide.name, wide.title, wide.caption, wide.alt, wide.png, narrow and narrow.png)


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese characters, or None."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    names = {f.name for f in manager.ttflist}
    found = next((name for name in CJK_FAMILIES if name in names), None)
    if found is not None:
        return found
    added = []  # fonts installed after matplotlib made its font list: every weight of them
    for path in sorted(font_manager.findSystemFonts()):
        if CJK_FILES.search(Path(path).name):
            try:
                manager.addfont(path)
                added.append(font_manager.FontProperties(fname=path).get_name())
            except (OSError, RuntimeError, ValueError):
                continue
    return next((name for name in CJK_FAMILIES if name in added), added[0] if added else None)


def chart_language() -> str:
    """The language of text drawn in charts: the current one, English when it needs a font
    this computer lacks."""
    lang = language()
    return lang if lang == DEFAULT or cjk_font() is not None else DEFAULT


def _c(text: str, /, **values) -> str:
    """``t`` for text drawn in a chart (English when no font can draw the language)."""
    if chart_language() == DEFAULT:
        return text.format(**values) if values else text
    return t(text, **values)


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    style = STYLE
    if chart_language() != DEFAULT:
        style = {**STYLE, "font.family": [cjk_font(), "DejaVu Sans"]}
    with matplotlib.rc_context(style):
        yield


def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
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


def interval_chart(summary: dict, phone: bool = False) -> Chart | None:
    """Mean and confidence interval of profit, on-time rate, fill rate and lost units for every
    strategy, one panel each (two columns, one on a ``phone``); the dashed line is the
    baseline's mean."""
    names = list(summary["strategies"])
    panels = [
        p
        for p in INTERVAL_METRICS
        if any(_stat(summary, n, p[0])["mean"] is not None for n in names)
    ]
    if not panels:
        return None
    conf = round(100 * summary["confidence"])
    cols = 2 if len(panels) > 1 and not phone else 1
    rows = -(-len(panels) // cols)
    height = rows * (0.75 + 0.32 * len(names)) + 0.2
    chars = 18 if phone else LABEL_CHARS
    with _style():
        from matplotlib.ticker import MaxNLocator

        fig = _figure(PHONE_WIDTH if phone else 9.6, height)
        axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
        y = np.arange(len(names))[::-1]
        for ax, (metric, kind, title, unit) in zip(axes, panels, strict=False):
            stats = [_stat(summary, n, metric) for n in names]
            for yi, st in zip(y, stats, strict=True):
                if st["mean"] is None:
                    ax.text(0.02, yi, _c("no data"), va="center", color=MUTED, transform=_blend(ax))
                    continue
                if st["ci_low"] is not None:
                    ax.plot([st["ci_low"], st["ci_high"]], [yi, yi], color=INK, lw=1.6)
                    for end in (st["ci_low"], st["ci_high"]):
                        ax.plot([end, end], [yi - 0.15, yi + 0.15], color=INK, lw=1.2)
                ax.plot([st["mean"]], [yi], "o", color=INK, ms=5)
            base = _stat(summary, summary.get("baseline"), metric)
            if base["mean"] is not None and len(names) > 1:
                ax.axvline(base["mean"], color=MUTED, lw=0.8, ls="--", zorder=0)
            ax.set_title(_c(title))
            ax.set_xlabel(_c(unit))
            ax.xaxis.set_major_locator(MaxNLocator(4 if phone else 5, steps=[1, 2, 2.5, 5, 10]))
            ax.xaxis.set_major_formatter(_formatter(kind))
            ax.grid(axis="x")
            ax.margins(x=0.12)
            if kind == "pct":  # a rate cannot leave [0, 100%]; keep the axis inside it
                lo, hi = ax.get_xlim()
                ax.set_xlim(max(lo, -0.002), min(hi, 1.002))
            ax.set_yticks(y, [_label(n, chars) for n in names])
            ax.set_ylim(-0.6, len(names) - 0.4)
            ax.tick_params(axis="y", length=0)
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        png = _png(fig, PHONE_DPI if phone else DPI)
    return Chart(
        "chart-intervals.png",
        t("Key metrics with intervals"),
        t(
            "Dot: mean over replications; whiskers: {pct}% confidence interval; dashed line: "
            "the baseline ({baseline}).",
            pct=conf,
            baseline=summary.get("baseline"),
        ),
        t(
            "Mean and confidence interval of profit, on-time rate, fill rate and lost units for "
            "each strategy."
        ),
        png,
    )


def decision_chart(
    summary: dict, profits: dict[str, np.ndarray] | None, phone: bool = False
) -> Chart | None:
    """For each strategy, its profit minus the recommended strategy's (``decision.best``)
    replication by replication (common random numbers): box of the middle half, whiskers from
    the 5th to the 95th percentile, the mean as a dot and every replication as a faint tick;
    the red line is 0, and the share of replications right of it is printed beside each row.
    ``profits`` maps each strategy to its profit in every replication (NaN where undefined)."""
    found = profit_differences(summary, profits)
    if found is None:
        return None
    best, diffs = found
    labels, others = list(diffs), list(diffs.values())
    n = len(others[0])
    chars = 18 if phone else LABEL_CHARS
    height = 1.5 + 0.5 * len(others)
    with _style():
        from matplotlib.ticker import MaxNLocator

        fig = _figure(PHONE_WIDTH if phone else 9.6, height)
        ax = fig.subplots()
        y = np.arange(len(others))[::-1]
        rng = np.random.default_rng(0)  # jitter of the ticks only: same picture every time
        for yi, d in zip(y, others, strict=True):
            p5, p25, p50, p75, p95 = np.percentile(d, [5, 25, 50, 75, 95])
            ticks = d[:MAX_TICKS]
            jitter = yi + rng.uniform(-0.22, 0.22, len(ticks))
            ax.plot(ticks, jitter, "|", color="#7f9fbf", ms=4, alpha=0.7, zorder=1)
            ax.plot([p5, p25], [yi, yi], color=INK, lw=1.2, zorder=2)
            ax.plot([p75, p95], [yi, yi], color=INK, lw=1.2, zorder=2)
            ax.add_patch(_box(p25, p75, yi))
            ax.plot([p50, p50], [yi - 0.18, yi + 0.18], color=INK, lw=1.6, zorder=3)
            ax.plot([d.mean()], [yi], "o", color=INK, ms=4.5, zorder=4)
            ax.text(
                1.01,
                yi,
                _c("ahead in {share}", share=f"{100 * np.mean(d > 0):.0f}%"),
                transform=_blend(ax),
                va="center",
                fontsize=8,
                color="#333333",
            )
        ax.axvline(0, color="#c0392b", lw=1.3, zorder=5)
        ax.set_yticks(y, [_label(n, chars) for n in labels])
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.6, len(others) - 0.4)
        ax.xaxis.set_major_locator(MaxNLocator(4 if phone else 6))
        ax.xaxis.set_major_formatter(_formatter("money"))
        ax.grid(axis="x")
        ax.set_title(
            _c("Profit minus {best}'s, replication by replication", best=_label(best, chars))
        )
        ax.set_xlabel(
            _c(
                "$ over the counted days; right of the red line: more profit than {best}",
                best=_label(best, chars),
            )
        )
        png = _png(fig, PHONE_DPI if phone else DPI)
    return Chart(
        "chart-decision.png",
        t("The decision: profit difference to {best}", best=best),
        t(
            "Each strategy's profit minus that of {best} (the recommended strategy) in each of "
            "the {n} replications, which face the same demand and lead times. Box: the middle "
            "half of the replications; whiskers: 5th to 95th percentile; dot: mean; faint "
            "ticks: single replications{first}. Where the red zero line falls is the answer: "
            "a strategy whose box lies left of it makes less profit than {best} in most "
            "replications.",
            best=best,
            n=f"{n:,}",
            first=t(" (the first {k})", k=f"{MAX_TICKS:,}") if n > MAX_TICKS else "",
        ),
        t(
            "Distribution over replications of each strategy's profit minus {best}'s, with the "
            "zero line marked.",
            best=best,
        ),
        png,
    )


def profit_differences(
    summary: dict, profits: dict[str, np.ndarray] | None
) -> tuple[str, dict[str, np.ndarray]] | None:
    """``(best, {strategy: profit − best's profit per replication})`` for every strategy but the
    recommended one (``summary.decision.best``), over the replications in which every strategy's
    profit is defined (as ``decide.decision``); None when there is nothing to compare."""
    best = (summary.get("decision") or {}).get("best")
    if not profits or best not in profits or len(profits) < 2:
        return None
    stacked = np.stack([np.asarray(v, dtype=float) for v in profits.values()], axis=1)
    stacked = stacked[~np.isnan(stacked).any(axis=1)]
    if len(stacked) == 0:
        return None
    ref = list(profits).index(best)
    return best, {
        name: stacked[:, k] - stacked[:, ref] for k, name in enumerate(profits) if k != ref
    }


def _box(low: float, high: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (low, y - 0.18), high - low, 0.36, facecolor="#dbe6f1", edgecolor=INK, lw=1.0, zorder=2
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


def cost_chart(summary: dict, phone: bool = False) -> Chart | None:
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
    ncol = 2 if phone else 6
    height = 1.3 + 0.38 * len(names) + 0.22 * -(-(len(parts) + 1) // ncol)
    with _style():
        fig = _figure(PHONE_WIDTH if phone else 9.6, height)
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
                label=_c(part.removeprefix("cost_").replace("_", " ")),
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
                label=_c("revenue"),
                zorder=3,
            )
        ax.set_yticks(y, [_label(n, 18 if phone else LABEL_CHARS) for n in names])
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(_c("$ over the {days} counted days (mean over replications)", days=days))
        if phone:
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(_formatter("money"))
        ax.grid(axis="x")
        ax.set_ylim(-0.6, len(names) - 0.4)
        fig.legend(
            loc="outside lower left",
            ncol=min(ncol, len(parts) + bool(ry)),
            handlelength=1.2,
            columnspacing=1.2,
        )
        ax.set_title(_c("Costs by component"))
        png = _png(fig, PHONE_DPI if phone else DPI)
    return Chart(
        "chart-costs.png",
        t("Costs by component"),
        t(
            "Mean cost of each component over the counted days; components that are zero for "
            "every strategy are left out. Diamond: mean revenue (profit is the gap between it "
            "and the bar)."
        ),
        t("Stacked bars of each strategy's mean cost by component, with mean revenue marked."),
        png,
    )


def month_chart(summary: dict, start: dt.date, phone: bool = False) -> Chart | None:
    """Fill rate and units on hand month by month, one line per strategy with its interval
    (side by side; one above the other on a ``phone``); the month with the most demand per
    counted day (the baseline's) is shaded: the peak."""
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

        legend_cols = 2 if phone else 4
        if phone:
            fig = _figure(PHONE_WIDTH, 5.6 + 0.18 * -(-len(names) // legend_cols))
            axes = fig.subplots(2, 1)
        else:
            fig = _figure(width, 3.2 + 0.18 * -(-len(names) // legend_cols))
            axes = fig.subplots(1, 2)
        for ax, (metric, kind, title, unit) in zip(axes, MONTH_PANELS, strict=True):
            if peak is not None:
                ax.axvspan(peak - 0.45, peak + 0.45, color="#fde9c8", lw=0, zorder=0)
                ax.text(
                    peak,
                    0.99,
                    _c("peak"),
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
            ax.set_title(_c(title))
            ax.set_ylabel(_c(unit))
            crowded = len(x) > (7 if phone else 14)
            ax.set_xticks(x, [_month_label(m) for m in labels], rotation=90 if crowded else 0)
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_formatter(_formatter(kind))
            ax.grid(axis="y")
            if kind == "pct":
                lo, hi = ax.get_ylim()
                ax.set_ylim(max(lo, -0.002), min(hi, 1.002))
            else:
                ax.set_ylim(bottom=0)
        fig.legend(loc="outside lower left", ncol=min(legend_cols, len(names)), handlelength=1.6)
        png = _png(fig, PHONE_DPI if phone else DPI)
    peak_text = (
        t(" Shaded: {month}, the month with the most demand a day (the peak).", month=labels[peak])
        if peak is not None
        else ""
    )
    return Chart(
        "chart-months.png",
        t("Month by month"),
        t(
            "Mean over replications of each calendar month's counted days; bars: {pct}% "
            "confidence interval.",
            pct=conf,
        )
        + peak_text,
        t(
            "Fill rate and average units on hand by calendar month for {names}",
            names=", ".join(names),
        )
        + (
            t("; the peak month {month} is shaded.", month=labels[peak])
            if peak is not None
            else t(".")
        ),
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
    name = _c(MONTH_NAMES[month_number - 1])
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
                _c("{strategy}  ·  at {node}", strategy=_label(strategy), node=_label(node)),
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
                    ax.set_ylabel(_c("units on hand"))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        for ax in axes[-1]:
            ax.xaxis.set_major_locator(locator)
            formats = ZH_DATE_FORMATS if chart_language() == "zh" else {}
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, **formats))
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Line2D([], [], color=INK, lw=1.0), Patch(color="#a9c1d9")]
        labels = [_c("median"), _c("10–90% of replications")]
        if warmup > 0:
            handles.append(Patch(color="#efefef"))
            labels.append(_c("warm-up ({days} days, not counted)", days=warmup))
        fig.legend(
            handles, labels, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.06 / height), ncol=3
        )
        png = _png(fig)
    kept = t("1 replication") if reps == 1 else t("{reps} replications", reps=reps)
    if replications is not None and replications > reps:
        kept = t("the first {reps} of {total} replications", reps=reps, total=f"{replications:,}")
    more = (
        t("; the first {shown} of {total} strategy–node pairs", shown=len(shown), total=len(rows))
        if len(rows) > len(shown)
        else ""
    )
    return Chart(
        "chart-inventory.png",
        t("Inventory over time"),
        t(
            "End-of-day units on hand of the SKUs with the most demand, at each node of each "
            "strategy{more}: median and 10–90% band over {kept}",
            more=more,
            kept=kept,
        )
        + (t(", warm-up shaded.") if warmup > 0 else t(".")),
        t(
            "Fan charts of units on hand over time of {skus} at: {where}.",
            skus=", ".join(dict.fromkeys(sku for r in shown for sku in r[2])),
            where="; ".join(
                t("{strategy} at {node}", strategy=strategy, node=node)
                for strategy, node, _ in shown
            ),
        ),
        png,
    )
