"""The `?` help screen: every key of the screen underneath, and what the panes show."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PANES_HELP = (
    ("surface", "objective as shaded level bands (log f), each run's path, ● current point, ★ minima, ✕ saddles"),
    ("trace", "a series over steps for every run; log panes plot log10 of the value, guides are theory lines"),
    ("layers", "one line per layer: gradient norm, update/weight ratio (healthy ≈ 1e-3), activation std"),
    ("heat", "layer × step strip of a per-layer series on a log scale"),
    ("histograms", "activation histograms per layer (pre = before BN/nonlinearity, act = after)"),
    ("boundary", "predicted class regions of 2-D data with the training points"),
    ("gradcheck", "relative error between analytic and finite-difference gradients per layer"),
)


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
        for kind, what in PANES_HELP:
            panes.add_row(Text(kind), Text(what))
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
