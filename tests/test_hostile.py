"""Hostile and careless input (issue 17, items 5-8 and 11): every number bounded, booleans are
not numbers, fee_overrides checked against the fee tables, files confined to the scenario's
folder, control characters never printed raw, locations in the user's words, short lines."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim import scenario as sc
from sim.cli import main
from sim.errors import MAX_LINE, UserError, format_problem, printable
from sim.loader import load_scenario, resolve_scenario_file, validate
from sim.model import compile_scenario
from sim.scenario_files import ScenarioFileError
from tests.helpers import ROOT, scenario

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PYDANTIC_NAMES = re.compile(r"dict\[|list\[|literal\[|constrained-|function-|tagged-union|\[key\]")


def problems_of(d: dict, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(UserError) as e:
        compile_scenario(validate(d, **kwargs))
    return e.value.problems


def assert_problem(problems, location: str, *fragments: str) -> None:
    hits = [msg for loc, msg in problems if loc.split(" (line")[0] == location]
    assert hits, f"no problem at {location!r}; got {problems}"
    assert any(all(f in msg for f in fragments) for msg in hits), (location, fragments, hits)


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the command line in-process; (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main(args)
        sys.exit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def write(path: Path, d: dict) -> Path:
    path.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def sku(d: dict, i: int = 0) -> dict:
    return d["skus"][i]


def wh_policy(d: dict) -> dict:
    return d["strategies"][0]["replenish"]["wh"]["policy"]


# --------------------------------------------------------------------------- 5: numbers


def _set(path: str, value):
    """An edit of the test scenario: dotted path (list indices as numbers) = value."""

    def edit(d):
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = d
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = value

    return edit


FULL_SKU = {"length_in": 10, "width_in": 8, "height_in": 2, "weight_lb": 1}

HUGE = [  # (edit, location, message fragment): each passed validate and crashed run before
    ("skus.0.price", 1e154, "skus[0].price", "≤ 1,000,000"),
    ("skus.0.unit_cost", 1e300, "skus[0].unit_cost", "≤ 1,000,000"),
    ("skus.0.length_in", 1e300, "skus[0].length_in", "≤ 2,000"),
    ("skus.0.weight_lb", 1e300, "skus[0].weight_lb", "≤ 10,000"),
    ("skus.0.height_cm", 1e300, "skus[0].height_cm", "≤ 5,080"),
    ("nodes.wh.order_cost", 1e300, "nodes.wh.order_cost", "≤ 1,000,000"),
    ("nodes.wh.holding_cost_per_unit_day", 1e200, "nodes.wh.holding_cost_per_unit_day", "≤"),
    ("nodes.wh.fixed_cost_per_month", 1e300, "nodes.wh.fixed_cost_per_month", "≤ 100,000,000"),
    ("nodes.wh.pick_pack_per_order", 1e300, "nodes.wh.pick_pack_per_order", "≤"),
    ("nodes.wh.daily_order_capacity", 1e300, "nodes.wh.daily_order_capacity", "≤"),
    ("warmup_days", 10**30, "warmup_days", "≤ 1,000,000"),
]


@pytest.mark.parametrize(("path", "value", "location", "fragment"), HUGE, ids=[h[0] for h in HUGE])
def test_huge_finite_numbers_are_refused_at_their_key(path, value, location, fragment):
    d = scenario()
    sku(d).update(FULL_SKU)
    _set(path, value)(d)
    assert_problem(problems_of(d), location, fragment)


def test_lane_costs_are_bounded():
    d = scenario(lanes={"sea": {"legs": [{"name": "ocean", "days": 30}], "cost_per_unit": 1e300}})
    assert_problem(problems_of(d), "lanes.sea.cost_per_unit", "≤ 1,000,000")


def test_the_largest_allowed_values_run_without_overflow():
    """At the bounds (a $1,000,000 unit of 2,000 in sides and 10,000 lb) compile and a
    replication run, and every money figure stays finite."""
    from sim.montecarlo import run_replication

    d = scenario(replications=1)
    for s in d["skus"]:
        s.update(price=1e6, unit_cost=1e6, length_in=2000, width_in=2000, height_in=2000)
        s.update(weight_lb=10_000)
    d["nodes"]["wh"].update(order_cost=1e6, holding_cost_per_unit_day=1e6, label_cost_per_lb=1e6)
    import numpy as np

    model = compile_scenario(validate(d))
    for measured in run_replication(model, 0):
        assert np.isfinite(measured.total).all() and np.isfinite(measured.skus).all()


@pytest.mark.parametrize(
    ("path", "value", "location"),
    [
        ("skus.0.demand.mean_per_day", True, "skus[0].demand.mean_per_day"),
        ("skus.0.price", False, "skus[0].price"),
        ("horizon_days", True, "horizon_days"),
        ("replications", True, "replications"),
        ("nodes.wh.order_cost", True, "nodes.wh.order_cost"),
        ("nodes.wh.handling_days", True, "nodes.wh.handling_days"),
        ("skus.0.demand.weekly", {"sat": True}, "skus[0].demand.weekly.sat"),
        ("skus.0.demand.monthly", [True] * 12, "skus[0].demand.monthly[0]"),
        ("strategies.0.replenish.wh.policy.level", True, "strategies[0].replenish.wh.policy.level"),
        (
            "strategies.0.replenish.wh.policy.level",
            {"A": True, "B": 3},
            "strategies[0].replenish.wh.policy.level.A",
        ),
    ],
)
def test_booleans_are_not_numbers(path, value, location):
    d = scenario()
    _set(path, value)(d)
    problems = problems_of(d)
    assert_problem(problems, location, "true/false is not a number")


def test_text_is_not_a_number():
    d = scenario()
    sku(d)["price"] = "20"
    sku(d)["unit_cost"] = "cheap"
    problems = problems_of(d)
    assert_problem(problems, "skus[0].price", "got the text '20' (remove the quotes)")
    assert_problem(problems, "skus[0].unit_cost", "expected a number, got 'cheap'")


def test_exponent_numbers_in_yaml_are_numbers(tmp_path):
    """YAML 1.1 reads ``1e6`` as text; pydantic used to turn that text into the number, so the
    scenario files of the issue held ``price: 1e154``: refused now as a number, not as text."""
    d = scenario()
    wh_policy(d)["level"] = "LEVEL"
    sku(d)["price"] = "PRICE"
    text = yaml.safe_dump(d, sort_keys=False).replace("LEVEL", "1e3").replace("PRICE", "1e154")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as e:
        load_scenario(path)
    assert [msg for loc, msg in e.value.problems] == ["must be ≤ 1,000,000"]
    path.write_text(text.replace("1e154", "2.5e1"), encoding="utf-8")
    loaded = load_scenario(path).scenario
    assert loaded.skus[0].price == 25.0
    assert loaded.strategies[0].replenish["wh"].policy.level == 1000.0


def test_booleans_stay_allowed_where_a_flag_belongs():
    d = scenario()
    d["nodes"]["wh"]["prime"] = True
    assert validate(d).nodes["wh"].prime is True


@pytest.mark.parametrize("start", ["9999-12-31", "2200-01-01", "1066-10-14", dt.date(9999, 1, 1)])
def test_start_date_keeps_the_calendar_in_range(start):
    d = scenario(start_date=start)
    assert_problem(problems_of(d), "start_date", "between 1900-01-01 and 2199-12-31")


def test_latest_start_date_with_the_longest_horizon_runs_its_calendar():
    d = scenario(start_date="2199-12-31", horizon_days=sc.MAX_HORIZON_DAYS, replications=1)
    model = compile_scenario(validate(d))
    assert model.calendar.days == sc.MAX_HORIZON_DAYS


def test_start_date_9999_is_exit_2_on_the_command_line(tmp_path, capsys):
    path = write(tmp_path / "s.yaml", scenario(start_date="9999-12-31"))
    code, _, err = cli(["run", str(path), "--quiet", "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.startswith("start_date (line 2): must be between")
    assert "Traceback" not in err


@pytest.mark.parametrize("spec", ["profit=1e-300", "profit=1e300", "profit=5e-324"])
def test_precision_half_width_is_bounded(spec, tmp_path, capsys):
    path = write(tmp_path / "s.yaml", scenario())
    code, _, err = cli(["run", str(path), "--quiet", "--precision", spec], capsys)
    assert code == 2
    assert err.startswith("--precision: the half-width must be a number between 1e-09 and 1e+12")


def test_precision_needed_never_overflows():
    import numpy as np

    from sim.metric_names import METRICS
    from sim.montecarlo import Precision

    totals = np.zeros((3, 1, len(METRICS)))
    totals[:, 0, METRICS.index("profit")] = [0.0, 1.0, 2.0]  # (1 / 1e-300)² overflows a float
    assert Precision("profit", 1e-300, 100).needed(totals, 0.95) == 10**12


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--length-in", "1e300"], "--length-in: must be a positive number ≤ 2,000 in"),
        (["--length-cm", "1e308"], "--length-cm: must be a positive number ≤ 2,000 in"),
        (["--weight-lb", "1e300"], "--weight-lb: must be a positive number ≤ 10,000 lb"),
        (["--price", "1e300"], "--price: must be a number between 0 and 1,000,000"),
        (["--price", "inf"], "--price: must be a number between 0 and 1,000,000"),
    ],
)
def test_fees_refuses_huge_measures(args, where, capsys):
    base = {"--length-in": "10", "--width-in": "8", "--height-in": "2", "--weight-lb": "1"}
    base["--price"] = "20"
    base.pop(args[0].replace("-cm", "-in"), None)
    argv = ["fees", *[x for kv in base.items() for x in kv], *args]
    code, out, err = cli(argv, capsys)
    assert code == 2, out
    assert err.startswith(where)


def test_fees_at_the_bounds_prints_finite_numbers(capsys):
    argv = ["fees", "--length-in", "2000", "--width-in", "2000", "--height-in", "2000"]
    argv += ["--weight-lb", "10000", "--price", "1000000", "--date", "2026-03-02"]
    code, table, _ = cli(argv, capsys)
    assert code == 0
    assert "inf" not in table.lower() and "nan" not in table.lower()
    code, text, _ = cli([*argv, "--format", "json"], capsys)
    assert code == 0
    report = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in fees JSON"))
    assert report["storage"]["cubic_feet"] == pytest.approx(2000**3 / 1728)


def test_import_orders_refuses_absurd_quantities(tmp_path):
    from sim.import_orders import import_file

    rows = ["sku,date,quantity", "A,2026-01-05,1", "A,2026-01-06,1e300", "A,2026-01-07,2"]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rep = import_file(path, skip_bad=True)
    assert rep.bad == [
        (
            3,
            "quantity '1e300' must be a number between 0 and 10,000,000 (a day's "
            "demand a scenario can hold)",
        )
    ]


def test_import_orders_refuses_a_day_beyond_what_a_scenario_holds(tmp_path):
    from sim.import_orders import import_file

    rows = ["sku,date,quantity", *["A,2026-01-05,6000000"] * 2, "A,2026-01-06,1"]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        import_file(path)
    assert e.value.problems == [
        (
            "orders.csv",
            "SKU 'A' has 12,000,000 units on 2026-01-05: more than the 10,000,000 a "
            "day a scenario can hold",
        )
    ]


def test_import_orders_drops_control_characters_from_product_names(tmp_path, capsys):
    rows = ["sku,date,quantity,product-name"]
    rows += [f"A,2026-01-{day:02d},2,Mug\x1b[2J\x9b31m 11oz\x07" for day in range(1, 29)]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = cli(["import-orders", str(path)], capsys)
    assert code == 0, err
    assert not CONTROL.search(out.replace("\n", "")) and not CONTROL.search(err.replace("\n", ""))
    (fitted,) = yaml.safe_load(out)["skus"]
    assert fitted["name"] == "Mug[2J31m 11oz"
    validate(scenario(skus=[fitted], strategies=[{"name": "s", "fulfil_from": ["wh"]}]))


def test_import_orders_bound_is_the_scenario_bound():
    from sim import import_orders

    assert import_orders.MAX_DAILY_DEMAND == sc.MAX_DAILY_DEMAND


def test_json_schema_states_the_default_bounds():
    schema = sc.json_schema()
    price = schema["$defs"]["Sku"]["properties"]["price"]["anyOf"][0]
    assert price["maximum"] == 1e6 and price["minimum"] == 0
    name = schema["properties"]["name"]
    assert name["pattern"] == r"^[^\x00-\x1f\x7f-\x9f]*$"
    # what `schema` prints has the pattern as text, not the control characters themselves
    text = json.dumps(schema, indent=2, ensure_ascii=False)
    assert not CONTROL.search(text.replace("\n", ""))


# --------------------------------------------------------------------------- 6: fee_overrides


@pytest.mark.parametrize(
    ("override", "location", "message"),
    [
        (
            {"referal": {"default": {"rate": 0.1}}},
            "fee_overrides.referal",
            "did you mean 'referral'",
        ),
        (
            {"surcharges": {"fuel_and_logistics": {"rat": 0.1}}},
            "fee_overrides.surcharges.fuel_and_logistics.rat",
            "unknown key; did you mean 'rate'?",
        ),
        (
            {"surcharges": {"fuel_and_logistics": {"rate": -0.1}}},
            "fee_overrides.surcharges.fuel_and_logistics.rate",
            "≥ 0",
        ),
        (
            {"surcharges": {"fuel_and_logistics": {"rate": "ten"}}},
            "fee_overrides.surcharges.fuel_and_logistics.rate",
            "expected a number, got 'ten'",
        ),
        (
            {"surcharges": {"fuel_and_logistics": {"rate": True}}},
            "fee_overrides.surcharges.fuel_and_logistics.rate",
            "expected a number, got true",
        ),
        (
            {"referral": {"categories": {"camera_phto": {"rate": 0.1}}}},
            "fee_overrides.referral.categories.camera_phto",
            "did you mean 'camera_photo'",
        ),
        (
            {"referral": {"categories": {"garden": {"rate": 0.1, "minmum_fee": 1}}}},
            "fee_overrides.referral.categories.garden.minmum_fee",
            "did you mean 'minimum_fee'",
        ),
        (
            {"dimensional_weight": {"divisor_cubic_inches_per_lb": 1e300}},
            "fee_overrides.dimensional_weight.divisor_cubic_inches_per_lb",
            "≤ 1,000,000",
        ),
        ({"size_tiers": 5}, "fee_overrides.size_tiers", "expected a list, got 5"),
        (
            {"storage": {"monthly_per_cubic_foot": [{"effective_from": "soon"}]}},
            "fee_overrides.storage.monthly_per_cubic_foot[0].effective_from",
            "expected a date",
        ),
        (
            {"rate_cards": {"std_2024_nonpeak": {"small_standard": [{"max_oz": 2, "fee": None}]}}},
            "fee_overrides.rate_cards.std_2024_nonpeak.small_standard[0].fee",
            "null is not allowed here",
        ),
    ],
)
def test_fee_overrides_are_checked_against_the_fee_tables(override, location, message):
    d = scenario(fee_overrides=override)
    assert_problem(problems_of(d), location, message)


def test_fee_override_problems_carry_their_line(tmp_path):
    d = scenario(fee_overrides={"surcharges": {"fuel_and_logistics": {"rat": 0.1}}})
    path = write(tmp_path / "s.yaml", d)
    with pytest.raises(UserError) as e:
        load_scenario(path)
    (loc, _), *_ = e.value.problems
    line = path.read_text().splitlines().index("      rat: 0.1") + 1
    assert loc == f"fee_overrides.surcharges.fuel_and_logistics.rat (line {line})"


def test_valid_fee_overrides_still_apply():
    """A new category and a new threshold are names in a table, allowed; the rate is used."""
    d = scenario(
        fee_overrides={
            "referral": {"categories": {"garden": {"rate": 0.1, "minimum_fee": 0.3}}},
            "returns_processing_fee": {"thresholds": {"garden": 0.05}},
        }
    )
    d["nodes"] = {"amz": {"type": "fba"}}
    d["strategies"][0]["fulfil_from"] = ["amz"]
    d["strategies"][0]["replenish"] = {"amz": d["strategies"][0]["replenish"]["wh"]}
    for s in d["skus"]:
        s.update(FULL_SKU, category="garden")
    model = compile_scenario(validate(d))
    # 10% of the prices 20 and 30 (above the $0.30 minimum)
    assert model.catalog.referral_per_unit.tolist() == pytest.approx([2.0, 3.0])


def test_fee_override_walk_knows_no_section_by_name():
    """The check takes the tables it is given: a made-up structure is checked the same way."""
    from sim.fees.overrides import check_overrides

    tables = {"alpha": {"beta": 1.5, "gamma": "x"}, "cards": {"a": {"k": 1}, "b": {"k": 2}}}
    assert check_overrides({"alpha": {"beta": 2}}, tables) == []
    assert check_overrides({"alpha": {"bet": 2}}, tables) == [
        (("alpha", "bet"), "unknown key; did you mean 'beta'?")
    ]
    assert check_overrides({"cards": {"zzz": {"k": 3}}}, tables) == []
    assert check_overrides({"cards": {"zzz": {"k": -3}}}, tables) == [
        (("cards", "zzz", "k"), "must be ≥ 0")
    ]


# --------------------------------------------------------------------------- 7: files


def empirical(d: dict, name: str) -> dict:
    sku(d)["demand"] = {"distribution": "empirical", "file": name}
    return d


@pytest.fixture
def folder(tmp_path) -> Path:
    inside = tmp_path / "scn"
    inside.mkdir()
    (inside / "data").mkdir()
    (inside / "data" / "daily.csv").write_text("date,units\n2026-01-01,3\n2026-01-02,5\n")
    (tmp_path / "outside.csv").write_text("3\n5\n")
    return inside


def test_a_file_in_the_scenario_folder_is_read(folder):
    d = empirical(scenario(), "data/daily.csv")
    assert validate(d, base_dir=folder).skus[0].demand.values == [3.0, 5.0]


@pytest.mark.parametrize("name", ["../outside.csv", "data/../../outside.csv", "ABS"])
def test_a_file_outside_the_scenario_folder_is_refused(folder, name):
    name = str(folder.parent / "outside.csv") if name == "ABS" else name
    d = empirical(scenario(), name)
    problems = problems_of(d, base_dir=folder)
    assert_problem(
        problems, "skus[0].demand", "is outside the scenario's folder", "--allow-outside-files"
    )
    allowed = validate(d, base_dir=folder, allow_outside_files=True)
    assert allowed.skus[0].demand.values == [3.0, 5.0]


def test_a_symlink_escaping_the_folder_is_refused(folder):
    (folder / "link.csv").symlink_to(folder.parent / "outside.csv")
    d = empirical(scenario(), "link.csv")
    assert_problem(problems_of(d, base_dir=folder), "skus[0].demand", "outside the scenario's")


def test_folders_fifos_and_devices_get_their_own_message(folder):
    os.mkfifo(folder / "pipe")
    cases = {"data": "is a folder, not a file", "pipe": "is a FIFO (named pipe)"}
    for name, message in cases.items():
        started = time.monotonic()
        assert_problem(
            problems_of(empirical(scenario(), name), base_dir=folder), "skus[0].demand", message
        )
        assert time.monotonic() - started < 5  # never blocks opening the FIFO
    with pytest.raises(ScenarioFileError, match="is a device, not a regular file"):
        resolve_scenario_file(folder, "/dev/null", allow_outside=True)


def test_resolve_scenario_file_contract(folder):
    from sim.scenario_files import file_in_context

    inside = folder / "data" / "daily.csv"
    assert resolve_scenario_file(folder, "data/daily.csv") == inside.resolve()
    assert file_in_context({"base_dir": folder}, "data/daily.csv") == inside.resolve()
    outside = {"base_dir": folder, "allow_outside_files": True}
    assert file_in_context(outside, "../outside.csv") == (folder.parent / "outside.csv").resolve()
    with pytest.raises(ScenarioFileError, match="limited to 5 bytes"):
        file_in_context({"base_dir": folder}, "data/daily.csv", max_bytes=5)
    for name, message in [
        ("", "a file name is needed"),
        ("a\x00b", "is not a usable file name"),
        ("nope.csv", "file not found: 'nope.csv'"),
        ("../outside.csv", "outside the scenario's folder"),
    ]:
        with pytest.raises(ScenarioFileError, match=re.escape(message)):
            file_in_context({"base_dir": folder}, name)


def test_a_file_too_large_is_refused_before_reading(folder, monkeypatch):
    import sim.scenario_files as files

    monkeypatch.setattr(files, "MAX_DATA_FILE_BYTES", 10)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read"))
    d = empirical(scenario(), "data/daily.csv")
    assert_problem(problems_of(d, base_dir=folder), "skus[0].demand", "limited to 10 bytes")


def test_messages_quote_only_a_short_number_like_cell(folder):
    (folder / "secret.csv").write_text("units\n3\npassword = hunter2-very-secret\n4\n")
    problems = problems_of(empirical(scenario(), "secret.csv"), base_dir=folder)
    assert_problem(problems, "skus[0].demand", "secret.csv line 3: is not a number")
    assert "hunter2" not in repr(problems)
    (folder / "typo.csv").write_text("units\n3\n4x\n")
    problems = problems_of(empirical(scenario(), "typo.csv"), base_dir=folder)
    assert_problem(problems, "skus[0].demand", "typo.csv line 3: '4x' is not a number")


@pytest.mark.parametrize("value", ["1e308", "inf", "nan", "-1", "10000001"])
def test_daily_values_in_a_file_are_bounded(folder, value):
    (folder / "big.csv").write_text(f"3\n{value}\n")
    problems = problems_of(empirical(scenario(), "big.csv"), base_dir=folder)
    assert_problem(problems, "skus[0].demand", "big.csv line 2: daily demand must be between 0")


def test_a_file_that_is_not_utf8(folder):
    (folder / "bin.csv").write_bytes(b"3\n\xff\xfe\n")
    assert_problem(
        problems_of(empirical(scenario(), "bin.csv"), base_dir=folder),
        "skus[0].demand",
        "is not UTF-8 text",
    )


@pytest.mark.parametrize("command", ["validate", "run", "sweep", "optimize"])
def test_allow_outside_files_on_the_command_line(command, folder, capsys):
    path = write(folder / "s.yaml", empirical(scenario(replications=2), "../outside.csv"))
    extra = {
        "validate": [],
        "run": ["--quiet", "--no-report", "--out", str(folder / "out"), "--workers", "1"],
        "sweep": ["--set", "seed=1", "--quiet", "--out", str(folder / "sw"), "--workers", "1"],
        "optimize": [
            "--target",
            "fill_rate>=0.5",
            "--quiet",
            "--out",
            str(folder / "op"),
            "--workers",
            "1",
        ],
    }[command]
    code, _, err = cli([command, str(path), *extra], capsys)
    assert code == 2
    assert "outside the scenario's folder" in err and "--allow-outside-files" in err
    code, _, err = cli([command, str(path), *extra, "--allow-outside-files"], capsys)
    assert code == 0, err


# --------------------------------------------------------------------------- 8: control characters

CONTROLS = ["\x1b[2J", "\r", "\x07", "\x9b2J", "\x00", "\x7f", "\u2028"]


@pytest.mark.parametrize("char", CONTROLS[:-1])
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("strategies.0.name", "strategies[0].name"),
        ("skus.0.id", "skus[0].id"),
        ("skus.0.name", "skus[0].name"),
        ("name", "name"),
        ("description", "description"),
    ],
)
def test_control_characters_are_refused_in_names(char, path, location):
    d = scenario()
    _set(path, f"evil{char}name")(d)
    assert_problem(problems_of(d), location, "control character")


def test_descriptions_may_have_line_breaks_and_tabs():
    assert validate(scenario(description="line one\n\tline two\n")).description.count("\n") == 2


def test_control_characters_in_mapping_keys_are_refused():
    d = scenario()
    d["nodes"]["x\x1b[2J"] = {"type": "fbm"}
    problems = problems_of(d)
    assert_problem(problems, "nodes.x\\x1b[2J", "this key has a control character")


def test_nothing_raw_reaches_the_terminal(tmp_path, capsys):
    d = scenario()
    d["strategies"][0]["name"] = "\x1b[2Jwiped"
    d["nodes"]["wh"]["ty\x1b[31mpe"] = 1
    d["skus"][0]["demand"]["distribution"] = "\x07bell"
    path = write(tmp_path / "s.yaml", d)
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2
    assert not CONTROL.search(err.replace("\n", "")), err
    assert "\\x1b[2Jwiped" in err and "ty\\x1b[31mpe" in err


def test_a_missing_file_name_with_escapes_is_escaped(tmp_path, capsys):
    code, _, err = cli(["validate", str(tmp_path / "\x1b[2Jnope.yaml")], capsys)
    assert code == 2
    assert "\x1b" not in err and "\\x1b[2Jnope.yaml: file not found" in err


LONG = "a" * 300  # one name longer than any file system allows (255 bytes)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["validate", "{d}/{long}.yaml"], "cannot read: File name too long"),
        (["run", "{d}/{long}.yaml"], "cannot read: File name too long"),
        (["sweep", "{d}/{long}.yaml", "--set", "seed=1,2"], "cannot read: File name too long"),
        (["import-orders", "{d}/{long}.csv"], "cannot read: File name too long"),
        (
            ["import-orders", "{d}/{long}.csv", "--channel", "web"],
            "cannot read: File name too long",
        ),
        (["import-orders", "{orders}", "--out", "{d}/{long}.yaml"], "longer than 255 bytes"),
        (["init", "-o", "{d}/{long}/x.yaml"], "longer than 255 bytes"),
        (["init", "-o", "{d}/{long}.yaml"], "longer than 255 bytes"),
    ],
    ids=lambda a: a[0] if isinstance(a, list) else None,
)
def test_names_the_system_refuses_are_located_errors(args, problem, tmp_path, capsys):
    """A name too long for the file system (Path.exists raises ENAMETOOLONG) was a traceback."""
    orders = ROOT / "tests" / "data" / "all-orders-sample.txt"
    argv = [a.format(d=tmp_path, long=LONG, orders=orders) for a in args]
    code, _, err = cli(argv, capsys)
    assert code == 2 and problem in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["validate", "{d}/locked/s.yaml"], "cannot read: Permission denied"),
        (["import-orders", "{d}/locked/o.csv"], "cannot read: Permission denied"),
        (["run", "{s}", "--reps", "2", "--out", "{d}/locked/out"], "Permission denied"),
        (["init", "-o", "{d}/locked/s.yaml"], "Permission denied"),
        (["import-orders", "{orders}", "--out", "{d}/locked/s.yaml"], "Permission denied"),
    ],
    ids=["validate", "import-orders", "run-out", "init", "import-orders-out"],
)
def test_a_folder_the_user_may_not_enter_is_a_located_error(args, problem, tmp_path, capsys):
    """Path.exists raises PermissionError (EACCES) under a folder without search permission
    (tests run as root here, so the refusal is simulated on every look inside ``locked``)."""
    import pathlib

    real_stat, real_mkdir = pathlib.Path.stat, pathlib.Path.mkdir

    def refuse(method):
        def wrapped(self, *a, **k):
            if "locked/" in str(self) or str(self).endswith("locked"):
                raise PermissionError(13, "Permission denied", str(self))
            return method(self, *a, **k)

        return wrapped

    orders = ROOT / "tests" / "data" / "all-orders-sample.txt"
    s = write(tmp_path / "s.yaml", scenario())
    (tmp_path / "locked").mkdir()
    argv = [a.format(d=tmp_path, s=s, orders=orders) for a in args]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(pathlib.Path, "stat", refuse(real_stat))
        m.setattr(pathlib.Path, "mkdir", refuse(real_mkdir))
        code, _, err = cli(argv, capsys)
    assert code == 2 and problem in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    "args",
    [
        ["init", "-o", "{fifo}", "--force"],
        ["import-orders", "{orders}", "--out", "{fifo}", "--force"],
    ],
    ids=["init", "import-orders"],
)
def test_force_never_replaces_a_device_or_a_pipe(args, tmp_path, capsys):
    """The atomic write renames a new file over the target: run as root, `init -o /dev/null
    --force` replaced /dev/null with a regular file. A FIFO stands for the device here."""
    import stat

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    orders = ROOT / "tests" / "data" / "all-orders-sample.txt"
    code, _, err = cli([a.format(fifo=fifo, orders=orders) for a in args], capsys)
    assert code == 2 and "not a regular file: not replaced" in err, err
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_named_file_too_large_is_refused_with_its_size(tmp_path):
    from sim.scenario_files import read_named

    path = tmp_path / "big.csv"
    path.write_text("x" * 1234)
    with pytest.raises(UserError) as e:
        read_named(path, 1000, "order files")
    assert e.value.problems == [
        (str(path), "file is 1,234 bytes; order files are limited to 1,000 bytes")
    ]


def test_a_nul_character_in_a_name_is_a_located_error(tmp_path, capsys):
    """Python raises ValueError for a NUL in a path (reachable from Python, not from a shell;
    options of click's Path type stop it before fulfilsim sees it)."""
    code, _, err = cli(["init", "-o", f"{tmp_path}/a\0b.yaml"], capsys)
    assert code == 2 and "the name holds a NUL character" in err, err


def test_a_long_location_loses_its_middle_not_the_problem():
    line = format_problem("/data/" + "d" * 500 + "/my-scenario.yaml", "cannot read: too long")
    assert len(line) <= MAX_LINE and line.endswith("d/my-scenario.yaml: cannot read: too long")
    assert line.startswith("/data/ddd") and "…" in line


@pytest.mark.parametrize("char", CONTROLS)
def test_format_problem_escapes_every_control_character(char):
    line = format_problem(f"a{char}b", f"c{char}d")
    assert char not in line
    assert printable(char) in line


# --------------------------------------------------------------------------- 11: messages


def test_locations_never_name_pydantic_types():
    d = scenario()
    sku(d)["demand"].update(weekly={"sat": "x", "sun": -1}, monthly={"jan": None})
    problems = problems_of(d)
    assert not [loc for loc, _ in problems if PYDANTIC_NAMES.search(loc)], problems
    assert_problem(problems, "skus[0].demand.weekly.sat", "expected a number, got 'x'")
    assert_problem(problems, "skus[0].demand.weekly.sun", "≥ 0")
    assert_problem(problems, "skus[0].demand.monthly.jan", "number")


def test_union_member_names_are_left_out_of_locations():
    """pydantic names a union's members in the location (a type, or a model's class name);
    only the user's keys remain, and a member of the wrong kind adds no line."""
    from sim.loader import _strip_tags

    data = {"nodes": {"wh": {"type": "fbm"}}, "float": {}}
    loc = ("nodes", "wh", "FbmNode", "order_cost")
    assert _strip_tags(loc, data) == ("nodes", "wh", "order_cost")
    assert _strip_tags(("nodes", "wh", "function-after[_x(), Leg]", 0), data) == ("nodes", "wh", 0)
    assert _strip_tags(("float", "x"), data) == ("float", "x")  # a user's key of that name stays
    d = scenario()
    sku(d)["demand"]["weekly"] = {"sat": "x"}
    assert problems_of(d) == [("skus[0].demand.weekly.sat", "expected a number, got 'x'")]
    sku(d)["demand"]["weekly"] = 5
    assert problems_of(d) == [
        ("skus[0].demand.weekly", "expected a mapping, got 5"),
        ("skus[0].demand.weekly", "expected a list, got 5"),
    ]


def test_no_error_line_is_longer_than_a_screen(tmp_path, capsys):
    d = scenario()
    d["nodes"]["wh"]["type"] = list(range(300_000))
    d["skus"][0]["id"] = "x" * 100_000
    path = write(tmp_path / "s.yaml", d)
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2
    lines = err.splitlines()
    assert lines and max(map(len, lines)) <= MAX_LINE
    assert any(line.startswith("nodes.wh.type (line") for line in lines)


def test_many_problems_are_capped(capsys, tmp_path):
    d = scenario()
    sku(d)["demand"] = {"distribution": "empirical", "values": [-1] * 5000}
    path = write(tmp_path / "s.yaml", d)
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 101 and lines[-1] == "… and 4,900 more problems"


def test_bundled_scenarios_and_templates_stay_valid():
    files = [*sorted((ROOT / "scenarios").glob("*.yaml")), *(ROOT / "sim" / "templates").glob("*")]
    assert len(files) >= 10
    for path in files:
        load_scenario(path)
