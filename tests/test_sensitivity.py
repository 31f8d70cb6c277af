"""The ``sensitivity`` command: one input at a time on common random numbers, flips, defaults."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from sim import sensitivity as se
from sim.cli import cli
from sim.errors import UserError
from sim.loader import load_scenario, parse_yaml, validate
from sim.metrics import DAYS_PER_MONTH
from tests.helpers import ROOT
from tests.test_sweep import DAYS, deterministic

CLAIM = ROOT / "scenarios" / "fba-claim-check.yaml"


def best_minus_runner(v: float, fixed: float = 450.0, order_a: float = 3.0) -> float:
    """per-order − fixed-fee profit over DAYS in the deterministic scenario of test_sweep: the
    costs that differ are order_cost · V · D, holding · (500 − V) · D and the fixed cost
    F · D / (365.25 / 12) (node a: order 3, holding 0.02; node b: order 1, holding 0.01)."""
    per_order = order_a * v + 0.02 * (500 - v)
    fixed_fee = 1.0 * v + 0.01 * (500 - v) + fixed / DAYS_PER_MONTH
    return DAYS * (fixed_fee - per_order)


def run(varies, data=None):
    data = data or deterministic()
    plan = se.prepare(data, {}, ROOT, se.parse_varies(varies))
    results, complete = se.run_plan(plan, workers=1)
    return se.report(plan, results, complete, {"name": "det", "sha256": ""})


def test_a_linear_difference_flips_where_computed_by_hand():
    # At V = 2 (the base) per-order leads by 56 · (450/30.4375 − 5 − 1.99 · 2) = $325.05; the
    # difference falls by 1.99 · 56 per unit of V and crosses 0 at V* = 4.917: between 4 and 6
    rep = run(
        [
            "skus.0.demand.values.0=4,6",
            "nodes.b.fixed_cost_per_month=400,500",
            "nodes.a.order_cost=x0.5,x1.5",
        ]
    )
    assert rep["complete"] and (rep["best"], rep["runner_up"]) == ("per-order", "fixed-fee")
    assert rep["base"]["diff"]["mean"] == pytest.approx(best_minus_runner(2), rel=1e-9)
    rows = {r["input"]: r for r in rep["inputs"]}
    volume = rows["skus.0.demand.values.0"]
    assert volume["at_low"]["diff"]["mean"] == pytest.approx(best_minus_runner(4), rel=1e-9)
    assert volume["at_high"]["diff"]["mean"] == pytest.approx(best_minus_runner(6), rel=1e-9)
    assert best_minus_runner(4) > 0 > best_minus_runner(6)
    assert volume["flips"] is True
    assert (volume["at_low"]["winner"], volume["at_high"]["winner"]) == ("per-order", "fixed-fee")
    rent = rows["nodes.b.fixed_cost_per_month"]
    assert rent["at_low"]["diff"]["mean"] == pytest.approx(best_minus_runner(2, 400), rel=1e-9)
    assert rent["at_high"]["diff"]["mean"] == pytest.approx(best_minus_runner(2, 500), rel=1e-9)
    assert rent["flips"] is False
    scaled = rows["nodes.a.order_cost"]  # x0.5, x1.5 of $3: $1.50 and $4.50
    assert scaled["at_low"]["diff"]["mean"] == pytest.approx(
        best_minus_runner(2, order_a=1.5), rel=1e-9
    )
    assert scaled["at_high"]["diff"]["mean"] == pytest.approx(
        best_minus_runner(2, order_a=4.5), rel=1e-9
    )
    assert scaled["flips"] is False
    # ordered by swing: 56 · 3 · 2 = 336 (order cost), 56 · 1.99 · 2 = 222.9, 56 · 100 / 30.44
    swings = [r["swing"] for r in rep["inputs"]]
    assert [r["input"] for r in rep["inputs"]] == [
        "nodes.a.order_cost",
        "skus.0.demand.values.0",
        "nodes.b.fixed_cost_per_month",
    ]
    assert swings == pytest.approx([DAYS * 3 * 2, DAYS * 1.99 * 2, DAYS * 100 / DAYS_PER_MONTH])
    # no noise here: the intervals are points
    assert volume["at_low"]["diff"]["ci_low"] == pytest.approx(best_minus_runner(4), rel=1e-9)


def test_fba_claim_check_flips_with_own_pick_and_pack_not_with_a_small_uplift():
    # fba leads by about $1.0k a year at ~9,200 orders (the scenario's header); pick & pack at
    # $0.50 instead of $0.90 saves fbm ~$3.7k, so fbm wins; a 5% Prime uplift only helps fba
    data, lines = parse_yaml(CLAIM.read_text())
    varies = ["nodes.home.pick_pack_per_order=0.5,1.5", "skus.*.demand.prime_uplift=0,0.05"]
    plan = se.prepare(data, lines, CLAIM.parent, se.parse_varies(varies), {"replications": 3})
    results, complete = se.run_plan(plan, workers=1)
    rep = se.report(plan, results, complete, {"name": "c", "sha256": ""})
    assert rep["best"] == "fba"
    flips = [r["input"] for r in rep["inputs"] if r["flips"]]
    assert flips == ["nodes.home.pick_pack_per_order"]
    pick = rep["inputs"][0]
    assert pick["input"] == "nodes.home.pick_pack_per_order"  # the widest swing
    assert pick["at_low"]["winner"] == "fbm" and pick["at_high"]["winner"] == "fba"
    assert pick["at_low"]["diff"]["ci_high"] < 0 < pick["at_high"]["diff"]["ci_low"]


def test_defaults_that_do_not_apply_are_skipped_with_a_reason():
    data = deterministic()  # FBM nodes only, empirical demand, order_cost (not pick & pack)
    sc = validate(data)
    chosen, skipped = se.defaults(data, sc)
    assert [i.name for i in chosen] == ["lead time"]
    assert [n for n, _ in skipped] == [
        "Prime uplift",
        "FBA fee level",
        "storage rates",
        "demand",
        "own pick & pack",
    ]
    d = json.loads(json.dumps(data))
    chosen[0].apply(d, 1)
    assert d["strategies"][0]["replenish"]["a"]["lead_time_days"] == 1.25


def test_defaults_on_fba_claim_check_scale_the_fee_tables():
    loaded = load_scenario(CLAIM)
    data, _ = parse_yaml(CLAIM.read_text())
    chosen, skipped = se.defaults(data, loaded.scenario)
    assert [i.name for i in chosen] == [
        "Prime uplift",
        "FBA fee level",
        "storage rates",
        "lead time",
        "demand",
        "own pick & pack",
    ]
    assert skipped == []
    fee = chosen[1]
    d = json.loads(json.dumps(data, default=str))
    fee.apply(d, 1)
    card = d["fee_overrides"]["rate_cards"]["std_2026_nonpeak"]["large_standard"]
    assert card[5]["fee"]["ten_to_fifty"] == pytest.approx(5.42 * 1.1)  # the bottle's $5.42
    storage = chosen[2]
    d = json.loads(json.dumps(data, default=str))
    storage.apply(d, 0)
    rows = d["fee_overrides"]["storage"]["monthly_per_cubic_foot"]
    assert rows[-1]["standard"] == {"jan_sep": pytest.approx(0.78 * 0.8), "oct_dec": 2.40 * 0.8}
    assert d["nodes"]["home"]["storage_per_cubic_foot_month"] == pytest.approx(0.40 * 0.8)


@pytest.mark.parametrize(
    "vary, problem",
    [
        ("skus.0.price=1", "expected KEY=LOW,HIGH (two values)"),
        ("skus.0.price=1,2,3", "expected KEY=LOW,HIGH (two values)"),
        ("skus.7.price=1,2", "nothing matches '7'"),
        ("nodes.a.order_cost=-1,2", "at nodes.a.order_cost=-1: nodes.a.order_cost"),
        ("nodes.a.type=x2,x3", "x2 scales a number"),
    ],
)
def test_bad_vary_is_a_located_user_error(tmp_path, vary, problem):
    path = tmp_path / "det.yaml"
    path.write_text(yaml.safe_dump(deterministic(), sort_keys=False))
    done = CliRunner().invoke(
        cli, ["sensitivity", str(path), "--vary", vary, "--out", str(tmp_path / "o")]
    )
    assert isinstance(done.exception, UserError), done.output
    assert any(loc == "--vary" and problem in msg for loc, msg in done.exception.problems)


def test_cli_writes_json_csv_chart_and_page(tmp_path):
    path = tmp_path / "det.yaml"
    path.write_text(yaml.safe_dump(deterministic(), sort_keys=False))
    out = tmp_path / "out"
    done = CliRunner().invoke(
        cli,
        ["sensitivity", str(path), "--vary", "skus.0.demand.values.0=4,6", "--out", str(out),
         "--format", "json", "--workers", "1"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rep = json.loads(done.output)
    assert json.loads((out / "sensitivity.json").read_text()) == rep
    assert rep["inputs"][0]["flips"] is True
    assert (out / "chart-tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "sensitivity.html").read_text()
    assert "data:image/png;base64," in page and "flips with: skus.0.demand.values.0" in page
    csv_text = (out / "sensitivity.csv").read_text()
    assert csv_text.splitlines()[0].startswith("input,key,low,high,diff_low")
    table = CliRunner().invoke(
        cli,
        ["sensitivity", str(path), "--vary", "skus.0.demand.values.0=4,6", "--out", str(out),
         "--force", "--workers", "1"],
    )  # fmt: skip
    assert "FLIPS" in table.output and "the recommendation flips with" in table.output


def test_one_strategy_is_refused():
    data = deterministic()
    data["strategies"] = data["strategies"][:1]
    with pytest.raises(UserError, match="only one"):
        se.prepare(data, {}, ROOT, se.parse_varies(["skus.0.demand.values.0=4,6"]))


def test_default_set_on_fba_claim_check_names_the_fee_level_and_pick_and_pack():
    # fba leads by ~$1.0k on ~9,240 orders. A 10% higher FBA fee costs it ~$0.54 × 9,240 ≈ $5k
    # and 30% cheaper pick & pack saves fbm $0.27 × 9,240 ≈ $2.5k: both flip. A Prime uplift
    # only adds to fba's demand, and ±20% storage moves both sides (FBA's table and the home
    # node's rate) by a few hundred dollars: no flip.
    loaded = load_scenario(CLAIM)
    data, lines = parse_yaml(CLAIM.read_text())
    inputs, skipped = se.defaults(data, loaded.scenario)
    plan = se.prepare(data, lines, CLAIM.parent, inputs, {"replications": 3})
    results, complete = se.run_plan(plan, workers=1)
    rep = se.report(plan, results, complete, {"name": "c", "sha256": ""}, skipped)
    rows = {r["input"]: r for r in rep["inputs"]}
    assert rows["FBA fee level"]["flips"] and rows["FBA fee level"]["at_high"]["winner"] == "fbm"
    assert rows["own pick & pack"]["flips"]
    assert rows["own pick & pack"]["at_low"]["winner"] == "fbm"
    for name in ("Prime uplift", "storage rates"):
        assert not rows[name]["flips"]
    assert rep["inputs"][0]["input"] == "Prime uplift"  # 0 → 0.1 adds ~$11k to fba
