"""Trials (runs kept as their result, `keep = "result"`) and where they run: the outcome of a
trial is the watched run's own numbers, and every executor (here, a local process pool, a
Dask cluster) gives the same outcomes bit for bit, in any order, even when a worker dies."""

import json
import math
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from tui_optim.chunk import Outcome, Status
from tui_optim.cli import main
from tui_optim.runner import executor as ex
from tui_optim.runner.executor import ExecutorSpec, first_trials, start_trials
from tui_optim.runner.session import Session
from tui_optim.runner.trials import run_trial
from tui_optim.scenario import load_scenario_text
from tui_optim.scenario.loader import watch_trial
from tui_optim.summary import Summary

PHASE = """
title = "phase"
explanation = "heavy ball over ε and α"
steps = {steps}
[problem]
type = "surface"
surface = "quadratic"
eigenvalues = [0.1, 1.0]
[defaults]
start = [1.0, 1.0]
keep = "result"
tol = 1e-6
optimizer = "momentum"
[[runs]]
label = "hb {{lr:.3f}} {{momentum:.3f}}"
group = "heavy ball"
sweep = {{ lr = {{ from = 0.1, to = 4.0, num = {n} }}, momentum = {{ from = 0.0, to = 0.9, num = {m} }} }}
[[panes]]
kind = "phase"
[[expect]]
claim = "the edge at α = 0.5 is 2(1 + α) = 3"
check = "abs(edge('heavy ball', 'loss', 'lr', 'momentum', 0.5) - 3) < 0.4"
"""


def phase(n: int = 12, m: int = 11, steps: int = 200):
    return load_scenario_text(PHASE.format(n=n, m=m, steps=steps), "phase.toml")


def outcomes(scenario, spec: ExecutorSpec) -> dict[int, Outcome]:
    session = Session(scenario, executor=spec)
    got = {}
    for item in session.chunks():
        assert isinstance(item, Outcome)
        assert item.trial not in got, "each trial comes back once"
        got[item.trial] = item
    return got


def same(a: dict[int, Outcome], b: dict[int, Outcome]) -> None:
    assert a.keys() == b.keys()
    for i in a:
        assert (a[i].status, a[i].steps, a[i].diverged_at) == (b[i].status, b[i].steps, b[i].diverged_at)
        assert a[i].metrics.keys() == b[i].metrics.keys()
        for k, v in a[i].metrics.items():      # bit for bit (NaN included)
            assert np.float64(v).tobytes() == np.float64(b[i].metrics[k]).tobytes(), (i, k)


# -- a trial is its watched run, reduced ---------------------------------------------------

SURFACE_TRIALS = [
    ("momentum", "quadratic", "eigenvalues = [0.1, 1.0]", 1.5, "start = [1.0, 1.0]"),
    ("nesterov", "rosenbrock", "", 1e-3, ""),
    ("adam", "beale", "", 0.05, ""),
    ("rmsprop", "himmelblau", "", 0.01, "clip = { norm = 1.0 }"),
    ("sgd", "quadratic", "eigenvalues = [1.0]", 2.5, "start = [1.0]"),      # diverges
]


@pytest.mark.parametrize("optimizer, surface, extra, lr, run_extra", SURFACE_TRIALS,
                         ids=[t[0] + "-" + t[1] for t in SURFACE_TRIALS])
def test_a_trial_reduces_exactly_the_records_of_its_watched_run(optimizer, surface, extra, lr,
                                                                 run_extra):
    text = f"""
title = "t"
steps = 300
[problem]
type = "surface"
surface = "{surface}"
{extra}
[[runs]]
label = "r"
optimizer = "{optimizer}"
lr = {lr}
keep = "result"
tol = 1e-3
{run_extra}
"""
    scenario = load_scenario_text(text, "t.toml")
    got = run_trial(scenario.problem, scenario.trials[0], 0)
    watched = watch_trial(scenario, 0)
    summary = Summary(watched.runs)
    for chunk in Session(watched).chunks():
        summary.add(chunk)
    run = summary.runs[0]
    assert (got.steps, got.status.value, got.diverged_at) == (run.records, run.status, run.diverged_at)
    for name in run.series_names():
        s = run.series(name)
        finite = s[np.isfinite(s)]
        assert got.metrics[f"first.{name}"] == s[0]
        assert np.float64(got.metrics[f"final.{name}"]).tobytes() == np.float64(s[-1]).tobytes()
        if finite.size:
            assert got.metrics[f"min.{name}"] == finite.min()
            assert got.metrics[f"max.{name}"] == finite.max()
    hits = np.flatnonzero(run.series("loss") <= 1e-3)
    assert got.metrics["steps_to_tol"] == (hits[0] if hits.size else math.inf)


