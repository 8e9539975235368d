"""Memory and recording benchmark (run by hand): does a long headless run stay flat, and what
does recording cost?

    python bench/bench_memory.py [--quick]

Runs `tui-optim run … --headless` in a child process and samples its resident memory (RSS,
from /proc) twice a second:
  - one plain SGD run on Rosenbrock for 10^8 steps (--quick: 10^7);
  - one small MLP (2-16-16-3, spiral, batch 32) for 10^6 steps (--quick: 10^5);
and prints RSS after warm-up (the first sample past 10 % of the run), at the end, the peak,
and the growth after warm-up (target: within 50 MB). Then the same SGD run for 10^7 steps
(--quick: 10^6), recorded and not: seconds, the recording's bytes per step, and its overhead.
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
    warm = next((kb for t, kb in samples if t >= 0.1 * secs), samples[0][1] if samples else 0)
    end = samples[-1][1] if samples else 0
    peak = max((kb for _, kb in samples), default=0)
    print(f"  {name:34s} {steps:>11,} steps  {secs:6.1f} s  exit {status}  RSS after warm-up "
          f"{warm / 1024:5.0f} MB, end {end / 1024:5.0f} MB, peak {peak / 1024:5.0f} MB, "
          f"growth {(peak - warm) / 1024:+4.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    q = 10 if args.quick else 1
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print("resident memory of a headless run")
    report_rss("plain SGD on Rosenbrock", SGD, 10**8 // q)
    report_rss("MLP 2-16-16-3, batch 32", MLP, 10**6 // q)

    steps = 10**7 // q
    plain, _, _ = run(SGD, steps)
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "sgd.replay"
        recorded, _, _ = run(SGD, steps, "--record", str(rec))
        size = rec.stat().st_size
    print(f"recording {steps:,} SGD steps: {recorded:.1f} s against {plain:.1f} s unrecorded "
          f"(+{(recorded - plain) / plain:.0%}), {size / steps:.1f} bytes a step "
          f"({size / 2**20:.0f} MB)")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
