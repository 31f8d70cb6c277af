"""Ctrl-C (SIGINT) and SIGTERM in the command line: when they stop work, and when they wait.

``handled()`` (the CLI's ``main``) routes both signals to one handler that records the signal
and, while signals are *live*, raises ``KeyboardInterrupt``: while a scenario loads (the
command stops at once, nothing written) and while replications run (``live()`` around the
simulation: the finished replications are kept). Once a command has started simulating
(``hold()``), a signal is only recorded: summarizing and writing the results are never cut
short, and the command then exits with the signal's code (``exit_code``: 130 for SIGINT, 143
for SIGTERM). Outside ``handled()`` (the library, the tests) nothing changes: Python's own
SIGINT handler raises ``KeyboardInterrupt`` as usual.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received: list[int] = []  # signals seen since handled() began
_state = {"installed": False, "live": True}


def _handler(signum: int, frame) -> None:
    _received.append(signum)
    if _state["live"]:
        raise KeyboardInterrupt


@contextmanager
def handled() -> Iterator[None]:
    """Install the handler for SIGINT and SIGTERM (live); restore the previous handlers after.
    A signal this process was started to ignore (``nohup``, a background job) stays ignored."""
    previous = {
        s: signal.signal(s, _handler) for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN
    }
    _received.clear()
    _state.update(installed=True, live=True)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _state.update(installed=False, live=True)
        _received.clear()  # a later command in this process (the tests) starts afresh


def hold() -> None:
    """From now on a signal is recorded, not raised (until ``live()``): the command has work
    that must reach the disk."""
    if _state["installed"]:
        _state["live"] = False


@contextmanager
def live() -> Iterator[None]:
    """Signals raise ``KeyboardInterrupt`` inside (one that arrived while held raises at once);
    the previous mode is restored after."""
    before = _state["live"]
    _state["live"] = True
    try:
        if _received and _state["installed"]:
            raise KeyboardInterrupt
        yield
    finally:
        _state["live"] = before


@contextmanager
def held() -> Iterator[None]:
    """Signals are only recorded inside: a step that must finish whole or not at all (adding
    a replication's results, which a ``KeyboardInterrupt`` raised half-way would leave partly
    counted). The next ``check()`` raises for one that arrived."""
    before = _state["live"]
    _state["live"] = False
    try:
        yield
    finally:
        _state["live"] = before


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a signal arrived while live: the handler's own raise can
    be swallowed (it may land in a garbage-collector callback or a ``__del__``, where Python
    only prints "Exception ignored"), so loops that wait for results call this as well."""
    if _received and _state["installed"] and _state["live"]:
        raise KeyboardInterrupt


def received() -> int | None:
    """The first signal received under ``handled()``, or None."""
    return _received[0] if _received else None


def exit_code(default: int = 130) -> int:
    """128 + the first signal received (130 for SIGINT, 143 for SIGTERM), else ``default``."""
    sig = received()
    return default if sig is None else 128 + int(sig)