def test_a_network_trial_matches_its_watched_run():
    text = """
title = "t"
steps = 60
[problem]
type = "network"
dataset = "spiral"
n_samples = 60
[[runs]]
label = "r"
layers = [8]
optimizer = "adam"
lr = 0.01
batch_size = 16
keep = "result"
"""
    scenario = load_scenario_text(text, "t.toml")
    got = run_trial(scenario.problem, scenario.trials[0], 0)
    summary = Summary(watch_trial(scenario, 0).runs)
    for chunk in Session(watch_trial(scenario, 0)).chunks():
        summary.add(chunk)
    assert got.metrics["final.loss"] == summary.runs[0].series("loss")[-1]
    assert got.metrics["min.train_loss"] == np.nanmin(summary.runs[0].series("train_loss"))


# -- executors --------------------------------------------------------------------------------

def test_a_local_pool_gives_the_serial_outcomes(monkeypatch):
    scenario = phase(20, 10)
    serial = outcomes(scenario, ExecutorSpec("inline"))
    monkeypatch.setattr(ex, "POOL_WORTH", 0.0)          # a pool even for this small sweep
    monkeypatch.setattr(ex, "TASK_SECONDS", 1e-4)       # and many small tasks
    pooled = outcomes(scenario, ExecutorSpec("local", workers=2))
    same(serial, pooled)
    assert len(serial) == 200


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _finish(pending, timeout: float = 120.0) -> list[Outcome]:
    """Every outcome still to come (the test fails rather than hang)."""
    got, end = [], time.monotonic() + timeout
    while not pending.done:
        assert time.monotonic() < end, "timed out"
        got.extend(pending.poll(0.2))
    return got


def test_a_killed_pool_worker_is_replaced_and_its_batches_run_again(monkeypatch):
    scenario = phase(8, 5, steps=200_000)       # ~20 ms a trial: the kill lands mid-sweep
    serial = {o.trial: o for o in [run_trial(scenario.problem, t, t.index)
                                   for t in scenario.trials]}
    monkeypatch.setattr(ex, "POOL_WORTH", 0.0)
    monkeypatch.setattr(ex, "TASK_SECONDS", 1e-4)
    got, per_trial = first_trials(scenario.problem, scenario.trials)
    pending = start_trials(ExecutorSpec("local", workers=2), scenario.problem, scenario.trials,
                           per_trial)
    assert isinstance(pending, ex._Pool)
    try:
        _wait_for(lambda: pending.pool._processes)
        victim = next(iter(pending.pool._processes.values()))
        os.kill(victim.pid, signal.SIGKILL)
        got += _finish(pending)
    finally:
        pending.cancel()
    assert pending.retries >= 1
    same(serial, {o.trial: o for o in got})


def test_cancel_stops_the_pool_workers_at_once(monkeypatch):
    scenario = phase(8, 5, steps=2_000_000)     # far longer than the test waits
    monkeypatch.setattr(ex, "POOL_WORTH", 0.0)
    pending = start_trials(ExecutorSpec("local", workers=2), scenario.problem,
                           scenario.trials[:4], 1.0)
    _wait_for(lambda: pending.pool._processes)
    workers = list(pending.pool._processes.values())
    pending.cancel()
    _wait_for(lambda: not any(p.is_alive() for p in workers), timeout=5)


