"""The scenario browser: built-ins grouped by topic, the highlighted one's title and
explanation, and a path input to open any scenario file. Enter runs the selection."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui_optim.ui import keys
from tui_optim.ui.help import HelpScreen
from tui_optim.ui.widgets.keybar import KeyBar

class BrowserScreen(Screen[None]):
    BINDINGS = keys.bindings(keys.BROWSER_KEYS)

    def __init__(self, builtins: Callable[[], list[Any]], load: Callable[[str], Any],
                 open_run: Callable[[Any], None]) -> None:
        super().__init__()
        self._builtins = builtins
        self._load = load
        self._open_run = open_run
        self._infos: dict[str, Any] = {}
        self._cache: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("tui-optim", "bold"), ("  · choose a scenario", "dim")), id="title")
        with Horizontal(id="browser-main"):
            yield OptionList(*self._options(), id="scenario-list")
            with VerticalScroll(id="details"):
                yield Static(id="details-text")
        with Horizontal(id="path-row"):
            yield Input(placeholder="open a file: path/to/scenario.toml, then enter", id="path",
                        compact=True)
        yield Static(id="path-error")
        yield KeyBar(keys.bar(keys.BROWSER_KEYS), id="keys")

    def _options(self) -> list[Option]:
        try:
            infos = sorted(self._builtins(), key=lambda b: (b.order, b.name))
        except Exception as exc:   # no built-ins found: the path input still works
            return [Option(Text(f"no built-in scenarios: {exc}", style="red"), disabled=True)]
        groups: dict[str, list[Any]] = {}
        for info in infos:
            groups.setdefault(info.topic or "misc", []).append(info)
        options: list[Option] = []
        for topic, items in groups.items():
            options.append(Option(Text(topic, style="bold underline"), disabled=True))
            for info in items:
                self._infos[info.name] = info
                options.append(Option(Text.assemble(f"  {info.order:>2} ", (info.title, "")), id=info.name))
        return options

    def on_mount(self) -> None:
        self._layout()
        self.query_one("#path-error").display = False
        ol = self.query_one(OptionList)
        ol.focus()
        for i in range(ol.option_count):
            if not ol.get_option_at_index(i).disabled:
                ol.highlighted = i
                break

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        size = self.app.size
        self.set_class(size.width < 100 or size.height < 30, "-narrow")

    def _scenario(self, name: str) -> Any:
        if name not in self._cache:
            info = self._infos[name]
            try:
                self._cache[name] = self._load(str(info.path))
            except Exception as exc:
                self._cache[name] = exc
        return self._cache[name]

    @on(OptionList.OptionHighlighted, "#scenario-list")
    def _show(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name is None:
            return
        sc = self._scenario(name)
        out = Text()
        if isinstance(sc, Exception):
            out.append(f"{self._infos[name].title}\n", style="bold")
            out.append(str(sc), style="red")
        else:
            out.append(sc.title + "\n", style="bold")
            out.append(f"{sc.topic} · {name}\n\n", style="dim")
            out.append(" ".join((sc.explanation or "").split()) + "\n\n")
            labels = ", ".join(r.label for r in sc.runs)
            out.append("runs: ", style="bold")
            out.append(labels + "\n")
            out.append("panes: ", style="bold")
            out.append(", ".join(p.kind for p in sc.panes) + "\n")
        self.query_one("#details-text", Static).update(out)

    @on(OptionList.OptionSelected, "#scenario-list")
    def _run_selected(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id
        if name is None:
            return
        sc = self._scenario(name)
        if isinstance(sc, Exception):
            self.notify(str(sc), severity="error")
            return
        self._open_run(sc)

    @on(Input.Submitted, "#path")
    def _open_file(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        err = self.query_one("#path-error", Static)
        try:
            sc = self._load(path)
        except Exception as exc:
            err.update(Text(str(exc)))
            err.display = True
            return
        err.display = False
        self._open_run(sc)

    def action_open_path(self) -> None:
        self.query_one("#path", Input).focus()

    def action_focus_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(keys.help_lines(keys.BROWSER_KEYS), title="scenario browser"))

    def action_quit(self) -> None:
        self.app.exit()
