"""Local worker processes the parent fully controls.

``multiprocessing.Pool`` can hang a run for good: when a signal to the whole process group kills
a worker while it holds the task queue's lock, ``terminate()`` waits for that lock forever, and
a task a dead worker held is never answered. Here each worker has its own pipe (no lock is
shared), ignores SIGINT and SIGTERM (stopping is the parent's decision: it keeps the finished
work, then kills the workers with SIGKILL), and exits on its own when the parent goes away (end
of file on its pipe). A worker that dies is noticed at once (``WorkerLost``), never waited for.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterable, Iterator

from sim.interrupts import SIGNALS

JOIN_SECONDS = 5.0  # a worker told to stop that is still there after this is killed


class WorkerLost(RuntimeError):
    """A worker process ended without answering (killed, or out of memory)."""


def _serve(conn, initializer: Callable | None, initargs: tuple) -> None:
    """A worker's life: run ``fn(arg)`` for each ``(fn, arg)`` received and send back
    ``(True, result)`` or ``(False, exception)``; stop on None or when the parent is gone."""
    for s in SIGNALS:  # before unblocking: a signal already pending is discarded
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, arg = task
        try:
            answer = (True, fn(arg))
        except Exception as e:  # the parent re-raises it
            answer = (False, e)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return
        except Exception as e:  # an answer that does not pickle
            conn.send((False, RuntimeError(f"{type(e).__name__}: {e}")))


class Pool:
    """``workers`` processes started with ``initializer(*initargs)``; ``imap``/``map`` run
    tasks on them; use as a context manager (``close`` on success, ``kill`` otherwise)."""

    def __init__(self, workers: int, initializer: Callable | None = None, initargs: tuple = ()):
        import multiprocessing  # here: a serial run never needs it

        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.processes: list = []
        self.conns: list = []
        self.busy: dict[int, int] = {}  # worker -> index of the item it works on
        # blocked while starting: a signal cannot reach a worker before it ignores signals
        old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            try:
                for _ in range(workers):
                    here, there = ctx.Pipe()
                    process = ctx.Process(
                        target=_serve, args=(there, initializer, initargs), daemon=True
                    )
                    process.start()
                    there.close()
                    self.processes.append(process)
                    self.conns.append(here)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            # a signal that waited is raised on the line above: still inside this try
        except BaseException:
            self.kill()  # workers ignore SIGTERM: one left behind would never end
            raise

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.kill()

    def imap(self, fn: Callable, items: Iterable) -> Iterator:
        """``fn(item)`` for each item, computed on the workers, yielded in order; a task's
        exception is raised in its place. One task per worker at a time."""
        items = list(items)
        while self.busy:  # answers of tasks an earlier imap left behind (an exception) are stale
            self._collect(self.busy, [], {})
        answers: dict[int, tuple[bool, object]] = {}
        idle = list(range(len(self.conns)))
        busy = self.busy
        sent = given = 0
        while given < len(items):
            while idle and sent < len(items):
                w = idle.pop()
                try:
                    self.conns[w].send((fn, items[sent]))
                except OSError:  # it is gone
                    raise self._lost(w) from None
                busy[w] = sent
                sent += 1
            if given not in answers:
                self._collect(busy, idle, answers)
                continue
            ok, value = answers.pop(given)
            given += 1
            if not ok:
                raise value
            yield value

    def _collect(self, busy: dict[int, int], idle: list[int], answers: dict) -> None:
        """Wait for at least one busy worker to answer (or to die: ``WorkerLost``)."""
        from multiprocessing.connection import wait

        by_conn = {self.conns[w]: w for w in busy}
        by_sentinel = {self.processes[w].sentinel: w for w in busy}
        for ready in wait([*by_conn, *by_sentinel]):
            w = by_conn.get(ready)
            if w is None:
                w = by_sentinel[ready]
                if self.conns[w].poll():  # it answered, then ended
                    continue
                raise self._lost(w)
            if w not in busy:
                continue
            try:
                answers[busy.pop(w)] = self.conns[w].recv()
            except (EOFError, OSError):
                raise self._lost(w) from None
            idle.append(w)

    def _lost(self, w: int) -> WorkerLost:
        self.processes[w].join(2.0)  # reaped, to report its exit code
        return WorkerLost(f"a worker process ended (exit code {self.processes[w].exitcode})")

    def map(self, fn: Callable, items: Iterable) -> list:
        """``list(imap(fn, items))``."""
        return list(self.imap(fn, items))

    def close(self) -> None:
        """Tell the workers to stop and wait for them (killing any that do not)."""
        try:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.send(None)
            for process in self.processes:
                process.join(JOIN_SECONDS)
        finally:
            self.kill()

    def kill(self) -> None:
        """End every worker now (SIGKILL: they ignore SIGTERM) and reap it; a signal arriving
        meanwhile waits until they are gone (a worker left behind would never end)."""
        old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            for process in self.processes:
                if process.is_alive():
                    process.kill()
            for process in self.processes:
                process.join()
            for conn in self.conns:
                conn.close()
            self.processes, self.conns, self.busy = [], [], {}
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
