"""What a new seller reads: --precision that says when it gave up, the glossary (run --explain,
the report's "What the numbers mean"), and small wording fixes (no -0.0%, singular counts, the
rerun replication named, no interval sentence from one replication, no "wins" between equals)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats as st

from sim.cli import cli, count
from sim.glossary import entries
from sim.report import label_of
from sim.stats import paired
from sim.table import fmt
from tests.helpers import ROOT, scenario

TERMS = [
    "mean ± half-width",
    "paired difference",
    "wins",
    "cycle service level",
    "fill rate",
    "counted days",
]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def two_strategies(tmp_path):
    """The helpers' scenario with a second strategy that differs only in its level."""
    d = scenario(replications=10)
    other = json.loads(json.dumps(d["strategies"][0]))
    other["name"] = "lean"
    other["replenish"]["wh"]["policy"]["level"] = {"A": 10, "B": 4}
    d["strategies"].append(other)
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


# --------------------------------------------------------------------------- --precision


def half_widths(out, metric="profit", confidence=0.95) -> dict[str, float]:
    """Each strategy's interval half-width on ``metric``, recomputed from replications.csv."""
    with open(out / "replications.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by: dict[str, list[float]] = {}
    for row in rows:
        by.setdefault(row["strategy"], []).append(float(row[metric]))
    out = {}
    for name, values in by.items():
        x = np.array(values)
        t = st.t.ppf(0.5 + confidence / 2, len(x) - 1)
        out[name] = t * x.std(ddof=1) / np.sqrt(len(x))
    return out


def test_precision_not_reached_says_so_and_records_it(two_strategies, tmp_path):
    out = tmp_path / "o"
    done = invoke(
        "run", two_strategies, "--precision", "profit=0.01", "--max-reps", "30",
        "--out", out, "--no-report", "--workers", "1",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text())
    p = summary["precision"]
    widest = max(half_widths(out).values())
    assert summary["replications"] == 30  # the cap stopped it
    assert p == {
        "metric": "profit",
        "target": 0.01,
        "reached": False,
        "half_width": pytest.approx(widest, rel=1e-9),
    }
    [line] = [s for s in done.stderr.splitlines() if s.startswith("precision:")]
    assert line.startswith(
        "precision: NOT reached: --max-reps 30 stopped the run before every strategy's profit "
        "interval was within ± $0.01; the widest is ± "
    )
    assert "after 30 replications" in line
    shown = line.split("the widest is ± ")[1].split(" after")[0]
    assert shown == fmt(widest, "money")


def test_precision_reached_is_recorded_too(two_strategies, tmp_path):
    out = tmp_path / "o"
    done = invoke(
        "run", two_strategies, "--precision", "fill_rate=0.5", "--out", out, "--no-report",
        "--workers", "1",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    p = json.loads((out / "summary.json").read_text())["precision"]
    assert p["reached"] is True and p["metric"] == "fill_rate" and p["target"] == 0.5
    assert p["half_width"] == pytest.approx(max(half_widths(out, "fill_rate").values()))
    assert p["half_width"] <= 0.5
    assert "precision: every strategy's fill_rate interval is within ± 0.5" in done.stderr


def test_no_precision_key_without_precision(two_strategies, tmp_path):
    out = tmp_path / "o"
    assert invoke("run", two_strategies, "--out", out, "--no-report").exit_code == 0
    assert "precision" not in json.loads((out / "summary.json").read_text())


# --------------------------------------------------------------------------- glossary


def test_run_explain_prints_the_glossary_with_this_runs_numbers(two_strategies, tmp_path):
    done = invoke("run", two_strategies, "--explain", "--out", tmp_path / "o", "--no-report")
    assert done.exit_code == 0
    text = done.stdout.split("What the numbers mean:\n")[1]
    for term in TERMS:
        assert f"\n- {term}: " in "\n" + text
    assert "95% confidence interval" in text
    assert "all 56 simulated days (no warm-up)" in text  # the helpers' 56-day horizon
    plain = invoke("run", two_strategies, "--out", tmp_path / "p", "--no-report")
    assert "What the numbers mean" not in plain.stdout


def test_glossary_counts_the_warm_up():
    summary = {"confidence": 0.9, "horizon_days": 392, "warmup_days": 56}
    text = dict(entries(summary))
    assert [t for t, _ in entries(summary)] == TERMS
    assert text["counted days"].startswith("the 336 simulated days after the 56-day warm-up")
    assert "90% confidence interval" in text["mean ± half-width"]


def test_the_report_has_the_glossary_section(two_strategies, tmp_path):
    out = tmp_path / "o"
    assert invoke("run", two_strategies, "--out", out).exit_code == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<a href="#glossary">What the numbers mean</a>' in page
    section = page.split('<section id="glossary">')[1].split("</section>")[0]
    for term in TERMS:
        assert f"<dt>{term}</dt>" in section


# --------------------------------------------------------------------------- wording


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (-0.0004, "pct", "0.0%"),  # rounds to zero: no sign
        (-0.0006, "pct", "-0.1%"),
        (-0.004, "money", "$0.00"),
        (-0.006, "money", "-$0.01"),
        (-0.001, "units", "0.00"),
        (-0.0001, "days", "0.00"),
        (0.0, "pct", "0.0%"),
    ],
)
def test_no_minus_zero(value, kind, text):
    assert fmt(value, kind) == text


