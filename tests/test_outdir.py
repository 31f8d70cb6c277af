"""Output folders are checked before simulating; one folder holds one run's files; files the
user names (init, import-orders) are written atomically, even on a full disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sim import outdir
from sim.cli import main
from tests.helpers import ROOT

STARTER = "scenarios/starter.yaml"
QUICK = ["--reps", "2", "--workers", "1", "--quiet"]


def cli(capsys, *args) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def never_simulates(monkeypatch):
    """Any simulation fails the test: the checks must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr("sim.montecarlo.run", refuse)
    monkeypatch.setattr("sim.sweep.run_points", refuse)
    monkeypatch.setattr("sim.optimize.optimize", refuse)


COMMANDS = [
    ["run", STARTER],
    ["sweep", STARTER, "--set", "skus.0.demand.mean_per_day=8,12"],
    ["optimize", STARTER, "--target", "cycle_service_level>=0.9"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("where", "problem"),
    [
        (lambda tmp: "/proc/fulfilsim-results", "--out: cannot create /proc/fulfilsim-results"),
        (lambda tmp: tmp / "file.txt" / "sub", "is under"),
        (lambda tmp: tmp / ("x" * 300), "is longer than 255 bytes"),
        (lambda tmp: "", "--out: is empty"),
        (lambda tmp: "  ", "--out: is empty"),
    ],
    ids=["proc", "under-a-file", "name-too-long", "empty", "blank"],
)
def test_an_unwritable_out_is_refused_before_simulating(
    command, where, problem, tmp_path, capsys, never_simulates
):
    (tmp_path / "file.txt").write_text("not a folder")
    code, _, err = cli(capsys, *command, *QUICK, "--out", where(tmp_path))
    assert code == 2 and problem in err and "Traceback" not in err, err
    assert err.startswith("--out: ") and len(err.strip().splitlines()) == 1


def test_a_read_only_folder_is_refused(tmp_path, capsys, never_simulates):
    """A read-only mount (as root a chmod'ed folder stays writable)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        code, _, err = cli(capsys, "run", STARTER, *QUICK, "--out", ro)
        assert code == 2 and err == f"--out: cannot write into {ro}: read-only file system\n"
        code, _, err = cli(capsys, "run", STARTER, *QUICK, "--out", ro / "sub")
        assert code == 2 and err == f"--out: cannot create {ro / 'sub'}: read-only file system\n"
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys, never_simulates):
    (tmp_path / "f").write_text("x")
    code, _, err = cli(capsys, "run", STARTER, *QUICK, "--out", tmp_path / "f")
    assert code == 2 and err == f"--out: {tmp_path / 'f'} is a file, not a folder\n"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_folder_with_results_is_refused_without_force(command, tmp_path, capsys, never_simulates):
    (tmp_path / "summary.json").write_text("{}")
    code, _, err = cli(capsys, *command, *QUICK, "--out", tmp_path)
    assert code == 2
    assert err == (
        f"--out: {tmp_path} already holds results (summary.json): use --force to replace them, "
        "or choose another folder\n"
    )
    assert (tmp_path / "summary.json").read_text() == "{}"


def test_force_replaces_the_whole_set(tmp_path, capsys):
    """A run with its report, then a --no-report run with --force: the old report and charts
    go (they described the other run); then a sweep with --force: the run's files go."""
    out = tmp_path / "o"
    assert cli(capsys, "run", STARTER, *QUICK, "--out", out)[0] == 0
    assert (out / "report.html").exists() and list(out.glob("chart-*.png"))
    code, _, _ = cli(capsys, "run", STARTER, *QUICK, "--seed", "5", "--no-report", "--out", out,
                     "--force")  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "months.csv",
        "plan.csv",
        "replications.csv",
        "skus.csv",
        "summary.json",
    ]
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    code, _, _ = cli(capsys, "sweep", STARTER, "--set", "skus.0.demand.mean_per_day=8,12",
                     *QUICK, "--out", out, "--force")  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv", "sweep.json"]


