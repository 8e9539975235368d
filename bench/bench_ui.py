"""Dashboard benchmark (run by hand): does the UI stay responsive, and what does it cost the engine?

    python bench/bench_ui.py [SCENARIO] [--seconds 8] [--size 120x40]

Measures, on one scenario in one process (a network scenario by default, at full speed):
  - event-loop lag (p50, p95, max) while the engine trains: a probe task sleeps 10 ms in a loop
    on the app's event loop and records how late it wakes;
  - engine throughput (records/s over all runs) with the dashboard open, against headless
    (the same Session consuming chunks with nothing drawn);
  - starts of a network and a surface built-in: fresh processes, numba's cache warm (and with
    --cold, empty), from before importing the UI to the run screen's first painted frame, to the
    first pane drawn with data (the runs start on the interpreted tier) and to the runs' move to
    the compiled kernels. `--start-only` measures just these.
Targets: p95 lag < 50 ms, throughput >= 80 % of headless, first data < 1 s warm, compiled speed
< 15 s cold.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_NET = """
title = "bench: spiral MLP 2-64-64-3"
topic = "bench"
steps = 10000000
[problem]
type = "network"
dataset = "spiral"
[defaults]
layers = [64, 64]
activation = "tanh"
init = "xavier"
lr = 0.05
batch_size = 32
[[runs]]
label = "tanh"
"""


STEPS: int | None = None


def load(name: str | None):
    from tui_optim.scenario import load_scenario

    if name:
        return load_scenario(name, steps=STEPS)
    path = Path("/tmp/tui_optim_bench_net.toml")
    path.write_text(BENCH_NET)
    return load_scenario(str(path))


def headless_rate(scenario, seconds: float) -> float:
    from tui_optim.runner.session import Session

    session = Session(scenario, speed=None)
    t = time.perf_counter()
    session.compile()
    print(f"  headless: kernels ready in {time.perf_counter() - t:.1f} s")
    records, t0 = 0, None
    cpu0 = time.process_time()
    for chunk in session.chunks():
        if t0 is None:          # time from the first chunk on, as the dashboard does
            t0 = time.perf_counter()
            continue
        records += chunk.n
        if time.perf_counter() - t0 > seconds:
            session.stop()
    wall = time.perf_counter() - t0
    kernel = sum(session.compute_seconds)
    print(f"  headless: kernels busy {100 * kernel / wall / max(1, len(session.runs)):.0f} % of wall per run, "
          f"process CPU {100 * (time.process_time() - cpu0) / wall:.0f} %")
    return records / wall


async def dashboard(scenario, seconds: float, size: tuple[int, int]) -> dict:
    from tui_optim.runner.session import Session
    from tui_optim.ui.app import create_app

    app = create_app(scenario, make_source=lambda sc: Session(sc, speed=None))
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        runs = range(len(screen.source.runs))
        # The session's first round is sized blind (ROUND_SECONDS / 1e-6 records): wait for it.
        while not any(screen.trace.records(i) for i in runs):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        n0, t0 = sum(screen.trace.records(i) for i in runs), time.perf_counter()
        k0, cpu0 = sum(screen.source.compute_seconds), time.process_time()
        lags = []
        while time.perf_counter() - t0 < seconds:
            a = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - a - 0.01)
        wall = time.perf_counter() - t0
        rate = (sum(screen.trace.records(i) for i in runs) - n0) / wall
        kernel = sum(screen.source.compute_seconds) - k0
        print(f"  dashboard: kernels busy {100 * kernel / wall / max(1, len(runs)):.0f} % of wall per run, "
              f"process CPU {100 * (time.process_time() - cpu0) / wall:.0f} %")
        await pilot.press("q")
    lags.sort()
    return {"rate": rate, "p50": statistics.median(lags), "p95": lags[int(0.95 * len(lags))],
            "max": lags[-1], "probes": len(lags)}


def start_child(name: str | None, size: tuple[int, int]) -> None:
    """In a fresh process: seconds from before importing the UI to the run screen's first
    painted frame (title, explanation, empty panes), to the first pane drawn with data (the runs
    start on the interpreted tier), and to the runs' move to the compiled kernels."""
    t_start = time.perf_counter()
    scenario = load(name)
    from tui_optim.ui.app import create_app

    async def go():
        app = create_app(scenario)
        async with app.run_test(size=size) as pilot:
            while app.screen.first_frame_at is None or app.screen.compiled_at is None:
                await asyncio.sleep(0.01)
            s = app.screen
            print(f"{s.shown_at - t_start:.3f} {s.first_frame_at - t_start:.3f} "
                  f"{s.compiled_at - t_start:.3f}")
            await pilot.press("q")

    asyncio.run(go())


