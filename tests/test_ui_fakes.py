"""A synthetic chunk stream with the DESIGN.md names, for UI tests (kept in tests only).

Deterministic: the same numbers every time, whatever the chunk sizes or timing.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from tui_optim.chunk import Chunk, Status
from tui_optim.runner.build import FAST_READY, LOADING, PREPARING
from tui_optim.runner.pacing import PacedControls, Pacer


@dataclass(frozen=True)
class FakeRun:
    index: int
    label: str
    group: str
    steps: int
    values: dict = field(default_factory=dict)


def pane(kind, **values):
    return SimpleNamespace(kind=kind, values=values)


def surface_scenario(steps=120, lrs=(0.02, 0.09, 0.13)):
    runs = [FakeRun(i, f"lr {lr:g}", "lr", steps, {"lr": lr}) for i, lr in enumerate(lrs)]
    return SimpleNamespace(
        title="Fake ravine", topic="momentum", order=3, name="fake_ravine", path=None,
        explanation="Gradient descent on f = x² + 10 y²: a small ε creeps, a large one zig-zags, "
                    "and above 2/λmax = 0.1 it diverges.",
        problem=SimpleNamespace(type="surface", values={}), runs=runs,
        panes=[pane("surface"), pane("trace", series="loss", log=True,
                                     guides=[{"value": 1e-3, "label": "tol"}]),
               pane("trace", series="grad_norm", log=True)],
        expects=[])


def network_scenario(steps=200, batch_norm=False, layers=4):
    runs = [FakeRun(0, "tanh xavier", "init", steps, {"layers": [32] * layers, "batch_norm": batch_norm}),
            FakeRun(1, "tanh std 0.01", "init", steps, {"layers": [32] * layers, "batch_norm": batch_norm})]
    panes = [pane("trace", series="loss", log=True), pane("layers", series="grad_norm"),
             pane("histograms", which="both" if batch_norm else "act"),
             pane("layers", series="update_ratio"), pane("heat", series="grad_norm"),
             pane("boundary"), pane("gradcheck")]
    return SimpleNamespace(
        title="Fake batch norm" if batch_norm else "Fake deep tanh net", topic="networks", order=17,
        name="fake_net", path=None, explanation="A deep tanh MLP on a spiral: watch the per-layer gradient "
                                     "norms and the activation histograms.",
        problem=SimpleNamespace(type="network", values={}), runs=runs, panes=panes, expects=[])


class FakeSession(PacedControls):
    """A Source (runner/source.py) without an engine: closed-form runs, paced by the real Pacer."""

    is_replay = False

    def __init__(self, scenario: Any, *, chunk: int = 10, speed: float | None = None,
                 compile_seconds: float = 0.0, cold: bool = True, tiered: bool = False) -> None:
        """tiered: as the dashboard's Session, compile() returns at once and the kernels
        'prepare' in a thread while the runs go on (interpreted), then FAST_READY."""
        self.scenario = scenario
        self.tiered = tiered
        self.interpreted = False
        self.runs = tuple(scenario.runs)
        self.trials = ()
        self.chunk = chunk
        self.pacer = Pacer(speed)
        self._scale = [1.0] * len(self.runs)
        self.compile_seconds = compile_seconds
        self.cold = cold
        self.compute_seconds = [0.0] * len(self.runs)
        self.compiled = False

    def reopen(self) -> "FakeSession":
        return FakeSession(self.scenario, chunk=self.chunk, speed=self.speed,
                           compile_seconds=self.compile_seconds, cold=self.cold,
                           tiered=self.tiered)

    def compile(self, progress=None):
        """A first start (`cold`: the runner's words for compiling) or a warm one (loading)."""
        if self.tiered:
            self.interpreted = True

            def prepare():
                self._prepare(progress)
                self.interpreted = False
                if progress:
                    progress(1, 1, FAST_READY)
            threading.Thread(target=prepare, daemon=True).start()
            return
        self._prepare(progress)

    def _prepare(self, progress):
        total = 3
        for i in range(total):
            if progress:
                progress(i, total, f"{PREPARING}: run {i + 1} of {total}" if self.cold
                         else LOADING)
            time.sleep(self.compile_seconds / total)
        if progress:
            progress(total, total, "ready")
        self.compiled = True

    def scale_lr(self, run, factor):
        self._scale[run] *= factor
        return self._scale[run]

    def lr_scale(self, run):
        return self._scale[run]

    def _grant(self, should_stop):
        return self.pacer.grant(self.chunk, should_stop)

    # the stream
    def chunks(self, should_stop=lambda: False):
        kind = self.scenario.problem.type
        states = [self._init_state(i, kind) for i in range(len(self.runs))]
        active = list(range(len(self.runs)))
        while active:
            n = self._grant(should_stop)
            if n == 0:
                for i in active:
                    yield Chunk(i, states[i]["k"], 0, {}, {}, Status.STOPPED)
                return
            for i in list(active):
                st = states[i]
                m = min(n, self.runs[i].steps - st["k"])
                chunk = (self._surface if kind == "surface" else self._network)(i, st, m)
                if chunk.status != Status.RUNNING:
                    active.remove(i)
                yield chunk

    def _init_state(self, i, kind):
        return {"k": 0, "x": np.array([-1.8, 0.6 - 0.2 * i]), "first": True}

    # f = x² + 10 y² on [-2, 2] x [-1, 1]
    def _surface(self, i, st, m):
        lr = self.runs[i].values["lr"] * self._scale[i]
        loss, gn, x0, x1, lrs = (np.empty(m) for _ in range(5))
        status, at = Status.RUNNING, None
        x = st["x"]
        done = 0
        for j in range(m):
            f = x[0] ** 2 + 10 * x[1] ** 2
            g = np.array([2 * x[0], 20 * x[1]])
            loss[j], gn[j], x0[j], x1[j], lrs[j] = f, np.hypot(*g), x[0], x[1], lr
            done += 1
            if not np.isfinite(f) or f > 1e12:
                loss[j] = np.inf
                status, at = Status.DIVERGED, st["k"] + j
                break
            x = x - lr * g
        st["x"] = x
        snaps = {}
        if st["first"]:
            xs = np.linspace(-2, 2, 81)
            ys = np.linspace(1, -1, 41)
            X, Y = np.meshgrid(xs, ys)
            snaps = {"surface.grid": X ** 2 + 10 * Y ** 2, "surface.window": np.array([-2, 2, -1, 1.0]),
                     "surface.minima": np.array([[0.0, 0.0]]), "surface.saddles": np.zeros((0, 2))}
            st["first"] = False
        start = st["k"]
        st["k"] += done
        if status == Status.RUNNING and st["k"] >= self.runs[i].steps:
            status = Status.DONE
        sl = slice(0, done)
        return Chunk(i, start, done, {"loss": loss[sl], "grad_norm": gn[sl], "x.0": x0[sl],
                                      "x.1": x1[sl], "lr": lrs[sl]}, snaps, status, at)

    def _network(self, i, st, m):
        L = len(self.runs[i].values["layers"]) + 1
        k = st["k"] + np.arange(m)
        t = k / 50.0
        series = {"loss": 1.1 * np.exp(-t * (1 if i == 0 else 0.1)) + 0.05 + 0.02 * np.sin(k),
                  "grad_norm": 0.5 * np.exp(-t / 3) + 0.01, "epoch": k // 25}
        for layer in range(L):
            decay = 10.0 ** (-(L - 1 - layer) * (0.3 if i == 0 else 1.2))
            series[f"layer.{layer}.grad_norm"] = decay * (1 + 0.3 * np.cos(k / 7 + layer))
            series[f"layer.{layer}.update_ratio"] = 1e-3 * decay * 3 * (1 + 0.2 * np.sin(k / 5))
            series[f"layer.{layer}.act_std"] = np.full(m, 0.6 / (1 + layer * (0.1 if i == 0 else 2)))
        edges = np.linspace(-3, 3, 41)
        centres = (edges[1:] + edges[:-1]) / 2
        snaps = {"hist.edges": edges}
        kk = st["k"] + m
        for layer in range(L):
            sd = 0.6 / (1 + layer * (0.1 if i == 0 else 2))
            snaps[f"layer.{layer}.act_hist"] = 1000 * np.exp(-0.5 * (np.tanh(centres) / sd) ** 2)
            snaps[f"layer.{layer}.preact_hist"] = 1000 * np.exp(-0.5 * (centres / (1 + layer)) ** 2)
        G = 40
        gx, gy = np.meshgrid(np.linspace(-1, 1, G), np.linspace(1, -1, G))
        ang = np.arctan2(gy, gx) + np.hypot(gx, gy) * (2 + kk / 100)
        snaps["boundary"] = (np.floor((ang % (2 * np.pi)) / (2 * np.pi / 3))).astype(float)
        snaps["boundary.window"] = np.array([-1, 1, -1, 1.0])
        rng = np.random.default_rng(0)
        pts = rng.uniform(-1, 1, size=(60, 2))
        snaps["data.points"] = pts
        snaps["data.labels"] = (np.floor(((np.arctan2(pts[:, 1], pts[:, 0]) + np.hypot(*pts.T) * 4)
                                          % (2 * np.pi)) / (2 * np.pi / 3))).astype(float)
        snaps["gradcheck"] = np.array([3e-9, 8e-9, 2e-7, 5e-5, 1e-9])[:L]
        start = st["k"]
        st["k"] += m
        status = Status.DONE if st["k"] >= self.runs[i].steps else Status.RUNNING
        return Chunk(i, start, m, series, snaps, status)


def fake_builtins():
    return [SimpleNamespace(name="fake_ravine", path="fake_ravine", title="Fake ravine", topic="momentum", order=3),
            SimpleNamespace(name="fake_net", path="fake_net", title="Fake deep tanh net", topic="networks", order=16),
            SimpleNamespace(name="fake_bn", path="fake_bn", title="Fake batch norm", topic="networks", order=17)]


def fake_load(path):
    table = {"fake_ravine": surface_scenario, "fake_net": network_scenario,
             "fake_bn": lambda: network_scenario(batch_norm=True)}
    if path not in table:
        raise ValueError(f"{path}: no such scenario file")
    return table[path]()


def test_fake_stream_is_deterministic():
    def collect():
        s = FakeSession(surface_scenario(steps=50), chunk=7)
        return [c for c in s.chunks()]
    a, b = collect(), collect()
    assert [c.status for c in a] == [c.status for c in b]
    statuses = {c.run: c.status for c in a}
    assert statuses[2] == Status.DIVERGED and statuses[0] == Status.DONE
