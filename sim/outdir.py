"""The results folder (``--out``): checked before simulating, one run's files at a time.

``prepare`` runs before any simulation: the folder must be creatable and writable (a probe
file is written and removed), and must not already hold another run's results unless
``--force``. ``clear`` runs just before the results are written: it removes the previous
results (with ``--force``) and the hidden temporary files an interrupted write (``kill -9``)
left behind, so ``summary.json``, the CSV files and ``report.html`` always come from one run.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.errors import UserError, os_problem, shorten

WHERE = "--out"
# every file a run, sweep, optimize or assign writes (chart-*.png: the report's charts)
RESULT_FILES = (
    "summary.json",
    "replications.csv",
    "skus.csv",
    "months.csv",
    "plan.csv",
    "report.html",
    "sweep.json",
    "sweep.csv",
    "optimize.json",
    "optimize.csv",
    "sensitivity.json",
    "sensitivity.csv",
    "sensitivity.html",
    "assign.json",
    "assign.yaml",
    "assign.csv",
)
RESULT_GLOBS = ("chart-*.png",)
# write_atomic's temporary names: ".<file>.<random>.tmp"
_TEMP = re.compile(r"^\.(?P<name>[^/]+)\.[^./]+\.tmp$")
PROBE = "fulfilsim-probe"
PROBE_BYTES = 4096  # enough to need a disk block: a full disk fails here, not after the run


def results_in(out: Path) -> list[Path]:
    """The result files (of any command) that ``out`` holds, in name order."""
    found = [out / name for name in RESULT_FILES if (out / name).is_file()]
    for pattern in RESULT_GLOBS:
        found += [p for p in out.glob(pattern) if p.is_file()]
    return sorted(set(found))


def _is_result_name(name: str) -> bool:
    return name in RESULT_FILES or any(Path(name).match(g) for g in RESULT_GLOBS)


def stale_temps(out: Path) -> list[Path]:
    """Hidden temporary files of result files that an interrupted write left in ``out``."""
    if not out.is_dir():
        return []
    found = []
    for p in out.iterdir():
        m = _TEMP.match(p.name)
        if m and (_is_result_name(m["name"]) or m["name"] == PROBE) and p.is_file():
            found.append(p)
    return sorted(found)


def name_problem(out: Path) -> str | None:
    """Why ``out`` cannot be a path on this system (a NUL character, a name or the whole too
    long), or None."""
    if "\0" in str(out):
        return "the name holds a NUL character"
    anchor = out if out.is_absolute() else Path.cwd() / out
    existing = anchor
    while not _exists(existing) and existing != existing.parent:
        existing = existing.parent
    try:
        name_max = os.pathconf(existing if existing.is_dir() else existing.parent, "PC_NAME_MAX")
        path_max = os.pathconf(existing if existing.is_dir() else existing.parent, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for part in anchor.parts:
        if len(os.fsencode(part)) > name_max:
            return f"the name {part[:40]!r}… is longer than {name_max} bytes"
    if len(os.fsencode(str(anchor))) >= path_max:
        return f"the path is longer than {path_max - 1} bytes"
    return None


@contextlib.contextmanager
def claimed(out: Path, force: bool) -> Iterator[None]:
    """``prepare(out, force)``; if the block then fails, a folder made here is removed again
    when it is still empty (no empty timestamped folders after a refused run)."""
    made = not _exists(out)
    prepare(out, force)
    try:
        yield
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty
        raise


def prepare(out: Path, force: bool) -> None:
    """Check, before simulating, that results can be written into ``out`` (created if needed);
    ``UserError`` (``--out: problem``) if not, or if it holds results and ``force`` is off."""
    if not str(out).strip():
        raise UserError((WHERE, "is empty: give a folder, e.g. --out results/mine"))
    problem = name_problem(out)
    if problem:
        raise UserError((WHERE, f"{problem}: {shorten(str(out), 200)}"))
    if _exists(out) and not out.is_dir():
        raise UserError((WHERE, f"{out} is a file, not a folder"))
    for parent in out.parents:
        if _exists(parent):
            if not parent.is_dir():
                raise UserError((WHERE, f"{out} is under {parent}, which is a file"))
            break
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError((WHERE, f"cannot create {out}: {os_problem(e)}")) from None
    _probe(out)
    held = results_in(out)
    if held and not force:
        names = ", ".join(p.name for p in held[:4]) + (" …" if len(held) > 4 else "")
        raise UserError(
            (
                WHERE,
                f"{out} already holds results ({names}): use --force to replace them, or "
                "choose another folder",
            )
        )


def _probe(out: Path) -> None:
    """Write and remove a small hidden file in ``out``: the folder accepts files."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{PROBE}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(b"\0" * PROBE_BYTES)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise UserError((WHERE, f"cannot write into {out}: {os_problem(e)}")) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def clear(out: Path, force: bool) -> None:
    """Just before writing: remove the previous results (``force``) and stale temporary files,
    so that the folder ends up holding one run's files only."""
    doomed = stale_temps(out) + (results_in(out) if force else [])
    for p in doomed:
        try:
            p.unlink(missing_ok=True)
        except OSError as e:
            raise UserError((WHERE, f"cannot remove {p}: {os_problem(e)}")) from None


def check_target(path: Path, force: bool) -> None:
    """Before writing a file the user named (``init -o``, ``import-orders --out``): a
    ``path: problem`` ``UserError`` when the name cannot be a path here, when it is a folder, a
    device, a pipe or a socket (``--force`` never replaces those: the write renames a new file
    over the target, and as root that replaced /dev/null), or an existing file without
    ``force``."""
    where = str(path)
    problem = name_problem(path)
    if problem:
        raise UserError((where, problem))
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there yet (a missing folder is the writer's to report)
    except OSError as e:  # e.g. a folder it may not enter
        raise UserError((where, f"cannot write: {os_problem(e)}")) from None
    if stat.S_ISDIR(mode):
        raise UserError((where, "is a folder; give a file name, e.g. --out my-scenario.yaml"))
    if not stat.S_ISREG(mode):
        raise UserError((where, "is a device, pipe or socket, not a regular file: not replaced"))
    if not force:
        raise UserError((where, "file exists; use --force to overwrite it"))


def write_file(path: Path, text: str) -> None:
    """Write one file the user named (``init``, ``import-orders``) atomically, its folder made if
    needed: a failure (a full disk, a folder that is a file) is ``path: cannot write: reason``
    and leaves an existing file as it was. What is there already is checked as
    ``check_target(path, force=True)`` says."""
    from sim.results import write_atomic

    for parent in path.parents:
        if _exists(parent):
            if not parent.is_dir():
                raise UserError((str(path), f"cannot write: {parent} is a file, not a folder"))
            break
    check_target(path, force=True)
    try:
        write_atomic(path, text)
    except (OSError, ValueError) as e:
        raise UserError((str(path), f"cannot write: {os_problem(e)}")) from None


def _exists(path: Path) -> bool:
    """``path.exists()``, False where the system refuses to look (a name too long, a NUL
    character, a folder it may not enter): writing there then says why."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
