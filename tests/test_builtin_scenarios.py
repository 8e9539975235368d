"""Every built-in scenario is a claim you can watch: run each headless and check its [expect]."""

import pytest

from tui_optim.expect import evaluate
from tui_optim.runner import Session
from tui_optim.scenario import list_builtins, load_scenario
from tui_optim.summary import Summary

BUILTINS = list_builtins()


def test_there_is_a_builtin_for_every_curriculum_point():
    orders = {info.order for info in BUILTINS}
    assert set(range(1, 29)) <= orders


@pytest.mark.parametrize("name", [info.name for info in BUILTINS])
def test_builtin_claims_hold(name):
    scenario = load_scenario(name)
    assert scenario.title and scenario.explanation.strip(), "shown in the dashboard"
    assert scenario.expects, "a built-in states its teaching point as a checkable claim"
    session = Session(scenario)
    summary = Summary(session.runs)
    for chunk in session.chunks():
        summary.add(chunk)
    failed = [f"{v.claim}: {v.error or v.measured}"
              for v in evaluate(scenario.expects, summary.runs) if not v.holds]
    assert not failed, "\n".join(failed)
