"""Small sharp edges: the JSON Schema's dates, the date `fees` uses, `bench/` from a clean copy,
the rounding of sweep break-evens."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from sim.fees_command import fees
from sim.scenario import json_schema
from sim.sweep import _flip, _num
from tests.helpers import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TEMPLATES = sorted((ROOT / "sim" / "templates").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    cls = jsonschema.Draft202012Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("path", SCENARIOS + TEMPLATES, ids=lambda p: p.name)
def test_a_scenario_loaded_by_pyyaml_validates_against_the_schema(path, validator):
    """PyYAML (YAML 1.1) reads an unquoted 2026-01-05 as a date, not a string."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data.get("start_date", dt.date(2026, 1, 1)), dt.date)
    assert [e.message for e in validator.iter_errors(data)] == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-01-05", True),  # as a YAML 1.2 parser (the editors') reads it
        (dt.date(2026, 1, 5), True),  # as PyYAML reads it
        ("2026-13-45", False),
        ("next monday", False),
        (20260105, False),
        (None, False),
        ([2026, 1, 5], False),
    ],
)
def test_start_date_is_a_date_either_way_and_nothing_else(value, ok, validator):
    data = yaml.safe_load((ROOT / "scenarios" / "starter.yaml").read_text(encoding="utf-8"))
    data["start_date"] = value
    assert validator.is_valid(data) is ok


def test_fees_says_which_date_first():
    args = ["--length-in", "10", "--width-in", "6", "--height-in", "4", "--weight-lb", "1.1"]
    today = CliRunner().invoke(fees, [*args, "--price", "24.99"])
    first = today.output.splitlines()[0]
    assert first.startswith(f"Date                {dt.date.today().isoformat()} (today, no --date")
    given = CliRunner().invoke(fees, [*args, "--price", "24.99", "--date", "2026-03-01"])
    assert (
        given.output.splitlines()[0] == "Date                2026-03-01 (fee schedule 2026-01-15)"
    )


def test_bench_runs_from_a_clean_copy_of_the_repository(tmp_path):
    """No file outside the repository: the reference workload W is in bench/w."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    copy = tmp_path / "nested" / "clone"  # no ../shared next to it
    for name in listed.stdout.splitlines():
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    done = subprocess.run(
        [sys.executable, "bench/run_bench.py", "--skus", "3", "--reps", "2", "--repeat", "1"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "workload W: 3 SKUs x 365 days x 2 replications" in done.stdout
    for script in ("run_bench.py", "suite.py", "bench_optimize.py", "estimate.py"):
        text = (copy / "bench" / script).read_text(encoding="utf-8")
        assert "ROOT.parent" not in text and "../" not in text, script  # nothing next to it


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [
        (23.4312, 0.83, "23.4"),  # a tenth of an interval 8.3 wide: one decimal
        (23.4312, 0.035, "23.43"),
        (1234.5, 12.0, "1,234"),  # a wide interval: whole numbers (rounded half to even)
        (4.91678, 0.02, "4.92"),
        (4.91678, 0.0, "4.91678"),  # no scale: six significant figures
    ],
)
def test_break_even_values_are_rounded_to_their_precision(value, scale, text):
    assert _num(value, scale) == text


def test_break_even_names_who_wins_on_each_side():
    b = {"metric": "profit", "strategy": "fbm-only", "baseline": "fba-only"}
    both = {**b, "better_below": "fba-only", "better_above": "fbm-only"}
    assert _flip(both, "23.4") == "fba-only makes more profit below 23.4, fbm-only above"
    cost = {**both, "metric": "total_cost"}
    assert _flip(cost, "23.4") == "fba-only costs less below 23.4, fbm-only above"
    # a side without a grid value to tell (or equal there): the neutral wording
    assert _flip({**b, "better_below": None, "better_above": "fbm-only"}, "5") == (
        "fbm-only − fba-only changes sign at 5"
    )
