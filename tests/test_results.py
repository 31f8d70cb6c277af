"""Output files: CSV safety and atomic writes."""

from __future__ import annotations

import csv
import io

import pytest

from sim.results import csv_text, write_atomic


def test_csv_neutralises_spreadsheet_formulas():
    text = csv_text(
        [{"strategy": '=HYPERLINK("x")', "value": -3.5}, {"strategy": "@cmd", "value": 1}]
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["strategy"] == '\'=HYPERLINK("x")'
    assert rows[0]["value"] == "-3.5"  # numbers stay numbers
    assert rows[1]["strategy"] == "'@cmd"


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    write_atomic(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