def test_an_empty_or_unrelated_folder_is_used_as_is(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli(capsys, "run", STARTER, *QUICK, "--no-report", "--out", tmp_path)[0] == 0
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "summary.json").exists()


def test_temp_files_of_a_killed_write_are_cleaned_by_the_next_run(tmp_path, capsys):
    """kill -9 during a write leaves a hidden temporary file; the next run removes it (only
    temporary files of result names: a user's own hidden files stay)."""
    stale = [tmp_path / ".summary.json.k3j2_x.tmp", tmp_path / ".chart-costs.png.abc.tmp",
             tmp_path / ".fulfilsim-probe.q1.tmp"]  # fmt: skip
    for p in stale:
        p.write_text("half")
    mine = tmp_path / ".notes.txt.abc.tmp"
    mine.write_text("mine")
    assert cli(capsys, "run", STARTER, *QUICK, "--no-report", "--out", tmp_path)[0] == 0
    assert not any(p.exists() for p in stale) and mine.exists()


def test_a_refused_run_leaves_no_empty_folder(tmp_path):
    """The default folder is made before simulating; a run refused after that removes it."""
    scen = tmp_path / "s.yaml"
    scen.write_text((ROOT / STARTER).read_text())
    done = subprocess.run(
        [sys.executable, str(ROOT / "simulate.py"), "run", str(scen), *QUICK, "--backend", "dask",
         "--scheduler", "tcp://127.0.0.1:1"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    if "pip install" in done.stderr:
        pytest.skip("dask is not installed")
    assert done.returncode == 2 and done.stderr.startswith("--scheduler: cannot reach")
    assert not list((tmp_path / "results").glob("*/*"))


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs holding ``old.yaml`` ("old") and filled up; skipped where mounting is not
    allowed (not root, a container without the right)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        (mount / "old.yaml").write_text("old")
        (mount / "folder").mkdir()
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 1024):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_init_on_a_full_disk_keeps_the_old_file(full_disk, capsys):
    target = full_disk / "old.yaml"
    code, _, err = cli(capsys, "init", "--out", target, "--force")
    assert code == 2 and err == f"{target}: cannot write: no space left on the disk\n"
    assert target.read_text() == "old"
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "folder", "old.yaml"]


def test_import_orders_on_a_full_disk_keeps_the_old_file(full_disk, capsys, tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text("sku,date,quantity\nA,2026-01-05,2\nA,2026-01-06,1\n")
    target = full_disk / "old.yaml"
    code, _, err = cli(capsys, "import-orders", orders, "--min-days", "1", "--out", target,
                       "--force")  # fmt: skip
    assert code == 2 and err.endswith(f"{target}: cannot write: no space left on the disk\n")
    assert target.read_text() == "old"


def test_a_run_into_a_full_disk_is_refused_before_simulating(full_disk, capsys, never_simulates):
    code, _, err = cli(capsys, "run", STARTER, *QUICK, "--out", full_disk / "folder")
    assert code == 2
    assert err == f"--out: cannot write into {full_disk / 'folder'}: no space left on the disk\n"


def test_import_orders_into_a_path_under_a_file_is_a_located_error(capsys, tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text("sku,date,quantity\nA,2026-01-05,2\n")
    (tmp_path / "f").write_text("x")
    target = tmp_path / "f" / "skus.yaml"
    code, _, err = cli(capsys, "import-orders", orders, "--min-days", "1", "--out", target)
    assert code == 2 and err.endswith(
        f"{target}: cannot write: {tmp_path / 'f'} is a file, not a folder\n"
    )


def test_results_in_lists_every_command_s_files(tmp_path):
    for name in [*outdir.RESULT_FILES, "chart-intervals.png", "notes.txt"]:
        (tmp_path / name).write_text("x")
    assert [p.name for p in outdir.results_in(tmp_path)] == sorted(
        [*outdir.RESULT_FILES, "chart-intervals.png"]
    )
