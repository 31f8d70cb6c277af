"""Seller-shipped labels on billable weight, rate tables by zone, surcharges, and 3PL storage
per whole pallet position: deterministic runs, every expectation computed by hand.

Demand is `empirical` with one value (a constant) and stock is never short, so one replication
is exact; a node ships every order on its order day (handling 0).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.errors import UserError
from sim.labels import MAX_RATE_FILE_BYTES, billable_weight, whole_pallets
from sim.loader import load_scenario, validate
from sim.model import Calendar, compile_scenario
from sim.scenario_files import read_scenario_file
from tests.test_modes import CUBE, const, replicate, scen, sku, strategy

REPO = Path(__file__).resolve().parents[1]

# 20 × 14 × 10 in = 2800 cu in, 5 lb: dimensional weight 2800 / 139 = 20.14 lb → 21 lb billable
BOX = {"length_in": 20, "width_in": 14, "height_in": 10, "weight_lb": 5.0}
LINEAR = {"label_cost_per_order": 4.0, "label_cost_per_lb": 0.5}
# ILLUSTRATIVE rate table (not a carrier's prices): bands up to 5, 20 and 30 lb × zones 2, 5, 8
BANDS = {
    5: {2: 8.0, 5: 10.0, 8: 12.0},
    20: {2: 15.0, 5: 20.0, 8: 25.0},
    30: {2: 22.0, 5: 30.0, 8: 40.0},
}
ZONES = {2: 0.1, 5: 0.5, 8: 0.4}
RATES_CSV = "max_lb,zone_2,zone_5,zone_8\n5,8,10,12\n20,15,20,25\n30,22,30,40\n"


def shipping(node: dict, days: int = 5, demand: float = 2, **sku_keys) -> dict:
    """One SKU (the 20×14×10 in, 5 lb box unless changed), `demand` orders a day from `home`."""
    a = sku(demand, **(BOX | sku_keys))
    return scen([a], {"home": node}, [strategy(["home"], initial={"home": 1000})], days)


def fulfilment(d: dict) -> float:
    (r,) = replicate(d)
    return r.m["cost_fulfillment"]


# --------------------------------------------------------------------------- billable weight


def test_billable_weight_rounds_the_larger_weight_up_to_a_whole_pound():
    """2800/139 = 20.14 → 21; divisor 0 → 5; 2780/139 = 20 exactly stays 20; an order of 2
    units is one package of 10 lb and 5600 cu in: 5600/139 = 40.29 → 41; 0.25 lb and
    30 cu in (0.22 lb) → 1 lb (any fraction of a pound is a pound)."""
    w = np.array([5.0, 5.0, 0.25])
    cu = np.array([2800.0, 2780.0, 30.0])
    one = np.ones(3)
    assert billable_weight(w, cu, 139, one).tolist() == [21, 20, 1]
    assert billable_weight(w, cu, 0, one).tolist() == [5, 5, 1]
    assert billable_weight(w, cu, 139, np.array([2.0, 1.0, 1.0])).tolist() == [41, 20, 1]


@pytest.mark.parametrize("kind", ["fbm", "sfp", "3pl"])
def test_label_per_lb_is_charged_on_the_dimensional_weight(kind):
    """$4 + $0.50 × 21 lb = $14.50 an order; 2 orders a day for 5 days → 10 × 14.50 = 145."""
    node = {"type": kind, **LINEAR}  # sfp ships Mon-Sat: the run is Mon-Fri
    d = shipping(node)
    model = compile_scenario(validate(d))
    assert model.strategies[0].nodes[0].cost_per_order.tolist() == [14.50]
    assert fulfilment(d) == pytest.approx(10 * 14.50)


def test_dim_divisor_0_bills_the_actual_weight_and_166_a_lighter_dim_weight():
    """dim_divisor 0: 5 lb → $4 + $0.50 × 5 = $6.50 an order → 10 orders 65.00.
    dim_divisor 166: 2800/166 = 16.87 → 17 lb → $12.50 → 125.00."""
    assert fulfilment(shipping({"type": "fbm", "dim_divisor": 0, **LINEAR})) == pytest.approx(65.0)
    assert fulfilment(shipping({"type": "fbm", "dim_divisor": 166, **LINEAR})) == pytest.approx(
        125.0
    )


def test_units_per_order_make_one_heavier_package():
    """4 units a day in orders of 2 = 2 orders a day, 5 days → 10 orders; each package holds
    10 lb and 5600 cu in: 5600/139 = 40.29 → 41 lb → 4 + 0.5 × 41 = $24.50 → 245.00."""
    d = shipping({"type": "fbm", **LINEAR}, demand=4, units_per_order=2)
    assert fulfilment(d) == pytest.approx(245.0)


# --------------------------------------------------------------------------- rate tables


def test_rate_table_by_zone_prices_the_expected_label():
    """21 lb billable falls in the band up to 30 lb: 0.1 × 22 + 0.5 × 30 + 0.4 × 40 = 33.20;
    with pick/pack $1 an order: 34.20 × 10 orders = 342. dim_divisor 0: 5 lb is in the band up
    to 5 lb (a band includes its max_lb): 0.1 × 8 + 0.5 × 10 + 0.4 × 12 = 10.60 → 116."""
    node = {"type": "fbm", "pick_pack_per_order": 1.0, "label_rates": {"bands": BANDS}}
    node["zones"] = ZONES
    assert fulfilment(shipping(node)) == pytest.approx(342.0)
    assert fulfilment(shipping(node | {"dim_divisor": 0})) == pytest.approx(116.0)


def test_rate_table_from_a_csv_file_next_to_the_scenario(tmp_path):
    """The same table in rates.csv (wide format, header max_lb,zone_2,…) gives the same 342."""
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "rates.csv").write_text("# illustrative\n" + RATES_CSV)
    node = {"type": "fbm", "pick_pack_per_order": 1.0, "zones": ZONES}
    node["label_rates"] = {"file": "tables/rates.csv"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(shipping(node)), encoding="utf-8")
    loaded = load_scenario(path)
    assert loaded.scenario.nodes["home"].label_rates.bands == {
        float(k): {z: float(p) for z, p in v.items()} for k, v in BANDS.items()
    }
    model = compile_scenario(loaded.scenario)
    assert model.strategies[0].nodes[0].cost_per_order.tolist() == [pytest.approx(34.20)]


# --------------------------------------------------------------------------- surcharges


def test_surcharges_fuel_on_the_base_residential_and_peak_inside_its_dates_only():
    """Base $14.50 (linear, 21 lb); fuel 10% of the base = 1.45; residential $3 a package →
    18.95 an order. Peak $2 a package on order days 2026-01-07..01-08 (days 2 and 3 of 5 from
    Monday 2026-01-05): 2 orders a day → 10 × 18.95 + 4 × 2 = 197.50."""
    peak = [{"from": "2026-01-07", "to": "2026-01-08", "per_package": 2.0}]
    surcharges = {"fuel_percent": 10, "residential_per_package": 3.0, "peak": peak}
    d = shipping({"type": "fbm", **LINEAR, "surcharges": surcharges})
    node = compile_scenario(validate(d)).strategies[0].nodes[0]
    assert node.cost_per_order.tolist() == [pytest.approx(18.95)]
    assert node.dated_cost_per_order.tolist() == [0, 0, 2, 2, 0]
    assert fulfilment(d) == pytest.approx(197.50)


def test_fuel_applies_to_the_rate_table_price_and_warmup_days_are_not_charged():
    """Table price 33.20 + 5% fuel = 34.86; peak $1 on the first 2 days only, which are the
    warm-up: 3 counted days × 2 orders × 34.86 = 209.16."""
    peak = [{"from": "2025-12-01", "to": "2026-01-06", "per_package": 1.0}]
    node = {"type": "fbm", "label_rates": {"bands": BANDS}, "zones": ZONES}
    node["surcharges"] = {"fuel_percent": 5, "peak": peak}
    d = shipping(node) | {"warmup_days": 2}
    assert fulfilment(d) == pytest.approx(3 * 2 * 34.86)


# --------------------------------------------------------------------------- whole pallets


def pallets(days: int, billing: str, warmup: int = 0) -> dict:
    """A 3PL from Thursday 2026-01-01: $25 a pallet position a month, 20 cu ft a pallet. SKU A
    (1 cu ft) sells 1 a day from 100; SKU C (1 cu ft) holds 50 and never sells."""
    tpl = {
        "type": "3pl",
        "storage_per_pallet_month": 25.0,
        "cubic_feet_per_pallet": 20,
        "pallet_billing": billing,
    }
    c = {"id": "C", "price": 20.0, "demand": const(0), **CUBE}
    st = strategy(["tpl"], initial={"tpl": {"A": 100, "C": 50}})
    return scen([sku(1, **CUBE), c], {"tpl": tpl}, [st], days, "2026-01-01", warmup_days=warmup)


def test_whole_pallets_billed_per_sku_at_each_month_end():
    """Jan 31 (day 30): A has 100 - 31 = 69 units = 3.45 → 4 positions; C 50 = 2.5 → 3.
    Feb 28 (day 58): A 41 = 2.05 → 3; C → 3. (4 + 3 + 3 + 3) × $25 = 325; pooling the SKUs
    would give ⌈5.95⌉ + ⌈4.55⌉ = 11 positions, not 13."""
    (r,) = replicate(pallets(59, "whole"))
    assert r.trace.on_hand[[30, 58], 0, 0].tolist() == [69, 41]
    assert r.m["cost_storage"] == pytest.approx(13 * 25.0)


def test_whole_pallets_partial_months_are_billed_pro_rata():
    """45 days: Jan 31 in full (4 + 3 positions); Feb is cut after 14 of its 28 days: on Feb
    14 (day 44) A has 55 = 2.75 → 3, C → 3, billed 14/28: 175 + 6 × 25 × 0.5 = 250.
    With 9 warm-up days January counts 22 of 31 days: 7 × 25 × 22/31 + 6 × 25 = 274.19…"""
    (r,) = replicate(pallets(45, "whole"))
    assert r.m["cost_storage"] == pytest.approx(175 + 75)
    (r,) = replicate(pallets(59, "whole", warmup=9))
    assert r.m["cost_storage"] == pytest.approx(7 * 25 * 22 / 31 + 150)


def test_fractional_pallets_stay_the_default():
    """Fractional: $25 × (1/20 pallet) ÷ 30.4375 days a unit-day. Unit-days over 59 days:
    A Σ(99 … 41) = 59 × 70 = 4130, C 50 × 59 = 2950 → 7080 × 25 / 20 / 30.4375."""
    d = pallets(59, "fractional")
    del d["nodes"]["tpl"]["pallet_billing"]
    (r,) = replicate(d)
    assert r.m["cost_storage"] == pytest.approx(7080 * 25 / 20 / 30.4375)


# --------------------------------------------------------------------------- bad input


def problems_of(node: dict, **sku_keys) -> list[tuple[str, str]]:
    with pytest.raises(UserError) as err:
        compile_scenario(validate(shipping(node, **sku_keys)))
    return err.value.problems


@pytest.mark.parametrize(
    ("node", "location", "words"),
    [
        ({"zones": {2: 0.5, 5: 0.4}, "label_rates": {"bands": BANDS}}, "nodes.home.zones", "0.9"),
        ({"zones": ZONES}, "nodes.home", "zones go with label_rates"),
        ({"label_rates": {"bands": BANDS}}, "nodes.home", "needs zones"),
        ({"label_rates": {"bands": BANDS}, "zones": ZONES, **LINEAR}, "nodes.home", "not both"),
        ({"label_rates": {"bands": BANDS}, "zones": {3: 1.0}}, "nodes.home", "zone 3"),
        ({"label_rates": {}, "zones": ZONES}, "nodes.home.label_rates", "file or bands"),
        (
            {"label_rates": {"bands": {20: BANDS[20]}}, "zones": ZONES},
            "nodes.home.label_rates",
            "A (21 lb)",
        ),
        ({"type": "3pl", "pallet_billing": "monthly"}, "nodes.home.pallet_billing", "whole"),
        (
            {
                "surcharges": {
                    "peak": [{"from": "2026-02-01", "to": "2026-01-01", "per_package": 1}]
                }
            },
            "nodes.home.surcharges.peak[0]",
            "on or after",
        ),
        (
            {
                "surcharges": {
                    "peak": [
                        {"from": "2026-01-01", "to": "2026-01-10", "per_package": 1},
                        {"from": "2026-01-10", "to": "2026-01-20", "per_package": 1},
                    ]
                }
            },
            "nodes.home.surcharges.peak",
            "overlap",
        ),
        ({"surcharges": {"fuel_percent": 120}}, "nodes.home.surcharges.fuel_percent", "100"),
        ({"dim_divisor": -1}, "nodes.home.dim_divisor", "0"),
    ],
)
def test_bad_label_input_is_located(node, location, words):
    got = problems_of({"type": "fbm"} | node)
    assert [loc for loc, _ in got] == [location], got
    assert words in got[0][1]


def test_label_per_lb_needs_the_dimensions_unless_dim_divisor_is_0():
    got = problems_of({"type": "fbm", **LINEAR}, length_in=None)
    assert got[0][0] == "skus[0].length_in"
    assert "dim_divisor: 0" in got[0][1]
    d = shipping({"type": "fbm", "dim_divisor": 0, **LINEAR})
    del d["skus"][0]["length_in"]
    assert fulfilment(d) == pytest.approx(65.0)


def cli_validate(tmp_path: Path, node: dict, csv: str | None = None) -> subprocess.CompletedProcess:
    folder = tmp_path / "scenario"
    folder.mkdir()
    if csv is not None:
        (folder / "rates.csv").write_text(csv, encoding="utf-8")
        (tmp_path / "outside.csv").write_text(RATES_CSV, encoding="utf-8")
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump(shipping({"type": "fbm", "zones": ZONES} | node)))
    return subprocess.run(
        [sys.executable, "simulate.py", "validate", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


BAD_ROW = "max_lb,zone_2,zone_5,zone_8\n5,8,10,12\n20,15,abc,25\n"


@pytest.mark.parametrize(
    ("file", "csv", "location", "words"),
    [
        (
            "rates.csv",
            BAD_ROW,
            "nodes.home.label_rates",
            "rates.csv:3: 'abc' is not a number (zone_5)",
        ),
        (
            "rates.csv",
            "max_lb,zone_2,zone_5\n30,1,2\n",
            "nodes.home",
            "label_rates: the band up to 30",
        ),
        ("rates.csv", "weight,zone_2\n", "nodes.home.label_rates", "rates.csv:1: the header must"),
        (
            "rates.csv",
            "max_lb,zone_2,zone_5,zone_8\n30,1,2\n",
            "nodes.home.label_rates",
            "rates.csv:2: 3 cells",
        ),
        (
            "../outside.csv",
            RATES_CSV,
            "nodes.home.label_rates",
            "'../outside.csv' is outside the scenario's folder",
        ),
        ("missing.csv", RATES_CSV, "nodes.home.label_rates", "file not found: 'missing.csv'"),
    ],
)
def test_cli_bad_rate_file_exits_2_located(tmp_path, file, csv, location, words):
    """`validate` prints `location (line N): file:line: problem` first and exits 2."""
    proc = cli_validate(tmp_path, {"label_rates": {"file": file}}, csv)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    loc, _, problem = proc.stderr.splitlines()[0].partition(": ")
    assert loc.split(" (line")[0] == location, proc.stderr
    assert problem.startswith(words), proc.stderr


def test_cli_absolute_rate_file_is_refused(tmp_path):
    proc = cli_validate(
        tmp_path, {"label_rates": {"file": str(tmp_path / "outside.csv")}}, RATES_CSV
    )
    assert proc.returncode == 2, proc.stderr
    assert "is outside the scenario's folder" in proc.stderr.splitlines()[0]


def test_cli_rate_file_size_is_bounded(tmp_path):
    big = "max_lb,zone_2\n" + "".join(f"{i},1\n" for i in range(1, 1100))
    proc = cli_validate(tmp_path, {"label_rates": {"file": "rates.csv"}, "zones": {2: 1}}, big)
    assert proc.returncode == 2, proc.stderr
    assert "more than 1,000 weight bands" in proc.stderr.splitlines()[0]


def test_rate_table_only_needs_to_price_the_skus_the_node_ships():
    """SKU H (40 lb) is routed to `tpl` (linear label), A (21 lb billable) to `home`, whose
    table ends at 30 lb: valid; A costs 33.20 a label at home (2 orders a day, 5 days = 332).
    Routing H to home too is a located error naming H and its 40 lb."""
    heavy = {"id": "H", "price": 50.0, "demand": const(1), **BOX, "weight_lb": 40.0}
    home = {"type": "fbm", "label_rates": {"bands": BANDS}, "zones": ZONES}
    tpl = {"type": "3pl", **LINEAR}
    route = {"A": ["home"], "H": ["tpl"]}
    st = strategy(route, initial={"home": {"A": 100, "H": 0}, "tpl": {"A": 0, "H": 100}})
    d = scen([sku(2, **BOX), heavy], {"home": home, "tpl": tpl}, [st], 5)
    (r,) = replicate(d)
    assert r.m["cost_fulfillment"] == pytest.approx(10 * 33.20 + 5 * (4 + 0.5 * 40))
    d["strategies"][0]["fulfil_from"] = {"A": ["home"], "H": ["tpl", "home"]}
    with pytest.raises(UserError) as err:
        compile_scenario(validate(d))
    assert err.value.problems == [
        (
            "nodes.home.label_rates",
            "the rate table's largest band is 30 lb; billable weight above it: H (40 lb)",
        )
    ]


def test_month_end_snapshots_over_a_year_and_a_leap_february():
    """365 days from 2026-01-01: the 12 month ends (day 30 = Jan 31, …, day 364 = Dec 31), each
    billed in full. 2028-02-10 + 30 days (warm-up 5): Feb 15..29 counted, 15 of 29 days, then
    March 1..11, 11 of 31 days, billed on day 30 (March 11)."""
    year = whole_pallets(np.ones(1), 25.0, Calendar(dt.date(2026, 1, 1), 365, 0))
    ends = [30, 58, 89, 119, 150, 180, 211, 242, 272, 303, 333, 364]
    assert year.days.tolist() == ends
    assert year.weights.tolist() == [1.0] * 12
    leap = whole_pallets(np.ones(1), 25.0, Calendar(dt.date(2028, 2, 10), 31, 5))
    assert leap.days.tolist() == [19, 30]
    assert leap.weights.tolist() == pytest.approx([15 / 29, 11 / 31])


def test_rate_file_over_1_mb_is_refused_before_reading(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("max_lb,zone_2\n" + "#" * 1_000_001 + "\n")
    with pytest.raises(ValueError, match=r"rates.csv"):
        read_scenario_file(tmp_path, "rates.csv", max_bytes=MAX_RATE_FILE_BYTES)


def test_the_scenario_default_divisor_is_the_sourced_constant():
    from sim.labels import DEFAULT_DIM_DIVISOR
    from sim.scenario import FbmNode, SfpNode, TplNode

    for kind in (FbmNode, SfpNode, TplNode):
        assert kind.model_fields["dim_divisor"].default == DEFAULT_DIM_DIVISOR == 139


def test_a_misspelt_seller_node_key_suggests_the_right_one(tmp_path):
    """Unknown keys of fbm/sfp/3pl nodes are matched against that node type's own keys (not
    FBA's): `label_rate` on an fbm node suggests `label_rates`."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nhorizon_days: 30\nreplications: 2\n"
        "skus:\n  - {id: A, demand: {distribution: poisson, mean_per_day: 2}}\n"
        "nodes:\n  home: {type: fbm, label_rate: 3}\n"
        "strategies:\n  - name: s\n    fulfil_from: [home]\n    replenish:\n"
        "      home: {lead_time_days: 5, policy: {type: order_up_to, level: 30}}\n"
    )
    with pytest.raises(UserError) as e:
        load_scenario(path)
    assert e.value.problems == [
        ("nodes.home.label_rate (line 7)", "unknown key; did you mean 'label_rates'?")
    ]
