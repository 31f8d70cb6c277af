"""``assign``: a route per SKU, on deterministic catalogs whose answers are hand arithmetic.

Demand is a constant 1 unit a day (``empirical`` with one value), every lane an order-up-to level
of 5 with a lead time of 1 day and daily review, so a stocked SKU ends every day with 4 units on
hand (starts at 5, sells 1, the 1 ordered arrives the next morning): 4 × 61 = 244 unit-days over
the 61 days, 61 orders, 61 units sold, and every replication is the same (paired differences
have zero spread). The "fba" node stands in for FBA where its cost is size-dependent (storage per
cubic foot and month, as FBA's storage fee is); "home" charges a pick & pack per order.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from sim import assign as asg
from sim.cli import cli, main
from sim.loader import validate
from sim.metric_names import INDEX
from sim.model import DAYS_PER_MONTH, compile_scenario
from sim.montecarlo import run

DAYS = 61
UNIT_DAYS = 4 * DAYS


def box(cubic_feet: float) -> dict:
    """A 12 × 12 in footprint whose height gives ``cubic_feet`` (1728 cu in each)."""
    return {"length_in": 12, "width_in": 12, "height_in": 12 * cubic_feet, "weight_lb": 1.0}


def item(sku: str, cubic_feet: float) -> dict:
    return {
        "id": sku,
        "price": 20.0,
        "unit_cost": 6.0,
        "demand": {"distribution": "empirical", "values": [1]},
        **box(cubic_feet),
    }


LANE = {"lead_time_days": 1, "policy": {"type": "order_up_to", "review_days": 1, "level": 5}}


def catalog(skus, nodes, reps: int = 3, fba_lane: dict = LANE) -> dict:
    return {
        "name": "assign-test",
        "start_date": "2026-01-05",
        "horizon_days": DAYS,
        "replications": reps,
        "seed": 5,
        "skus": skus,
        "nodes": nodes,
        "strategies": [
            {
                "name": "both",
                "fulfil_from": ["fba", "home"],
                "replenish": {"fba": fba_lane, "home": LANE},
            }
        ],
    }


def storage_nodes(rent: float = 0.0) -> dict:
    return {
        "fba": {"type": "fbm", "storage_per_cubic_foot_month": 3.0},
        "home": {"type": "fbm", "pick_pack_per_order": 0.5, "fixed_cost_per_month": rent},
    }


SIZES = {"SMALL-1": 0.1, "SMALL-2": 0.1, "BULKY-1": 2.0, "BULKY-2": 2.0}


def solve(d: dict, routes=(("fba",), ("home",)), **kw) -> dict:
    scenario = validate(d)
    model = compile_scenario(scenario)
    problem = asg.Problem(scenario, model, scenario.strategies[0], list(routes), **kw)
    return asg.assign(problem)


def storage(cubic_feet: float) -> float:
    """$3 per cubic foot and month over 244 unit-days."""
    return 3.0 * cubic_feet * UNIT_DAYS / DAYS_PER_MONTH


def test_each_sku_goes_to_its_cheaper_route():
    """fba costs storage: SMALL 3 · 0.1 · 244 / 30.4375 = $2.40, BULKY $48.10; home costs
    61 orders · $0.50 = $30.50 either way. So the small SKUs go to fba ($28.09 better each) and
    the bulky ones home ($17.60 better each), clear in every replication."""
    rep = solve(catalog([item(s, v) for s, v in SIZES.items()], storage_nodes()))
    routes = {s: e["route"] for s, e in rep["skus"].items()}
    assert routes == {
        "SMALL-1": ["fba"],
        "SMALL-2": ["fba"],
        "BULKY-1": ["home"],
        "BULKY-2": ["home"],
    }
    small, bulky = rep["skus"]["SMALL-1"], rep["skus"]["BULKY-1"]
    assert small["runner_up"] == ["home"] and bulky["runner_up"] == ["fba"]
    assert small["diff"]["mean"] == pytest.approx(30.5 - storage(0.1))
    assert bulky["diff"]["mean"] == pytest.approx(storage(2.0) - 30.5)
    assert small["diff"]["ci_low"] == pytest.approx(small["diff"]["mean"])  # no spread
    assert small["diff"]["win_rate"] == 1.0
    assert {e["verdict"] for e in rep["skus"].values()} == {"clear"}
    # profit: 4 SKUs × 61 × ($20 − $6 − $3 referral fee at 15%) − two small SKUs' storage − two bulky SKUs' pick & pack
    total = rep["total"]
    assert total["profit"]["mean"] == pytest.approx(4 * 61 * 11 - 2 * storage(0.1) - 2 * 30.5)
    # against the template ([fba, home]: every SKU ships from fba, home's stock never moves)
    template, all_fba, all_home = total["against"]
    assert template["name"] == "template both"
    assert template["profit"]["mean"] == pytest.approx(2 * storage(2.0) - 2 * 30.5)
    assert all_fba["route"] == ["fba"]
    assert all_fba["profit"]["mean"] == pytest.approx(2 * storage(2.0) - 2 * 30.5)
    assert all_home["profit"]["mean"] == pytest.approx(2 * 30.5 - 2 * storage(0.1))
    assert all_home["profit"]["win_rate"] == 1.0
    assert rep["complete"] and rep["evaluations"] >= 4


def test_the_cost_objective_saves_the_same_per_sku_amounts():
    """Revenue is the same on both routes here, so minimising cost picks the same routes, and
    the per-SKU difference is the cost the route saves."""
    rep = solve(catalog([item(s, v) for s, v in SIZES.items()], storage_nodes()), objective="cost")
    assert [e["route"] for e in rep["skus"].values()] == [["fba"], ["fba"], ["home"], ["home"]]
    assert rep["skus"]["BULKY-1"]["diff"]["mean"] == pytest.approx(storage(2.0) - 30.5)
    template = rep["total"]["against"][0]
    assert template["total_cost"]["mean"] == pytest.approx(-(2 * storage(2.0) - 2 * 30.5))
    assert template["total_cost"]["win_rate"] == 1.0  # lower cost wins


def test_a_rent_larger_than_the_savings_sends_every_sku_to_fba():
    """home's rent $100 a month is 100 · 61 / 30.4375 = $200.41 over the run; the bulky SKUs
    save only 2 · $17.60 there. Closing home wins: every SKU to fba, the bulky ones marked
    'coupled' (on their own they would do better at home)."""
    rep = solve(catalog([item(s, v) for s, v in SIZES.items()], storage_nodes(rent=100.0)))
    assert {tuple(e["route"]) for e in rep["skus"].values()} == {("fba",)}
    bulky = rep["skus"]["BULKY-2"]
    assert bulky["runner_up"] == ["home"] and bulky["verdict"] == "coupled"
    assert bulky["diff"]["mean"] == pytest.approx(30.5 - storage(2.0))
    assert rep["total"]["profit"]["mean"] == pytest.approx(
        4 * 61 * 11 - 2 * storage(0.1) - 2 * storage(2.0)
    )
    assert rep["routes_used"] == {"fba": 4, "home": 0}


def test_an_fba_capacity_limit_keeps_the_largest_saving_per_cubic_foot():
    """fba (no fees) saves each SKU home's 61 · $2 = $122 of pick & pack: per cubic foot
    A (0.5 cu ft) $244, B (1) $122, C (2) $61, D (4) $30.5. With fba's lead time of 4 days a SKU
    needs its whole level of 5 (1 on hand + 4 inbound, counted against the limit) to sell every
    day: 5 × its size. 2.5 + 5 = 7.5 cu ft for A and B fits the 10 cu ft limit, adding C (10 more)
    does not, and C alone (10) saves less than A and B together. So A and B go to fba (selling
    every unit), C and D home."""
    skus = [item(s, v) for s, v in {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}.items()]
    nodes = {
        "fba": {"type": "fba", "amazon_fees": False, "check_in_days": 0, "capacity_cubic_feet": 10},
        "home": {"type": "fbm", "pick_pack_per_order": 2.0},
    }
    slow = {**LANE, "lead_time_days": 4}
    rep = solve(catalog(skus, nodes, fba_lane=slow))
    routes = {s: e["route"] for s, e in rep["skus"].items()}
    assert routes == {"A": ["fba"], "B": ["fba"], "C": ["home"], "D": ["home"]}
    assert rep["skus"]["C"]["verdict"] == "coupled"
    assert rep["total"]["profit"]["mean"] == pytest.approx(4 * 61 * 11 - 2 * 61 * 2.0)


def test_a_sku_holds_stock_only_at_the_nodes_of_its_route():
    """Per-SKU routes: the template replenishes both nodes, but a SKU routed [fba] holds nothing
    at home (no initial stock, no orders), and one routed [home] nothing at fba."""
    d = catalog([item(s, v) for s, v in SIZES.items()], storage_nodes())
    d["strategies"][0]["fulfil_from"] = {"default": ["fba"], "BULKY-1": ["home"]}
    model = compile_scenario(validate(d))
    res = run(model)
    st = model.strategies[0]
    fba, home = [n.name for n in st.nodes].index("fba"), [n.name for n in st.nodes].index("home")
    assert st.initial_on_hand[fba].tolist() == [5, 5, 0, 5]
    assert st.initial_on_hand[home].tolist() == [0, 0, 5, 0]
    # on hand 4 a day for each SKU at its one node: 4 units a day each, summed
    assert res.sku_mean[0, list(res.model.catalog.ids).index("BULKY-1"), 0] is not None
    on_hand = res.totals[:, 0, INDEX["avg_on_hand_units"]]
    assert np.allclose(on_hand, 16.0)


def test_profit_subject_to_a_constraint():
    """home never refills (level 0: a SKU routed there sells nothing and costs nothing); fba
    stores at $100 per cubic foot and month: a bulky SKU pays 100 · 2 · 244 / 30.4375 = $1,603
    there for 61 × $11 = $671 of margin, so for profit alone it goes home (fill rate 0), a small
    one ($160 of storage) stays. With fill_rate ≥ 0.9 every SKU must sell: all to fba."""
    d = catalog([item(s, v) for s, v in SIZES.items()], storage_nodes())
    d["nodes"]["home"]["pick_pack_per_order"] = 0.0
    d["nodes"]["fba"]["storage_per_cubic_foot_month"] = 100.0
    d["strategies"][0]["replenish"]["home"] = {
        "lead_time_days": 1,
        "policy": {"type": "order_up_to", "level": 0},
    }
    free = solve(d)
    assert [e["route"] for e in free["skus"].values()] == [["fba"], ["fba"], ["home"], ["home"]]
    assert free["total"]["fill_rate"]["mean"] == pytest.approx(0.5)
    held = solve(d, constraints=(asg.parse_constraint("fill_rate>=0.9"),))
    assert {tuple(e["route"]) for e in held["skus"].values()} == {("fba",)}
    assert held["total"]["constraints"] == [
        {"constraint": "fill_rate>=0.9", "mean": 1.0, "met": True}
    ]


# --------------------------------------------------------------------------- the command


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(catalog([item(s, v) for s, v in SIZES.items()], storage_nodes()))
    )
    return path


def invoke(*args):
    return CliRunner().invoke(cli, ["assign", *map(str, args)], catch_exceptions=False)


def test_cli_json_shape_and_files(scenario_file, tmp_path):
    out = tmp_path / "out"
    done = invoke(
        scenario_file, "--strategy", "both", "--routes", "fba", "--routes", "home",
        "--routes", "fba,home", "--out", out, "--format", "json", "--workers", "1",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rep = json.loads(done.output)
    assert rep == json.loads((out / "assign.json").read_text())
    assert rep["strategy"] == "both" and isinstance(rep["evaluations"], int)
    assert rep["routes"] == [["fba"], ["home"], ["fba", "home"]]
    e = rep["skus"]["SMALL-1"]
    assert e["route"] == ["fba"] and isinstance(e["runner_up"], list)
    assert set(e["diff"]) == {"mean", "ci_low", "ci_high", "win_rate"}
    assert {"profit", "total_cost", "against"} <= set(rep["total"])
    pasted = yaml.safe_load((out / "assign.yaml").read_text())
    assert pasted["fulfil_from"] == {s: e["route"] for s, e in rep["skus"].items()}
    rows = (out / "assign.csv").read_text().splitlines()
    assert rows[0] == "sku,route,runner_up,diff_mean,diff_ci_low,diff_ci_high,win_rate,verdict"
    assert len(rows) == 5


def test_cli_table(scenario_file, tmp_path):
    done = invoke(
        scenario_file, "--strategy", "both", "--routes", "fba", "--routes", "home",
        "--out", tmp_path / "o", "--workers", "1",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "local search:" in done.output and "whole-catalog evaluations" in done.output
    assert "against template both" in done.output and "clear" in done.output


def test_the_pasted_mapping_reproduces_the_assignment(scenario_file, tmp_path):
    """assign.yaml pasted into the template gives run's numbers equal to the assignment's."""
    out = tmp_path / "o"
    assert invoke(
        scenario_file, "--strategy", "both", "--routes", "fba", "--routes", "home",
        "--out", out, "--workers", "1",
    ).exit_code == 0  # fmt: skip
    rep = json.loads((out / "assign.json").read_text())
    d = yaml.safe_load(scenario_file.read_text())
    d["strategies"][0]["fulfil_from"] = yaml.safe_load((out / "assign.yaml").read_text())[
        "fulfil_from"
    ]
    res = run(compile_scenario(validate(d)))
    profit = res.totals[:, 0, INDEX["profit"]]
    assert profit.mean() == pytest.approx(rep["total"]["profit"]["mean"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--routes", "fba", "--routes", "home"], "Missing option '--strategy'"),
        (["--strategy", "nope", "--routes", "fba", "--routes", "home"], "--strategy: no strategy"),
        (["--strategy", "both", "--routes", "fba"], "--routes: give at least two"),
        (["--strategy", "both", "--routes", "fba", "--routes", "hom"], "did you mean 'home'"),
        (["--strategy", "both", "--routes", "fba", "--routes", "fba,,home"], "--routes: 'fba,,home'"),
        (["--strategy", "both", "--routes", "fba", "--routes", "fba,fba"], "names a node twice"),
        (["--strategy", "both", "--routes", "fba", "--routes", "fba"], "is given twice"),
        (["--strategy", "both", "--routes", "fba", "--routes", "home", "--constraint", "fill>=1"],
         "--constraint: unknown metric"),
        (["--strategy", "both", "--routes", "fba", "--routes", "home", "--constraint",
          "fill_rate=0.9"], "--constraint: 'fill_rate=0.9': expected"),
        (["--strategy", "both", "--routes", "fba", "--routes", "home", "--constraint",
          "fill_rate>=1.5"], "is a share"),
        (["--strategy", "both", "--routes", "fba", "--routes", "home", "--reps", "1"],
         "--reps: assign needs at least 2"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_located_message(scenario_file, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as e:
        main(["assign", str(scenario_file), "--out", str(tmp_path / "o"), *args])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_a_route_node_the_template_does_not_replenish_is_refused(tmp_path, capsys):
    d = catalog([item("A", 0.1)], {**storage_nodes(), "spare": {"type": "fbm"}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(SystemExit) as e:
        main(["assign", str(path), "--strategy", "both", "--routes", "fba", "--routes", "spare"])
    assert e.value.code == 2
    assert "--routes: node 'spare' has no replenish settings" in capsys.readouterr().err


def test_the_same_answer_on_any_worker_count():
    """Results are gathered in replication order: 2 workers give 1 worker's numbers."""
    d = catalog([item(s, v) for s, v in SIZES.items()], storage_nodes(), reps=6)
    d["skus"][0]["demand"] = {"distribution": "poisson", "mean_per_day": 1}  # some noise
    one = solve(d)
    scenario = validate(d)
    problem = asg.Problem(
        scenario, compile_scenario(scenario), scenario.strategies[0], [("fba",), ("home",)]
    )
    two = asg.assign(problem, workers=2)
    assert one == two


