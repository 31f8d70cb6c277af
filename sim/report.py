"""``report.html`` (SPEC §4): one self-contained page a seller can open, print or mail.

Everything on the page comes from ``summary.json``'s data (numbers formatted as in the terminal
table, ``sim.table.fmt``), plus the inventory paths a run keeps for the fan chart and the
scenario's own YAML text. The page needs nothing else: charts are PNGs embedded as ``data:``
URIs, the CSS is inline, there is no script and no reference to the network. Every piece of
user text (scenario, strategy, node and SKU names, the YAML) is HTML-escaped.

The page is in the current language (``sim.i18n``; metric keys stay English) and fits a phone:
below 640 px the charts switch to their narrow layout (``<picture>``), wide tables scroll inside
their own box with the first column sticky, and nothing makes the page wider than the screen.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import struct
from pathlib import Path

from sim.charts import DPI
from sim.glossary import glossary_section
from sim.health_targets import BREACH_METRICS, TARGETS
from sim.i18n import N_, language, t
from sim.metric_names import LOWER_IS_BETTER
from sim.results import top_skus, write_atomic
from sim.table import channel_breakdown, fmt, fmt_ci, kind_of

REPORT = "report.html"
MAX_SKUS = 200  # per-SKU table rows (by demand when the catalogue is larger; all in skus.csv)
SKU_METRICS = (
    "demand_units",
    "fill_rate",
    "lost_units",
    "avg_on_hand_units",
    "on_time_rate",
    "profit",
)
GROUPS = (
    (
        N_("Service"),
        (
            "demand_units",
            "sold_units",
            "fill_rate",
            "cycle_service_level",
            "lost_units",
            "backordered_units",
            "cancelled_units",
            "avg_on_hand_units",
            "avg_backorder_units",
        ),
    ),
    (
        N_("Delivery"),
        (
            "orders_shipped",
            "on_time_rate",
            "late_shipment_rate",
            "cancel_rate",
            "valid_tracking_rate",
            "order_defect_rate",
            "avg_delivery_days",
        ),
    ),
    (N_("Money"), ("revenue", "total_cost", "profit", "lost_margin")),
    (N_("Costs"), ()),  # every cost_<part>
    (
        N_("Account health"),
        ("account_health_breach_rate", "account_health_breach_days", *BREACH_METRICS),
    ),
    (N_("Seller Fulfilled Prime"), ("sfp_breach_rate", "badge_lost_days")),
)
LABELS = {
    "demand_units": "Units demanded",
    "sold_units": "Units sold",
    "fill_rate": "Fill rate",
    "cycle_service_level": "Cycle service level",
    "lost_units": "Lost sales",
    "backordered_units": "Backordered units",
    "avg_on_hand_units": "Average on hand",
    "avg_backorder_units": "Average on backorder",
    "orders_shipped": "Orders shipped",
    "on_time_rate": "On-time delivery",
    "late_shipment_rate": "Late shipments",
    "avg_delivery_days": "Days to delivery",
    "revenue": "Revenue",
    "total_cost": "Total cost",
    "profit": "Profit",
    "lost_margin": "Margin lost on lost sales",
    "account_health_breach_rate": "Account-health breach (share of replications)",
    "account_health_breach_days": "Days in account-health breach",
    "badge_lost_days": "Days without the badge",
    "cancelled_units": "Cancelled by the seller",
    "cancel_rate": "Pre-fulfilment cancellations",
    "valid_tracking_rate": "Valid tracking",
    "order_defect_rate": "Order defects",
    "sfp_breach_rate": "SFP badge lost (share of replications)",
    "cost_mcf": "Multi-Channel Fulfillment fees",
    "cost_channel": "Sales-channel fees",
    **{f"breach_{t.name}": f"Breach: {t.label} (share of replications)" for t in TARGETS},
}
UNITS = {"money": "$", "pct": "%", "units": "units", "days": "days"}
NO_DIRECTION = frozenset({"demand_units", "orders_shipped"})  # neither more nor less is better


def label_of(metric: str) -> str:
    """A metric's name for people, with its unit."""
    if metric in LABELS:
        name = t(LABELS[metric])
    elif metric.startswith("cost_"):
        part = t(metric.removeprefix("cost_").replace("_", " "))
        name = t("{part} cost", part=part)
        name = name[:1].upper() + name[1:]
    else:
        name = metric.replace("_", " ").capitalize()
    unit = t("orders") if metric == "orders_shipped" else t(UNITS[kind_of(metric)])
    return f"{name} ({unit})"


