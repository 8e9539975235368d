"""Fuzzing what a stranger can hand tui-optim beyond scenario text (tests/test_scenario_fuzz.py):
CSV data sets, recordings and whole headless runs. Any input ends in data, a clear error (exit 2)
or a verdict (exit 0/1): never a traceback, a hang or another status. Bounded here; `make fuzz`
runs the same properties longer (TUI_OPTIM_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_optim.cli import main
from tui_optim.engine.csv_data import DataError, read_csv
from tui_optim.replay import Replayer, ReplayError
from tui_optim.scenario import ScenarioError

EXAMPLES = int(os.environ.get("TUI_OPTIM_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
REPO = Path(__file__).parent.parent

CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
                  st.text(max_size=6), st.just(""), st.just("label"), st.just("1e400"))


@FUZZ
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=8),
       raw=st.binary(max_size=64), use_raw=st.booleans())
def test_any_csv_is_data_or_a_data_error(tmp_path, rows, raw, use_raw):
    path = tmp_path / "d.csv"
    if use_raw:
        path.write_bytes(raw)
    else:
        path.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    try:
        X, Y, classes = read_csv(str(path), "label")
    except DataError as e:
        assert str(path) in str(e)
        return
    assert X.ndim == 2 and len(X) == len(Y) and np.isfinite(X).all() and classes >= 0


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("rec") / "r.replay"
    assert main(["run", "01_lr_regimes", "--headless", "--record", str(path)]) == 0
    return path.read_bytes()


@FUZZ
@given(edits=st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "drop_line"]),
                                st.integers(0, 10**9), st.integers(0, 255)), max_size=4))
def test_any_damaged_recording_replays_or_is_refused(tmp_path, recording, edits):
    data = bytearray(recording)
    for what, at, byte in edits:
        if not data:
            break
        i = at % len(data)
        if what == "flip":
            data[i] ^= 1 << (byte % 8)
        elif what == "cut":
            del data[i:]
        elif what == "insert":
            data[i:i] = bytes([byte])
        else:
            lines = bytes(data).split(b"\n")
            del lines[at % len(lines)]
            data = bytearray(b"\n".join(lines))
    path = tmp_path / "d.replay"
    path.write_bytes(bytes(data))
    try:
        replayer = Replayer(path)
    except (ReplayError, ScenarioError):
        return
    for chunk in replayer.chunks():
        assert chunk.n >= 0 and all(len(v) == chunk.n for v in chunk.series.values())


SURFACE = REPO / "scenarios" / "02_conditioning.toml"
SETS = st.sampled_from([
    "lr=0.1", "lr=-1", "lr=1e308", "steps=0", "momentum=0.5", "optimizer=\"adam\"",
    "optimizer=\"newton\"", "clip={norm=1.0}", "schedule={name=\"cosine\"}", "start=[1e300, 1e300]",
    "runs[0].lr=\"x\"", "runs[9].lr=0.1", "problem.eigenvalues=[1e300, 1.0]", "noise=1e6",
    "average={kind=\"ema\", decay=0.9}", "label=\"{lr:>999}\"", "seed=99999999999999999999",
    "batch_size=3", "continuation={sigmas=[1.0], samples=100000}", "nope=1", "lr",
])


@FUZZ
@given(sets=st.lists(SETS, max_size=3), steps=st.integers(-5, 40))
def test_any_headless_run_ends_with_0_1_or_2(capsys, sets, steps):
    args = ["run", str(SURFACE), "--headless", "--steps", str(steps)]
    for s in sets:
        args += ["--set", s]
    status = main(args)
    err = capsys.readouterr().err
    assert status in (0, 1, 2), err
    assert "Traceback" not in err