@pytest.fixture(scope="module")
def dask_cluster():
    """A real local Dask cluster: a scheduler and two worker processes (nannies restart a
    worker that dies)."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    yield cluster, client
    client.close()
    cluster.close()


def test_a_dask_cluster_gives_the_serial_outcomes_and_survives_a_killed_worker(dask_cluster):
    cluster, client = dask_cluster
    scenario = phase(8, 5, steps=200_000)
    serial = {o.trial: o for o in [run_trial(scenario.problem, t, t.index)
                                   for t in scenario.trials]}
    got, per_trial = first_trials(scenario.problem, scenario.trials)
    pending = start_trials(ExecutorSpec("dask", address=cluster.scheduler_address),
                           scenario.problem, scenario.trials, per_trial)
    try:
        pids = client.run(os.getpid)
        _wait_for(lambda: any(f.status in ("pending", "finished") for f in pending.futures))
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        got += _finish(pending)
    finally:
        pending.cancel()
    same(serial, {o.trial: o for o in got})


def test_a_headless_sweep_on_dask_checks_its_claims(dask_cluster, tmp_path, capsys):
    cluster, _ = dask_cluster
    path = tmp_path / "phase.toml"
    path.write_text(PHASE.format(n=12, m=11, steps=200))
    results = tmp_path / "results.csv"
    assert main(["run", str(path), "--headless", "--scheduler", cluster.scheduler_address,
                 "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "heavy ball: 132 trials" in out and "claims: 1 of 1 hold" in out
    lines = results.read_text().splitlines()
    assert len(lines) == 133 and "steps_to_tol" in lines[0] and ",tol," in lines[0]


@pytest.mark.parametrize("address, says", [
    ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ("nonsense", "expected tcp://HOST:PORT"),
])
def test_a_bad_scheduler_address_is_a_clear_error(tmp_path, capsys, address, says):
    path = tmp_path / "phase.toml"
    path.write_text(PHASE.format(n=3, m=3, steps=10))
    assert main(["run", str(path), "--headless", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_the_scheduler_can_come_from_the_environment(tmp_path, capsys, monkeypatch):
    path = tmp_path / "phase.toml"
    path.write_text(PHASE.format(n=3, m=3, steps=10))
    monkeypatch.setenv(ex.SCHEDULER_ENV, "tcp://127.0.0.1:1")
    assert main(["run", str(path), "--headless"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


# -- what comes back, and what claims and reports make of it -------------------------------

def test_a_stopped_session_reports_every_unfinished_trial_as_stopped():
    from tui_optim.runner.executor import MAX_INLINE_BATCH

    scenario = phase(20, 20, steps=100_000)
    session = Session(scenario, executor=ExecutorSpec("inline"))
    seen: dict[int, Status] = {}
    for item in session.chunks(should_stop=lambda: len(seen) >= 5):
        seen[item.trial] = item.status
    assert len(seen) == 400
    # a stop waits for the batch under way (how many trials that is depends on the machine)
    finished = sum(s != Status.STOPPED for s in seen.values())
    assert 5 <= finished <= 5 + MAX_INLINE_BATCH


def test_the_edge_claim_and_the_trial_claims(tmp_path, capsys):
    path = tmp_path / "phase.toml"
    text = PHASE.format(n=40, m=10, steps=200) + """
