"""The network built-ins (curriculum 16-28) run headless and every claim holds."""

from pathlib import Path

import pytest

from tui_optim.expect import evaluate
from tui_optim.runner import Session
from tui_optim.scenario import load_scenario
from tui_optim.summary import Summary

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NETWORK = sorted(p for p in SCENARIOS.glob("*.toml")
                 if 16 <= int(p.name.split("_")[0].rstrip("abcdefghijklmnopqrstuvwxyz")) <= 28)


def test_every_network_point_has_a_scenario():
    orders = {load_scenario(str(p)).order for p in NETWORK}
    assert set(range(16, 29)) <= orders


@pytest.mark.parametrize("path", NETWORK, ids=lambda p: p.stem)
def test_network_scenario_claims_hold(path):
    scenario = load_scenario(str(path))
    assert scenario.explanation.strip() and scenario.expects
    session = Session(scenario)
    summary = Summary(session.runs)
    for chunk in session.chunks():
        summary.add(chunk)
    assert all(r.status == "done" for r in summary.runs), [r.status for r in summary.runs]
    verdicts = evaluate(scenario.expects, summary.runs)
    failed = [f"{v.claim}: {v.error or v.measured}" for v in verdicts if not v.holds]
    assert not failed, "\n".join(failed)
