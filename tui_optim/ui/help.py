"""The `?` help screen: every key of the screen underneath, and what the panes show."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_optim.engine.catalog import PANES

class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close help")]

    def __init__(self, items: list[tuple[str, str]], title: str = "keys") -> None:
        super().__init__()
        self.items = items
        self.title_text = title

    def compose(self) -> ComposeResult:
        keys = Table(box=None, show_header=False, padding=(0, 1))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, what in self.items:
            keys.add_row(Text(key), Text(what))
        panes = Table(box=None, show_header=False, padding=(0, 1))
        panes.add_column(style="bold", no_wrap=True)
        panes.add_column()
        for pane in PANES:
            panes.add_row(Text(pane.kind), Text(pane.help))
        with VerticalScroll() as vs:
            vs.border_title = f"help: {self.title_text} (esc closes)"
            yield Static(Text("Keys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nPanes", style="bold underline"))
            yield Static(panes)
            yield Static(Text("\nNo action needs a mouse. NO_COLOR is honoured: runs are then "
                              "marked by their number.", style="dim"))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
