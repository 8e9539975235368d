"""The scenario browser: grouped built-ins, details, Enter runs, a path input, esc comes back."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, OptionList

from test_ui_fakes import FakeSession, fake_builtins, fake_load
from tui_optim.ui.app import create_app
from tui_optim.ui.browser import BrowserScreen
from tui_optim.ui.help import HelpScreen
from tui_optim.ui.run_screen import RunScreen


def make():
    return create_app(builtins=fake_builtins, load=fake_load,
                      make_source=lambda sc: FakeSession(sc, speed=100.0))


def run(coro):
    return asyncio.run(coro)


def test_builtins_grouped_by_topic_with_details():
    async def go():
        app = make()
        async with app.run_test(size=(120, 40)) as pilot:
            assert isinstance(app.screen, BrowserScreen)
            ol = app.screen.query_one(OptionList)
            prompts = [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]
            assert prompts[0] == "momentum" and "Fake ravine" in prompts[1]
            assert prompts[2] == "networks"
            details = str(app.screen.query_one("#details-text").render())
            assert "Fake ravine" in details and "diverges" in details
            await pilot.press("down")
            details = str(app.screen.query_one("#details-text").render())
            assert "Fake deep tanh net" in details
    run(go())


def test_enter_runs_the_selection_and_esc_comes_back():
    async def go():
        app = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("down", "down")
            await pilot.press("enter")
            assert isinstance(app.screen, RunScreen)
            assert app.screen.scenario.title == "Fake batch norm"
            run_screen = app.screen
            await pilot.press("escape")
            assert isinstance(app.screen, BrowserScreen)
            assert run_screen.source.pacer.stopped
    run(go())


def test_path_input_opens_a_file_or_shows_the_error():
    async def go():
        app = make()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("o")
            assert isinstance(app.focused, Input)
            await pilot.press(*"nope.toml", "enter")
            assert "no such scenario file" in str(app.screen.query_one("#path-error").render())
            assert isinstance(app.screen, BrowserScreen)
            inp = app.screen.query_one(Input)
            inp.value = ""
            await pilot.press(*"fake_net", "enter")
            assert isinstance(app.screen, RunScreen)
    run(go())


def test_typing_q_in_the_path_input_does_not_quit():
    async def go():
        app = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("o", "q")
            assert app.is_running and app.screen.query_one(Input).value == "q"
            await pilot.press("escape", "question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape", "q")
        assert not app.is_running
    run(go())
