"""Sweep benchmark (run by hand): how fast trials (runs with keep = "result") go, and where.

    python bench/bench_sweeps.py [--runs 1000] [--skip-serial]

Measures, after the kernels are loaded:
  - a 1000-run MLP sweep (lr x batch size, spiral data) in this process, on the local process
    pool (one worker per core) and on a local Dask cluster of 2 workers: runs/s and the
    scaling efficiency (speed-up over serial divided by workers);
  - the overhead per task of each executor: tasks of trials of one step each, so nearly all
    of their time is the executor's own;
  - the 100 x 100 heavy-ball phase diagram of scenario 03b (10,000 trials of 200 steps):
    the whole headless command, and per trial.
Every result is identical wherever it ran (tests/test_trials.py checks it); this measures
time only. Prints the load average beside the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MLP_SWEEP = """
title = "bench: MLP sweep"
steps = {steps}
[problem]
type = "network"
dataset = "spiral"
n_samples = 200
[defaults]
layers = [16]
activation = "tanh"
optimizer = "momentum"
keep = "result"
[[runs]]
label = "lr {{lr:.3e}} batch {{batch_size}}"
sweep = {{ lr = {{ from = 1e-3, to = 1.0, num = {n_lr}, scale = "log" }}, batch_size = {batches} }}
"""


def _load(text: str):
    from tui_optim.scenario import load_scenario_text

    return load_scenario_text(text, "bench.toml")


def _time(scenario, spec) -> float:
    """Seconds from the first trial to the last outcome (kernels already loaded)."""
    from tui_optim.runner.session import Session

    session = Session(scenario, executor=spec)
    session.compile()
    t0 = time.perf_counter()
    n = sum(1 for _ in session.chunks())
    assert n == len(scenario.trials)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000, help="MLP trials (a multiple of 10)")
    ap.add_argument("--steps", type=int, default=500, help="steps per MLP trial")
    ap.add_argument("--skip-serial", action="store_true")
    args = ap.parse_args()

    from tui_optim.runner import executor as ex
    from tui_optim.runner.executor import ExecutorSpec

    cores = os.cpu_count() or 1
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, {cores} cores")
    batches = [8, 16, 32, 64, 128, 200, 12, 24, 48, 96]
    mlp = _load(MLP_SWEEP.format(steps=args.steps, n_lr=args.runs // 10, batches=batches))
    ex.POOL_WORTH = 0.0           # the pool however small the job: it is what is measured
    rows = []
    serial = None
    if not args.skip_serial:
        serial = _time(mlp, ExecutorSpec("inline"))
        rows.append(("this process", 1, serial))
    rows.append((f"local pool ({cores} processes)", cores, _time(mlp, ExecutorSpec("local"))))
    rows.append(("local Dask cluster (2 workers)", 2, _time(mlp, ExecutorSpec("dask", workers=2))))
    # what starting an executor costs: a job of 4 one-step trials (2 run here, 2 in 2 tasks)
    few = _load(MLP_SWEEP.format(steps=1, n_lr=1, batches=batches[:4]))
    start = {"local pool": _time(few, ExecutorSpec("local")),
             "local Dask": _time(few, ExecutorSpec("dask", workers=2))}
    n = len(mlp.trials)
    print(f"\n{n} MLP trials of {args.steps} steps (2-16-3 on 200 spiral points)")
    for name, workers, secs in rows:
        eff = f"{serial / secs / workers:4.0%}" if serial else "  -"
        up = start.get(" ".join(name.split()[:2]), 0.0)
        warm = f"{serial / (secs - up) / workers:4.0%}" if serial and secs > up else "  -"
        print(f"  {name:32s} {secs:7.2f} s  {n / secs:7.1f} runs/s  efficiency {eff}  "
              f"(without its {up:.1f} s start: {warm})")

    tiny = _load(MLP_SWEEP.format(steps=1, n_lr=100, batches=batches))
    ex.TASK_SECONDS = 1e-9        # one trial per task: the executor's own cost per task
    ex.MAX_BATCH = 1
    print("\noverhead per task (tasks of one 1-step trial, after the start)")
    for name, spec in (("local pool", ExecutorSpec("local")),
                       ("local Dask", ExecutorSpec("dask", workers=2))):
        secs = _time(tiny, spec) - start[name]
        print(f"  {name:32s} {secs / (len(tiny.trials) - 4) * 1e3:7.2f} ms")

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tui_optim", "run", "03b_momentum_phase",
                    "--headless"], check=True, capture_output=True, cwd=ROOT)
    whole = time.perf_counter() - t0
    print(f"\n03b_momentum_phase headless (20,000 trials of 200 steps, start to exit): "
          f"{whole:.1f} s, {whole / 20000 * 1e6:.0f} us a trial")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
