"""The run screen: the scenario's explanation, its panes, the run legend, the status line, keys.

The engine runs in a thread worker (`@work(thread=True)`; the kernels release the GIL) that
only compiles, pulls chunks and folds them into the trace. The UI thread reads the trace on a
10 Hz timer and rebuilds, one at a time in a draw thread, only the panes whose data changed.
The screen never calls the engine, only the source's controls (pause, speed, ε, stop).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Container, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ProgressBar, Static
from textual.worker import get_current_worker

from tui_optim.chunk import Chunk, Outcome, Status
from tui_optim.runner.build import (FAST_FAILED, FAST_READY, PREPARING, compile_estimate,
                                    stop_preparing)
from tui_optim.runner.source import ChunkSink, Replay, Source
from tui_optim.trace import Trace
from tui_optim.ui import keys, saving
from tui_optim.ui.help import HelpScreen
from tui_optim.ui.prompt import StepPrompt
from tui_optim.scenario.loader import watch_trial
from tui_optim.ui.panes import Pane, PaneContext, make_pane
from tui_optim.ui.panes.phase import PhasePane
from tui_optim.ui.plotting import fmt
from tui_optim.ui.widgets.keybar import KeyBar
from tui_optim.ui.widgets.legend import RunLegend, legend_text

TICK = 0.1              # seconds between UI reads of the trace
MIN_REDRAW = 0.2        # seconds between two rebuilds of one pane (≤ 5 Hz each)
DRAW_DUTY = 0.25        # drawing may hold the GIL at most this fraction of the time
NARROW_WIDTH, NARROW_HEIGHT = 100, 32
TWO_PANES_WIDTH = 76     # two panes of 38 columns: the smallest that still reads as a plot
MIN_PANE_HEIGHT = 12
LEGEND_ROWS, LEGEND_ROWS_NARROW = 6, 3   # more runs than this: compact legend in columns
SEEK_STRIDE = 0.02      # ←/→ in a replay move at most this share of the recording
LOADING_QUIET = 1.0     # seconds of loading kernels from the cache before the box shows


def scrub_bar(now: int, length: int, width: int = 16) -> str:
    """▕█████░░░░░▏ 31%: how far a replay is through its recording."""
    frac = min(1.0, now / length) if length > 0 else 1.0
    full = int(round(frac * width))
    return f"▕{'█' * full}{'░' * (width - full)}▏ {frac:.0%}"


class Preparing(Message):
    """The engine worker is compiling or loading kernels: `done` of `total`, doing `what`."""

    def __init__(self, generation: int, done: int, total: int, what: str) -> None:
        super().__init__()
        self.generation, self.done, self.total, self.what = generation, done, total, what

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Preparing)        # only the latest progress matters


class Prepared(Message):
    """The kernels are ready; chunks follow."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class EngineFailed(Message):
    """The engine (or the recording) failed; the screen shows why and stays up."""

    def __init__(self, generation: int, error: str) -> None:
        super().__init__()
        self.generation, self.error = generation, error


