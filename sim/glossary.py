"""Plain words for the numbers fulfilsim prints: ``run --explain`` and the report's section
"What the numbers mean". One list of entries, filled in with the run's own confidence level
and counted days, so the terminal and the report say the same thing."""

from __future__ import annotations

import html

from sim.i18n import N_, t

TITLE = N_("What the numbers mean")


def entries(summary: dict) -> list[tuple[str, str]]:
    """(term, explanation) pairs for this run, in the current language."""
    pct = round(100 * summary["confidence"])
    horizon, warmup = summary["horizon_days"], summary["warmup_days"]
    counted = horizon - warmup
    warm = (
        t(
            "the {counted} simulated days after the {warmup}-day warm-up (which fills the "
            "pipeline and is not counted)",
            counted=counted,
            warmup=warmup,
        )
        if warmup
        else t("all {counted} simulated days (no warm-up)", counted=counted)
    )
    return [
        (
            t("mean ± half-width"),
            t(
                "the average over the replications (independent simulated runs of the same "
                "period), and the half-width of its {pct}% confidence interval: if the "
                "scenario's inputs are right, an interval made this way (mean minus to mean plus "
                "the half-width) holds the long-run average in {pct} of 100 runs. Four times the "
                "replications halve it. A rate's interval is cut at 0% and 100% and then shown "
                "as [low, high].",
                pct=pct,
            ),
        ),
        (
            t("paired difference"),
            t(
                "strategy minus baseline, replication by replication: in replication i both "
                "faced the same customers and the same lead times (common random numbers), so "
                "luck cancels out and the difference's interval is much narrower than the two "
                "separate intervals suggest."
            ),
        ),
        (
            t("wins"),
            t(
                "the share of replications in which the strategy did better than the baseline "
                "on that metric (more profit, less cost, fewer lost units…); a tie is not a win, "
                "and '–' means the two were equal in every replication."
            ),
        ),
        (
            t("cycle service level"),
            t(
                "the share of SKU-days on which all of the day's demand was served from stock "
                "on hand (a day short by one unit counts as a miss)."
            ),
        ),
        (
            t("fill rate"),
            t(
                "units served from stock on the day they were ordered, divided by units "
                "ordered (a day short by one unit of a hundred still fills 99%)."
            ),
        ),
        (
            t("counted days"),
            t("{warm}; every total, rate and cost covers these days only.", warm=warm),
        ),
    ]


def glossary_text(summary: dict) -> str:
    """The glossary for the terminal (``run --explain``)."""
    from sim.table import bullet

    terms = (bullet(f"{term}: {text}") for term, text in entries(summary))
    return "\n".join([t("{title}:", title=t(TITLE)), *terms])


def glossary_section(summary: dict) -> str:
    """The glossary as a section of ``report.html``."""
    items = "".join(
        f"<div><dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd></div>"
        for term, text in entries(summary)
    )
    return f'<section id="glossary"><h2>{t(TITLE)}</h2><dl class="glossary">{items}</dl></section>'
