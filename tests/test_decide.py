"""The decision numbers and the recommendation text, on constructed replication results."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sst

from sim.decide import decision, recommend
from sim.metric_names import INDEX, METRICS
from sim.stats import interval


def totals_for(profits: dict[str, list[float]], **extra: dict[str, list[float]]) -> np.ndarray:
    """(reps, strategies, metrics) with the given profit per replication; other metrics 0 unless
    ``extra`` gives them (metric -> {strategy: values})."""
    names = list(profits)
    reps = len(next(iter(profits.values())))
    out = np.zeros((reps, len(names), len(METRICS)))
    for s, name in enumerate(names):
        out[:, s, INDEX["profit"]] = profits[name]
        out[:, s, INDEX["revenue"]] = profits[name]
    for metric, per in extra.items():
        for s, name in enumerate(names):
            out[:, s, INDEX[metric]] = per.get(name, 0.0)
    return out


def summary_for(totals: np.ndarray, names: list[str], confidence=0.95) -> dict:
    """The parts of summary.json that ``recommend`` reads."""
    strategies = {
        name: {
            "metrics": {
                m: interval(totals[:, s, k], confidence).to_dict() for k, m in enumerate(METRICS)
            }
        }
        for s, name in enumerate(names)
    }
    return {
        "confidence": confidence,
        "horizon_days": 365,
        "warmup_days": 0,
        "strategies": strategies,
        "decision": decision(totals, names, confidence),
    }


def test_clear_winner():
    rng = np.random.default_rng(1)
    base = rng.normal(10_000, 500, 50)
    totals = totals_for({"fbm": base, "fba": base + 800 + rng.normal(0, 50, 50)})
    d = decision(totals, ["fbm", "fba"], 0.95)
    assert d["best"] == "fba" and d["runner_up"] == "fbm"
    assert d["probability_best"] == {"fbm": 0.0, "fba": 1.0}
    diff = totals[:, 1, INDEX["profit"]] - totals[:, 0, INDEX["profit"]]
    lo, hi = sst.t.interval(0.95, 49, loc=diff.mean(), scale=sst.sem(diff))
    got = d["difference"]
    assert (got["mean"], got["ci_low"], got["ci_high"]) == pytest.approx(
        (diff.mean(), lo, hi), rel=1e-12
    )
    assert got["std"] == pytest.approx(diff.std(ddof=1), rel=1e-12)
    assert d["difference"]["win_rate"] == 1.0
    assert d["replications_needed"] is None
    text = recommend(summary_for(totals, ["fbm", "fba"]))
    assert text[0].startswith("Choose fba: it makes $")
    assert "more profit than fbm" in text[0] and "100% of the replications" in text[0]
    assert not any("Run about" in line for line in text)


def test_tie_says_too_close_and_asks_for_more_replications():
    """Mean difference 5 with sd 100 per replication over 40: the interval holds 0; to exclude
    it, n ≥ (t·sd/mean)² with t = t(0.975, 39) ≈ 2.0227: ⌈(2.0227·100/5)²⌉ ≈ 1,637 replications
    (computed exactly from the replications' own mean and sd)."""
    rng = np.random.default_rng(2)
    base = rng.normal(10_000, 500, 40)
    noise = rng.normal(0, 1, 40)
    noise = (noise - noise.mean()) / noise.std(ddof=1) * 100  # exactly mean 0, sd 100
    totals = totals_for({"a": base, "b": base + 5 + noise})
    d = decision(totals, ["a", "b"], 0.95)
    assert d["best"] == "b"
    assert d["difference"]["ci_low"] < 0 < d["difference"]["ci_high"]
    diff = totals[:, 1, INDEX["profit"]] - totals[:, 0, INDEX["profit"]]
    expected = math.ceil((sst.t.ppf(0.975, 39) * diff.std(ddof=1) / diff.mean()) ** 2)
    assert expected == 1637
    assert d["replications_needed"] == expected
    text = recommend(summary_for(totals, ["a", "b"]))
    assert "too close to call" in text[0]
    assert "Run about" in text[1] and "--reps" in text[1]


def test_exact_tie_has_no_replication_estimate():
    same = [100.0, 200.0, 300.0]
    totals = totals_for({"a": same, "b": same})
    d = decision(totals, ["a", "b"], 0.95)
    assert d["probability_best"] == {"a": 0.5, "b": 0.5}  # ties shared
    assert d["replications_needed"] is None
    assert "too close to call" in recommend(summary_for(totals, ["a", "b"]))[0]


def test_probability_best_among_three():
    totals = totals_for({"a": [3, 1, 1, 1], "b": [2, 3, 1, 2], "c": [1, 2, 3, 3]})
    d = decision(totals, ["a", "b", "c"], 0.95)
    assert d["probability_best"] == {"a": 0.25, "b": 0.25, "c": 0.5}
    assert d["best"] == "c" and d["runner_up"] == "b"  # means 2.25 vs 2.0 vs 1.5


def test_cost_drivers_name_the_lines_that_move_profit():
    totals = totals_for(
        {"fbm": [100.0, 110.0, 90.0], "fba": [300.0, 310.0, 290.0]},
        cost_fixed={"fbm": [400.0] * 3},
        cost_fulfillment={"fba": [150.0] * 3},
    )
    d = decision(totals, ["fbm", "fba"], 0.95)
    lines = {x["line"]: x["profit_effect"] for x in d["cost_drivers"]}
    assert lines["cost_fixed"] == pytest.approx(400)
    assert lines["cost_fulfillment"] == pytest.approx(-150)
    text = recommend(summary_for(totals, ["fbm", "fba"]))
    assert "fixed cost (+$400)" in text[-1] and "fulfillment cost (−$150)" in text[-1]


def test_single_strategy_and_no_replications():
    totals = totals_for({"only": [1.0, 2.0]})
    assert "Only one strategy" in recommend(summary_for(totals, ["only"]))[0]
    empty = np.zeros((0, 2, len(METRICS)))
    s = summary_for(empty, ["a", "b"])
    assert recommend(s) == ["No replication finished, so there is nothing to recommend yet."]


def test_a_winner_that_breaks_account_health_is_flagged():
    totals = totals_for(
        {"fbm": [110.0, 120.0, 115.0], "fba": [100.0, 105.0, 102.0]},
        account_health_breach_rate={"fbm": [1.0, 1.0, 0.0]},
    )
    text = recommend(summary_for(totals, ["fbm", "fba"]))
    assert text[0].startswith("Choose fbm")
    warning = [line for line in text if line.startswith("Warning: fbm")]
    assert warning and "67%" in warning[0] and "fba stays within the limits" in warning[0]


def test_the_warning_names_the_targets_that_broke_and_sfp_is_apart():
    """Account health: fbm broke the 10-day late-shipment target in 2 of 3 replications and
    the cancellation target in 1 of 3 (worst first). SFP: the badge was lost in 1 of 3, 4 days
    on average: a note of its own, not an account-health warning."""
    totals = totals_for(
        {"fbm": [110.0, 120.0, 115.0], "fba": [100.0, 105.0, 102.0]},
        account_health_breach_rate={"fbm": [1.0, 1.0, 0.0]},
        breach_late_shipment_10d={"fbm": [1.0, 1.0, 0.0]},
        breach_cancel_7d={"fbm": [0.0, 1.0, 0.0]},
        sfp_breach_rate={"fbm": [0.0, 0.0, 1.0]},
        badge_lost_days={"fbm": [0.0, 0.0, 12.0]},
    )
    text = recommend(summary_for(totals, ["fbm", "fba"]))
    (warning,) = [line for line in text if line.startswith("Warning: fbm")]
    assert (
        "(late shipments ≥ 4 % over 10 days in 67%; cancellations ≥ 2.5 % over 7 days in 33%)"
        in warning
    )
    (note,) = [line for line in text if line.startswith("Note: fbm")]
    assert "Seller Fulfilled Prime badge in 33% of the replications (4.00 days" in note
    assert "not an account-health breach" in note
    assert "SFP badge lost in 33.3% vs 0.0% of replications" in text[1]


def test_no_sfp_note_without_a_badge_loss():
    totals = totals_for({"fbm": [110.0, 120.0, 115.0], "fba": [100.0, 105.0, 102.0]})
    text = recommend(summary_for(totals, ["fbm", "fba"]))
    assert not any("Seller Fulfilled Prime" in line or "SFP" in line for line in text)
