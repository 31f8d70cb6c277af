"""Every bundled scenario validates and runs (so the examples never rot)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import montecarlo
from sim.loader import load_scenario
from sim.metric_names import INDEX
from sim.model import compile_scenario
from tests.helpers import ROOT

BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_there_are_bundled_scenarios():
    assert any(p.name == "starter.yaml" for p in BUNDLED)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenario_runs(path):
    loaded = load_scenario(path)
    text = path.read_text()
    assert text.lstrip().startswith("#"), (
        "each bundled scenario opens with a comment saying what it answers"
    )
    sc = loaded.scenario.model_copy(update={"replications": 3})
    res = montecarlo.run(compile_scenario(sc), workers=1)
    assert res.complete and res.replications == 3
    demand = res.totals[:, :, INDEX["demand_units"]]
    assert (demand > 0).all()
    sold = res.totals[:, :, INDEX["sold_units"]]
    lost = res.totals[:, :, INDEX["lost_units"]]
    assert (sold <= demand).all() and (lost <= demand).all()
    assert np.isfinite(res.totals[:, :, INDEX["profit"]]).all()


# --------------------------------------------------------------------------- pinned figures

# The figures each bundled scenario's header comment reports ("What the run shows"), as the
# header writes them, for the replications (and seed) the header says they were measured at:
# {file: (replications, {strategy: {metric: figure}})}. A figure's form sets its rounding:
# "$423.2k" is thousands of dollars to 1 decimal, "97.0%" a rate to 0.1 point, "1,137" a count
# (mean over replications) to a whole number, "~430" to its last non-zero digit. When a header is re-measured, update this table
# with it (test_pinned_figures_are_the_headers checks that they agree).
PINNED = {
    "mcf-vs-own-warehouse.yaml": (
        100,
        {
            "web-via-mcf": {
                "profit": "$119.6k",
                "total_cost": "$149.2k",
                "cost_mcf": "$17.8k",
                "fill_rate": "97.5%",
                "on_time_rate": "97.9%",
            },
            "web-from-own-warehouse": {
                "profit": "$112.2k",
                "total_cost": "$158.0k",
                "cost_fulfillment": "$53.6k",
                "fill_rate": "98.0%",
                "on_time_rate": "88.8%",
            },
            "web-from-3pl": {
                "profit": "$114.1k",
                "total_cost": "$156.1k",
                "cost_fulfillment": "$57k",
                "fill_rate": "98.0%",
                "on_time_rate": "88.8%",
            },
        },
    ),
    "awd-vs-3pl.yaml": (
        100,
        {
            "direct-to-fba": {"profit": "$29.9k", "fill_rate": "55.2%", "on_time_rate": "97.0%"},
            "awd-auto": {
                "profit": "$37.5k",
                "fill_rate": "100.0%",
                "on_time_rate": "97.0%",
                "cost_transfer": "$12.4k",
                "cost_receiving": "$3.0k",
                "cost_storage": "$9.1k",
            },
            "3pl-feeds-fba": {
                "profit": "$32.5k",
                "fill_rate": "100.0%",
                "cost_transfer": "$15.9k",
                "cost_storage": "$8.4k",
            },
        },
    ),
    "abc-split.yaml": (
        100,
        {
            "all-fba": {
                "profit": "$423.2k",
                "on_time_rate": "97.0%",
                "fill_rate": "99.9%",
                "account_health_breach_rate": "0%",
                "cost_aged_inventory": "$7.4k",  # all of it on the two C items
            },
            "abc-split": {
                "profit": "$422.6k",
                "on_time_rate": "97.0%",
                "fill_rate": "99.9%",
                "account_health_breach_rate": "100%",
            },
            "all-3pl": {
                "profit": "$177.8k",
                "on_time_rate": "98.6%",
                "fill_rate": "99.9%",
                "account_health_breach_rate": "0%",
            },
        },
    ),
    "catalog-50.yaml": (
        40,
        {
            "all-fba": {
                "profit": "$267.8k",
                "fill_rate": "99.3%",
                "account_health_breach_rate": "0%",
            },
            "all-home": {"profit": "$198.7k", "fill_rate": "99.6%"},
            "fba-with-home-backup": {
                "profit": "$243.3k",
                "fill_rate": "100.0%",
                "account_health_breach_rate": "77.5%",
            },
        },
    ),
    "bulky-3pl-feeds-fba.yaml": (
        150,
        {
            "direct-to-fba": {
                "profit": "$40.5k",
                "fill_rate": "98.6%",
                "on_time_rate": "97.0%",
                "cost_storage": "$13.9k",
                "cost_aged_inventory": "$5.9k",
                "account_health_breach_rate": "0%",
            },
            "3pl-feeds-fba": {
                "profit": "$26.9k",
                "fill_rate": "100.0%",
                "on_time_rate": "97.0%",
                "cost_transfer": "$16.1k",
                "cost_receiving": "$1.3k",
                "cost_fixed": "$2.9k",
                "cost_storage": "$14.5k",
                "account_health_breach_rate": "0%",
            },
            "3pl-ships-direct": {
                "profit": "$0.5k",
                "fill_rate": "99.9%",
                "on_time_rate": "98.6%",
                "account_health_breach_rate": "0%",
            },
        },
    ),
    "fba-claim-check.yaml": (
        100,
        {
            # profits: the sweep's point at 30 a day, which is the file's own demand
            "fbm": {
                "profit": "$103.5k",
                "on_time_rate": "90.3%",
                "account_health_breach_rate": "100%",
                "account_health_breach_days": "122",
            },
            "fba": {"profit": "$104.6k", "on_time_rate": "97%"},
        },
    ),
    "fba-migration.yaml": (
        200,
        {
            "fbm-only": {
                "profit": "$18.3k",
                "on_time_rate": "95.6%",
                "fill_rate": "99.5%",
                "account_health_breach_rate": "3%",
            },
            "fba-only": {
                "profit": "$44.1k",
                "on_time_rate": "97.0%",
                "fill_rate": "97.8%",
                "lost_units": "138",
                "cost_low_inventory": "$3.0k",
            },
            "fba-with-home-backup": {
                "profit": "$22.6k",
                "on_time_rate": "97.0%",
                "fill_rate": "99.99%",
                "account_health_breach_rate": "1.5%",
                "cost_fixed": "$18.2k",
                "cost_transfer": "$2.9k",
                "cost_low_inventory": "$5.9k",
            },
        },
    ),
    "q4-peak.yaml": (
        200,
        {
            "lean-fba": {
                "profit": "$41.0k",
                "fill_rate": "79.7%",
                "on_time_rate": "97.0%",
                "lost_units": "1,137",
                "account_health_breach_rate": "0%",
            },
            "prestocked-fba": {
                "profit": "$52.5k",
                "fill_rate": "100.0%",
                "on_time_rate": "97.0%",
                "cost_storage": "$3.9k",
                "account_health_breach_rate": "0%",
            },
            "fba-3pl-backup": {
                "profit": "$44.9k",
                "fill_rate": "100.0%",
                "on_time_rate": "96.9%",
                "cost_transfer": "$3.7k",
                "cost_low_inventory": "$3.8k",
                "account_health_breach_rate": "59%",
            },
            "forecast-fba": {
                "profit": "$52.4k",
                "fill_rate": "96.2%",
                "on_time_rate": "97.0%",
                "lost_units": "~214",
                "cost_storage": "$1.5k",
                "account_health_breach_rate": "0%",
            },
        },
    ),
    "starter.yaml": (
        200,
        {
            "fba-only": {"profit": "$44.5k"},
            "fbm-only": {"profit": "$41.4k"},
            "fba-with-home-backup": {"profit": "$44.2k"},
            "fba-forecast": {"profit": "$44.0k"},
        },
    ),
    "sfp-vs-fba.yaml": (
        150,
        {
            "fba": {
                "profit": "$235.2k",
                "on_time_rate": "97.0%",
                "fill_rate": "96.6%",
                "lost_units": "~630",
                "revenue": "$503k",
                "account_health_breach_rate": "0%",
            },
            "sfp": {
                "profit": "$141.4k",
                "on_time_rate": "99.0%",
                "fill_rate": "97.2%",
                "lost_units": "~520",
                "late_shipment_rate": "0.1%",
                "badge_lost_days": "0",
                "sfp_breach_rate": "0%",
                "account_health_breach_rate": "18.7%",
                "breach_late_shipment_10d": "18.7%",
                "breach_late_shipment_30d": "0.7%",
                "revenue": "$506k",
            },
            "fbm": {
                "profit": "$138.8k",
                "on_time_rate": "95.7%",
                "fill_rate": "97.2%",
                "revenue": "$375k",
                "account_health_breach_rate": "0.7%",
            },
        },
    ),
}


def shown(value: float, like: str) -> str:
    """``value`` written the way the header writes ``like`` (same unit and decimals)."""
    if like.startswith("~"):  # rounded to the last non-zero digit: "~430" to tens
        places = len(like) - len(like.rstrip("0"))
        return "~" + f"{round(value, -places):,.0f}"
    decimals = len(like.rstrip("k%").split(".")[1]) if "." in like else 0
    if like.startswith("$") and like.endswith("k"):
        return f"${value / 1000:,.{decimals}f}k"
    if like.endswith("%"):
        return f"{100 * value:.{decimals}f}%"
    return f"{value:,.{decimals}f}"


def test_shown_rounds_like_the_header():
    assert shown(423181.49, "$423.2k") == "$423.2k"
    assert shown(502933.5, "$503k") == "$503k"
    assert shown(0.96995, "97.0%") == "97.0%"
    assert shown(0.999941, "99.99%") == "99.99%"
    assert shown(0.57, "57%") == "57%"
    assert shown(1136.58, "1,137") == "1,137"
    assert shown(12.4, "12.4") == "12.4"
    assert shown(429.09, "~430") == "~430"


def header(path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def test_pinned_figures_are_the_headers():
    """Every pinned figure is written in its scenario's header, with the replications it was
    measured at; every pinned replication count is the file's own."""
    assert set(PINNED) <= {p.name for p in BUNDLED}
    for name, (reps, strategies) in PINNED.items():
        path = ROOT / "scenarios" / name
        text = header(path)
        assert f"{reps} replications" in text, name
        assert load_scenario(path).scenario.replications == reps, name
        for strategy, figures in strategies.items():
            assert strategy in text, (name, strategy)
            for metric, figure in figures.items():
                assert figure in text, (name, strategy, metric, figure)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_bundled_scenario_reproduces_its_header(name):
    """Run the scenario as shipped (its seed and replications) and compare each strategy's mean
    over replications, rounded as the header rounds it, with the header's figure."""
    reps, strategies = PINNED[name]
    sc = load_scenario(ROOT / "scenarios" / name).scenario
    model = compile_scenario(sc)
    res = montecarlo.run(model, workers=1)
    assert res.replications == reps
    wrong = []
    for strategy, figures in strategies.items():
        s = model.strategy_names.index(strategy)
        for metric, figure in figures.items():
            mean = float(np.nanmean(res.totals[:, s, INDEX[metric]]))
            if shown(mean, figure) != figure:
                wrong.append(f"{strategy} {metric}: header {figure}, run {shown(mean, figure)}")
    assert not wrong, "\n".join(wrong)
