"""report.html and the chart PNGs: same numbers as summary.json, escaped, self-contained."""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from sim import montecarlo
from sim.loader import validate
from sim.model import compile_scenario
from sim.report import MAX_SKUS, render_html, write_report
from sim.results import summarize
from sim.table import fmt, fmt_ci, kind_of
from tests.helpers import ROOT, scenario, starter_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert(1)</script>\"'&"


def _summary(model, results, name="test"):
    return summarize(results, name, "0" * 64, model.calendar.days, model.calendar.warmup)


def _report(tmp: Path, d: dict, reps: int | None = None, complete: bool = True, text="name: x\n"):
    """Run scenario dict ``d`` in-process (optionally stopping after ``reps`` replications,
    marked incomplete) and write its report; return (summary, page, written paths)."""
    model = compile_scenario(validate(d))
    if complete:
        results = montecarlo.run(model)
    else:
        acc = montecarlo.Accumulator(model)
        for r in range(reps or 0):
            acc.add(montecarlo.run_replication(model, r))
        results = acc.results(complete=False)
    summary = _summary(model, results, d["name"])
    paths = write_report(tmp, summary, results, text)
    return summary, (tmp / "report.html").read_text(encoding="utf-8"), paths


class Tables(HTMLParser):
    """Rows of the page's tables: ``rows[(section id, h3 text)]`` = [(data-metric, [cells])]."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: dict[tuple[str, str], list[tuple[str | None, list[str]]]] = {}
        self.section = ""
        self.h3: list[str] | None = None
        self.heading = ""
        self.row: tuple[str | None, list[str]] | None = None
        self.cell: list[str] | None = None
        self.srcs: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "src" in a:
            self.srcs.append(a["src"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if tag == "section":
            self.section, self.heading = a.get("id", ""), ""
        elif tag == "h3":
            self.h3 = []
        elif tag == "tr":
            self.row = (a.get("data-metric"), [])
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "h3" and self.h3 is not None:
            self.heading, self.h3 = "".join(self.h3), None
        elif tag in ("td", "th") and self.cell is not None:
            self.row[1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.setdefault((self.section, self.heading), []).append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self.h3 is not None:
            self.h3.append(data)


def parse(page: str) -> Tables:
    p = Tables()
    p.feed(page)
    p.close()
    return p


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    """The bundled starter scenario, 6 replications, with its report."""
    out = tmp_path_factory.mktemp("starter-report")
    summary, paths = starter_report(out, 6)
    return summary, (out / "report.html").read_text(encoding="utf-8"), paths, out


def test_every_strategy_and_metric_with_the_summary_numbers(starter):
    summary, page, _, _ = starter
    tables = parse(page)
    rows = {m: cells for m, cells in tables.rows[("comparison", "")] if m}
    header = tables.rows[("comparison", "")][0][1]
    names = list(summary["strategies"])
    assert len(names) == 4
    for n, head in zip(names, header[1:], strict=True):
        assert head.startswith(n)
    metrics = summary["metric_order"]
    assert set(metrics) == set(summary["strategies"][names[0]]["metrics"])
    for m in metrics:
        expected = [fmt_ci(summary["strategies"][n]["metrics"][m], kind_of(m)) for n in names]
        assert rows[m][1:] == expected, m
        assert rows[m][0].endswith(m)  # the metric's own name is shown with its label
    best = summary["decision"]["probability_best"]
    assert rows["probability_best"][1:] == [f"{100 * best[n]:.0f}%" for n in names]


def test_paired_differences_match_the_summary(starter):
    summary, page, _, _ = starter
    tables = parse(page)
    assert summary["comparisons"]
    for c in summary["comparisons"]:
        rows = dict(tables.rows[("differences", f"{c['strategy']} minus {c['baseline']}")])
        kind = kind_of(c["metric"])
        diff, ci, wins, _reading = rows[c["metric"]][1:]
        assert diff == fmt(c["diff_mean"], kind)
        if c["ci_low"] is None:  # undefined for a strategy (cancel rate without seller orders)
            assert ci == "–"
        else:
            assert ci == f"[{fmt(c['ci_low'], kind)}, {fmt(c['ci_high'], kind)}]"
        assert wins == ("–" if c["win_rate"] is None else f"{100 * c['win_rate']:.0f}%")


def test_groups_recommendation_facts_skus_and_inputs(starter):
    summary, page, _, _ = starter
    for group in ("Service", "Delivery", "Money", "Costs", "Account health"):
        assert f">{group}</th>" in page
    assert 'id="recommendation"' in page
    for line in summary["recommendation"]:
        assert f"<p>{html.escape(line)}</p>" in page
    assert "2026-01-05 to 2027-01-31" in page  # start_date + 392 − 1 days (the starter's horizon)
    assert "56 days, not counted" in page
    assert summary["scenario"]["sha256"] in page
    assert "Incomplete" not in page
    sku_rows = parse(page).rows[("skus", "")]
    assert {cells[0] for _, cells in sku_rows[1:] if len(cells) == 8} == set(
        summary["strategies"]["fba-only"]["skus"]
    )
    first = summary["strategies"]["fba-only"]["skus"]["MUG-11OZ"]["metrics"]["fill_rate"]
    assert fmt_ci(first, "pct") in page
    assert "unmet_demand: lost" in page  # the YAML, as run
    assert page.count("<pre") == 1


def test_recommendation_argument_and_empty_recommendation(tmp_path):
    d = scenario()
    model = compile_scenario(validate(d))
    results = montecarlo.run(model)
    summary = _summary(model, results)
    write_report(tmp_path, summary, results, "", recommendation=["Ship <everything> & smile"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<p>Ship &lt;everything&gt; &amp; smile</p>" in page
    write_report(tmp_path, summary, results, "", recommendation=[])
    assert 'id="recommendation"' not in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_charts_are_valid_png_files_and_not_blank(starter):
    from matplotlib.image import imread

    _, _, paths, out = starter
    pngs = [p for p in paths if p.suffix == ".png"]
    assert [p.name for p in pngs] == [
        "chart-intervals.png",
        "chart-decision.png",
        "chart-costs.png",
        "chart-months.png",
        "chart-inventory.png",
    ]
    assert paths[-1] == out / "report.html"
    for p in pngs:
        data = p.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        pixels = imread(p)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400
        assert pixels[..., :3].std() > 0.05, p.name  # not one flat colour
        rgb = (pixels[..., :3] * 255).astype(np.uint32)
        assert len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])) > 50, p.name
        assert b"Software" not in data and b"Creation Time" not in data  # no tool/time stamp
    assert sorted(f.name for f in out.iterdir()) == sorted(p.name for p in paths)  # no temp files


def test_charts_are_deterministic(starter):
    summary, _, _, out = starter
    from sim.charts import cost_chart, interval_chart, month_chart

    assert interval_chart(summary).png == (out / "chart-intervals.png").read_bytes()
    assert cost_chart(summary).png == (out / "chart-costs.png").read_bytes()
    start = dt.date(2026, 1, 5)  # the starter's start_date
    assert month_chart(summary, start).png == (out / "chart-months.png").read_bytes()


def test_images_are_embedded_and_nothing_is_fetched(starter):
    _, page, _, _ = starter
    tables = parse(page)
    assert len(tables.srcs) == 5
    for src in tables.srcs:
        assert src.startswith("data:image/png;base64,")
    for href in tables.hrefs:
        assert href.startswith("#")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "<script" not in page.lower()  # no JavaScript needed


def test_user_text_is_escaped(tmp_path):
    d = scenario(name="<script>alert(3)</script>")
    d["skus"][0]["id"] = EVIL
    node = '<b class="x">wh</b>'
    d["nodes"] = {node: {"type": "fbm"}}
    base = d["strategies"][0]
    base["fulfil_from"] = [node]
    base["replenish"] = {node: base["replenish"]["wh"]}
    base["replenish"][node]["policy"]["level"] = {EVIL: 20, "B": 8}
    other = copy.deepcopy(base)
    other["name"] = "\"><img src=x onerror=alert(2)> & 'q' $x$ \\frac{"
    d["strategies"].append(other)
    yaml_text = "name: '</pre><script>alert(4)</script>'\n"
    _, page, paths = _report(tmp_path, d, text=yaml_text)
    assert "<script" not in page.lower()
    assert "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert "<b class" not in page
    assert html.escape(EVIL) in page
    assert html.escape(other["name"]) in page
    assert html.escape(node) in page
    assert html.escape(yaml_text) in page
    tables = parse(page)
    assert tables.srcs and all(s.startswith("data:image/png;base64,") for s in tables.srcs)
    header = tables.rows[("comparison", "")][0][1]
    assert header[2] == other["name"]  # the browser shows the name exactly as typed
    assert EVIL in {cells[0] for _, cells in tables.rows[("skus", "")]}
    assert len([p for p in paths if p.suffix == ".png"]) == 5  # "$x$" is not read as math


def test_incomplete_run(tmp_path):
    summary, page, _ = _report(tmp_path, scenario(), reps=3, complete=False)
    assert summary["complete"] is False and summary["replications"] == 3
    assert "Incomplete run" in page
    assert "3 (interrupted)" in page
    assert (tmp_path / "chart-inventory.png").exists()
    rows = dict(parse(page).rows[("comparison", "")])
    assert rows["profit"][1] == fmt_ci(summary["strategies"]["base"]["metrics"]["profit"], "money")


def test_no_finished_replication(tmp_path):
    summary, page, paths = _report(tmp_path, scenario(), reps=0, complete=False)
    assert summary["replications"] == 0
    assert paths == [tmp_path / "report.html"]  # no data, no charts
    assert "Incomplete run" in page
    assert 'id="charts"' not in page
    rows = dict(parse(page).rows[("comparison", "")])
    assert rows["profit"][1] == "–"


def test_single_strategy(tmp_path):
    summary, page, paths = _report(tmp_path, scenario())
    assert list(summary["strategies"]) == ["base"]
    assert 'id="differences"' not in page  # nothing to compare with
    assert "P(most profitable)" not in page and "probability_best" not in page
    assert [p.name for p in paths] == [
        "chart-intervals.png",
        "chart-costs.png",
        "chart-months.png",
        "chart-inventory.png",
        "report.html",
    ]
    assert "Only one strategy (base)" in page


def test_importing_the_report_does_not_import_matplotlib():
    code = "import sys, sim.report, sim.charts; assert 'matplotlib' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_without_results_there_is_no_fan_chart(starter, tmp_path):
    summary, _, _, _ = starter
    paths = write_report(tmp_path, summary, None, "name: starter\n")
    assert [p.name for p in paths] == ["chart-intervals.png", "chart-costs.png", "report.html"]


def test_large_catalogue_shows_the_skus_with_most_demand(starter):
    summary, _, _, _ = starter
    big = copy.deepcopy(summary)
    for strat in big["strategies"].values():
        template = next(iter(strat["skus"].values()))
        strat["skus"] = {}
        for i in range(MAX_SKUS + 50):
            sku = copy.deepcopy(template)
            sku["metrics"]["demand_units"]["mean"] = float((i * 37) % 251)
            strat["skus"][f"S{i:03d}"] = sku
    page = render_html(big, [], "")
    shown = [cells[0] for _, cells in parse(page).rows[("skus", "")][1:] if len(cells) == 8]
    assert len(shown) == MAX_SKUS
    demand = {f"S{i:03d}": (i * 37) % 251 for i in range(MAX_SKUS + 50)}
    assert min(demand[s] for s in shown) >= max(demand[s] for s in demand if s not in shown)
    assert f"The {MAX_SKUS} SKUs with the most demand of {MAX_SKUS + 50}" in page


def test_profit_differences_are_paired_to_the_recommended_strategy():
    from sim.charts import profit_differences

    nan = float("nan")
    profits = {"a": [10, 20, nan, 40], "b": [12, 15, 30, 50], "c": [9, 25, 31, 45]}
    best, diffs = profit_differences({"decision": {"best": "b"}}, profits)
    assert best == "b" and list(diffs) == ["a", "c"]  # the recommended one is the zero line
    # replication 2 is dropped (a's profit is undefined there), as in decide.decision
    assert diffs["a"].tolist() == [10 - 12, 20 - 15, 40 - 50]
    assert diffs["c"].tolist() == [9 - 12, 25 - 15, 45 - 50]
    assert profit_differences({"decision": {}}, profits) is None  # no recommendation
    assert profit_differences({"decision": {"best": "b"}}, {"b": [1.0]}) is None  # alone
    assert profit_differences({"decision": {"best": "b"}}, {"a": [nan], "b": [1.0]}) is None


def test_decision_chart_and_phone_layouts_are_embedded(starter):
    import base64

    from sim.charts import DPI, PHONE_DPI

    summary, page, _, _ = starter
    best = summary["decision"]["best"]
    assert f"The decision: profit difference to {best}." in page
    sources = re.findall(
        r'<source media="\(max-width: 640px\)" srcset="data:image/png;base64,'
        r'([A-Za-z0-9+/=]+) 2x" width="(\d+)" height="(\d+)">',
        page,
    )
    assert len(sources) == 4  # every chart but the fan chart has a narrow layout
    for data, width, height in sources:
        w, h = struct.unpack(">II", base64.b64decode(data)[16:24])
        assert (int(width), int(height)) == (round(w * DPI / PHONE_DPI), round(h * DPI / PHONE_DPI))
        assert int(width) <= 470  # drawn for a phone: 4.2 in at 110 px an inch
    assert page.count('<figure class="wide">') == 1  # the fan chart scrolls on a phone
