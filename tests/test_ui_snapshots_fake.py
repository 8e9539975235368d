"""Snapshots (SVG) of the UI on the fake session (independent of engine and scenario changes):
browser, surface, network and batch norm screens at 80x24 and 120x40. Runs are driven to the
end (speed max), so the picture is the same every time; `pytest --snapshot-update` regenerates
them after an intended change.
"""

from __future__ import annotations

import pytest

from test_ui_fakes import FakeSession, fake_builtins, fake_load, network_scenario, surface_scenario
from tui_optim.chunk import Status
from tui_optim.ui.app import create_app
from tui_optim.ui.run_screen import RunScreen

SIZES = [(80, 24), (120, 40)]


def finished_app(scenario, **kw):
    return create_app(scenario, make_source=lambda sc: FakeSession(sc, speed=None), **kw)


async def settle(pilot, timeout: float = 600.0) -> None:
    """Wait until every run ended and every visible pane drew its final data (a cold numba
    compile of a network kernel can take a minute on a busy machine)."""
    app = pilot.app
    for _ in range(int(timeout / 0.05)):
        screen = app.screen
        if isinstance(screen, RunScreen):
            t = screen.trace
            ended = all(t.status(i)[0] != Status.RUNNING for i in range(len(screen.source.runs)))
            def idle():
                return screen.drawing is None and not any(p.stale() for p in screen.panes)
            if ended and screen.compile_state is None and idle():
                await pilot.pause(0.3)
                if idle():
                    return
        await pilot.pause(0.05)
    raise AssertionError("the run screen did not settle")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_browser(snap_compare, size):
    app = create_app(builtins=fake_builtins, load=fake_load)
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_surface_run(snap_compare, size):
    app = finished_app(surface_scenario(steps=120))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_network_run(snap_compare, size):
    app = finished_app(network_scenario(steps=200))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_batch_norm_histograms(snap_compare, size):
    app = finished_app(network_scenario(steps=200, batch_norm=True))

    async def histograms(pilot):
        await settle(pilot)
        await pilot.press("tab", "tab")        # histograms are the third pane
        if size[0] >= 100:
            await pilot.press("f")             # zoom it, as a user reading them would
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=histograms)


def test_no_snapshot_shows_a_pane_that_failed_to_draw():
    """A drawing error becomes 'cannot draw: ...' in the pane (the dashboard survives it); no
    committed picture may contain one."""
    from pathlib import Path

    shots = sorted((Path(__file__).parent / "__snapshots__").rglob("*.svg"))
    assert shots
    for shot in shots:
        assert "cannot&#160;draw" not in shot.read_text(), shot.name


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_light_theme_for_a_projector(snap_compare, size):
    app = finished_app(surface_scenario(steps=120), theme="light")
    assert snap_compare(app, terminal_size=size, run_before=settle)
