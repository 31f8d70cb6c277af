"""report.html in a real browser: headless Chromium renders it without console errors, the page
is not blank, and every embedded chart decodes to its full size.

Skipped when Chromium is not installed, unless ``CI`` is set (then a missing browser fails).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import starter_report

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 4000
# the page's script-free report plus this probe (only in a test copy): after load, write each
# image's decoded size into the DOM, which --dump-dom then prints
PROBE = (
    "<script>window.addEventListener('load', () => { const p = document.createElement('pre');"
    " p.id = 'probe'; p.textContent = JSON.stringify([...document.images].map("
    "i => [i.complete, i.naturalWidth, i.naturalHeight])); document.body.appendChild(p); });"
    "</script>"
)


def _browser() -> str:
    path = shutil.which("chromium") or CHROMIUM
    if not Path(path).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but Chromium is missing ({CHROMIUM}): apt-get install chromium")
        pytest.skip(f"Chromium not installed ({CHROMIUM}); set CI=1 to make this a failure")
    return path


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium on ``page`` with no network (every host name fails to resolve)."""
    return subprocess.run(
        [
            _browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def console_errors(stderr: str) -> list[str]:
    """Lines where the page wrote to the console or threw (the report has no script at all,
    so any console line is a problem)."""
    return [
        line
        for line in stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "ERROR:CONSOLE" in line
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    _browser()
    out = tmp_path_factory.mktemp("browser-report")
    starter_report(out, 5)
    return out / "report.html"


def test_page_renders_without_errors_and_is_not_blank(report, tmp_path):
    from matplotlib.image import imread

    shot = tmp_path / "screenshot.png"
    done = chromium(
        report, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert console_errors(done.stderr) == []
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    assert pixels.std() > 0.05  # text, tables and charts, not a blank page
    # ink all the way down: the 4000 px are filled with content (tables, then charts)
    rows_with_ink = (pixels.min(axis=(1, 2)) < 0.5).reshape(20, -1).any(axis=1)
    assert rows_with_ink.all()


def test_dom_loads_fully_and_every_chart_decodes(report, tmp_path):
    page = report.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    sizes = [
        struct.unpack(">II", base64.b64decode(data)[16:24])
        for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    ]
    assert len(sizes) == 5  # intervals, decision, costs, months, inventory fan
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = chromium(probe, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-3000:]
    assert console_errors(done.stderr) == []
    dom = done.stdout
    assert dom.count("<img ") == 5
    assert 'id="inputs"' in dom and "</html>" in dom  # parsed to the end
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom)
    assert found, "the load event never fired"
    decoded = json.loads(found.group(1))
    assert decoded == [[True, w, h] for w, h in sizes]
    assert all(np.array(sizes).ravel() > 300)


PHONE_WIDTH = 390
# after load: the page's width, each table box (scrolled fully right) with its first column's
# place, each SKU cell's number of lines, and each chart's decoded size and right edge
PHONE_PROBE = """<script>window.addEventListener('load', () => {
  const de = document.documentElement;
  const firstCell = t => t.querySelector('tbody th.sku, tbody th[scope=row]:first-child');
  const boxes = [...document.querySelectorAll('.wrap')].map(w => {
    const cell = firstCell(w);
    const before = cell.getBoundingClientRect().left;
    w.scrollLeft = w.scrollWidth;
    return {scroll: w.scrollWidth, client: w.clientWidth, moved: w.scrollLeft,
            box: w.getBoundingClientRect().left, before: before,
            after: cell.getBoundingClientRect().left,
            right: w.getBoundingClientRect().right};
  });
  const lines = [...document.querySelectorAll('th.sku')].map(th => {
    const r = document.createRange(); r.selectNodeContents(th);
    return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;
  });
  const images = [...document.images].map(i => ({natural: i.naturalWidth, shown: i.width,
    right: i.getBoundingClientRect().right, wide: !!i.closest('figure.wide'),
    phone: !!i.closest('picture')}));
  const p = parent.document.createElement('pre'); p.id = 'probe';
  p.textContent = JSON.stringify({inner: window.innerWidth, scrollWidth: de.scrollWidth,
    boxes: boxes, lines: lines, images: images});
  parent.document.body.appendChild(p);
});</script>"""
# headless Chromium's window is at least 500 px wide: the report goes into a 390 px frame
# (a srcdoc frame has its parent's origin, so the probe can write into the parent's DOM)
PHONE_FRAME = (
    '<!DOCTYPE html><html><body style="margin:0"><iframe style="border:0; width:{w}px; '
    'height:2400px" srcdoc="{page}"></iframe></body></html>'
)


def test_phone_layout(report, tmp_path):
    """At 390 px the page never scrolls sideways; wide tables scroll in their own box with the
    first column kept in place; SKU ids stay on one line; charts use the narrow layout."""
    page = report.read_text(encoding="utf-8")
    probe = tmp_path / "phone.html"
    framed = html.escape(page.replace("</body>", PHONE_PROBE + "</body>"), quote=True)
    probe.write_text(PHONE_FRAME.format(w=PHONE_WIDTH, page=framed), encoding="utf-8")
    done = chromium(
        probe,
        tmp_path / "profile",
        "--window-size=800,2400",
        "--virtual-time-budget=10000",
        "--dump-dom",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout)
    assert found, "the load event never fired"
    got = json.loads(found.group(1))
    assert got["inner"] == PHONE_WIDTH
    assert got["scrollWidth"] <= PHONE_WIDTH  # no sideways scrolling of the page
    boxes = got["boxes"]
    wide = [b for b in boxes if b["scroll"] > b["client"]]
    assert len(wide) >= 3  # strategies, differences, SKUs (at least) are wider than a phone
    for b in boxes:
        assert b["right"] <= PHONE_WIDTH + 0.5  # every box fits the screen
    for b in wide:
        assert b["moved"] > 0  # it scrolls
        assert abs(b["after"] - max(b["before"], b["box"])) < 1  # the first column stays put
    assert got["lines"] and max(got["lines"]) == 1  # SKU ids are not broken up
    for image in got["images"]:
        if image["phone"]:
            assert image["natural"] < 1000 and image["right"] <= PHONE_WIDTH
        else:
            assert image["wide"]  # the fan chart scrolls inside its figure instead
    assert sum(image["phone"] for image in got["images"]) == 4
