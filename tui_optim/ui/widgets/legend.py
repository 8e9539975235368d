"""The run legend: one line per run with its colour, ε scale, latest loss and status.
It is also how a run is selected for the live ε keys (up/down or a number key)."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

from tui_optim.chunk import Status
from tui_optim.trace import Trace, status_text
from tui_optim.ui.colors import run_color
from tui_optim.ui.plotting import fmt


COMPACT_LABEL = 14


def legend_text(runs, trace: Trace, selected: int, lr_scales, no_color: bool, width: int,
                max_rows: int | None = None) -> Text:
    """One line per run; where that needs more than `max_rows` lines, compact entries in as
    many columns as the width holds, so every run stays in view on a small terminal."""
    if max_rows is not None and len(runs) > max_rows:
        return _compact(runs, trace, selected, lr_scales, no_color, width)
    out = Text(no_wrap=True, overflow="ellipsis")
    label_w = min(24, max((len(r.label) for r in runs), default=4))
    num_w = len(str(len(runs)))
    for i, run in enumerate(runs):
        if i:
            out.append("\n")
        sel = i == selected
        out.append("▶" if sel else " ", style="bold")
        out.append(f"{i + 1:>{num_w}} ")
        out.append("━━ " if not no_color else "   ", style=f"bold color({run_color(i)})" if not no_color else "")
        out.append(run.label[:label_w].ljust(label_w) + " ", style="bold" if sel else "")
        scale = lr_scales[i] if i < len(lr_scales) else 1.0
        out.append(f"ε×{fmt(scale):<6} " if scale != 1.0 else " " * 9, style="yellow" if scale != 1.0 else "")
        loss = trace.last(i, "loss")
        out.append(f"loss {fmt(loss):>8}  " if not math.isnan(loss) else " " * 15)
        status, at = trace.status(i)
        text = status_text(status, at)
        style = {Status.DIVERGED: "bold red", Status.DONE: "green", Status.STOPPED: "yellow"}.get(status, "")
        out.append(text, style=style if not no_color else ("bold" if status == Status.DIVERGED else ""))
        if status == Status.RUNNING:
            out.append(f" step {trace.records(i)}/{run.steps}", style="dim")
    return out


def _compact(runs, trace: Trace, selected: int, lr_scales, no_color: bool, width: int) -> Text:
    """`▶1 ━━ label  loss  ✕37`: number, colour, label, latest loss, and a mark for a run that
    finished (✓), diverged (✕ and the step) or had its ε changed live (ε×)."""
    num_w = len(str(len(runs)))
    label_w = min(COMPACT_LABEL, max((len(r.label) for r in runs), default=4))
    cell = 1 + num_w + 4 + label_w + 1 + 8 + 7
    columns = max(1, (width - 2) // (cell + 1))
    out = Text(no_wrap=True, overflow="ellipsis")
    for i, run in enumerate(runs):
        if i:
            out.append("\n" if i % columns == 0 else " ")
        sel = i == selected
        entry = Text()
        entry.append("▶" if sel else " ", style="bold")
        entry.append(f"{i + 1:>{num_w}} ")
        entry.append("━━ " if not no_color else "   ", style=f"bold color({run_color(i)})" if not no_color else "")
        label = run.label if len(run.label) <= label_w else run.label[: label_w - 1] + "…"
        entry.append(label.ljust(label_w) + " ", style="bold" if sel else "")
        loss = trace.last(i, "loss")
        entry.append(f"{fmt(loss):>8}" if not math.isnan(loss) else " " * 8)
        status, at = trace.status(i)
        scale = lr_scales[i] if i < len(lr_scales) else 1.0
        if status == Status.DIVERGED:
            entry.append(f" ✕{at if at is not None else ''}", style="bold red" if not no_color else "bold")
        elif scale != 1.0:
            entry.append(f" ε×{fmt(scale)}", style="yellow")
        elif status == Status.DONE:
            entry.append(" ✓", style="green")
        entry.pad_right(max(0, cell - entry.cell_len))
        entry.truncate(cell)
        out.append_text(entry)
    return out


class RunLegend(Static):
    DEFAULT_CSS = """
    RunLegend {
        height: auto;
        padding: 0 1;
    }
    """
