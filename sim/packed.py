"""Validated scenarios kept packed while a command runs them one at a time.

``sweep`` and ``sensitivity`` validate every grid point (every input's low and high) before
running any, so that a bad one is named before anything runs, then run them in turn. A
validated scenario is Python objects: about 1.9 kB a SKU (18 MB at 10,000 SKUs), which a grid
of points held until the end. Pickled it is about 0.27 kB a SKU, and unpickling it takes a
tenth of the time validating it again would (0.1 s against 1.1 s at 10,000 SKUs). So the points
wait pickled; each is unpacked when its turn comes and dropped after it: one point's objects at
a time, whatever the size of the grid. The pickles are fulfilsim's own, made by the command (or
by the child process that reads a large file for it, ``cli.read_apart``), never read from disk.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence

from sim.scenario import Scenario


class Packed(Sequence[Scenario]):
    """A list of validated scenarios stored pickled; indexing unpacks a fresh copy."""

    def __init__(self) -> None:
        self._blobs: list[bytes] = []

    def append(self, scenario: Scenario) -> None:
        """Keep ``scenario`` (the caller may drop its own reference)."""
        self._blobs.append(pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL))

    def __len__(self) -> int:
        return len(self._blobs)

    def __getitem__(self, i: int) -> Scenario:  # type: ignore[override]
        return pickle.loads(self._blobs[i])
