"""Same numbers on any x86-64 machine: every series of a few built-ins, bit for bit, against
digests committed from another machine's run. The network kernels sum their matrix products in
a fixed order (engine/network/layers.py), and a problem's data, matrices and reference points
are set up in a fixed order too (engine/ordered.py), not in BLAS's or LAPACK's CPU-chosen one.
A digest that moves is a result that now depends on the CPU (or a real change: regenerate with
TUI_OPTIM_WRITE_DIGESTS=1, which writes instead of checking, and say why in the commit).
The digests assume the pinned numba and glibc's libm, as CI has them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from tui_optim.runner import Session
from tui_optim.scenario import load_scenario
from tui_optim.summary import Summary

DIGESTS = Path(__file__).parent / "data" / "digests.json"
CASES = {  # built-in: steps (enough for a chaotic run to amplify any last-bit difference)
    "03_momentum_ravine": 300, "07_batch_vs_stochastic": 300, "08_no_critical_points": 300,
    "09_cliff_clipping": 200, "15_feature_normalization": 200,
    "16_init_histograms": 60, "17_batch_norm": 120,
    "19_activations": 80, "23_regularization": 80, "27_edge_of_stability": 60,
    "28_gradient_check": 60,
}


def digest(name: str, steps: int) -> str:
    scenario = load_scenario(name, steps=steps)
    session = Session(scenario)
    summary = Summary(session.runs)
    for chunk in session.chunks():
        summary.add(chunk)
    h = hashlib.sha256()
    for run in summary.runs:
        for series in sorted(run.series_names()):
            h.update(series.encode())
            h.update(np.ascontiguousarray(run.series(series), dtype="<f8").tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(CASES))
def test_builtin_numbers_match_the_committed_digests(name):
    got = digest(name, CASES[name])
    if os.environ.get("TUI_OPTIM_WRITE_DIGESTS"):
        table = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
        table[name] = got
        DIGESTS.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")
    assert json.loads(DIGESTS.read_text())[name] == got
