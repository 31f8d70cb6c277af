"""``--lang zh``: the catalogue covers every English message, the terminal, ``validate`` and the
report speak Chinese, the files stay English, and English stays the default."""

from __future__ import annotations

import ast
import json
import os
import string
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from sim import i18n
from sim.lang_zh import MESSAGES
from tests.helpers import ROOT, scenario, starter_report

MARKERS = ("t", "N_", "_c")  # the functions whose first argument is an English message


def used_messages() -> dict[str, str]:
    """Every English message the code passes as a literal to ``t``, ``N_`` or ``_c``, with the
    file that uses it."""
    found = {}
    for path in sorted((ROOT / "sim").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in MARKERS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, path.name)
    return found


def table_messages() -> set[str]:
    """English messages kept in tables and translated by a variable (``t(LABELS[metric])``)."""
    from sim.charts import MONTH_NAMES
    from sim.health_targets import TARGETS
    from sim.metric_names import COST_PARTS
    from sim.report import LABELS, UNITS

    return {
        *LABELS.values(),
        *UNITS.values(),
        *(part.replace("_", " ") for part in COST_PARTS),
        *(target.label for target in TARGETS),
        *MONTH_NAMES,
    }


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_scan_finds_the_messages():
    used = used_messages()
    assert len(used) > 150
    assert "Recommendation" in used and "required key is missing" in used
    assert "metric (mean ± {pct}% CI half-width)" in used


def test_every_english_message_has_a_chinese_entry_with_the_same_placeholders():
    messages = {**dict.fromkeys(table_messages(), "tables"), **used_messages()}
    missing = sorted(
        f"{where}: {text!r}" for text, where in messages.items() if text not in MESSAGES
    )
    assert missing == []
    for english, chinese in MESSAGES.items():
        assert fields(chinese) == fields(english), english
        assert chinese.strip() or english.strip() == "", english


def test_lookup_fallback_and_formatting():
    assert i18n.language() == "en"
    assert i18n.t("Recommendation") == "Recommendation"
    with i18n.using("zh"):
        assert i18n.t("Recommendation") == "建议"
        assert i18n.t("{days} days", days=7) == "7 天"
        assert i18n.t("a message nobody translated {x}", x=1) == "a message nobody translated 1"
    assert i18n.language() == "en"
    with pytest.raises(ValueError):
        i18n.use("fr")


