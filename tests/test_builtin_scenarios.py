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
    summary = Summary(session.runs, session.trials)
    for chunk in session.chunks():
        summary.add(chunk)
    failed = [f"{v.claim}: {v.error or v.measured}"
              for v in evaluate(scenario.expects, summary.records_all) if not v.holds]
    assert not failed, "\n".join(failed)


def verdicts(name: str, sets=()):
    scenario = load_scenario(name, sets=sets)
    session = Session(scenario)
    summary = Summary(session.runs, session.trials)
    for chunk in session.chunks():
        summary.add(chunk)
    return {v.claim: v for v in evaluate(scenario.expects, summary.records_all)}


def failing(name: str, sets) -> list[str]:
    return [claim for claim, v in verdicts(name, sets).items() if not v.holds]


# The claims check the lesson on screen, not a proxy: put the scenario in the wrong regime
# and the claims that describe the picture fail. Each case: (scenario, --set overrides, a
# phrase of every claim that must now fail).
WRONG_REGIMES = [
    # 03b with heavy ball in Nesterov's place: its red region starts at 2(1 + α), not Nesterov's
    ("03b_momentum_phase", ["runs[1].optimizer=momentum"], ["Nesterov's too"]),
    # 03 at the old ε·λmax = 1.3, α = 0.9: GD's bounce dies in 3 steps, momentum bounces hardest
    ("03_momentum_ravine", ["defaults.lr=0.026", "defaults.momentum=0.9"],
     ["each bounce is only 10 % smaller", "momentum's across-valley components cancel"]),
    # 03 with ε·λmax = 1.2: Nesterov is stable, so it is not thrown out
    ("03_momentum_ravine", ["defaults.lr=0.024"], ["Nesterov's look-ahead overshoots"]),
    # 09 from the old start: the unclipped step lands near the minimum instead of being launched
    ("09_cliff_clipping", ["defaults.start=[3.0, 1.0]"],
     ["throws the iterate farther than the map is wide", "the launch undoes everything"]),
    # 01 with the '2 η_opt' run at 1.8 η_opt: the bounce decays instead of staying at ±w₀
    ("01_lr_regimes", ["runs[3].lr=0.9"], ["they bounce between ±w₀ forever"]),
    # 05 without gradient noise: 'noisy SGD' lingers as long as GD
    ("05_saddle_points", ["runs[1].noise=0"], ["more than 3 times as long as noisy SGD"]),
]


@pytest.mark.parametrize("name, sets, must_fail", WRONG_REGIMES,
                         ids=[f"{c[0]}:{' '.join(c[1])}" for c in WRONG_REGIMES])
def test_claims_fail_in_the_wrong_regime(name, sets, must_fail):
    failed = failing(name, sets)
    for phrase in must_fail:
        assert any(phrase in claim for claim in failed), (phrase, failed)


def test_the_claims_page_matches_the_scenarios():
    """docs/claims.md lists every built-in's claims as they are (regenerate it when they change:
    python -m tui_optim.scenario.claims_doc > docs/claims.md)."""
    from pathlib import Path

    from tui_optim.scenario.claims_doc import claims_table

    page = Path(__file__).parent.parent / "docs" / "claims.md"
    assert page.read_text() == claims_table()


def test_the_format_doc_tables_are_the_catalog():
    """docs/scenario-format.md's optimizer, schedule, surface and pane tables are made from the
    catalog (regenerate them when it changes: python -m tui_optim.scenario.catalog_doc)."""
    from tui_optim.scenario.catalog_doc import DOC, update

    text = DOC.read_text(encoding="utf-8")
    assert update(text) == text
