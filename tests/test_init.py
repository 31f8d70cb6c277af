"""``init``: the bundled starter templates are written, validate and run as written."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from sim.cli import main
from sim.init_command import DEFAULT_TEMPLATE, named, template_text, templates
from sim.loader import parse_yaml
from tests.helpers import ROOT

TEMPLATES = ("fba-migration", "hybrid-3pl", "safety-stock", "sfp")


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run the command line in-process: (exit code, stdout, stderr)."""
    try:
        main([*map(str, args)])
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def simulate(*args, cwd):
    return subprocess.run(
        [sys.executable, str(ROOT / "simulate.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def test_the_bundled_templates():
    assert tuple(templates()) == TEMPLATES
    assert DEFAULT_TEMPLATE in TEMPLATES


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_validates_and_runs_as_written(name, tmp_path, capsys):
    code, out, err = cli(capsys, "init", "--template", name, "--out", tmp_path / "s.yaml")
    assert code == 0, err
    assert f"wrote {tmp_path / 's.yaml'} (template {name})" in out
    code, out, err = cli(capsys, "validate", tmp_path / "s.yaml")  # in-process: faster
    assert code == 0, err
    assert out.startswith("ok: s: ")  # named after the file, not the template
    done = simulate(
        "run", "s.yaml", "--reps", "3", "--workers", "1", "--no-report", "--quiet", "--out", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_is_a_small_commented_starter(name):
    text = template_text(name)
    assert text.startswith(f"# {name}: ")
    data = yaml.safe_load(text)
    assert data["name"] == name
    assert 1 <= len(data["skus"]) <= 3
    assert data["replications"] == 100
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 30
    for heading in ("THE QUESTION", "CHANGE THESE FIRST", "WHERE THE DEFAULTS COME FROM"):
        assert heading in text
    for sku in data["skus"]:
        assert {"length_in", "width_in", "height_in", "weight_lb", "price", "category"} <= set(sku)


def test_init_writes_the_default_template_to_scenario_yaml(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "init")
    assert code == 0, err
    written = (tmp_path / "scenario.yaml").read_text()
    assert written == named(template_text(DEFAULT_TEMPLATE), "scenario")
    assert written.replace("name: scenario     ", "name: fba-migration") == template_text(
        DEFAULT_TEMPLATE
    )
    assert "next: python simulate.py validate scenario.yaml" in out


def test_init_refuses_to_overwrite_without_force(tmp_path, capsys):
    target = tmp_path / "mine.yaml"
    target.write_text("name: mine\n")
    code, out, err = cli(capsys, "init", "--out", target)
    assert code == 2 and out == ""
    assert err.strip() == f"{target}: file exists; use --force to overwrite it"
    assert target.read_text() == "name: mine\n"
    code, _, err = cli(capsys, "init", "--out", target, "--force", "--template", "sfp")
    assert code == 0, err
    assert target.read_text() == named(template_text("sfp"), "mine")


def test_init_list(capsys):
    code, out, _ = cli(capsys, "init", "--list")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(TEMPLATES)
    assert any(line.startswith("fba-migration") and "[default]" in line for line in lines)


def test_unknown_template_lists_the_templates(tmp_path, capsys):
    code, out, err = cli(capsys, "init", "--template", "sfpp", "--out", tmp_path / "x.yaml")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "--template: unknown template 'sfpp'; did you mean 'sfp'?"
    assert [line.split()[0] for line in lines[1:]] == list(TEMPLATES)
    assert not (tmp_path / "x.yaml").exists()


def test_init_to_stdout(capsys):
    code, out, _ = cli(capsys, "init", "--template", "safety-stock", "--out", "-")
    assert code == 0 and out == template_text("safety-stock")


def test_init_into_a_missing_folder_is_an_error(tmp_path, capsys):
    code, _, err = cli(capsys, "init", "--out", tmp_path / "no" / "s.yaml")
    assert code == 2 and "does not exist" in err


def test_templates_ship_as_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"sim" = ["templates/*.yaml"]' in text


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("my-shop.yaml", "my-shop"),
        ("odd name.yaml", "odd name"),
        ("starter.yaml", "starter"),
        ("yes.yaml", "yes"),  # bare, these read back as true, 100000.0 and 123
        ("1e5.yaml", "1e5"),
        ("123.yaml", "123"),
    ],
)
def test_init_names_the_scenario_after_the_file(file, name, tmp_path, capsys):
    """Results go to results/<file name>/: a copy of a template never shares a folder with
    another template's copy (the comment after the name stays where it was)."""
    code, out, err = cli(capsys, "init", "--template", "sfp", "--out", tmp_path / file)
    assert code == 0, err
    text = (tmp_path / file).read_text(encoding="utf-8")
    assert parse_yaml(text)[0]["name"] == name
    [line] = [s for s in text.splitlines() if s.startswith("name:")]
    assert line.index("# names the results folder") == 32  # as in the template
    code, out, err = cli(capsys, "validate", tmp_path / file)
    assert code == 0 and out.startswith(f"ok: {name}: "), err


def test_init_to_stdout_keeps_the_template_name(capsys):
    code, out, _ = cli(capsys, "init", "--template", "sfp", "--out", "-")
    assert code == 0 and yaml.safe_load(out)["name"] == "sfp"