def test_an_interrupt_keeps_the_best_assignment_found_so_far(monkeypatch):
    """Ctrl-C during the moves: "complete": false, with the starting assignment (each SKU on
    its own best route) and its comparisons."""

    def interrupted(self, choice):
        raise KeyboardInterrupt

    monkeypatch.setattr(asg.Search, "candidates", interrupted)
    rep = solve(catalog([item(s, v) for s, v in SIZES.items()], storage_nodes(rent=100.0)))
    assert rep["complete"] is False
    assert rep["skus"]["BULKY-1"]["route"] == ["home"]  # not yet moved by closing home
    assert rep["total"]["against"][0]["name"] == "template both"
    assert rep["evaluations"] == 4  # two routes, the template, the start


def test_the_pasted_mapping_quotes_only_keys_yaml_would_misread():
    from sim.assign_command import _yaml_key

    assert _yaml_key("MUG-11OZ") == "MUG-11OZ"
    assert _yaml_key("no") == '"no"' and _yaml_key("123") == '"123"'
    assert _yaml_key("A B: c") == '"A B: c"'
    assert yaml.safe_load(f"{_yaml_key('On')}: 1") == {"On": 1}


def test_the_pasted_mapping_reads_back_with_every_sku_and_node_name():
    """Node names may be any text ("yes", "1e5"): route entries are quoted like keys."""
    from sim.assign_command import yaml_text
    from sim.loader import parse_yaml

    routes = {"MUG-11OZ": ["fba", "yes"], "1e5": ["1e5"], "00123": ["x: y", "wh-east"]}
    rep = {
        "scenario": {"name": "s"},
        "strategy": "t",
        "objective": "profit",
        "replications": 2,
        "seed": 1,
        "complete": True,
        "skus": {sku: {"route": route} for sku, route in routes.items()},
    }
    data, _ = parse_yaml(yaml_text(rep))
    assert data == {"fulfil_from": routes}


