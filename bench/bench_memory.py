"""Memory and recording benchmark (run by hand): does a long headless run stay flat, and what
does recording cost?

    python bench/bench_memory.py [--quick]

Runs `tui-optim run … --headless` in a child process and samples its resident memory (RSS,
from /proc) twice a second:
  - one plain SGD run on Rosenbrock for 10^8 steps (--quick: 10^7);
  - one small MLP (2-16-16-3, spiral, batch 32) for 10^6 steps (--quick: 10^5);
and prints RSS after warm-up (the first sample past a quarter of the run: numba and the
kernels are loaded by then), at the end, the peak, and the growth after warm-up (target:
within 50 MB). Then the same SGD run recorded and not: 10^7 steps at full resolution and 10^8
at the default (reduced) one (--quick: a tenth): seconds, the recording's bytes per step, its
overhead, and the replay's open and seek times.
Prints the load average beside the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SGD = """
title = "bench: plain SGD on Rosenbrock"
steps = 1000
[problem]
type = "surface"
surface = "rosenbrock"
[[runs]]
label = "SGD"
optimizer = "sgd"
lr = 0.0005
[[expect]]
claim = "it gets near the minimum"
check = "final('SGD', 'loss') < 1 and steps_to('SGD', 'loss', 1e-3) < inf"
"""

MLP = """
title = "bench: a small MLP"
steps = 1000
[problem]
type = "network"
dataset = "spiral"
n_samples = 300
[[runs]]
label = "MLP"
layers = [16, 16]
activation = "tanh"
optimizer = "momentum"
lr = 0.05
batch_size = 32
[[expect]]
claim = "it learns"
check = "final('MLP', 'train_loss') < first('MLP', 'train_loss')"
"""


def _rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run(text: str, steps: int, *extra: str) -> tuple[float, list[tuple[float, int]], int]:
    """(seconds, [(t, RSS kB)], exit status) of one headless run of `text` for `steps`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(text)
        t0 = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "tui_optim", "run", str(path),
                                  "--headless", "--steps", str(steps), *extra],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        samples = []
        while child.poll() is None:
            kb = _rss_kb(child.pid)
            if kb:
                samples.append((time.perf_counter() - t0, kb))
            time.sleep(0.5)
        return time.perf_counter() - t0, samples, child.returncode


def report_rss(name: str, text: str, steps: int) -> None:
    secs, samples, status = run(text, steps)
    warm = next((kb for t, kb in samples if t >= 0.25 * secs), samples[0][1] if samples else 0)
    end = samples[-1][1] if samples else 0
    peak = max((kb for _, kb in samples), default=0)
    print(f"  {name:34s} {steps:>11,} steps  {secs:6.1f} s  exit {status}  RSS after warm-up "
          f"{warm / 1024:5.0f} MB, end {end / 1024:5.0f} MB, peak {peak / 1024:5.0f} MB, "
          f"growth {(peak - warm) / 1024:+4.0f} MB")


def report_recording(steps: int, every: str | None) -> None:
    """Seconds recorded and not, bytes a step, and the replay's open, seek-to-middle and
    headless replay times; `every` None: the default resolution for that many steps."""
    plain, _, _ = run(SGD, steps)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "sgd.replay"
        extra = ("--record-every", every) if every else ()
        recorded, samples, _ = run(SGD, steps, "--record", str(rec), *extra)
        size = rec.stat().st_size
        from tui_optim.replay import Replayer

        t0 = time.perf_counter()
        replayer = Replayer(rec)
        opened = time.perf_counter() - t0
        replayer.seek(steps // 2)
        for chunk in replayer.chunks():
            if chunk.stop >= steps // 2:
                break
        seek = time.perf_counter() - t0 - opened
    resolution = (f"1 bucket per {replayer.every} steps (default)" if every is None
                  else "every step")
    peak = max((kb for _, kb in samples), default=0)
    print(f"recording {steps:,} SGD steps, {resolution}: {recorded:.1f} s against "
          f"{plain:.1f} s unrecorded (+{(recorded - plain) / plain:.0%}), peak RSS "
          f"{peak / 1024:.0f} MB, {size / steps:.2f} bytes a step ({size / 2**20:.0f} MB); "
          f"opens in {opened:.2f} s, seeks to its middle in {seek:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = 10 if args.quick else 1
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print("resident memory of a headless run")
    report_rss("plain SGD on Rosenbrock", SGD, 10**8 // q)
    report_rss("MLP 2-16-16-3, batch 32", MLP, 10**6 // q)

    for steps, every in ((10**7 // q, "full"), (10**8 // q, None)):
        report_recording(steps, every)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
