"""The Textual app and the entry points the CLI calls.

`create_app` builds the app (tests and benchmarks reuse it, as posting does); `run_app` runs
it. With a scenario (or a replay source) it opens the run screen; with neither, the scenario
browser, whose Enter opens a run screen on top (esc goes back).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from textual.app import App
from textual.theme import BUILTIN_THEMES

from tui_optim.runner.source import ChunkSink, Source
from tui_optim.ui.browser import BrowserScreen
from tui_optim.ui.colors import use_palette
from tui_optim.ui.run_screen import RunScreen

THEME_ALIASES = {"dark": "textual-dark", "light": "textual-light"}
THEME_CHOICES = ("auto", *THEME_ALIASES, *BUILTIN_THEMES)


def terminal_is_light(environ: Mapping[str, str]) -> bool:
    """What the terminal says of its background, where it says it: COLORFGBG is "fg;bg" (rxvt,
    Konsole, iTerm2 and others set it); backgrounds 7 and 9-15 are the light ones."""
    bg = environ.get("COLORFGBG", "").split(";")[-1]
    return bg.isdigit() and (int(bg) == 7 or 9 <= int(bg) <= 15)


def resolve_theme(name: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The Textual theme to use: `name` (--theme), else TUI_OPTIM_THEME, else "auto": light
    when the terminal says its background is light, dark otherwise."""
    name = name or environ.get("TUI_OPTIM_THEME") or "auto"
    if name == "auto":
        return "textual-light" if terminal_is_light(environ) else "textual-dark"
    name = THEME_ALIASES.get(name, name)
    if name not in BUILTIN_THEMES:
        raise ValueError(f"unknown theme {name!r}: expected one of {', '.join(THEME_CHOICES)}")
    return name


def _default_source(scenario: Any) -> Source:
    from tui_optim.runner.session import Session, default_speed

    return Session(scenario, speed=default_speed(scenario), tiered=True)


def _dashboard_speed(scenario: Any) -> float | None:
    from tui_optim.runner.session import default_speed

    return default_speed(scenario)


def _default_builtins() -> list[Any]:
    from tui_optim.scenario import list_builtins

    return list_builtins()


def _default_load(path_or_name: str) -> Any:
    from tui_optim.scenario import load_scenario

    return load_scenario(path_or_name)


class TuiOptimApp(App[int]):
    """tui-optim's dashboard. Everything it runs comes in through factories (for tests)."""

    CSS_PATH = "styles.tcss"
    TITLE = "tui-optim"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        scenario: Any = None,
        *,
        source: Source | None = None,
        make_source: Callable[[Any], Source] | None = None,
        record: str | Path | Callable[[], ChunkSink] | None = None,
        record_meta: Mapping[str, Any] | None = None,
        builtins: Callable[[], list[Any]] | None = None,
        load: Callable[[str], Any] | None = None,
        save_dir: str | Path | None = None,
        theme: str | None = None,
        stop_at: int | None = None,
    ) -> None:
        super().__init__()
        self.theme = resolve_theme(theme)
        use_palette(light=not BUILTIN_THEMES[self.theme].dark)
        self.scenario = scenario if scenario is not None else (source.scenario if source else None)
        self.initial_source = source
        self.make_source = make_source or _default_source
        self.record = record
        self.record_meta = dict(record_meta or {})
        self.builtins = builtins or _default_builtins
        self.load = load or _default_load
        self.save_dir = save_dir
        self.stop_at = stop_at

    def on_mount(self) -> None:
        self._quit_on_signals()
        # The engine thread takes the GIL back after every kernel call; with the default 5 ms
        # switch interval it queues behind drawing for that long each time (convoy effect).
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0005)
        if self.scenario is None:
            self.push_screen(BrowserScreen(self.builtins, self.load, self.open_run))
        else:
            self.push_screen(self._run_screen(self.scenario, self.initial_source, can_go_back=False))

    # After SIGTERM or SIGHUP the process ends within this many seconds whatever happens: with
    # the terminal gone, Textual's output thread can deadlock its own shutdown (seen in 3 of 8
    # hangups in tmux while the runs were on the interpreted tier), which left the process
    # behind. The runs and a recording are stopped and written well before.
    SIGNAL_EXIT_SECONDS = 3.0

    def _quit_on_signals(self) -> None:
        """SIGTERM and SIGHUP (an SSH drop) quit as `q` does: the runs stop, a recording gets
        its `stopped` markers, and the exit status is 128 + the signal's number."""
        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is not None:
                try:
                    loop.add_signal_handler(sig, self._quit_on_signal, 128 + sig)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass     # not the main thread, or no such support: the default stands

    def _quit_on_signal(self, status: int) -> None:
        import threading

        last_resort = threading.Timer(self.SIGNAL_EXIT_SECONDS, os._exit, args=(status,))
        last_resort.daemon = True
        last_resort.start()
        self.exit(status)

    def on_unmount(self) -> None:
        sys.setswitchinterval(self._switch_interval)

    def open_run(self, scenario: Any) -> None:
        """Called by the browser: a run screen over it; esc stops the run and comes back."""
        self.push_screen(self._run_screen(scenario, None, can_go_back=True))

    def _run_screen(self, scenario: Any, source: Source | None, *, can_go_back: bool,
                    record: bool = True) -> RunScreen:
        if source is None:
            source = self.make_source(scenario)
        elif source.speed is None:
            # a source handed over unpaced (a replay, say) plays at the live dashboard's pace
            source.set_speed(_dashboard_speed(scenario))
        return RunScreen(scenario, source, sinks=self._sinks_factory(scenario) if record else None,
                         save_dir=self.save_dir, can_go_back=can_go_back,
                         stop_at=self.stop_at)

    def _sinks_factory(self, scenario: Any) -> Callable[[], list[ChunkSink]] | None:
        record = self.record
        if record is None:
            return None
        if callable(record):
            return lambda: [record()]

        def sinks() -> list[ChunkSink]:
            from tui_optim.replay import Recorder

            return [Recorder(record, scenario, **self.record_meta)]

        return sinks


def create_app(scenario: Any = None, *, source: Source | None = None, replayer: Source | None = None,
               record: str | Path | Callable[[], ChunkSink] | None = None,
               record_overrides: Mapping[str, Any] | None = None, **options: Any) -> TuiOptimApp:
    """The app, not yet running.

    scenario: a loaded Scenario (with no scenario and no source/replayer: the browser).
    source / replayer: a Source (runner/source.py), e.g. a Replayer; its `.scenario` is shown.
        A restart runs `source.reopen()`.
    record: a replay file path (a Recorder is opened per run; restart rewrites it), or a
        factory of ChunkSinks (runner/source.py).
    record_overrides: Recorder keyword arguments (sets, seed, steps) for the file header.
    options: make_source (scenario -> Session), builtins, load, save_dir (where `s` and
        `x` write; default: ui/saving.default_folder()), theme, stop_at.
    """
    if record_overrides is not None:
        options["record_meta"] = record_overrides
    return TuiOptimApp(scenario, source=source if source is not None else replayer, record=record, **options)


def run_app(scenario: Any = None, *, source: Source | None = None, replayer: Source | None = None,
            record: str | Path | Callable[[], ChunkSink] | None = None,
            record_overrides: Mapping[str, Any] | None = None, **options: Any) -> int:
    """Run the dashboard until the user quits; returns the exit status (0; 143 or 129 when a
    signal ended it)."""
    app = create_app(scenario, source=source, replayer=replayer, record=record,
                     record_overrides=record_overrides, **options)
    result = app.run()       # the interpreter then waits for the engine thread to finish writing
    return int(result or 0)
