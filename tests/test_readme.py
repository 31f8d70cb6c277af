"""Doc tests: the README's commands run, and the outputs it shows are what they print today.

How the README is read (see its "Development" section):

- a fenced block whose first line starts with ``$ `` is a console session: each ``$ COMMAND`` line
  is run by bash, and the lines after it, up to the next ``$`` line, are an excerpt of what it
  prints (stdout, then stderr);
- ``<!-- output of: COMMAND -->`` on the line just before a fenced block makes that block an
  excerpt of COMMAND's output;
- in every other fenced block, each ``python simulate.py …`` command (after ``&&``, before a
  ``# comment``) is run and must exit 0.

A command whose output is shown may also exit 2 (``validate`` of a file with mistakes); none may
print a traceback.

An excerpt matches when its lines appear in the output in the same order (rows a README leaves
out need no marker); a line ``...`` or ``…`` stands for any lines, and a line ending in `` …``
matches any output line that starts with the text before it. Commands run once each, in a
scratch folder that holds links to the repository's ``scenarios/`` and ``tests/`` (so
``--out results/…`` and the default results folders stay out of the checkout), with
``python`` = this interpreter and a 120-column terminal. A command that cannot run here is
listed in ``NOT_RUNNABLE`` with the reason, and reported as skipped.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import ROOT

README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- output of: (?P<command>.+?) -->\s*$")
ELLIPSIS = ("...", "…")

# placeholders a reader replaces with their own: not run, and shown as skipped with the reason
NOT_RUNNABLE = {
    'python simulate.py import-orders "All Orders.txt" --out skus.yaml': (
        "the reader's own Amazon report (the line after it runs the sample in tests/data)"
    ),
    "python simulate.py import-orders --channel web orders_export.csv --out web.yaml": (
        "the reader's own Shopify export (the line after it runs the sample in tests/data)"
    ),
    "python simulate.py run big.yaml --backend dask --scheduler tcp://HOST:8786": (
        "the reader's own Dask cluster and scenario"
    ),
}


def normal(command: str) -> str:
    """A command with its quoting and spacing normalised (the key it is run and found by)."""
    return shlex.join(shlex.split(command))


@dataclass
class Example:
    """A README command, where it is, and the output excerpts the README shows for it."""

    command: str
    line: int
    excerpts: list[tuple[int, list[str]]] = field(default_factory=list)
    must_succeed: bool = True


def fenced_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line of the opening fence, the line before it, the block's lines) of every fenced
    code block."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            start = i
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            before = lines[start - 1] if start else ""
            out.append((start + 1, before, lines[start + 1 : j]))
            i = j + 1
        else:
            i += 1
    return out


def simulate_commands(line: str) -> list[str]:
    """The ``python simulate.py …`` commands of one shell line (``a && b`` gives both,
    a ``# comment`` is dropped), as written."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return []
    out, current = [], []
    for w in [*words, "&&"]:
        if w in ("&&", "||", ";", "|"):
            if current[:2] == ["python", "simulate.py"]:
                out.append(shlex.join(current))
            current = []
        else:
            current.append(w)
    return out


def examples(text: str) -> dict[str, Example]:
    """Every runnable command of the README with the excerpts shown for it, by command."""
    found: dict[str, Example] = {}

    def add(command: str, line: int, must_succeed: bool = True) -> Example:
        key = normal(command)
        if key not in found:
            found[key] = Example(command, line, must_succeed=must_succeed)
        found[key].must_succeed &= must_succeed
        return found[key]

    for start, before, block in fenced_blocks(text):
        marker = MARKER.match(before)
        if marker:
            add(marker["command"], start - 1, must_succeed=False).excerpts.append(
                (start + 1, block)
            )
        elif block and block[0].startswith("$ "):
            current = None
            for n, line in enumerate(block, start + 1):
                if line.startswith("$ "):
                    current = add(line[2:], n, must_succeed=False).excerpts
                    current.append((n + 1, []))
                elif line.strip() or current[-1][1]:
                    current[-1][1].append(line)
        else:
            for n, line in enumerate(block, start + 1):
                for command in simulate_commands(line):
                    add(command, n)
    return found


EXAMPLES = examples(README.read_text(encoding="utf-8"))
NOT_RUNNABLE = {normal(k): why for k, why in NOT_RUNNABLE.items()}


@pytest.fixture(scope="session")
def scratch(tmp_path_factory) -> Path:
    """The folder commands run in: links to the repository's inputs, ``python`` first on PATH."""
    folder = tmp_path_factory.mktemp("readme")
    for name in ("scenarios", "tests", "simulate.py"):
        (folder / name).symlink_to(ROOT / name)
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    return folder


_OUTPUTS: dict[str, subprocess.CompletedProcess] = {}


def output(scratch: Path, command: str) -> subprocess.CompletedProcess:
    """Run ``command`` once (bash, in ``scratch``) and keep what it printed."""
    if command not in _OUTPUTS:
        env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "LANG_FULFILSIM")}
        env |= {
            "PATH": f"{scratch / '.bin'}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "120",
            "LINES": "50",
        }
        env.pop("FULFILSIM_LANG", None)  # the README shows the default language
        _OUTPUTS[command] = subprocess.run(
            ["bash", "-c", command],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    return _OUTPUTS[command]


def matches(expected: str, actual: str) -> bool:
    """One excerpt line against one output line (``text …`` is a prefix)."""
    for dots in (" …", " ..."):
        if expected.endswith(dots):
            return actual.rstrip().startswith(expected[: -len(dots)].rstrip())
    return expected.rstrip() == actual.rstrip()


def positions(excerpt: list[str], printed: list[str]) -> list[int]:
    """Where each excerpt line is found in ``printed``, in order, until the first that is not
    (``...`` and blank lines are skipped)."""
    at, found = 0, []
    for line in excerpt:
        if line.strip() in ELLIPSIS or not line.strip():
            continue
        while at < len(printed) and not matches(line, printed[at]):
            at += 1
        if at == len(printed):
            break
        found.append(at)
        at += 1
    return found


def missing(excerpt: list[str], printed: list[str]) -> int | None:
    """Index of the first excerpt line not found (in order) in ``printed``, or None."""
    shown = [i for i, line in enumerate(excerpt) if line.strip() and line.strip() not in ELLIPSIS]
    found = positions(excerpt, printed)
    return None if len(found) == len(shown) else shown[len(found)]


def explain(excerpt: list[str], printed: list[str], i: int) -> str:
    """A readable failure: the README line, the closest printed line, and a diff of the
    README's block against the printed lines it covers."""
    want = excerpt[i]
    close = difflib.get_close_matches(want, printed, n=1, cutoff=0.0)
    shown = [line for line in excerpt if line.strip() and line.strip() not in ELLIPSIS]
    found = positions(excerpt, printed)
    anchor = printed.index(close[0]) if close else 0
    first = found[0] if found else max(0, anchor - shown.index(want))
    last = max([anchor, *found]) + len(shown) - len(found)
    region = printed[first : last + 1]
    diff = "\n".join(
        difflib.unified_diff(shown, region, "README", "printed now", lineterm="", n=len(region))
    )
    return (
        f"README line not printed:\n  {want!r}\nclosest printed line:\n  "
        f"{close[0] if close else '(none)'!r}\n\n{diff}"
    )


@pytest.mark.parametrize(
    "key", [k for k in EXAMPLES if k not in NOT_RUNNABLE], ids=lambda k: k[len("python ") :][:80]
)
def test_readme_command_runs_and_prints_what_the_readme_shows(key, scratch):
    ex = EXAMPLES[key]
    done = output(scratch, ex.command)
    where = f"README.md line {ex.line}: {ex.command}"
    assert "Traceback" not in done.stderr, f"{where}\n{done.stderr}"
    if ex.must_succeed:
        assert done.returncode == 0, f"{where}: exit {done.returncode}\n{done.stderr}"
    else:
        assert done.returncode in (0, 2), f"{where}: exit {done.returncode}\n{done.stderr}"
    printed = (done.stdout + done.stderr).splitlines()
    for line, excerpt in ex.excerpts:
        i = missing(excerpt, printed)
        assert i is None, f"README.md line {line + i}, output of {ex.command}:\n" + explain(
            excerpt, printed, i
        )


@pytest.mark.parametrize("key", list(NOT_RUNNABLE))
def test_readme_placeholder_commands_are_still_there_and_not_run(key):
    """The list of commands not run cannot go stale, and is visible in the test report."""
    assert key in EXAMPLES, f"{key!r} is no longer in the README: remove it from NOT_RUNNABLE"
    pytest.skip(f"not run: {NOT_RUNNABLE[key]}")


def test_the_readme_has_commands_and_output_excerpts():
    """The parser finds what the README is known to hold (a change of format is noticed)."""
    kinds = {k.split()[2] for k in EXAMPLES}
    assert {"run", "sweep", "optimize", "validate", "fees", "import-orders"} <= kinds
    shown = {k.split()[2] for k, ex in EXAMPLES.items() if any(e for _, e in ex.excerpts)}
    assert {"run", "optimize", "validate", "fees"} <= shown


SAMPLE = """intro
```bash
pip install -e . && python simulate.py run a.yaml    # comment
python -m pytest
```
<!-- output of: python simulate.py run a.yaml -->
```
row 1
...
row 3 …
```
```
$ python simulate.py validate b.yaml
b: problem
$ grep x out.csv
x,1
```
"""


def test_the_parser_reads_the_three_forms():
    ex = examples(SAMPLE)
    assert list(ex) == [
        "python simulate.py run a.yaml",
        "python simulate.py validate b.yaml",
        "grep x out.csv",
    ]
    assert ex["python simulate.py run a.yaml"].excerpts == [(8, ["row 1", "...", "row 3 …"])]
    assert ex["python simulate.py validate b.yaml"].excerpts == [(14, ["b: problem"])]
    assert ex["grep x out.csv"].excerpts == [(16, ["x,1"])]


def test_an_excerpt_matches_in_order_with_gaps_and_prefixes():
    printed = ["head", "row 1", "row 2", "row 3 and more", "tail"]
    assert missing(["row 1", "...", "row 3 …"], printed) is None
    assert missing(["row 1", "row 3 and more"], printed) is None  # rows left out
    assert missing(["row 3 and more", "row 1"], printed) == 1  # order matters
    assert missing(["row 1", "row 2 changed"], printed) == 1
    message = explain(["row 1", "row 2 changed"], printed, 1)
    assert "'row 2 changed'" in message and "-row 2 changed" in message and "+row 2" in message