class StreamEnded(Message):
    """Every run of this generation ended (finished, diverged or stopped)."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class RunScreen(Screen[None]):
    BINDINGS = keys.bindings(keys.RUN_KEYS + keys.REPLAY_KEYS)

    def __init__(self, scenario: Any, source: Source, *,
                 sinks: Callable[[], list[ChunkSink]] | None = None, save_dir: str | Path | None = None,
                 can_go_back: bool = False, stop_at: int | None = None) -> None:
        """`source`: a Session or a Replayer (`r` runs `source.reopen()`); `sinks()` returns
        ChunkSinks (a Recorder), fed from the worker thread; `stop_at` pauses every run at that record (deterministic
        screenshots)."""
        super().__init__()
        self.scenario = scenario
        self.sinks_factory = sinks
        self.save_dir = Path(save_dir) if save_dir else saving.default_folder()
        self.can_go_back = can_go_back
        self.stop_at = stop_at
        self.source = source
        self.trace = Trace(len(self.source.runs))
        self.selected = 0
        self.current = 0              # index of the pane with the keyboard's attention
        self.zoomed = False
        self._seeking_to: int | None = None   # a replay's step being caught up to
        self._preparing_since: float | None = None   # when a first start began compiling
        self._shown_loading: float | None = None
        self.generation = 0
        self.compile_state: tuple[int, int, str] | None = (0, 1, "loading kernels…")
        self.prepared = False       # the runs move (maybe interpreted, kernels still loading)
        self.engine_error: str | None = None
        self._rate_samples: list[tuple[float, int]] = []
        self._last_status = None
        self._last_legend = None
        self._rr = 0
        self.drawing: Pane | None = None      # the pane being rebuilt in the draw thread
        self._drawn_at: dict[str, float] = {}
        self._draw_free_at = 0.0
        self._draw_started = 0.0
        # perf_counter stamps for bench_ui: the screen first painted, and a pane first drawn with data.
        self.shown_at: float | None = None
        self.first_frame_at: float | None = None
        self.compiled_at: float | None = None      # the fast kernels were ready
        self.ctx = PaneContext(self.trace, self.source.runs,
                               trials=self.source.trials,
                               problem=scenario.problem.values)

    # -- layout -----------------------------------------------------------------------------------
    def _pane_specs(self) -> list[tuple[str, dict]]:
        """The scenario's panes (the loader fills in the defaults of its problem type)."""
        return [(p.kind, dict(p.values)) for p in self.scenario.panes]

    def compose(self) -> ComposeResult:
        self.ctx.no_color = self.app.no_color
        title, topic = self.scenario.title, self.scenario.topic
        heading = Text.assemble((title, "bold"), (f"  · {topic}" if topic else "", "dim"))
        heading.no_wrap, heading.overflow = True, "ellipsis"
        yield Static(heading, id="title")
        yield Static(id="explain")
        yield Static(id="tabs")
        with Container(id="compiling"):
            yield Static("loading kernels…", id="compile-label")
            yield ProgressBar(total=1, show_eta=False, id="compile-bar")
        with Container(id="panes"):
            for n, (kind, values) in enumerate(self._pane_specs()):
                try:
                    yield make_pane(kind, values, self.ctx, id=f"pane-{n}")
                except ValueError as exc:
                    yield Static(Text(str(exc), style="red"), id=f"pane-{n}")
        with VerticalScroll(id="legend-box"):
            yield RunLegend(id="legend")
        yield Static(id="status")
        yield KeyBar(keys.bar(keys.run_table(self.source.is_replay, self.can_go_back)), id="keys")

    def _explanation(self, max_lines: int | None = None) -> Text:
        """The scenario's explanation; cut at a word with a pointer to `e` when it won't fit."""
        text = " ".join((self.scenario.explanation or "").split())
        width = max(10, self.app.size.width - 2)
        if max_lines and len(text) > 0:
            lines, line = [], ""
            for word in text.split(" "):
                if line and len(line) + 1 + len(word) > width:
                    lines.append(line)
                    line = word
                else:
                    line = f"{line} {word}" if line else word
            lines.append(line)
            if len(lines) > max_lines:
                more = " … (e: more)"
                kept = lines[:max_lines]
                last = kept[-1]
                while last and len(last) + len(more) > width:
                    last = last.rsplit(" ", 1)[0] if " " in last else last[: width - len(more)]
                kept[-1] = last + more
                text = " ".join(kept)
        return Text(text, style="italic")

    @property
    def panes(self) -> list[Pane]:
        return [w for w in self.query("#panes > *") if isinstance(w, Pane)]

    def on_mount(self) -> None:
        self._layout()
        self.call_after_refresh(self._layout)   # again, once the pane area has its real size
        self.call_after_refresh(self._shown)
        self.set_interval(TICK, self._tick)
        self._start_engine()
        self._tick()

    def _shown(self) -> None:
        if self.shown_at is None:
            self.shown_at = time.perf_counter()

    def on_resize(self) -> None:
        self._layout()
        self.call_after_refresh(self._layout)

    def _layout(self) -> None:
        """Wide terminals show every pane in a grid; narrow ones one pane at a time with tabs."""
        size = self.app.size
        narrow = size.width < NARROW_WIDTH or size.height < NARROW_HEIGHT
        self.set_class(narrow, "-narrow")
        self.set_class(self.zoomed, "-zoomed")
        panes = [w for w in self.query("#panes > *")]
        n = len(panes)
        self.current = min(self.current, max(0, n - 1))
        container = self.query_one("#panes")
        shown = self._shown_panes(n, narrow, size.width)
        if shown is None:           # wide: every pane, in a grid
            columns = 1 if n == 1 else (3 if size.width >= 180 and n >= 5 else 2)
            rows = -(-n // columns)
        else:                       # small or zoomed: a row of one or two panes, tab slides it
            columns, rows = len(shown), 1
        container.styles.grid_size_columns = columns
        # Too many panes for the height: fixed-height rows in a scrolled grid, never slivers.
        avail = max(1, container.size.height or (size.height - 10))
        if rows > 1 and avail // rows < MIN_PANE_HEIGHT:
            container.styles.grid_rows = str(MIN_PANE_HEIGHT)
        else:
            container.styles.grid_rows = "1fr"
        for k, w in enumerate(panes):
            w.display = shown is None or k in shown
            w.set_class(k == self.current, "-current")
            w.styles.column_span = columns - (n - 1) % columns if (shown is None and k == n - 1) else 1
        full = self.has_class("-explain-full")
        self.query_one("#explain", Static).update(
            self._explanation(None if full else (2 if narrow else 4)))
        tabs = self.query_one("#tabs", Static)
        tabs.display = narrow and not self.zoomed and n > 1
        if tabs.display:
            tabs.update(self._tabs_text(panes))

    def _shown_panes(self, n: int, narrow: bool, width: int) -> list[int] | None:
        """The panes a small terminal shows (None: all): the current one and its neighbour side
        by side where two fit (80x24 and up), the current one alone when zoomed or very narrow."""
        if not (narrow or self.zoomed):
            return None
        if self.zoomed or n == 1 or width < TWO_PANES_WIDTH:
            return [self.current]
        first = self.current if self.current + 1 < n else self.current - 1
        return [first, first + 1]

    def _tabs_text(self, panes) -> Text:
        """The pane strip of small terminals: the current pane reversed, its shown neighbour bold."""
        shown = self._shown_panes(len(panes), True, self.app.size.width) or []
        out = Text(no_wrap=True, overflow="ellipsis")
        for k, w in enumerate(panes):
            name = w.short_title() if isinstance(w, Pane) else "?"
            if len(name) > 16:
                name = name[:15] + "…"
            style = "bold reverse" if k == self.current else ("bold" if k in shown else "dim")
            out.append(f" {k + 1} {name} ", style=style)
        return out

    # -- the engine worker --------------------------------------------------------------------------
    def _start_engine(self) -> None:
        self.generation += 1
        sinks = self.sinks_factory() if self.sinks_factory else []
        self._run_engine(self.source, self.trace, self.generation, sinks)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _run_engine(self, source: Source, trace: Trace, generation: int, sinks: list[ChunkSink]) -> None:
        """Compile, then fold every chunk into the trace (and the sinks). It talks to the screen
        only by messages, each stamped with its generation so a restarted run ignores them."""
        worker = get_current_worker()

        def progress(done: int, total: int, what: str) -> None:
            self.post_message(Preparing(generation, done, total, what))

        def should_stop() -> bool:
            return worker.is_cancelled or generation != self.generation

        try:
            source.compile(progress)
            self.post_message(Prepared(generation))
            for chunk in source.chunks(should_stop):
                if generation != self.generation:
                    break
                trace.ingest(chunk)
                for sink in sinks:
                    sink.write(chunk)
                if (self.stop_at is not None and isinstance(chunk, Chunk)
                        and chunk.stop >= self.stop_at and not source.paused):
                    if all(trace.records(i) >= min(self.stop_at, r.steps) or trace.status(i)[0] != Status.RUNNING
                           for i, r in enumerate(source.runs)):
                        source.pause()
        except Exception as exc:  # the dashboard survives an engine error and shows it
            self.post_message(EngineFailed(generation, f"{type(exc).__name__}: {exc}"))
        finally:
            unfinished = [i for i in range(len(source.runs)) if trace.status(i)[0] == Status.RUNNING]
            ended = trace.outcomes()
            cut = [Outcome(i, 0, Status.STOPPED, {})
                   for i in range(len(source.trials)) if i not in ended]
            for sink in sinks:
                try:     # quit, restart or a signal: the recording says where each run stopped
                    for i in unfinished:
                        sink.write_stopped(i)
                    for outcome in cut:
                        sink.write(outcome)
                    sink.close()
                except Exception as exc:        # a full disk: said, and the others still close
                    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                    self.post_message(EngineFailed(generation, f"recording: {why}"))
                    try:
                        sink.close()
                    except Exception:
                        pass
            self.post_message(StreamEnded(generation))

    def on_preparing(self, message: "Preparing") -> None:
        if message.generation == self.generation:
            if message.what.startswith(FAST_FAILED):
                self.engine_error = message.what
            ready = message.what == FAST_READY      # the runs move to the compiled tier
            self.compile_state = None if ready else (message.done, message.total, message.what)
            if ready:
                self.prepared = True
                if self.compiled_at is None:
                    self.compiled_at = time.perf_counter()

    def on_prepared(self, message: "Prepared") -> None:
        if message.generation == self.generation:
            # runs move from now on (interpreted, maybe); trials wait for the compiled kernels
            self.prepared = bool(self.source.runs) or not self.source.interpreted
            if not self.source.interpreted:
                self.compile_state = None

    def on_engine_failed(self, message: "EngineFailed") -> None:
        if message.generation == self.generation:
            self.engine_error = message.error

    def on_stream_ended(self, message: "StreamEnded") -> None:
        if message.generation == self.generation:
            self._last_status = None        # say "finished" now, not at the next tick

    def _stop_engine(self) -> None:
        self.generation += 1
        stop_preparing()        # a first start's compile, in its own process, stops at once
        try:
            self.source.stop()
        except Exception:
            pass

    def on_unmount(self) -> None:
        self._stop_engine()

    # -- the UI tick -----------------------------------------------------------------------------------
    def _tick(self) -> None:
        self._update_compiling()
        self._update_status()
        legend = legend_text(self.source.runs, self.trace, self.selected, self._lr_scales(),
                             self.ctx.no_color, self.size.width,
                             LEGEND_ROWS_NARROW if self.has_class("-narrow") else LEGEND_ROWS)
        if legend != self._last_legend:
            self._last_legend = legend
            box = self.query_one("#legend", RunLegend)
            box.update(legend)
            # many runs (sweeps, restarts): keep the selected one in view
            scroller = self.query_one("#legend-box", VerticalScroll)
            self.call_after_refresh(scroller.scroll_to, y=max(0, self.selected - 1), animate=False)
        # One pane at a time is rebuilt off the event loop (plotext is slow pure Python: the
        # loop keeps answering keys meanwhile), round-robin, only if its data changed.
        now = time.monotonic()
        if self.drawing is not None or now < self._draw_free_at:
            return
        panes = self.panes
        for k in range(len(panes)):
            pane = panes[(self._rr + k) % len(panes)]
            if pane.stale() and now - self._drawn_at.get(pane.id or "", 0.0) >= MIN_REDRAW:
                self._rr = (self._rr + k + 1) % len(panes)
                self.drawing = pane
                self._draw_started = now
                size = pane.content_size
                self._draw(pane, pane.current_key(), size.width, size.height)
                break

    @work(thread=True, group="draw", exit_on_error=False)
    def _draw(self, pane: Pane, key: tuple, width: int, height: int) -> None:
        picture = pane.safe_build(width, height)
        try:
            self.app.call_from_thread(self._drawn, pane, picture, key)
        except Exception:   # the app is closing
            pass

    def _drawn(self, pane: Pane, picture, key: tuple) -> None:
        self.drawing = None
        now = time.monotonic()
        self._drawn_at[pane.id or ""] = now
        # Plotext is pure Python: leave the engine thread the GIL most of the time.
        took = now - self._draw_started
        self._draw_free_at = now + took * (1 - DRAW_DUTY) / DRAW_DUTY
        if pane.is_mounted:
            pane.install(picture, key)
            if self.first_frame_at is None and key[0] and any(key[0]):
                self.first_frame_at = time.perf_counter()

    def _lr_scales(self) -> list[float]:
        return [self.source.lr_scale(i) for i in range(len(self.source.runs))]

    def _update_compiling(self) -> None:
        box = self.query_one("#compiling")
        state = self.compile_state
        if self.engine_error:
            box.display = True
            self.query_one("#compile-label", Static).update(Text(f"engine error: {self.engine_error}", style="bold red"))
            self.query_one("#compile-bar").display = False
            return
        if state is None:
            box.display = False
            return
        i, total, what = state
        now = time.monotonic()
        if what.startswith(PREPARING):
            # a first start: say how long it has taken and, from the last one, how long to go
            if self._preparing_since is None:
                self._preparing_since = now
                self._estimate = compile_estimate(self.scenario.problem.type)
            took = now - self._preparing_since
            estimate, measured = self._estimate
            left = (f"about {estimate - took:.0f} s left" if took < estimate
                    else f"taking longer than {'last time' if measured else 'expected'}")
            text = f"{what} · {took:.0f} s, {left}"
        else:
            self._shown_loading = self._shown_loading or now
            if self.prepared or now - self._shown_loading < LOADING_QUIET:
                # a warm start says nothing (it is over in a moment), nor do runs that move
                box.display = False
                return
            text = f"{what} ({i}/{total})"
        box.display = True
        self.query_one("#compile-label", Static).update(text)
        bar = self.query_one("#compile-bar", ProgressBar)
        bar.update(total=max(total, 1), progress=i)

    def _update_status(self) -> None:
        runs = self.source.runs
        trace = self.trace
        done = sum(1 for i in range(len(runs)) if trace.status(i)[0] != Status.RUNNING)
        records = max((trace.records(i) for i in range(len(runs))), default=0)
        total = max((r.steps for r in runs), default=0)
        now = time.monotonic()
        all_records = sum(trace.records(i) for i in range(len(runs)))
        self._rate_samples.append((now, all_records))
        while len(self._rate_samples) > 2 and now - self._rate_samples[0][0] > 1.5:
            self._rate_samples.pop(0)
        paused = self.source.paused
        parts: list[tuple[str, str]] = []
        if self.source.is_replay:              # say so, always
            every = getattr(self.source, "every", 1)
            parts.append((" REPLAY " if every == 1 else f" REPLAY 1:{every} ", "bold reverse"))
        trials = self.source.trials
        trials_in = trace.n_outcomes
        if done == len(runs) and (runs or trials) and trials_in == len(trials):
            parts.append(("■ finished", "bold green"))
        elif self.compile_state is not None and not self.prepared:
            preparing = self.compile_state[2].startswith(PREPARING)
            parts.append(("… preparing (first start)" if preparing else "… loading", "bold yellow"))
        elif paused:
            parts.append(("‖ paused", "bold yellow"))
        else:
            parts.append(("▶ running", "bold green"))
        if runs:
            parts.append((f"step {records}/{total}", ""))
        if trials:
            parts.append((f"trials {trials_in:,}/{len(trials):,}", ""))
        if self.source.is_replay:       # where the replay is in its recording
            parts.append((scrub_bar(records, self.source.length), "bold"))
        epoch = trace.last(0, "epoch")
        if math.isfinite(epoch):
            parts.append((f"epoch {int(epoch)}", ""))
        if (done < len(runs) and not paused and self.prepared
                and len(self._rate_samples) >= 2):
            (t_a, n_a), (t_b, n_b) = self._rate_samples[0], self._rate_samples[-1]
            rate = (n_b - n_a) / max(t_b - t_a, 1e-9) / max(1, len(runs) - done)
            parts.append((f"{fmt(rate)} steps/s", ""))
        speed = self.source.speed
        if runs:                # trials run as fast as they can: no pace to show
            parts.append((f"speed {'max' if speed is None else fmt(speed) + '/s'}", "dim"))
        diverged = [i for i in range(len(runs)) if trace.status(i)[0] == Status.DIVERGED]
        if diverged:
            parts.append((f"{len(diverged)} diverged", "bold red"))
        key = tuple(parts)
        if key == self._last_status:
            return
        self._last_status = key
        out = Text(no_wrap=True, overflow="ellipsis")
        for n, (s, style) in enumerate(parts):
            if n:
                out.append(" · ", style="dim")
            out.append(s, style=style)
        self.query_one("#status", Static).update(out)

    # -- actions ---------------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        paused = self.source.toggle_pause()
        self._last_status = None
        self.notify("paused" if paused else "running", timeout=1.5)

    def action_step(self) -> None:
        self.source.step_once()

    def _shift_speed(self, direction: int) -> None:
        pacer = self.source.pacer
        speed = pacer.faster() if direction > 0 else pacer.slower()
        self._last_status = None
        self.notify(f"speed {'max' if speed is None else fmt(speed) + ' steps/s'}", timeout=1.5)

    def action_faster(self) -> None:
        self._shift_speed(+1)

    def action_slower(self) -> None:
        self._shift_speed(-1)

    def action_restart(self) -> None:
        self._start_over(self.source.reopen())
        self.notify("restarted", timeout=1.5)

    def _start_over(self, source: Source) -> None:
        """Run `source` from step 0 on a fresh trace (a restart, or a replay moved back)."""
        self._stop_engine()
        self.source = source
        # A new trace object: the old worker may still fold one last chunk into the old one.
        self.trace = Trace(len(self.source.runs))
        self.ctx.trace = self.trace
        self.ctx.runs = self.source.runs
        self.ctx.trials = self.source.trials
        self.compile_state = (0, 1, "loading kernels…")
        self.prepared = False
        self._preparing_since = self._shown_loading = None
        self.engine_error = None
        for pane in self.panes:         # the new trace counts its versions from 0 again
            pane._built_key = None
        self._rate_samples.clear()
        self._last_status = None
        self._start_engine()

    # -- moving through a replay -----------------------------------------------------------------
    def _position(self) -> int:
        """The step shown, or the one a seek is still on its way to (keys pressed in a row
        move on from there, not from the half-refilled trace)."""
        shown = max((self.trace.records(i) for i in range(len(self.source.runs))), default=0)
        if self._seeking_to is not None and shown < self._seeking_to:
            return self._seeking_to
        self._seeking_to = None
        return shown

    def _replay(self) -> Replay | None:
        if self.source.is_replay:
            return self.source      # type: ignore[return-value]
        self.notify("moving through time needs a recording (tui-optim replay FILE)",
                    severity="warning", timeout=2)
        return None

    def seek(self, step: int) -> None:
        """Show the replay at `step`: it is played again from the start, unpaced up to there,
        then at the pace it had (paused stays paused)."""
        replay = self._replay()
        if replay is None:
            return
        step = max(0, min(step, replay.length))
        paused = replay.paused
        fresh = replay.reopen()
        if paused:
            fresh.pause()
        fresh.seek(step)
        self._start_over(fresh)
        self._seeking_to = step

    def _cell_pane(self) -> PhasePane | None:
        """The current pane when it has a cell cursor (a phase diagram)."""
        panes = list(self.query("#panes > *"))
        pane = panes[self.current] if 0 <= self.current < len(panes) else None
        return pane if isinstance(pane, PhasePane) else None

    def action_arrow(self, direction: int) -> None:
        """← / →: the cell cursor of a phase diagram when it is the current pane, else (in a
        replay) a recorded chunk back or forward."""
        pane = self._cell_pane()
        if pane is not None:
            pane.move(direction, 0)
        else:
            self.action_seek_chunk(direction)

    def action_open_cell(self) -> None:
        """enter on a phase diagram: its cursor's trial as a watched run, on a screen of its
        own (esc comes back); the same run, so the same numbers."""
        pane = self._cell_pane()
        trial = pane.cursor_trial() if pane is not None else None
        if trial is None:
            return
        scenario = watch_trial(self.scenario, trial.index)
        # not recorded: a --record file holds the sweep, not a run opened from it
        self.app.push_screen(self.app._run_screen(scenario, None, can_go_back=True,
                                                  record=False))

    def action_seek_chunk(self, direction: int) -> None:
        """To the next (previous) recorded chunk's end, but never more than SEEK_STRIDE of the
        recording at once: an unpaced recording's chunks can be 100k steps long."""
        replay = self._replay()
        if replay is None:
            return
        now, stride = self._position(), max(1, int(replay.length * SEEK_STRIDE))
        if direction > 0:
            self.seek(min(next((b for b in replay.boundaries if b > now), replay.length),
                          now + stride))
        else:
            self.seek(max(max((b for b in replay.boundaries if b < now), default=0),
                          now - stride))

    def action_seek_edge(self, end: int) -> None:
        replay = self._replay()
        if replay is not None:
            self.seek(replay.length if end else 0)

    def action_goto(self) -> None:
        replay = self._replay()
        if replay is not None:
            self.app.push_screen(StepPrompt(replay.length, self._position()),
                                 lambda step: step is not None and self.seek(step))

    def action_scale_lr(self, factor: float) -> None:
        if not self.source.runs:            # a sweep of trials only: no run to change
            return
        i = self.selected
        total = self.source.scale_lr(i, factor)
        label = self.source.runs[i].label
        if self.source.is_replay:          # the recording fixed ε
            self.notify("ε is fixed in a replay", severity="warning", timeout=2)
        else:
            self.notify(f"{label}: ε × {fmt(total)}", timeout=1.5)
        self._last_legend = None

    def action_select(self, delta: int) -> None:
        pane = self._cell_pane()
        if pane is not None:                # ↑ goes up the diagram: to larger y
            pane.move(0, -delta)
            return
        n = len(self.source.runs)
        if n:
            self.selected = (self.selected + delta) % n
        self.ctx.selected = self.selected
        self._last_legend = None

    def action_select_run(self, index: int) -> None:
        if index < len(self.source.runs):
            self.selected = index
            self.ctx.selected = index
            self._last_legend = None

    def action_next_pane(self, delta: int) -> None:
        n = len(list(self.query("#panes > *")))
        if n:
            self.current = (self.current + delta) % n
            self._layout()
            panes = list(self.query("#panes > *"))
            self.query_one("#panes").scroll_to_widget(panes[self.current], animate=False)

    def action_zoom(self) -> None:
        self.zoomed = not self.zoomed
        self._layout()

    def action_toggle_log(self) -> None:
        panes = list(self.query("#panes > *"))
        if not panes:
            return
        pane = panes[self.current]
        if isinstance(pane, Pane):
            on = pane.toggle_log()
            self.notify(f"{pane.kind}: {'log' if on else 'linear'} scale", timeout=1.5)
            if self.query_one("#tabs").display:
                self.query_one("#tabs", Static).update(self._tabs_text(panes))

    def action_toggle_explanation(self) -> None:
        self.toggle_class("-explain-full")
        self._layout()

    def action_screenshot(self) -> None:
        """The screen as it is now (taken here, on the UI thread), written in a worker."""
        svg = saving.screenshot_svg(self.app, title=self.scenario.title)
        self._save("screenshot", saving.save_screenshot, svg, self.save_dir, self._stem())

    def action_export(self) -> None:
        """The numbers behind the screen: every run's series (CSV), the summary (JSON) and, for
        trials, their results table (CSV, the trials' rows of headless --results)."""
        from tui_optim.expect import evaluate
        from tui_optim.report import TracedRun
        from tui_optim.summary import Summary

        runs = [TracedRun(self.trace, r, s) for r, s in zip(self.source.runs, self.source.compute_seconds)]
        results = Summary((), self.source.trials)
        for outcome in self.trace.outcomes_since(0):
            results.add(outcome)
        trials = results.trials
        complete = all(r.every_step for r in runs)
        finished = all(r.status != Status.RUNNING.value for r in (*runs, *trials))
        checked = complete and finished
        verdicts = evaluate(self.scenario.expects, [*runs, *trials]) if checked else []
        notes = {
            "exported_from": "dashboard",
            "resolution": "every step" if complete else
                          "the screen's history: the exact value at the last step of each of its buckets",
            "claims_checked": checked,
        }
        if not checked:
            notes["claims_note"] = ("claims are checked on every step of finished runs: "
                                    f"tui-optim run {self.scenario.name} --headless")
        self._save("numbers", saving.save_numbers, runs, verdicts, self.scenario, self.save_dir,
                   self._stem(), trials=trials, **notes)

    def _stem(self) -> str:
        return self.scenario.name or "tui-optim"

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, what: str, write: Callable[..., saving.Saved], *args: Any, **kw: Any) -> None:
        try:
            saved = write(*args, **kw)
        except Exception as e:     # an unwritable folder (or a bug) is a message, never a crash
            why = e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {e}"
            self.app.call_from_thread(self.notify, f"cannot save the {what} in {self.save_dir}: {why}",
                                      severity="error", timeout=6)
            return
        self.app.call_from_thread(self._saved, what, saved)

    def _saved(self, what: str, saved: saving.Saved) -> None:
        self.last_saved = saved
        web = self.app.is_web       # served in a browser: the visitor gets the files too
        self.notify(saved.message(what) + (" (and downloaded by your browser)" if web else ""),
                    timeout=6)
        if web:
            for path in saved.paths:
                self.app.deliver_binary(path, name=path.name)

    def action_help(self) -> None:
        table = keys.run_table(self.source.is_replay, self.can_go_back)
        self.app.push_screen(HelpScreen(keys.help_lines(table), title=self.scenario.title))

    def action_back(self) -> None:
        if self.zoomed:
            self.action_zoom()
        elif self.can_go_back:
            self._stop_engine()
            self.app.pop_screen()

    def action_quit(self) -> None:
        self._stop_engine()
        self.app.exit()

    def action_interrupt(self) -> None:
        """Ctrl-C quits as `q` does, with the status a shell gives an interrupted program."""
        self._stop_engine()
        self.app.exit(130)