def grouped(metrics: list[str]) -> list[tuple[str, list[str]]]:
    """``metrics`` (in summary order) sorted into the report's groups; unknown ones last."""
    out = []
    seen: set[str] = set()
    for title, members in GROUPS:
        if title == "Costs":
            chosen = [m for m in metrics if m.startswith("cost_")]
        else:
            chosen = [m for m in metrics if m in members]
        seen.update(chosen)
        if chosen:
            out.append((t(title), chosen))
    rest = [m for m in metrics if m not in seen]
    if rest:
        out.append((t("Other"), rest))
    return out


def write_report(
    out: Path,
    summary: dict,
    results,
    scenario_text: str,
    recommendation: list[str] | None = None,
) -> list[Path]:
    """Write the chart PNGs and ``report.html`` into ``out``; return the paths written.

    ``results`` (a ``montecarlo.Results``, or None) supplies the inventory paths of the fan
    chart and the scenario's start date; ``recommendation`` defaults to the summary's own.
    Every file is written atomically, ``report.html`` last.
    """
    from sim.charts import render_charts
    from sim.plan_report import plan_section

    out = Path(out)
    if results is not None and any("skus" not in st for st in summary["strategies"].values()):
        summary = top_skus(summary, results, MAX_SKUS)  # a large catalog's: skus.csv only
    start = _start_date(results)
    paths = results.inventory_paths() if results is not None else None
    charts = render_charts(summary, paths, start, _profits(results))
    written = []
    for chart in charts:
        write_atomic(out / chart.name, chart.png)
        written.append(out / chart.name)
    if recommendation is None:
        recommendation = summary.get("recommendation")
    page = render_html(summary, charts, scenario_text, recommendation, start, plan_section(results))
    write_atomic(out / REPORT, page)
    written.append(out / REPORT)
    return written


def _profits(results) -> dict | None:
    """Each strategy's profit in every replication (the decision chart), or None."""
    model = getattr(results, "model", None)
    if model is None or results.replications == 0:
        return None
    from sim.metric_names import INDEX

    profit = results.totals[:, :, INDEX["profit"]]
    return {name: profit[:, k] for k, name in enumerate(model.strategy_names)}


def _start_date(results) -> dt.date | None:
    calendar = getattr(getattr(results, "model", None), "calendar", None)
    return getattr(calendar, "start", None)


