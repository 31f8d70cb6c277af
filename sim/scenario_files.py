"""Files a scenario names (an ``empirical`` demand ``file:``…): where they may be and how they
are read. Every scenario key that names a file goes through ``resolve_scenario_file``. Files
named on the command line (a scenario, an orders report) are read with ``read_named``.

Inside a scenario model's validator, use ``file_in_context(info.context, name)`` (or
``read_file_in_context``): the loader puts the scenario's folder (``base_dir``) and the
``--allow-outside-files`` choice (``allow_outside_files``) in pydantic's validation context.
``sim.loader`` re-exports ``resolve_scenario_file`` (import it from here in ``sim.scenario``,
which ``sim.loader`` imports).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sim.errors import UserError, excerpt, os_problem, printable
from sim.i18n import t

MAX_DATA_FILE_BYTES = 50 * 1024 * 1024
OUTSIDE_OPTION = "--allow-outside-files"


def read_named(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a file named on the command line; every way it cannot be read (missing, a
    folder, larger than ``max_bytes``, a name too long, a folder the user may not enter) is a
    ``path: problem`` ``UserError``. ``what`` names the kind of file in the size message."""
    where = str(path)
    try:
        if not path.exists():
            raise UserError((where, t("file not found")))
        if not path.is_file():
            raise UserError((where, t("not a file")))
        size = path.stat().st_size
        if size > max_bytes:
            raise UserError(
                (where, f"file is {size:,} bytes; {what} are limited to {max_bytes:,} bytes")
            )
        return path.read_bytes()
    except (OSError, ValueError) as e:  # a name too long, a folder it may not enter, NUL
        raise UserError((where, f"cannot read: {os_problem(e)}")) from None


class ScenarioFileError(ValueError):
    """A file named in a scenario cannot be used; the message says why (inside a pydantic
    validator it becomes the located problem of the key that named the file)."""


def resolve_scenario_file(
    base: Path, name: str, allow_outside: bool = False, max_bytes: int | None = None
) -> Path:
    """The regular file ``name`` names, relative to ``base`` (the scenario's folder).

    Contract:

    * ``name`` is relative to ``base``; an absolute name is taken as it is.
    * Unless ``allow_outside`` (the ``--allow-outside-files`` option), the file, after every
      symbolic link and ``..`` is resolved, must lie inside ``base`` (resolved too).
    * It must exist and be a regular file: a folder, a FIFO, a socket or a device gets its own
      message (checked with ``stat``, which never blocks on a FIFO).
    * It must be at most ``max_bytes`` long (default ``MAX_DATA_FILE_BYTES``), checked before
      anything is read.
    * Returns the resolved path; raises ``ScenarioFileError`` (a ``ValueError``) otherwise. The
      message names the file as written (escaped), never its content.

    A reader should still open the returned path once and read at most ``max_bytes + 1`` bytes
    (``read_scenario_file`` does), since the file may change between the check and the read.
    """
    shown = excerpt(name, 80)
    max_bytes = MAX_DATA_FILE_BYTES if max_bytes is None else max_bytes
    if not isinstance(name, str) or not name.strip():
        raise ScenarioFileError("a file name is needed")
    if "\x00" in name:
        raise ScenarioFileError(f"{shown} is not a usable file name")
    base = Path(base)
    try:
        root = base.resolve()
        path = (base / name).resolve()
    except (OSError, RuntimeError) as e:  # a symlink loop, a name too long
        raise ScenarioFileError(f"{shown} cannot be resolved ({e.__class__.__name__})") from None
    if not allow_outside and not path.is_relative_to(root):
        raise ScenarioFileError(
            f"{shown} is outside the scenario's folder ({printable(str(root))}); move it there "
            f"or pass {OUTSIDE_OPTION}"
        )
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioFileError(f"file not found: {shown}") from None
    except OSError as e:
        raise ScenarioFileError(f"{shown} cannot be read ({e.strerror or e})") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise ScenarioFileError(f"{shown} is a folder, not a file")
    if stat.S_ISFIFO(mode):
        raise ScenarioFileError(f"{shown} is a FIFO (named pipe), not a regular file")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise ScenarioFileError(f"{shown} is a device, not a regular file")
    if not stat.S_ISREG(mode):
        raise ScenarioFileError(f"{shown} is not a regular file (a socket?)")
    if info.st_size > max_bytes:
        raise ScenarioFileError(
            f"{shown} is {info.st_size:,} bytes; files named in a scenario are limited to "
            f"{max_bytes:,} bytes"
        )
    return path


def file_in_context(context: dict | None, name: str, max_bytes: int | None = None) -> Path:
    """``resolve_scenario_file`` with the folder and the choice the loader put in ``context``."""
    base, allow = _from_context(context)
    return resolve_scenario_file(base, name, allow, max_bytes)


def read_file_in_context(context: dict | None, name: str, max_bytes: int | None = None) -> str:
    """``read_scenario_file`` with the folder and the choice the loader put in ``context``."""
    base, allow = _from_context(context)
    return read_scenario_file(base, name, allow, max_bytes)


def _from_context(context: dict | None) -> tuple[Path, bool]:
    context = context or {}
    return Path(context.get("base_dir", Path.cwd())), bool(context.get("allow_outside_files"))


def read_scenario_file(
    base: Path, name: str, allow_outside: bool = False, max_bytes: int | None = None
) -> str:
    """The text of the file ``name`` names (UTF-8, a BOM dropped), checked as
    ``resolve_scenario_file`` says; raises ``ScenarioFileError``."""
    max_bytes = MAX_DATA_FILE_BYTES if max_bytes is None else max_bytes
    path = resolve_scenario_file(base, name, allow_outside, max_bytes)
    shown = excerpt(name, 80)
    try:  # O_NONBLOCK: a file swapped for a FIFO after the check does not hang the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise ScenarioFileError(f"{shown} cannot be read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ScenarioFileError(f"{shown} is not a regular file")
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ScenarioFileError(f"{shown} is larger than {max_bytes:,} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScenarioFileError(f"{shown} is not UTF-8 text (byte {e.start:,})") from None
