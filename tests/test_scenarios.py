"""Every bundled scenario validates and runs (so the examples never rot)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import montecarlo
from sim.loader import load_scenario
from sim.metrics import INDEX
from sim.model import compile_scenario
from tests.helpers import ROOT

BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_there_are_bundled_scenarios():
    assert any(p.name == "starter.yaml" for p in BUNDLED)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenario_runs(path):
    loaded = load_scenario(path)
    text = path.read_text()
    assert text.lstrip().startswith("#"), (
        "each bundled scenario opens with a comment saying what it answers"
    )
    sc = loaded.scenario.model_copy(update={"replications": 3})
    res = montecarlo.run(compile_scenario(sc), workers=1)
    assert res.complete and res.replications == 3
    demand = res.totals[:, :, INDEX["demand_units"]]
    assert (demand > 0).all()
    sold = res.totals[:, :, INDEX["sold_units"]]
    lost = res.totals[:, :, INDEX["lost_units"]]
    assert (sold <= demand).all() and (lost <= demand).all()
    assert np.isfinite(res.totals[:, :, INDEX["profit"]]).all()