def starts(name: str, size: str, cold: bool, times: int) -> None:
    """Median (of `times` fresh processes) seconds to the first frame, the first data and the
    compiled kernels; cold: each with an empty numba cache of its own."""
    import tempfile

    marks = []
    for _ in range(times):
        env = dict(os.environ)
        with tempfile.TemporaryDirectory() as cache:
            if cold:
                env["NUMBA_CACHE_DIR"] = cache
            out = subprocess.run([sys.executable, __file__, name, "--start-child", "--size", size],
                                 capture_output=True, text=True, timeout=900, env=env)
        try:
            marks.append([float(v) for v in out.stdout.strip().splitlines()[-1].split()])
        except (ValueError, IndexError):
            print(out.stdout, out.stderr, file=sys.stderr)
    if marks:
        frame, data, fast = (statistics.median(m[i] for m in marks) for i in range(3))
        print(f"{'cold' if cold else 'warm'} start of {name} (median of {len(marks)}): first frame "
              f"{frame:.2f} s, first data {data:.2f} s, compiled speed {fast:.1f} s")


def start_figures(args) -> int:
    """Warm (and with --cold, cold) starts of a network and a surface built-in."""
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name in (args.warm_scenario, "03_momentum_ravine"):
        headless_rate(load(name), 0.5)     # fill numba's cache for it
        starts(name, args.size, cold=False, times=3)
        if args.cold:
            starts(name, args.size, cold=True, times=1)
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", help="built-in name or file (default: a spiral MLP)")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--steps", type=int, help="override the scenario's steps (make it long enough)")
    ap.add_argument("--warm-scenario", default="16_init_histograms",
                    help="scenario for the warm-start measurement (default: a built-in network one)")
    ap.add_argument("--cold", action="store_true",
                    help="also time a cold start (an empty numba cache: minutes)")
    ap.add_argument("--start-only", action="store_true", help="only the start measurements")
    ap.add_argument("--start-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    global STEPS
    STEPS = args.steps
    if args.start_child:
        start_child(args.scenario, size)
        return 0

    if args.start_only:
        return start_figures(args)
    scenario = load(args.scenario)
    print(f"scenario: {scenario.title} ({len(scenario.runs)} runs), {args.seconds:g} s per measurement, {args.size}")
    head = headless_rate(scenario, args.seconds)   # also compiles / fills numba's cache
    print(f"headless: {head:,.0f} records/s")
    dash = asyncio.run(dashboard(scenario, args.seconds, size))
    print(f"dashboard: {dash['rate']:,.0f} records/s = {100 * dash['rate'] / head:.0f} % of headless (target >= 80 %)")
    print(f"event-loop lag over {dash['probes']} probes: p50 {1e3 * dash['p50']:.1f} ms, "
          f"p95 {1e3 * dash['p95']:.1f} ms (target < 50), max {1e3 * dash['max']:.1f} ms")
    head2 = headless_rate(scenario, args.seconds / 2)
    print(f"headless again: {head2:,.0f} records/s (machine noise check)")
    return start_figures(args)


if __name__ == "__main__":
    raise SystemExit(main())
