"""What every pane shares: a focusable bordered widget that rebuilds its picture only when the
trace data it shows (or its size, or its log flag) changed, and otherwise repaints a cache.

The run screen calls `stale()` on a timer and `rebuild()` for stale panes within a time
budget, so a burst of data never stalls the event loop; `render()` only returns the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from tui_optim.trace import Trace


@dataclass
class PaneContext:
    """What panes read: the trace, the runs (label, group, steps), and display options."""

    trace: Trace
    runs: Sequence[Any]
    no_color: bool = False
    selected: int = 0           # the run the keys act on: drawn on top where paths overlap
    trials: Sequence[Any] = ()  # runs kept as results (their outcomes are in the trace)
    problem: Mapping[str, Any] = field(default_factory=dict)    # the [problem] table

    def run_index(self, label: Any, default: int = 0) -> int:
        if label is None:
            return default
        if isinstance(label, int):
            return label
        for i, r in enumerate(self.runs):
            if r.label == label:
                return i
        return default


class Pane(Widget, can_focus=True):
    DEFAULT_CSS = """
    Pane {
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        height: 1fr;
        width: 1fr;
        min-height: 6;
        padding: 0;
    }
    Pane:focus, Pane.-current {
        border: round $accent;
        border-title-color: $accent;
        border-title-style: bold;
    }
    """

    kind = "pane"
    log_default = True

    def __init__(self, values: Mapping[str, Any], ctx: PaneContext, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.values = dict(values)
        self.ctx = ctx
        self.log_scale = bool(self.values.get("log", self.log_default))
        self.run = ctx.run_index(self.values.get("run"))   # panes that show one run
        self._built_key: tuple | None = None
        self._picture: RenderableType = Text("waiting for data…", style="dim")
        self.border_title = self.title()

    # -- what subclasses provide ----------------------------------------------------------------
    def title(self) -> str:
        return self.kind

    def short_title(self) -> str:
        """For the tab strip of narrow terminals."""
        return self.kind

    def data_key(self) -> tuple:
        """Changes whenever the data this pane shows changes (default: any run's version)."""
        t = self.ctx.trace
        return tuple(t.run_version(i) for i in range(len(self.ctx.runs)))

    def build(self, width: int, height: int) -> RenderableType:
        raise NotImplementedError

    # -- caching --------------------------------------------------------------------------------
    def _key(self) -> tuple:
        size = self.content_size
        return (self.data_key(), size.width, size.height, self.log_scale, self.ctx.no_color)

    def current_key(self) -> tuple:
        return self._key()

    def stale(self) -> bool:
        return self.display and self._key() != self._built_key and self.content_size.width > 0

    def safe_build(self, width: int, height: int) -> RenderableType:
        """Build, turning a drawing bug into a message in the pane (the dashboard survives)."""
        try:
            return self.build(width, height)
        except Exception as exc:
            return Text(f"cannot draw: {type(exc).__name__}: {exc}", style="red")

    def install(self, picture: RenderableType, key: tuple) -> None:
        """Show a picture built (maybe in another thread) for `key`."""
        self._picture = picture
        self._built_key = key
        title = self.title()       # may depend on the data (e.g. the surface's auto log scale)
        if title != self.border_title:
            self.border_title = title
        self.refresh()

    def rebuild(self) -> None:
        """Build now, on the calling thread."""
        key = self._key()
        size = self.content_size
        self.install(self.safe_build(size.width, size.height), key)

    def toggle_log(self) -> bool:
        self.log_scale = not self.log_scale
        self.border_title = self.title()
        return self.log_scale

    def render(self) -> RenderableType:
        if self._built_key is None or self._built_key[1:3] != (self.content_size.width, self.content_size.height):
            # first paint or a resize: draw now, so the pane never shows a stale size
            self.rebuild_now()
        return self._picture

    def rebuild_now(self) -> None:
        key = self._key()
        size = self.content_size
        if size.width <= 0 or size.height <= 0:
            return
        self._picture = self.safe_build(size.width, size.height)
        self._built_key = key
