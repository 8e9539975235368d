"""Snapshots (SVG) of the real thing: the browser over the built-ins, and built-in surface,
network and batch-norm scenarios run by the real engine to a fixed step count (`steps=`, so
every run ends at the same record and the picture is the same every time), at 80x24 and
120x40. They change when a built-in's text or numbers change: look at the new picture, then
`pytest tests/test_ui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio

import pytest

from test_ui_snapshots_fake import settle
from tui_optim.chunk import Status
from tui_optim.runner.session import Session
from tui_optim.scenario import load_scenario
from tui_optim.ui.app import create_app
from tui_optim.ui.run_screen import RunScreen

SIZES = [(80, 24), (120, 40)]
IDS = [f"{w}x{h}" for w, h in SIZES]


def builtin_app(name: str, steps: int):
    scenario = load_scenario(name, steps=steps)
    return create_app(scenario, make_source=lambda sc: Session(sc, speed=None))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_real_browser(snap_compare, size):
    assert snap_compare(create_app(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_real_surface_momentum_ravine(snap_compare, size):
    assert snap_compare(builtin_app("03_momentum_ravine", 150), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_real_network_init_histograms(snap_compare, size):
    # 10 steps: the picture is the initialization's; the chaotic "std 1" run would show BLAS's
    # CPU-dependent last bits in its loss after a few dozen steps
    assert snap_compare(builtin_app("16_init_histograms", 10), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_real_batch_norm(snap_compare, size):
    async def histograms(pilot):
        await settle(pilot)
        await pilot.press("tab")              # the histograms pane, before/after BN
        if size[0] >= 100:
            await pilot.press("f")
        await settle(pilot)

    assert snap_compare(builtin_app("17_batch_norm", 200), terminal_size=size, run_before=histograms)


DIVERGING = """
title = "diverging on purpose"
topic = "test"
steps = 400
[problem]
type = "surface"
surface = "quadratic"
eigenvalues = [1.0, 10.0]
window = [-5.0, 5.0, -3.0, 3.0]
[defaults]
start = [-4.0, 2.0]
optimizer = "sgd"
[[runs]]
label = "ok"
lr = 0.1
[[runs]]
label = "too big"
lr = 3.0
"""


def test_real_diverging_run_shows_its_status_and_the_app_keeps_running(tmp_path):
    path = tmp_path / "diverge.toml"
    path.write_text(DIVERGING)
    app = create_app(load_scenario(str(path)), make_source=lambda sc: Session(sc, speed=None))

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, RunScreen)
            status, at = screen.trace.status(1)
            assert status == Status.DIVERGED and at is not None
            assert screen.trace.status(0)[0] == Status.DONE
            assert f"diverged at step {at}" in str(screen.query_one("#legend").render())
            await pilot.press("r")                 # and it can run again
            await settle(pilot)
            assert screen.trace.status(1)[0] == Status.DIVERGED
            assert app.is_running

    asyncio.run(go())
