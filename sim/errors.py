"""The one exception type for a user's mistake: a list of ``location: problem`` pairs, and how
such a line is made safe to print."""

from __future__ import annotations

import errno
import re

MAX_LINE = 400
"""Characters of one printed ``location: problem`` line at most (longer ones are cut)."""

YAML_VALUE_ERRORS = (ValueError, TypeError, AttributeError, LookupError, OverflowError)
"""What PyYAML's constructors raise, besides ``yaml.YAMLError``, on a malformed tagged scalar
(``!!int`` with no digits: IndexError; ``!!bool x``: KeyError; ``!!timestamp 0``:
AttributeError; an impossible date: ValueError): catch these with it wherever a user's text is
read as YAML."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class UserError(Exception):
    """A mistake in a scenario, a file or an option; the CLI prints it and exits with code 2.

    ``problems`` is a list of ``(location, problem)`` pairs, printed one per line as
    ``location: problem``.
    """

    def __init__(self, problems: list[tuple[str, str]] | tuple[str, str]):
        if isinstance(problems, tuple):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(format_problem(loc, msg) for loc, msg in self.problems))

    def __reduce__(self):
        return UserError, (self.problems,)  # whole when sent from another process


def printable(text: str) -> str:
    """``text`` with every control character (C0 including line breaks, DEL, C1, line and
    paragraph separators) written as a ``\\x1b``-style escape: nothing in it moves the cursor,
    clears the screen or starts a new line."""
    return _CONTROL.sub(_escape, str(text))


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """``text`` cut to at most ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    cut = limit - 30
    return f"{text[:cut]} … ({len(text) - cut:,} more characters)"


MAX_LOCATION = MAX_LINE // 2
"""Characters of a location at most in a printed line (a long file path loses its middle), so
that the problem always shows."""


def format_problem(loc: str, problem: str) -> str:
    """One ``location: problem`` line, safe for a terminal and at most ``MAX_LINE`` long."""
    if not loc:
        return shorten(printable(problem))
    loc = printable(loc)
    if len(loc) > MAX_LOCATION:
        half = (MAX_LOCATION - 1) // 2
        loc = f"{loc[:half]}…{loc[-half:]}"
    return shorten(f"{loc}: {printable(problem)}")


def excerpt(value: object, limit: int = 60) -> str:
    """A short, printable ``repr`` of a value a user wrote (for quoting it in a message)."""
    return shorten(printable(repr(value)), limit)


def os_problem(e: OSError | ValueError) -> str:
    """Why the system refused a path the user gave, in plain words (``OSError``; the
    ``ValueError`` Python raises for a NUL character in a name)."""
    if not isinstance(e, OSError):
        return "the name holds a NUL character"
    if e.errno == errno.ENOSPC:
        return "no space left on the disk"
    if e.errno == errno.EROFS:
        return "read-only file system"
    return e.strerror or str(e)