def test_a_shared_shipment_cost_is_paid_once_per_lane():
    """home's lane costs $5 a shipment; it ships every day something is ordered (daily review):
    about 61 × $5 = $305 whoever is in it, against the bulky SKUs' 2 × $17.60 of savings. Every
    SKU to fba; the per-SKU values leave the shipments out (the bulky SKUs are 'coupled')."""
    d = catalog([item(s, v) for s, v in SIZES.items()], storage_nodes())
    d["strategies"][0]["replenish"]["home"] = {**LANE, "cost_per_shipment": 5.0}
    rep = solve(d)
    assert {tuple(e["route"]) for e in rep["skus"].values()} == {("fba",)}
    bulky = rep["skus"]["BULKY-1"]
    assert bulky["verdict"] == "coupled"
    assert bulky["diff"]["mean"] == pytest.approx(30.5 - storage(2.0))


def test_help_does_not_import_the_search():
    """``--help`` lists assign through its command module alone (sim.assign is imported when
    the command runs)."""
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from sim.cli import cli; "
        "out = CliRunner().invoke(cli, ['--help']).output; assert 'assign' in out, out; "
        "assert 'sim.assign' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_bundled_catalog_runs(tmp_path):
    """scenarios/catalog-50.yaml with the README's command (3 replications: a smoke test; the
    header's figures are measured at the file's 40)."""
    from tests.helpers import ROOT

    done = invoke(
        ROOT / "scenarios" / "catalog-50.yaml", "--strategy", "fba-with-home-backup",
        "--routes", "fba", "--routes", "home", "--routes", "fba,home", "--reps", "3",
        "--workers", "1", "--out", tmp_path / "o", "--format", "json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    rep = json.loads(done.output)
    assert len(rep["skus"]) == 50 and sum(rep["routes_used"].values()) == 50
    assert rep["skus"]["CURTAIN-ROD-120IN"]["route"] == ["home"]  # a 120" rod: bulky in FBA


def test_uncertain_numbers_are_refused_at_their_key(tmp_path, capsys):
    d = catalog([item("A", 0.1)], storage_nodes())
    d["nodes"]["home"]["pick_pack_per_order"] = {
        "uncertain": {"dist": "uniform", "low": 0.4, "high": 0.6}
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(SystemExit) as e:
        main(["assign", str(path), "--strategy", "both", "--routes", "fba", "--routes", "home"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "nodes.home.pick_pack_per_order" in err and "assign does not draw uncertain" in err
