"""The tornado chart (``chart-tornado.png``) and page (``sensitivity.html``) of ``sensitivity``.

Built from ``sensitivity.json``'s data only, drawn like the report's charts (``sim.charts``:
Agg canvas, fixed DPI, no timestamp) and styled like ``report.html`` (same CSS, nothing
external, user text escaped).
"""

from __future__ import annotations

import base64

from sim.charts import INK, MUTED, Chart, _figure, _formatter, _label, _png, _style
from sim.report import CSS, _png_size, e
from sim.table import fmt

TORNADO = "chart-tornado.png"
PAGE = "sensitivity.html"
LOW_COLOUR = "#a0cbe8"
HIGH_COLOUR = INK
FLIP_COLOUR = "#e15759"


def tornado_chart(rep: dict) -> Chart | None:
    """One bar per input from the paired difference at its low to that at its high value (the
    widest swing on top); the dashed line is the difference at the scenario, the solid line 0:
    a bar that crosses 0 flips the recommendation."""
    rows = rep.get("inputs") or []
    if not rows:
        return None
    best, runner = rep["best"], rep["runner_up"]
    with _style():
        fig = _figure(8.6, 0.9 + 0.42 * len(rows))
        ax = fig.subplots()
        base = rep["base"]["diff"]["mean"]
        for y, r in enumerate(reversed(rows)):
            lo, hi = r["at_low"]["diff"]["mean"], r["at_high"]["diff"]["mean"]
            bars = sorted(((lo, LOW_COLOUR), (hi, HIGH_COLOUR)), key=lambda b: -abs(b[0] - base))
            for value, colour in bars:  # the longer first: the shorter stays visible over it
                ax.barh(y, value - base, left=base, height=0.6, color=colour)
            for value, other, text in ((lo, hi, r["low"]), (hi, lo, r["high"])):
                right = value >= base
                x = value
                if (value - base) * (other - base) > 0 and abs(value - base) < abs(other - base):
                    x, right = base, not right  # the shorter bar of a side: label on the other
                ax.annotate(
                    text,
                    (x, y),
                    xytext=(4 if right else -4, 0),
                    textcoords="offset points",
                    ha="left" if right else "right",
                    va="center",
                    fontsize=7.5,
                    color="#333333",
                )
        labels = [_label(r["input"]) + ("  (flips)" if r["flips"] else "") for r in reversed(rows)]
        ax.set_yticks(range(len(rows)), labels)
        for tick, r in zip(ax.get_yticklabels(), reversed(rows), strict=True):
            if r["flips"]:
                tick.set_color(FLIP_COLOUR)
        ax.axvline(0, color="#333333", lw=0.9)
        ax.axvline(rep["base"]["diff"]["mean"], color=MUTED, lw=0.8, ls="--")
        ax.xaxis.set_major_formatter(_formatter("money"))
        ax.set_xlabel(f"profit of {_label(best)} − {_label(runner)} ($, mean over replications)")
        ax.set_title("Which inputs decide: paired profit difference at each input's low / high")
        ax.grid(axis="x")
        ax.margins(x=0.15)
        ax.tick_params(axis="y", length=0)
        from matplotlib.patches import Patch

        ends = [Patch(color=LOW_COLOUR), Patch(color=HIGH_COLOUR)]
        ax.legend(ends, ["at the low value", "at the high value"], loc="lower right")
        png = _png(fig)
    return Chart(
        TORNADO,
        "Tornado: which inputs decide",
        f"Each bar runs from the mean profit difference {best} − {runner} at the input's low "
        "value (light) to that at its high value (dark), the other inputs as in the scenario; "
        "dashed: the difference at the scenario; a bar crossing 0 (solid line) flips the "
        "recommendation. Widest swing on top.",
        f"Tornado chart of the profit difference between {best} and {runner} for each input.",
        png,
    )


def page(rep: dict, chart: Chart | None, table_text: str) -> str:
    """``sensitivity.html``: the chart, the table as text and what was skipped."""
    name = rep["scenario"]["name"]
    figure = ""
    if chart is not None:
        width, height = _png_size(chart.png)
        data = base64.b64encode(chart.png).decode("ascii")
        figure = (
            f'<figure><img src="data:image/png;base64,{data}" width="{width}" '
            f'height="{height}" alt="{e(chart.alt)}"><figcaption>{e(chart.caption)}'
            "</figcaption></figure>"
        )
    flips = [r["input"] for r in rep.get("inputs", []) if r["flips"]]
    if "best" not in rep:
        lead = "No run finished."
    elif flips:
        lead = f"The recommendation ({rep['best']}) flips with: {', '.join(flips)}."
    else:
        lead = f"{rep['best']} stays ahead of {rep['runner_up']} at both ends of every input."
    if "best" in rep:
        lead += (
            f" At the scenario {rep['best']} leads by {fmt(rep['base']['diff']['mean'], 'money')}."
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(name)} – fulfilsim sensitivity</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header><p class="kicker">fulfilsim sensitivity</p><h1>{e(name)}</h1></header>\n'
        f'<section id="sensitivity"><h2>Which inputs decide</h2>'
        f'<div class="recommendation"><p>{e(lead)}</p></div>{figure}'
        f'<pre class="yaml">{e(table_text)}</pre></section>\n'
        "</main>\n</body>\n</html>\n"
    )
