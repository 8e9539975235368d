"""What the dashboard and headless mode drive: a `Source` of chunks with a live run's controls.

A `Session` (live runs) and a `Replayer` (a recording) both satisfy it, so the screens treat them
alike. What differs is stated here, not probed: `is_replay` is True for a recording, a `Replay`,
whose ε is fixed (`scale_lr` leaves it at 1) and which can `seek` through its `length`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Protocol, runtime_checkable

from tui_optim.chunk import Chunk, Outcome
from tui_optim.runner.pacing import Pacer

Progress = Callable[[int, int, str], None]      # (done, total, what is being prepared)


@runtime_checkable
class Source(Protocol):
    scenario: Any                   # the validated Scenario whose runs these are
    runs: tuple                     # RunInfo per run: index, label, group, steps, values
    trials: tuple                   # RunInfo per trial (keep = "result"): its Outcome comes once
    pacer: Pacer                    # pause, single step, speed, stop (PacedControls delegate)
    compute_seconds: list[float]    # seconds inside kernels per run (0 for a replay)
    is_replay: bool
    interpreted: bool               # the runs go on the interpreted tier, kernels loading

    def compile(self, progress: Progress | None = None) -> None:
        """Prepare (compile or load kernels; for a replay, nothing) before `chunks`."""

    def chunks(self, should_stop: Callable[[], bool] = lambda: False
               ) -> Iterator[Chunk | Outcome]:
        """Every run's chunks and every trial's outcome, interleaved, until all end or the
        source is stopped (then every unfinished one says STOPPED)."""

    def reopen(self) -> "Source":
        """A fresh source of the same runs from step 0 (restart), at the same speed."""

    def scale_lr(self, run: int, factor: float) -> float: ...

    def lr_scale(self, run: int) -> float: ...

    # the controls, as PacedControls gives them
    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def toggle_pause(self) -> bool: ...

    def step_once(self) -> None: ...

    def set_speed(self, steps_per_second: float | None) -> None: ...

    @property
    def speed(self) -> float | None: ...

    @property
    def paused(self) -> bool: ...

    def stop(self) -> None: ...


class Replay(Source, Protocol):
    """A Source with `is_replay` True: a recording, which can also be moved through."""

    @property
    def length(self) -> int:
        """The last step the recording holds."""

    @property
    def boundaries(self) -> list[int]:
        """The steps where a recorded chunk ends, sorted."""

    def seek(self, record: int) -> None:
        """Emit every record before `record` at once, unpaced, then go on at the pace."""


class ChunkSink(Protocol):
    """Where a dashboard also sends the chunks it shows (a Recorder), from the worker thread."""

    def write(self, chunk: Chunk | Outcome) -> None: ...

    def write_stopped(self, run: int) -> None:
        """Run `run` ends here without finishing (quit, restart, a signal); a trial that did
        not finish is written as an Outcome with status STOPPED."""

    def close(self) -> None: ...