def test_counts_are_singular_for_one():
    assert [count(1, "node"), count(2, "node"), count(1, "strategy"), count(3, "strategy")] == [
        "1 node",
        "2 nodes",
        "1 strategy",
        "3 strategies",
    ]
    assert count(365, "day") == "365 days"


def test_validate_says_1_node(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(scenario(replications=1), sort_keys=False))
    done = invoke("validate", path)
    assert done.stdout.strip() == "ok: test: 2 SKUs, 1 node, 1 strategy, 1 replication × 56 days"


def test_orders_shipped_is_counted_in_orders():
    assert label_of("orders_shipped") == "Orders shipped (orders)"
    assert label_of("sold_units") == "Units sold (units)"


def test_equal_in_every_replication_has_no_wins():
    same = np.array([3.0, 1.0, 2.0])
    assert paired(same, same.copy(), 0.95, lower_is_better=False).win_rate is None
    # one replication apart: wins are counted again (a tie is not a win)
    assert paired(same + np.array([0, 0, 1]), same, 0.95, lower_is_better=False).win_rate == 1 / 3


def test_table_shows_no_wins_between_equals(two_strategies, tmp_path):
    done = invoke("run", two_strategies, "--out", tmp_path / "o", "--no-report")
    rows = [s for s in done.stdout.splitlines() if s.startswith("lean ")]
    health = [r for r in rows if "account_health_breach_rate" in r]
    assert health and health[0].rstrip().endswith("–")  # no seller-fulfilled breach at all
    assert any(r.rstrip().endswith("%") for r in rows)  # profit differs: its wins are shown


def test_one_replication_gives_no_interval_sentence(two_strategies, tmp_path):
    out = tmp_path / "o"
    done = invoke("run", two_strategies, "--reps", "1", "--out", out, "--no-report")
    assert done.exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    first = summary["recommendation"][0]
    assert "in this single replication; one replication gives no interval" in first
    assert "interval (" not in first and "includes 0" not in first
    assert "1 replication × 56 counted days" in done.stdout


def test_rerun_replication_is_named(two_strategies, tmp_path):
    out = tmp_path / "o"
    done = invoke("run", two_strategies, "--replication", "7", "--out", out)
    assert done.exit_code == 0
    assert done.stdout.startswith("test: replication 7 alone (its numbers in a full run) × 56")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rerun_replication"] == 7 and summary["replications"] == 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<dd>replication 7 alone</dd>" in page


def test_readme_is_the_reference_for_these_words():
    """The README documents --explain, --estimate and the precision record."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for word in ("`--explain`", "`--estimate`", '"precision"'):
        assert word in text, word
