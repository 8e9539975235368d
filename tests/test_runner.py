"""The session's chunk stream: contiguous records, reproducibility, divergence, controls."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np

from tui_optim.chunk import Status
from tui_optim.runner import Session
from tui_optim.runner import session as session_module
from tui_optim.scenario import load_scenario
from tui_optim.summary import Summary

DATA = Path(__file__).parent / "data"


def collect(session, **kw):
    summary = Summary(session.runs)
    chunks = []
    for chunk in session.chunks(**kw):
        chunks.append(chunk)
        summary.add(chunk)
    return chunks, summary


def test_every_run_streams_contiguous_records_and_ends_done():
    scenario = load_scenario("01_lr_regimes")
    chunks, summary = collect(Session(scenario))
    for i, run in enumerate(scenario.runs):
        mine = [c for c in chunks if c.run == i]
        assert mine[0].start == 0
        for a, b in zip(mine, mine[1:]):
            assert b.start == a.stop
        assert mine[-1].stop == run.steps
        assert mine[-1].status is Status.DONE
        assert all(c.status is Status.RUNNING for c in mine[:-1])
    # Static snapshots arrive with each run's first chunk.
    first = next(c for c in chunks if c.run == 0)
    assert "surface.curve" in first.snapshots or "surface.grid" in first.snapshots


def test_results_do_not_depend_on_chunk_size(monkeypatch):
    scenario = load_scenario("03_momentum_ravine")
    _, big = collect(Session(scenario))
    monkeypatch.setattr(session_module, "MAX_CHUNK", 7)
    _, small = collect(Session(scenario))
    for a, b in zip(big.runs, small.runs):
        for name in a.series_names():
            np.testing.assert_array_equal(a.series(name), b.series(name))


def test_same_scenario_and_seed_give_the_same_numbers_and_another_seed_does_not():
    scenario = load_scenario("05_saddle_points")
    _, one = collect(Session(scenario))
    _, two = collect(Session(scenario))
    noisy = one.runs[1].label
    np.testing.assert_array_equal(one.runs[1].series("x.1"), two.runs[1].series("x.1"))
    _, other = collect(Session(load_scenario("05_saddle_points", seed=99)))
    assert other.runs[1].label == noisy
    assert not np.array_equal(one.runs[1].series("x.1"), other.runs[1].series("x.1"))


def test_a_diverging_run_ends_with_its_step_and_the_others_go_on():
    scenario = load_scenario(DATA / "diverge.toml")
    chunks, summary = collect(Session(scenario))
    stable, unstable = summary.runs
    assert stable.status == "done" and stable.records == 3000
    assert unstable.status == "diverged"
    k = unstable.diverged_at
    loss = unstable.series("loss")
    assert len(loss) == k + 1
    assert np.all(np.isfinite(loss[:k])) and not np.isfinite(loss[k])
    # |x_k| = 1.5**k, so ½x_k² passes float64's 1.8e308 near k = ln(3.6e308)/(2 ln 1.5) ≈ 876
    # (the exact record depends on the order of the multiplications).
    assert 875 <= k <= 878


def test_stop_ends_every_unfinished_run_with_a_stopped_chunk():
    scenario = load_scenario("08_no_critical_points", steps=10**9)
    session = Session(scenario)
    seen = []
    for chunk in session.chunks():
        seen.append(chunk)
        if len(seen) == 3:
            session.stop()
    assert seen[-1].status is Status.STOPPED and seen[-1].n == 0
    assert seen[-1].start == seen[-2].stop


def test_scale_lr_changes_epsilon_from_the_next_step():
    scenario = load_scenario("01_lr_regimes")
    session = Session(scenario)
    session.compile()
    session.pause()
    got = []

    def consume():
        for chunk in session.chunks():
            if chunk.run == 0:
                got.append(chunk.series["lr"].copy())
            if len(got) == 2:
                session.stop()

    t = threading.Thread(target=consume)
    t.start()
    session.step_once()
    while len(got) < 1:
        t.join(0.01)
    assert session.scale_lr(0, 2.0) == 2.0
    session.step_once()
    t.join(10)
    assert got[0][0] == 0.25
    assert got[1][0] == 0.5


def test_single_steps_advance_every_run_by_one_record():
    scenario = load_scenario("03_momentum_ravine")
    session = Session(scenario)
    session.pause()
    for _ in range(3):
        session.step_once()
    seen = []
    for chunk in session.chunks():
        seen.append((chunk.run, chunk.start, chunk.n))
        if len(seen) == 9:
            session.stop()
    assert seen[:9] == [(r, k, 1) for k in range(3) for r in range(3)]


def test_a_cold_start_says_what_it_prepares_in_words_and_remembers_how_long_it_took(tmp_path):
    toml = tmp_path / "sgd.toml"
    toml.write_text('title = "t"\nsteps = 5\n[problem]\ntype = "surface"\nsurface = "beale"\n'
                    '[[runs]]\noptimizer = "sgd"\nlr = 0.001\nstart = [1.0, 1.0]\n')
    code = ("import sys\n"
            "from tui_optim.runner import Session\n"
            "from tui_optim.scenario import load_scenario\n"
            "Session(load_scenario(sys.argv[1])).compile(lambda i, n, what: print(what))\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    root = os.path.dirname(os.path.dirname(__file__))

    def labels():
        return subprocess.run([sys.executable, "-c", code, str(toml)], env=env, check=True,
                              capture_output=True, text=True, cwd=root).stdout.splitlines()

    from tui_optim.runner.build import COSTS_FILE, LOADING, PREPARING

    def surely_cold():      # read off the files numba's cache writes, without numba
        return subprocess.run(
            [sys.executable, "-c", "from tui_optim.runner.build import surely_cold as c; "
             "import sys; print(c('surface'), c('network'), 'numba' in sys.modules)"],
            env=env, check=True, capture_output=True, text=True, cwd=root).stdout.split()

    costs = tmp_path / "xdg-cache" / "tui-optim" / COSTS_FILE
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    assert surely_cold() == ["True", "True", "False"]
    cold = labels()
    assert surely_cold() == ["False", "True", "False"]     # the network's kernels are still cold
    measured = json.loads(costs.read_text())["surface"]      # the next cold start's estimate
    warm = labels()
    assert cold[0] == warm[0] == LOADING
    # words a first-time user understands, never a numba function name
    assert f"{PREPARING}: run 1 of 1" in cold and not any("_" in s.split(":")[-1] for s in cold)
    assert not any(s.startswith(PREPARING) for s in warm)
    assert warm[-1] == "ready"
    assert 0 < measured < 600 and json.loads(costs.read_text())["surface"] == measured


# a script's prefix: print the name of every engine function numba compiles from here on
_PRINT_COMPILES = ("from numba.core import event\n"
                   "class L(event.Listener):\n"
                   "    def on_start(self, ev):\n"
                   "        f = ev.data['dispatcher'].py_func\n"
                   "        if f.__module__.startswith('tui_optim'): print(f.__name__)\n"
                   "    def on_end(self, ev): pass\n"
                   "event.register('numba:compile', L())\n")


def test_a_network_compile_splits_into_two_processes_that_share_no_work(tmp_path):
    """runner/build.py compiles a network's kernels in two processes at once, at the network's
    own optimization level (runner/prepare.py): one the PARTS (the model's kernels and the
    others train_steps calls through pointers), the other the rest without calling them.
    Neither may need the other (the rest compiles first here, in an empty cache) nor compile
    what the other does (but for one tiny leaf), and afterwards a warm-up compiles nothing: a
    signature that drifted from how train_steps passes the parts would compile them a second
    time, in the dashboard's own process. What they compiled trains to the interpreted tier's
    bits (the tier tests compare it with kernels compiled at numba's default level)."""
    from tui_optim.engine import interpreted
    from tui_optim.engine.jit_options import OPT_LEVELS
    from tui_optim.engine.network.stepper import PARTS

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("NUMBA_OPT", None)
    root = os.path.dirname(os.path.dirname(__file__))
    problem = {"type": "network", "dataset": "spiral", "n_samples": 60, "classes": 3}
    run = {"layers": [5, 4], "activation": "elu", "batch_norm": True, "dropout": 0.2,
           "optimizer": "adam", "batch_size": 8, "eval_every": 3, "sharpness_every": 4,
           "gradcheck_every": 5, "clip": {"norm": 1.0}}

    def compiled(code: str) -> list[str]:
        listen = ("from tui_optim.runner.prepare import use_opt_level\n"
                  "use_opt_level('network')\n"
                  "from numba.core import config\n"
                  "print('opt', int(config.OPT))\n" + _PRINT_COMPILES +
                  "from tui_optim.engine.network.stepper import NetworkStepper, compile_parts, "
                  "warm_up\n")
        out = subprocess.run([sys.executable, "-c", listen + code], env=env, check=True,
                             cwd=root, capture_output=True, text=True).stdout.split()
        assert out[:2] == ["opt", str(OPT_LEVELS["network"])]
        return out[2:]

    rest = set(compiled("warm_up({'type': 'network'}, parts=False)"))
    parts = set(compiled("compile_parts('network')"))
    assert {k.py_func.__name__ for k, _ in PARTS["network"]} == {
        "forward", "backward", "loss_and_grad", "first_order_update", "layer_stats"}
    assert {"forward", "backward", "act_forward", "loss_and_grad", "softmax_cross_entropy",
            "first_order_update", "layer_stats"} <= parts
    assert "train_steps" in rest
    # but one leaf both call, too small to wait for (a view of the buffer: 0.2 s)
    assert parts & rest == {"_mat"}, f"compiled by both: {sorted(parts & rest)}"
    saved = tmp_path / "series.npz"
    assert compiled(f"warm_up({{'type': 'network'}})\n"
                    f"import numpy\n"
                    f"numpy.savez({str(saved)!r}, "
                    f"**NetworkStepper({problem!r}, {run!r}, 12, 3).advance(12)[0])\n") == []
    with np.errstate(all="ignore"):
        expected, _ = interpreted.module("network.stepper").NetworkStepper(
            problem, run, 12, 3).advance(12)
    with np.load(saved) as got:
        assert sorted(got.files) == sorted(expected)
        for k in expected:
            assert got[k].tobytes() == np.asarray(expected[k]).tobytes(), k
    # the runner starts the second process for these types (and the surface's update),
    # known without importing numba; each engine module says what that process compiles
    from importlib import import_module

    from tui_optim.runner.build import _KERNELS, _STEPPERS

    split = {t for t, (_, second) in _KERNELS.items() if second}
    assert split == set(PARTS) | {"surface"}
    assert all(callable(import_module(_STEPPERS[t][0]).compile_parts) for t in split)


def test_a_surface_compile_leaves_the_update_and_hessians_to_a_second_process(tmp_path):
    """The update a surface's generic loop calls through a pointer (Newton, L-BFGS and the
    rest) and the Hessian rows compile in a process of their own (compile_parts) beside the
    rest (warm_up(parts=False), the loop included): neither compiles what the other does, a
    scenario without a generic run gives the second nothing to do, and afterwards the
    dashboard's warm-up compiles nothing."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    root = os.path.dirname(os.path.dirname(__file__))

    def compiled(name: str, code: str) -> set[str]:
        script = (_PRINT_COMPILES +
                  "from tui_optim.scenario import load_scenario\n"
                  "from tui_optim.engine.surface_stepper import compile_parts, warm_up\n"
                  f"sc = load_scenario({name!r})\n"
                  "p, r = dict(sc.problem.values), [dict(x.values) for x in sc.runs]\n")
        return set(subprocess.run([sys.executable, "-c", script + code], env=env, check=True,
                                  cwd=root, capture_output=True, text=True).stdout.split())

    # Newton on the generic loop, plain SGD on its own
    rest = compiled("05_saddle_points", "warm_up(problem=p, runs=r, parts=False)")
    parts = compiled("05_saddle_points", "compile_parts('surface', p, r)")
    assert {"update", "fill_hess_min_eig"} <= parts
    assert {"generic_kernel", "_plain_sgd_2d", "grid_values"} <= rest
    assert parts & rest == set(), f"compiled by both: {sorted(parts & rest)}"
    assert compiled("05_saddle_points", "warm_up(problem=p, runs=r)") == set()
    # momentum on the register loop: nothing for a second process
    assert compiled("03_momentum_ravine", "compile_parts('surface', p, r)") == set()


def test_the_interpreted_runs_make_way_for_a_first_start_compile_and_only_for_it():
    """FastKernels renices the thread running the interpreted runs once the kernels compile in
    child processes (a first start), once, and never on a warm start."""
    from tui_optim.runner.build import RUNS_NICENESS, FastKernels

    ready, release = threading.Event(), threading.Event()
    tids = []

    def runs():
        tids.append(threading.get_native_id())
        ready.set()
        release.wait(30)

    def niceness(tid):
        return os.getpriority(os.PRIO_PROCESS, tid)

    for compiling in (False, True):
        ready.clear()
        release.clear()
        thread = threading.Thread(target=runs)
        thread.start()
        ready.wait(30)
        before = niceness(tids[-1])
        fast = FastKernels(load_scenario("03_momentum_ravine").problem, [], None)
        fast._compiling = compiling              # what its progress says on a first start
        fast.go(tids[-1])
        fast.go(tids[-1])                        # once only
        assert niceness(tids[-1]) == min(19, before + (RUNS_NICENESS if compiling else 0))
        release.set()
        thread.join()


def _prepare_children(pid: int) -> list[int]:
    """The compile processes `tui-optim prepare` (pid) started, still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1]
                                             .split()[1]) == pid):
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            pass
    return found


def test_prepare_compiles_every_kernel_and_ctrl_c_stops_it_with_its_processes(tmp_path):
    import signal
    import time

    from tui_optim.runner.build import surely_cold

    root = os.path.dirname(os.path.dirname(__file__))
    # in the suite's own cache: ready at once when the other tests have filled it, else it fills
    done = subprocess.run([sys.executable, "-m", "tui_optim", "prepare"], capture_output=True,
                          text=True, cwd=root, timeout=600)
    assert done.returncode == 0 and "every kernel is ready" in done.stdout, done.stderr
    assert not any(surely_cold(t) for t in ("surface", "network", "chain"))

    # a cold cache of its own: interrupted while it compiles, it ends with its processes
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "tui_optim", "prepare"], env=env, cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(_prepare_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    children = _prepare_children(proc.pid)
    assert len(children) == 2, "the two compile processes never started"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert not [c for c in children if _running(c)]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