def cli(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if k != i18n.ENV} | (env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "simulate.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
    )


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The starter run twice with the same seed: in English (default) and with --lang zh."""
    out = {}
    for lang in ("en", "zh"):
        folder = tmp_path_factory.mktemp(f"starter-{lang}")
        args = ["run", "scenarios/starter.yaml", "--reps", "4", "--workers", "1"]
        done = cli(*args, "--out", str(folder), *(["--lang", "zh"] if lang == "zh" else []))
        assert done.returncode == 0, done.stderr
        out[lang] = (folder, done)
    return out


def test_run_lang_zh_prints_chinese(runs):
    _, done = runs["zh"]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("starter：4 次模拟 × ")
    assert lines[2].startswith("指标（均值 ± 95% 置信区间半宽）")
    assert "配对差异（共同随机数；胜出 = 表现更好的模拟次数占比）：" in lines
    assert "建议：" in lines
    assert lines[-1].startswith("结果：")
    # metric keys stay English, and the columns line up although a Chinese character is wide
    profit = next(line for line in lines if line.startswith("profit "))
    header = lines[2]
    from sim.table import display_width

    assert display_width(header) == display_width(lines[3])  # the ---- rule below it
    assert display_width(profit) <= display_width(lines[3])


def test_report_lang_zh_is_chinese(runs):
    folder, _ = runs["zh"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    for heading in ("<h2>运行</h2>", "<h2>建议</h2>", "<h2>方案比较</h2>", "<h2>图表</h2>"):
        assert heading in page
    assert "<h2>与基准的配对差异</h2>" in page and "<h2>按 SKU</h2>" in page
    best = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["decision"]["best"]
    assert f"决策：与 {best} 的利润差" in page  # the decision chart's title
    assert "Strategies compared" not in page and "Recommendation" not in page
    assert 'data-metric="profit"' in page  # metric keys stay English


def test_files_stay_english(runs):
    en, zh = runs["en"][0], runs["zh"][0]
    for name in ("summary.json", "replications.csv", "skus.csv", "months.csv", "plan.csv"):
        assert (en / name).read_bytes() == (zh / name).read_bytes(), name
    summary = json.loads((zh / "summary.json").read_text(encoding="utf-8"))
    assert not has_chinese(" ".join(summary["recommendation"]))


def test_english_is_the_default(runs):
    folder, done = runs["en"]
    assert not has_chinese(done.stdout + done.stderr)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and not has_chinese(page.split('<pre class="yaml">')[0])


def bad_scenario(tmp_path: Path) -> Path:
    d = scenario()
    del d["skus"][0]["price"]
    d["skus"][0]["demand"]["mean_per_day"] = -1
    d["skus"][1]["pricee"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return path


def test_validate_in_chinese_keeps_locations(tmp_path):
    path = bad_scenario(tmp_path)
    en = cli("validate", str(path))
    zh = cli("validate", str(path), "--lang", "zh")
    assert en.returncode == zh.returncode == 2
    en_lines, zh_lines = en.stderr.splitlines(), zh.stderr.splitlines()
    assert len(en_lines) == len(zh_lines) > 0
    for a, b in zip(en_lines, zh_lines, strict=True):
        assert a.split(": ")[0] == b.split(": ")[0]  # the same location, untranslated
    assert any(line.endswith(": unknown key; did you mean 'price'?") for line in en_lines)
    assert any(line.endswith(": 未知的键；是不是想写 'price'？") for line in zh_lines)
    assert any(line.endswith(": must be ≥ 0") for line in en_lines)
    assert any(line.endswith(": 必须 ≥ 0") for line in zh_lines)


def test_validate_ok_line_and_note_in_chinese():
    done = cli("validate", "scenarios/starter.yaml", env={i18n.ENV: "zh"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("通过：starter：")
    assert " 次模拟 × " in done.stdout


def test_option_wins_over_environment_and_bad_values_exit_2():
    done = cli("validate", "scenarios/starter.yaml", "--lang", "en", env={i18n.ENV: "zh"})
    assert done.returncode == 0 and done.stdout.startswith("ok: starter: ")
    done = cli("validate", "scenarios/starter.yaml", "--lang", " ZH ")
    assert done.returncode == 0 and done.stdout.startswith("通过：")
    bad = cli("validate", "scenarios/starter.yaml", "--lang", "fr")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "--lang: expected one of en, zh, got 'fr'"
    bad = cli("validate", "scenarios/starter.yaml", env={i18n.ENV: "de"})
    assert bad.returncode == 2
    assert bad.stderr.strip() == "FULFILSIM_LANG: expected one of en, zh, got 'de'"
    assert "Traceback" not in bad.stderr


def test_in_process_commands_leave_english_behind(capsys):
    from sim.cli import main

    main(["validate", "scenarios/starter.yaml", "--lang", "zh"])
    assert capsys.readouterr().out.startswith("通过：")
    assert i18n.language() == "en"


def glyph_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "missing from font" in str(w.message)]


def test_without_a_chinese_font_charts_fall_back_to_english(tmp_path, monkeypatch):
    import sim.charts

    monkeypatch.setattr(sim.charts, "cjk_font", lambda: None)
    with i18n.using("zh"), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert sim.charts.chart_language() == "en"
        starter_report(tmp_path, 3)
    assert glyph_warnings(record) == []
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    assert "图表内的文字为英文" in page  # the note says why
    assert "<h2>图表</h2>" in page and "关键指标及其区间" in page  # captions still Chinese


def test_with_a_chinese_font_chart_text_is_drawn_without_missing_glyphs(tmp_path):
    from sim.charts import chart_language, cjk_font, decision_chart

    if cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    with i18n.using("zh"), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert chart_language() == "zh"
        summary, _ = starter_report(tmp_path, 3)
        profits = {n: [float(i) for i in range(3)] for n in summary["strategies"]}
        assert decision_chart(summary, profits) is not None
    assert glyph_warnings(record) == []
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "图表内的文字为英文" not in page
