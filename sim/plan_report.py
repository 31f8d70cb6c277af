"""The report's shipment-plan section (``report.html``, ``id="plan"``), from ``sim.plan``.

For each strategy and lane, one row per ISO week with an order: the units of the SKUs with the
most demand (at most ``PLAN_SKUS``) as median and 10–90% range over the replications kept, and
the week they arrive; then the units at FBA on each November 1. Every row is in ``plan.csv``.
"""

from __future__ import annotations

import html

from sim.i18n import t
from sim.plan import plan_rows

PLAN_SKUS = 5  # SKU columns per lane table (the most demanded; all SKUs in plan.csv)
FBA_SKUS = 20  # SKU rows of the November 1 table


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _units(row: dict) -> str:
    return f"{row['units_median']:,.0f} ({row['units_p10']:,.0f}–{row['units_p90']:,.0f})"


def plan_section(results) -> str:
    """The HTML section, or "" when the run kept no plan."""
    if results is None or not getattr(results, "plan", None):
        return ""
    model = results.model
    top = list(model.path_skus[:PLAN_SKUS]) or list(range(min(PLAN_SKUS, len(model.catalog.ids))))
    fba_skus = sorted(set(top) | set(range(min(FBA_SKUS, len(model.catalog.ids)))))[:FBA_SKUS]
    orders: dict[tuple[str, str], dict[tuple[str, str], dict]] = {}
    stock: dict[str, dict[tuple[str, str, str], dict]] = {}
    for row in plan_rows(model, results.plan, sorted(set(top) | set(fba_skus))):
        if row["kind"] == "order":
            if model.catalog.ids.index(row["sku"]) in top:
                orders.setdefault((row["strategy"], row["lane"]), {})[(row["week"], row["sku"])] = (
                    row
                )
        else:
            stock.setdefault(row["strategy"], {})[(row["date"], row["sku"], row["kind"])] = row
    kept = results.plan.kept(0)
    ids = [model.catalog.ids[j] for j in top]
    parts = []
    for strategy in model.strategy_names:
        lanes = [(lane, rows) for (s, lane), rows in orders.items() if s == strategy]
        tables = []
        for lane, rows in lanes:
            weeks = list(dict.fromkeys(week for week, _ in rows))
            head = "".join(f'<th scope="col">{_e(sku)}</th>' for sku in ids)
            body = []
            for week in weeks:
                cells = [rows.get((week, sku)) for sku in ids]
                arrive = next((c["arrival_week"] for c in cells if c), "")
                date = next((c["date"] for c in cells if c), "")
                tds = "".join(f"<td>{_e(_units(c)) if c else ''}</td>" for c in cells)
                body.append(
                    f'<tr><th scope="row">{_e(week)} <span class="file">{_e(date)}</span></th>'
                    f"{tds}<td>{_e(arrive)}</td></tr>"
                )
            tables.append(
                f"<h4>{_e(lane)}</h4>"
                '<div class="wrap"><table class="num plan">'
                f'<thead><tr><th scope="col">{t("order week")}</th>{head}'
                f'<th scope="col">{t("arrives")}</th></tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>"
            )
        at_fba = stock.get(strategy, {})
        if at_fba:
            dates = list(dict.fromkeys(d for d, _, _ in at_fba))
            body = []
            for date in dates:
                for j in fba_skus:
                    sku = model.catalog.ids[j]
                    on = at_fba.get((date, sku, "fba_on_hand"))
                    both = at_fba.get((date, sku, "fba_on_hand_in_transit"))
                    if on is None:
                        continue
                    body.append(
                        f'<tr><th scope="row">{_e(date)}</th><th scope="row">{_e(sku)}</th>'
                        f"<td>{_e(_units(on))}</td><td>{_e(_units(both))}</td></tr>"
                    )
            tables.append(
                f"<h4>{t('At FBA on November 1')}</h4>"
                '<div class="wrap"><table class="num plan">'
                f'<thead><tr><th scope="col">{t("date")}</th><th scope="col">{t("SKU")}</th>'
                f'<th scope="col">{t("on hand")}</th>'
                f'<th scope="col">{t("on hand + on the way")}</th></tr>'
                f"</thead><tbody>{''.join(body)}</tbody></table></div>"
            )
        if tables:
            parts.append(f"<h3>{_e(strategy)}</h3>" + "".join(tables))
    if not parts:
        return ""
    more = len(model.catalog.ids) > len(top)
    return (
        f'<section id="plan"><h2>{t("Shipment plan")}</h2><p>'
        + t(
            "Units each strategy orders on each lane, by ISO week of the order (its Monday "
            "shown), as median (10–90% range) over {kept} replications, and the ISO week they "
            "arrive (join stock, check-in included; the median over replications). Then the "
            "units at FBA at the start of November 1 (the end of October 31), without and with "
            "the units already on their way. Counted days only (after the warm-up). ",
            kept=f"{kept:,}",
        )
        + (
            t(
                "Only the SKUs with the most demand are shown; every lane, SKU and week is in plan.csv."
            )
            if more
            else t("Every lane, SKU and week is in plan.csv.")
        )
        + "</p>"
        + "".join(parts)
        + "</section>"
    )