[[expect]]
claim = "a trial's series is not kept"
check = "at('hb 0.100 0.000', 'loss', 3) > 0"
[[expect]]
claim = "its steps to its own tol are"
check = "steps_to('hb 0.100 0.000', 'loss', 1e-6) == inf and final('hb 4.000 0.900', 'loss') > 1"
"""
    path.write_text(text)
    assert main(["run", str(path), "--headless"]) == 1
    out = capsys.readouterr().out
    assert "PASS  the edge at α = 0.5" in out
    assert "is a trial (keep = \"result\"): it keeps its result, not every record" in out
    assert "PASS  its steps to its own tol are" in out


def test_a_recorded_sweep_replays_with_the_same_verdicts(tmp_path, capsys):
    path, rec = tmp_path / "phase.toml", tmp_path / "phase.replay"
    path.write_text(PHASE.format(n=12, m=11, steps=200))
    assert main(["run", str(path), "--headless", "--record", str(rec)]) == 0
    live = capsys.readouterr().out
    assert main(["replay", str(rec), "--headless"]) == 0
    replayed = capsys.readouterr().out
    assert live.splitlines()[1:] == replayed.splitlines()[1:]
    assert "claims: 1 of 1 hold" in replayed


# -- the phase pane, driven with Pilot ------------------------------------------------------

def test_the_phase_pane_fills_in_names_its_cursor_and_opens_a_trial(tmp_path):
    import asyncio

    from tui_optim.runner.session import default_speed
    from tui_optim.ui.app import create_app
    from tui_optim.ui.panes.phase import GREW, PhasePane
    from tui_optim.ui.run_screen import RunScreen

    scenario = phase(12, 11)
    app = create_app(scenario, make_source=lambda sc: Session(
        sc, speed=default_speed(sc), executor=ExecutorSpec("inline")), save_dir=tmp_path)

    async def go():
        async with app.run_test(size=(100, 32)) as pilot:
            first = app.screen
            pane = first.query_one(PhasePane)
            for _ in range(400):
                if len(first.trace.outcomes()) == 132:
                    break
                await pilot.pause(0.05)
            assert len(first.trace.outcomes()) == 132
            await pilot.pause(0.3)
            # the cursor starts mid-grid: (lr 2.2, α 0.45), which converges
            assert "▸ lr 2.23, momentum 0.45" in pane.title() and "steps" in pane.title()
            for _ in range(5):
                await pilot.press("right")
            assert "▸ lr 4, momentum 0.45: loss grew" in pane.title()
            await pilot.press("up")
            assert "momentum 0.54" in pane.title()
            # the picture: every grown cell right of the closed-form edge 2(1 + α)
            for t in scenario.trials:
                state = pane._state[t.index]
                right = t.values["lr"] > 2 * (1 + t.values["momentum"]) + 0.36
                left = t.values["lr"] < 2 * (1 + t.values["momentum"]) - 0.36
                assert not (left and state == GREW) and not (right and state != GREW)
            await pilot.press("enter")
            await pilot.pause(0.2)
            opened = app.screen
            assert isinstance(opened, RunScreen) and opened is not first
            assert opened.scenario.runs[0].label == "hb 4.000 0.540"
            assert opened.scenario.title.endswith(": hb 4.000 0.540")
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert app.screen is first
            await pilot.press("x")          # the numbers: with trials, their results table
            for _ in range(100):
                if list(tmp_path.glob("*.results.csv")):
                    break
                await pilot.pause(0.05)
            (table,) = tmp_path.glob("*.results.csv")
            lines = table.read_text().splitlines()
            assert len(lines) == 133 and lines[0].startswith("trial,label,group,status")
            report = json.loads(next(tmp_path.glob("*.json")).read_text())
            assert report["expect"][0]["holds"] is True     # the edge claim, on the trials

    asyncio.run(go())


def test_ctrl_c_during_a_sweep_on_the_pool_exits_130_and_leaves_no_process(tmp_path):
    """Trials long enough for the local pool; Ctrl-C (to the whole process group, as a
    terminal sends it) ends the command with 130 and every worker with it."""
    import subprocess
    import sys

    path = tmp_path / "slow.toml"
    path.write_text('''
title = "slow sweep"
steps = 20000
[problem]
type = "network"
dataset = "spiral"
n_samples = 200
[defaults]
layers = [16]
keep = "result"
[[runs]]
label = "lr {lr:.3g}"
sweep = { lr = { from = 0.01, to = 1.0, num = 40, scale = "log" } }
''')
    proc = subprocess.Popen([sys.executable, "-m", "tui_optim", "run", str(path), "--headless"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        def children() -> list[str]:
            try:
                return " ".join(p.read_text() for p in
                                Path(f"/proc/{proc.pid}/task").glob("*/children")).split()
            except OSError:
                return []

        _wait_for(lambda: len(children()) >= 2 or proc.poll() is not None, timeout=120)
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.5)                  # the workers are at work
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, (out, err)
        assert b"Traceback" not in err and b"interrupted" in out
        _wait_for(lambda: _group_gone(proc.pid), timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False