def e(text) -> str:
    """HTML-escape user text (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def render_html(
    summary: dict,
    charts: list,
    scenario_text: str,
    recommendation: list[str] | None = None,
    start: dt.date | None = None,
    plan: str = "",
) -> str:
    """The text of ``report.html``; ``plan`` the shipment-plan section (``sim.plan_report``)."""
    name = summary["scenario"]["name"]
    sections = [
        _facts(summary, start),
        _recommendation(recommendation),
        _comparison(summary),
        _channels(summary),
        _differences(summary),
        _charts(charts),
        plan,
        _skus(summary),
        _inputs(scenario_text),
        glossary_section(summary),
    ]
    nav = "".join(
        f'<a href="#{sid}">{t(title)}</a>'
        for sid, title in (
            ("recommendation", N_("Recommendation")),
            ("comparison", N_("Strategies")),
            ("channels", N_("Channels")),
            ("differences", N_("Differences")),
            ("charts", N_("Charts")),
            ("plan", N_("Shipment plan")),
            ("skus", N_("SKUs")),
            ("inputs", N_("Inputs")),
            ("glossary", N_("What the numbers mean")),
        )
        if any(f'id="{sid}"' in s for s in sections)
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{language()}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(name)} – {t('fulfilsim report')}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header><p class="kicker">{t("fulfilsim report")}</p><h1>{e(name)}</h1>'
        f'<nav aria-label="{t("Sections")}">{nav}</nav></header>\n'
        + "\n".join(s for s in sections if s)
        + "\n</main>\n</body>\n</html>\n"
    )


def _facts(summary: dict, start: dt.date | None) -> str:
    horizon, warmup = summary["horizon_days"], summary["warmup_days"]
    pct = round(100 * summary["confidence"])
    if start is not None:
        end = start + dt.timedelta(days=horizon - 1)
        horizon_text = t(
            "{days} days, {start} to {end}",
            days=horizon,
            start=start.isoformat(),
            end=end.isoformat(),
        )
    else:
        horizon_text = t("{days} days", days=horizon)
    reps = summary["replications"]
    shown = f"{reps:,}"
    if summary.get("rerun_replication") is not None:
        shown = t("replication {n} alone", n=summary["rerun_replication"])
    rows = [
        (t("Replications"), shown + ("" if summary["complete"] else t(" (interrupted)"))),
        (t("Seed"), str(summary["seed"])),
        (t("Horizon"), horizon_text),
        (t("Warm-up"), t("{days} days, not counted", days=warmup) if warmup else t("none")),
        (t("Counted days"), f"{horizon - warmup}"),
        (t("Confidence"), t("{pct}% (Student t over replications)", pct=pct)),
        (
            t("Strategies"),
            t(
                "{n}, baseline {baseline}",
                n=len(summary["strategies"]),
                baseline=summary.get("baseline", "–"),
            ),
        ),
        (t("Scenario file SHA-256"), summary["scenario"]["sha256"]),
    ]
    if summary.get("uncertain"):
        from sim.uncertain import uncertain_lines

        lines = "; ".join(uncertain_lines(summary))
        rows.append(("Uncertain inputs (drawn once per replication)", lines))
    dl = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in rows)
    warning = ""
    if not summary["complete"] and reps == 0:
        warning = t(
            '<p class="warning" role="alert"><strong>Incomplete run.</strong> The run was '
            "interrupted before any replication finished, so there are no numbers yet.</p>"
        )
    elif not summary["complete"]:
        warning = t(
            '<p class="warning" role="alert"><strong>Incomplete run.</strong> The run was '
            "interrupted after {reps} finished replications; the numbers below use those "
            "only, so the intervals are wider than the scenario asked for.</p>",
            reps=f"{reps:,}",
        )
    elif reps < 2:
        warning = t(
            '<p class="warning" role="alert"><strong>Too few replications for '
            "intervals.</strong> Run at least 2 (better 30 or more) to see how sure the numbers "
            "are.</p>"
        )
    return f'<section id="facts"><h2>{t("Run")}</h2>{warning}<dl class="facts">{dl}</dl></section>'


def _recommendation(lines: list[str] | None) -> str:
    if not lines:
        return ""
    body = "".join(f"<p>{e(line)}</p>" for line in lines)
    return (
        f'<section id="recommendation"><h2>{t("Recommendation")}</h2>'
        f'<div class="recommendation">{body}</div></section>'
    )


def _metric_order(summary: dict) -> list[str]:
    order = list(summary.get("metric_order") or [])
    for strat in summary["strategies"].values():
        order += [m for m in strat["metrics"] if m not in order]
    return order


def _metric_head(metric: str) -> str:
    return f'{e(label_of(metric))}<span class="key">{e(metric)}</span>'


def _comparison(summary: dict) -> str:
    names = list(summary["strategies"])
    pct = round(100 * summary["confidence"])
    base = summary.get("baseline")
    head = "".join(
        f'<th scope="col">{e(n)}'
        + (f' <span class="tag">{t("baseline")}</span>' if n == base else "")
        + "</th>"
        for n in names
    )
    body = []
    for title, metrics in grouped(_metric_order(summary)):
        body.append(
            f'<tr class="group"><th scope="rowgroup" colspan="{len(names) + 1}">'
            f"{e(title)}</th></tr>"
        )
        for m in metrics:
            cells = "".join(
                f"<td>{e(_ci(summary['strategies'][n]['metrics'].get(m), m))}</td>" for n in names
            )
            body.append(
                f'<tr data-metric="{e(m)}"><th scope="row">{_metric_head(m)}</th>{cells}</tr>'
            )
    best = (summary.get("decision") or {}).get("probability_best")
    if best and len(names) > 1:
        cells = "".join(f"<td>{e(_share(best.get(n)))}</td>" for n in names)
        body.append(
            '<tr class="group"><th scope="rowgroup" colspan="'
            f'{len(names) + 1}">{t("Decision")}</th></tr><tr data-metric="probability_best">'
            f'<th scope="row">{t("Most profitable (share of replications)")}</th>'
            f"{cells}</tr>"
        )
    return (
        f'<section id="comparison"><h2>{t("Strategies compared")}</h2><p>'
        + t(
            "Mean over replications ± half-width of the {pct}% confidence interval (a rate's "
            "interval is cut at 0% and 100%, and then shown as [low, high]). Money is "
            "over the {days} counted days.",
            pct=pct,
            days=summary["horizon_days"] - summary["warmup_days"],
        )
        + '</p><div class="wrap"><table class="num">'
        f'<thead><tr><th scope="col">{t("metric")}</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _channels(summary: dict) -> str:
    """Each sales channel's results side by side (only with more than one channel)."""
    rows = channel_breakdown(summary)
    if not rows:
        return ""
    names = list(summary["strategies"])
    head = "".join(f'<th scope="col">{e(n)}</th>' for n in names)
    body, current = [], None
    for channel, metric, stats in rows:
        if channel != current:
            current = channel
            body.append(
                f'<tr class="group"><th scope="rowgroup" colspan="{len(names) + 1}">'
                f"{e(channel)}</th></tr>"
            )
        cells = "".join(f"<td>{e(_ci(st, metric))}</td>" for st in stats)
        body.append(
            f'<tr data-channel="{e(channel)}" data-metric="{e(metric)}">'
            f'<th scope="row">{_metric_head(metric)}</th>{cells}</tr>'
        )
    return (
        f'<section id="channels"><h2>{t("Sales channels")}</h2><p>'
        + t(
            "Each channel's units, service and the costs that fall on it: Amazon's referral and "
            "FBA fees on Amazon orders; the channel's own fees and Multi-Channel Fulfillment fees "
            "(or a seller node's pick, pack and labels) on the others. Storage, freight and fixed "
            "costs are shared and shown only in the strategy totals."
        )
        + "</p>"
        '<div class="wrap"><table class="num">'
        f'<thead><tr><th scope="col">{t("metric")}</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _ci(stat: dict | None, metric: str) -> str:
    if stat is None:
        return "–"
    return fmt_ci(stat, kind_of(metric))


def _share(p: float | None) -> str:
    return "–" if p is None else f"{100 * p:.0f}%"


def _differences(summary: dict) -> str:
    comps = summary.get("comparisons") or []
    if not comps:
        return ""
    pct = round(100 * summary["confidence"])
    order = {m: i for i, m in enumerate(_metric_order(summary))}
    by_strategy: dict[str, list[dict]] = {}
    for c in comps:
        by_strategy.setdefault(c["strategy"], []).append(c)
    tables = []
    for strategy, rows in by_strategy.items():
        rows = sorted(rows, key=lambda c: order.get(c["metric"], len(order)))
        body = []
        by_metric = {c["metric"]: c for c in rows}
        for title, metrics in grouped([c["metric"] for c in rows]):
            body.append(f'<tr class="group"><th scope="rowgroup" colspan="5">{e(title)}</th></tr>')
            for m in metrics:
                c = by_metric[m]
                kind = kind_of(m)
                if c["ci_low"] is None:
                    ci = "–"
                else:
                    ci = f"[{fmt(c['ci_low'], kind)}, {fmt(c['ci_high'], kind)}]"
                reading, cls = _reading(c)
                body.append(
                    f'<tr data-metric="{e(m)}"><th scope="row">{_metric_head(m)}</th>'
                    f"<td>{e(fmt(c['diff_mean'], kind))}</td><td>{e(ci)}</td>"
                    f"<td>{e(_share(c['win_rate']))}</td>"
                    f'<td class="reading {cls}">{e(reading)}</td></tr>'
                )
        baseline = rows[0]["baseline"]
        tables.append(
            f'<h3>{e(strategy)} <span class="vs">{t("minus")}</span> {e(baseline)}</h3>'
            '<div class="wrap"><table class="num diff">'
            f'<thead><tr><th scope="col">{t("metric")}</th>'
            f'<th scope="col">{t("difference")}</th>'
            f'<th scope="col">{t("{pct}% interval", pct=pct)}</th>'
            f'<th scope="col">{t("wins")}</th>'
            f'<th scope="col">{t("reading")}</th></tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )
    return (
        f'<section id="differences"><h2>{t("Paired differences vs the baseline")}</h2>'
        + t(
            "<p>Replication by replication, each strategy faces the same demand and the same "
            "lead and transit times as the baseline (common random numbers), so these intervals "
            "are narrower than comparing the separate intervals above. <em>Wins</em>: the share "
            "of replications in which the strategy did better than the baseline on that "
            "metric.</p>"
        )
        + "".join(tables)
        + "</section>"
    )


def _reading(c: dict) -> tuple[str, str]:
    lo, hi = c["ci_low"], c["ci_high"]
    if lo is None or hi is None or lo <= 0 <= hi:
        return t("no clear difference"), "same"
    higher = lo > 0
    if c["metric"] in NO_DIRECTION:
        return (t("higher"), "same") if higher else (t("lower"), "same")
    better = higher != (c["metric"] in LOWER_IS_BETTER)
    return (t("better"), "better") if better else (t("worse"), "worse")


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return width, height


PHONE = "(max-width: 640px)"  # screens that get the charts' narrow layout


def _charts(charts: list) -> str:
    from sim.charts import PHONE_DPI, chart_language

    if not charts:
        return ""
    figures = []
    for chart in charts:
        width, height = _png_size(chart.png)
        data = base64.b64encode(chart.png).decode("ascii")
        img = (
            f'<img src="data:image/png;base64,{data}" width="{width}" '
            f'height="{height}" alt="{e(chart.alt)}">'
        )
        if chart.phone is not None:  # the narrow layout, drawn at PHONE_DPI / DPI times the size
            pw, ph = _png_size(chart.phone)
            scale = PHONE_DPI / DPI
            narrow = base64.b64encode(chart.phone).decode("ascii")
            img = (
                f'<picture><source media="{PHONE}" srcset="data:image/png;base64,{narrow} '
                f'{scale:g}x" width="{round(pw / scale)}" height="{round(ph / scale)}">'
                f"{img}</picture>"
            )
            cls = ""
        else:
            cls = ' class="wide"'  # no narrow layout: scrolls sideways on a phone
        figures.append(
            f"<figure{cls}>{img}"
            f"<figcaption><strong>{e(chart.title)}.</strong> {e(chart.caption)} "
            f'<span class="file">({e(chart.name)})</span></figcaption></figure>'
        )
    note = ""
    if chart_language() != language():
        note = t(
            '<p class="note">The text inside the charts is in English: no font with Chinese '
            "characters was found on this computer (install one, e.g. fonts-noto-cjk, and run "
            "again).</p>"
        )
    return f'<section id="charts"><h2>{t("Charts")}</h2>' + note + "".join(figures) + "</section>"


def _skus(summary: dict) -> str:
    strategies = summary["strategies"]
    names = list(strategies)
    if not names:
        return ""
    base = summary.get("baseline") if summary.get("baseline") in strategies else names[0]
    skus = list(strategies[base]["skus"])
    for n in names:
        skus += [s for s in strategies[n]["skus"] if s not in skus]
    if not skus:
        return ""
    note = t("All {n} SKUs, in catalogue order.", n=f"{len(skus):,}")
    total = summary.get("sku_total", len(skus))
    if total > MAX_SKUS:

        def demand(sku: str) -> float:
            st = strategies[base]["skus"].get(sku, {}).get("metrics", {}).get("demand_units")
            return -(st["mean"] or 0.0) if st else 0.0

        skus = sorted(skus, key=demand)[:MAX_SKUS]
        note = t(
            "The {shown} SKUs with the most demand of {n}; every SKU is in skus.csv.",
            shown=MAX_SKUS,
            n=f"{total:,}",
        )
    pct = round(100 * summary["confidence"])
    head = "".join(f'<th scope="col">{_metric_head(m)}</th>' for m in SKU_METRICS)
    body = []
    for sku in skus:
        for i, n in enumerate(names):
            metrics = strategies[n]["skus"].get(sku, {}).get("metrics", {})
            cells = "".join(f"<td>{e(_ci(metrics.get(m), m))}</td>" for m in SKU_METRICS)
            first = (
                f'<th scope="rowgroup" rowspan="{len(names)}" class="{_sku_class(sku)}">'
                f"{e(sku)}</th>"
                if i == 0
                else ""
            )
            cls = ' class="first"' if i == 0 else ""
            body.append(f'<tr{cls}>{first}<th scope="row">{e(n)}</th>{cells}</tr>')
    return (
        f'<section id="skus"><h2>{t("Per SKU")}</h2><p>'
        + t("Mean ± half-width of the {pct}% interval, per SKU and strategy.", pct=pct)
        + f" {e(note)}</p>"
        '<div class="wrap"><table class="num skus">'
        f'<thead><tr><th scope="col">{t("SKU")}</th><th scope="col">{t("strategy")}</th>'
        f"{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


LONG_SKU = 20  # characters: a longer SKU id may wrap (at a hyphen, else anywhere in a word)


def _sku_class(sku: str) -> str:
    return "sku long" if len(sku) > LONG_SKU else "sku"


def _inputs(scenario_text: str) -> str:
    return (
        f'<section id="inputs"><h2>{t("Scenario inputs")}</h2>'
        f"<p>{t('The scenario file as run (its SHA-256 is listed under Run).')}</p>"
        f'<pre class="yaml">{e(scenario_text)}</pre></section>'
    )


CSS = """
:root { --ink: #1d2733; --muted: #5b6573; --rule: #d9dde3; --band: #f4f6f8;
  --better: #1e6b3a; --worse: #9b2c2c; --warn-bg: #fff4e5; --warn: #8a4b00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
header { border-bottom: 2px solid var(--ink); margin-bottom: 8px; }
.kicker { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .06em;
  text-transform: uppercase; }
h1 { margin: 2px 0 8px; font-size: 28px; overflow-wrap: anywhere; }
h2 { margin: 32px 0 8px; font-size: 20px; border-bottom: 1px solid var(--rule);
  padding-bottom: 4px; }
h3 { margin: 20px 0 6px; font-size: 16px; overflow-wrap: anywhere; }
h3 .vs { color: var(--muted); font-weight: normal; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 0 0 10px; font-size: 14px; }
nav a { color: var(--muted); }
p { max-width: 80ch; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr));
  gap: 8px 24px; margin: 12px 0; }
.facts div { border-left: 3px solid var(--rule); padding-left: 10px; }
.facts dt { color: var(--muted); font-size: 13px; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.glossary dt { font-weight: 600; } .glossary dd { margin: 0 0 10px; }
.warning { background: var(--warn-bg); color: var(--warn); border-left: 4px solid var(--warn);
  padding: 10px 14px; }
.recommendation { background: var(--band); border-left: 4px solid var(--ink);
  padding: 4px 16px; }
.recommendation p { margin: 10px 0; }
.wrap { overflow-x: auto; max-width: 100%; }
/* a wide table scrolls inside its box; its first column stays in view */
.wrap tbody th[scope="row"]:first-child, .wrap thead th:first-child, table.skus th.sku {
  position: sticky; left: 0; z-index: 1; background: #fff;
  box-shadow: inset -1px 0 0 var(--rule); }
table.skus tbody th[scope="row"] { position: static; box-shadow: none; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--rule); vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); text-align: left; vertical-align: bottom;
  overflow-wrap: anywhere; }
table.num td { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tbody th { text-align: left; font-weight: normal; }
tr.group th { background: var(--band); font-weight: 600; padding-top: 8px; }
.key { display: block; color: var(--muted); font-size: 11.5px; overflow-wrap: anywhere;
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.tag { display: inline-block; font-size: 11px; font-weight: normal; color: var(--muted);
  border: 1px solid var(--rule); border-radius: 3px; padding: 0 4px; }
td.reading { text-align: left; }
td.better { color: var(--better); font-weight: 600; }
td.worse { color: var(--worse); font-weight: 600; }
td.same { color: var(--muted); }
table.skus th.sku { font-weight: 600; white-space: nowrap; }
table.skus th.sku.long { white-space: normal; overflow-wrap: break-word; min-width: 12ch;
  max-width: 20ch; }
table.skus tr.first > * { border-top: 2px solid var(--rule); }
figure { margin: 16px 0 28px; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; max-width: 100ch; }
.file { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 13.5px; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  main { padding: 14px 12px 32px; }
  h1 { font-size: 22px; }
  h2 { font-size: 18px; }
  .facts { grid-template-columns: 1fr; }
  table { font-size: 13px; }
  th, td { padding: 4px 6px; }
  .wrap tbody th[scope="row"]:first-child { min-width: 8.5em; }
  figure.wide { overflow-x: auto; }
  figure.wide img { max-width: none; }
  figure.wide figcaption { position: sticky; left: 0; max-width: calc(100vw - 24px); }
}
pre.yaml { background: var(--band); border: 1px solid var(--rule); padding: 12px 14px;
  font-size: 12.5px; line-height: 1.4; overflow-x: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  table { font-size: 8.5pt; }
  thead { display: table-header-group; }
  tr, figure, .facts div { break-inside: avoid; page-break-inside: avoid; }
  .wrap { overflow: visible; }
  pre.yaml { font-size: 8pt; white-space: pre-wrap; }
  .recommendation, tr.group th, pre.yaml { -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
}
"""
