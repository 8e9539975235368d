"""One table of the keys: every screen's bindings, its key bar and its help come from it, so
a key cannot be bound without being shown and explained, or shown and not bound."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    """One row: the Textual bindings (key, action), the key bar's short label, the help line."""

    bindings: tuple[tuple[str, str], ...]
    bar: tuple[str, str] | None          # None: bound and explained, not on the bar
    help: tuple[str, str] | None          # None: bound only (a synonym, e.g. Ctrl-C for q)
    priority: bool = False


def bindings(table: list[Key]) -> list[Binding]:
    return [Binding(key, action, (row.bar or row.help or (key, action))[1], show=False,
                    priority=row.priority)
            for row in table for key, action in row.bindings]


def bar(table: list[Key]) -> list[tuple[str, str]]:
    return [row.bar for row in table if row.bar]


def help_lines(table: list[Key]) -> list[tuple[str, str]]:
    return [row.help for row in table if row.help]


RUN_KEYS = [
    Key((("space", "toggle_pause"),), ("space", "pause"), ("space", "pause or resume every run (and the arrival of trials' results)"),
        priority=True),
    Key((("n", "step"),), ("n", "step"), ("n", "advance every run by one step (pauses first)")),
    Key((("plus,equals_sign", "faster"), ("minus,underscore", "slower")), ("+/-", "speed"),
        ("+ / -", "faster / slower (steps per second per run; the fastest is 'max')")),
    Key((("r", "restart"),), ("r", "restart"),
        ("r", "restart the scenario from step 0 (same seeds: the same numbers)")),
    Key((("left_square_bracket", "scale_lr(0.5)"), ("right_square_bracket", "scale_lr(2.0)")),
        ("[/]", "ε ½/×2"), ("[ / ]", "halve / double ε of the selected run, live, from its next step")),
    Key((("up", "select(-1)"), ("down", "select(1)"),
         *((str(k), f"select_run({k - 1})") for k in range(1, 10))),
        ("↑↓/1-9", "run"),
        ("↑ ↓ or 1-9", "select a run in the legend (▶ marks it; it is drawn on top)"), priority=True),
    Key((("tab", "next_pane(1)"), ("shift+tab", "next_pane(-1)")), ("tab", "pane"),
        ("tab / shift+tab", "next / previous pane (small terminals: slides the panes shown)"),
        priority=True),
    Key((("enter", "open_cell"),), None,
        ("← → ↑ ↓, enter", "on a phase diagram: move its cell cursor; enter opens that trial "
                           "as a watched run (esc comes back)")),
    Key((("f", "zoom"),), ("f", "zoom"),
        ("f", "zoom the current pane to the full screen (f or esc again to leave)")),
    Key((("l", "toggle_log"),), ("l", "log"),
        ("l", "log / linear scale of the current pane (histograms: log counts)")),
    Key((("e", "toggle_explanation"),), ("e", "text"), ("e", "show the whole explanation")),
    Key((("s", "screenshot"),), ("s", "screenshot"),
        ("s", "save a screenshot: SVG and PNG (the folder is shown)")),
    Key((("x", "export"),), ("x", "export"),
        ("x", "save the runs' numbers: series as CSV, summary as JSON (the folder is shown)")),
    Key((("question_mark", "help"),), ("?", "help"), ("?", "this help")),
    Key((("escape", "back"),), None, None),
    Key((("q", "quit"),), ("q", "quit"), ("q", "quit (Ctrl-C too)")),
    Key((("ctrl+c", "interrupt"),), None, None, priority=True),
]
# A replay moves through its recording; ε is fixed there, so its keys leave the bar.
REPLAY_KEYS = [
    Key((("left", "arrow(-1)"), ("right", "arrow(1)")), ("←/→", "chunk"),
        ("← / →", "replay: back / forward one recorded chunk, at most 2 % of the recording "
                  "(paused stays paused)"),
        priority=True),
    Key((("home", "seek_edge(0)"), ("end", "seek_edge(1)")), ("home/end", "ends"),
        ("home / end", "replay: jump to the first / the last step")),
    Key((("g", "goto"),), ("g", "go to"), ("g", "replay: go to a step")),
]
LIVE_ONLY = ("scale_lr(0.5)",)          # rows the bar of a replay leaves out


def run_table(replay: bool, can_go_back: bool) -> list[Key]:
    """The rows a run screen shows in its bar and help: a replay's own instead of ε."""
    rows = [r for r in RUN_KEYS if not (replay and any(a in LIVE_ONLY for _, a in r.bindings))]
    return rows + (REPLAY_KEYS if replay else []) + ([BACK] if can_go_back else [])


# what esc does on a run screen opened from the browser
BACK = Key((), ("esc", "back"), ("esc", "stop this run and go back to the browser"))

# The browser: the list and the path field handle ↑↓, enter and tab themselves.
BROWSER_KEYS = [
    Key((), ("↑↓", "choose"), ("↑ ↓", "choose a scenario (its explanation shows beside)")),
    Key((), ("enter", "run"), ("enter", "run it in the dashboard (esc there comes back)")),
    Key((("o,slash", "open_path"),), ("o", "open a file"), ("o or /", "open a scenario file by its path")),
    Key((), ("tab", "list/path"), ("tab", "between the list and the path field")),
    Key((("question_mark", "help"),), ("?", "help"), ("?", "this help")),
    Key((("q", "quit"),), ("q", "quit"), ("q", "quit")),
    Key((("escape", "focus_list"),), None, None),
]
