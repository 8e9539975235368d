"""Pause, single step, speed and stop: the controls shared by a live session and a replay.

The UI thread calls the setters; the producer thread asks `grant(wanted)` how many records it
may produce now. Everything is guarded by one condition variable so a paused producer sleeps
instead of spinning, and wakes at once on resume, step or stop.
"""

from __future__ import annotations

import threading
import time

# The speed ladder `+`/`-` walk along, in steps per second per run; None means as fast as possible.
SPEEDS: tuple[float | None, ...] = (
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, None,
)


class Pacer:
    def __init__(self, speed: float | None = None) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._pending_steps = 0
        self._stopped = False
        self._speed = speed
        self._tokens = 0.0
        self._last = time.perf_counter()

    # -- controls (any thread) -------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def speed(self) -> float | None:
        return self._speed

    @property
    def stopped(self) -> bool:
        return self._stopped

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._last = time.perf_counter()
            self._tokens = 0.0
            self._cond.notify_all()

    def toggle_pause(self) -> bool:
        """Flip pause; returns True when now paused."""
        (self.resume if self._paused else self.pause)()
        return self._paused

    def step_once(self) -> None:
        """Pause (if running) and let exactly one more record through for every run."""
        with self._cond:
            self._paused = True
            self._pending_steps += 1
            self._cond.notify_all()

    def set_speed(self, steps_per_second: float | None) -> None:
        with self._cond:
            self._speed = steps_per_second
            self._tokens = 0.0
            self._last = time.perf_counter()
            self._cond.notify_all()

    def faster(self) -> float | None:
        return self._shift(+1)

    def slower(self) -> float | None:
        return self._shift(-1)

    def _shift(self, direction: int) -> float | None:
        if self._speed is None:
            i = len(SPEEDS) - 1
        else:
            i = min(range(len(SPEEDS) - 1), key=lambda j: abs(SPEEDS[j] - self._speed))  # type: ignore[operator]
        i = max(0, min(len(SPEEDS) - 1, i + direction))
        self.set_speed(SPEEDS[i])
        return self._speed

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- producer side ----------------------------------------------------------------------
    def grant(self, wanted: int, should_stop=lambda: False) -> int:
        """Block until some records may be produced; return how many (≤ wanted), 0 on stop."""
        with self._cond:
            while True:
                if self._stopped or should_stop():
                    return 0
                if self._paused:
                    if self._pending_steps > 0:
                        self._pending_steps -= 1
                        return 1
                    self._cond.wait(0.05)
                    continue
                if self._speed is None:
                    return wanted
                now = time.perf_counter()
                # Cap the bucket at a tenth of a second of work so a stall does not burst.
                self._tokens = min(self._tokens + (now - self._last) * self._speed,
                                   max(1.0, self._speed * 0.1))
                self._last = now
                if self._tokens >= 1.0:
                    n = min(wanted, int(self._tokens))
                    self._tokens -= n
                    return n
                self._cond.wait(min(0.05, (1.0 - self._tokens) / self._speed))


class PacedControls:
    """The dashboard's controls, delegated to `self.pacer`: shared by Session and Replayer so
    the UI treats a live run and a replay alike."""

    pacer: Pacer

    def pause(self) -> None:
        self.pacer.pause()

    def resume(self) -> None:
        self.pacer.resume()

    def toggle_pause(self) -> bool:
        return self.pacer.toggle_pause()

    def step_once(self) -> None:
        self.pacer.step_once()

    def set_speed(self, steps_per_second: float | None) -> None:
        self.pacer.set_speed(steps_per_second)

    @property
    def speed(self) -> float | None:
        return self.pacer.speed

    @property
    def paused(self) -> bool:
        return self.pacer.paused

    def stop(self) -> None:
        self.pacer.stop()
