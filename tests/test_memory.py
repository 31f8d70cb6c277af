"""Large arrays go back to the operating system when freed (``sim.memory``, glibc only)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim import memory
from tests.helpers import ROOT

PROBE = """
import sys
import numpy as np
from sim import memory

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

if "map" in sys.argv:
    memory.map_large_arrays()
warm = np.ones(3 * 2**20)  # a 24 MB block freed: glibc raises its mmap threshold to it
del warm
before = rss()
keep, arrays = [], []
for _ in range(20):
    arrays.append(np.ones(2**20))  # 8 MB each, written
    keep.append(bytearray(200_000))  # smaller blocks between them, kept
del arrays
if "trim" in sys.argv:
    memory.give_back()
print(rss() - before)
"""


def grown_mb(*modes: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *modes], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(memory._libc() is None, reason="glibc's allocator only")
def test_freed_large_arrays_leave_the_process():
    assert grown_mb("map") < 20  # the 4 MB of small blocks kept, not the 160 MB freed
    # without it the freed arrays stay on the heap behind the small blocks ...
    assert grown_mb("heap") > 100
    # ... until the heap's free pages are given back
    assert grown_mb("heap", "trim") < 20
