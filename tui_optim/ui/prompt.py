"""A one-line question in a box over the screen: `g` asks which step a replay goes to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class StepPrompt(ModalScreen[int | None]):
    """Asks for a step in [0, last]; dismisses with it, or None on esc."""

    DEFAULT_CSS = """
    StepPrompt { align: center middle; }
    StepPrompt > Vertical {
        width: 48; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, last: int, now: int) -> None:
        super().__init__()
        self.last, self.now = last, now

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "go to step (enter; esc cancels)"
            yield Static(f"0 to {self.last:,}; now at {self.now:,}")
            yield Input(placeholder=str(self.now), type="integer", id="step")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.dismiss(None)
            return
        try:
            step = int(text)
        except ValueError:                  # "-", "+", "5_": what an integer field lets through
            self.query_one(Static).update(f"{text!r} is not a step: 0 to {self.last:,}")
            return
        if not 0 <= step <= self.last:
            self.query_one(Static).update(f"{step:,} is not in 0 to {self.last:,}")
            return
        self.dismiss(step)

    def action_cancel(self) -> None:
        self.dismiss(None)
