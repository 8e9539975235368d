"""Recording and replaying: the same chunks back, torn files readable, bad files refused."""

import io
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from tui_optim.headless import drive
from tui_optim.replay import Recorder, Replayer, ReplayError, read_replay
from tui_optim.runner import Session
from tui_optim.scenario import load_scenario
from tui_optim.summary import Summary

DATA = Path(__file__).parent / "data"


def record(tmp_path, name="03_momentum_ravine", **kw):
    scenario = load_scenario(name, **kw)
    path = tmp_path / "run.replay"
    summary = Summary(scenario.runs)
    with Recorder(path, scenario, **kw) as rec:
        for chunk in Session(scenario).chunks():
            rec.write(chunk)
            summary.add(chunk)
    return path, summary


def replay_summary(replayer):
    summary = Summary(replayer.runs)
    for chunk in replayer.chunks():
        summary.add(chunk)
    return summary


def assert_same(a, b):
    assert [r.label for r in a.runs] == [r.label for r in b.runs]
    for x, y in zip(a.runs, b.runs):
        assert (x.status, x.diverged_at, x.records) == (y.status, y.diverged_at, y.records)
        assert x.series_names() == y.series_names()
        for name in x.series_names():
            np.testing.assert_array_equal(x.series(name), y.series(name))


def test_replay_gives_back_exactly_what_was_recorded(tmp_path):
    path, live = record(tmp_path)
    assert_same(live, replay_summary(Replayer(path)))


def test_replay_keeps_the_overrides_the_run_had(tmp_path):
    path, live = record(tmp_path, steps=50, seed=5)
    replayer = Replayer(path)
    assert all(r.steps == 50 for r in replayer.runs)
    assert_same(live, replay_summary(replayer))


def test_paced_replay_splits_chunks_but_keeps_every_record(tmp_path):
    path, live = record(tmp_path, steps=60)
    replayer = Replayer(path, speed=1e6)
    assert_same(live, replay_summary(replayer))


def test_seek_fast_forwards_past_the_pause(tmp_path):
    path, _ = record(tmp_path, steps=80)
    replayer = Replayer(path)
    replayer.pause()
    replayer.seek(30)
    got = []
    for chunk in replayer.chunks():
        got.append(chunk)
        if sum(c.n for c in got if c.run == 0) >= 30 and all(
            sum(c.n for c in got if c.run == r) >= 30 for r in range(3)
        ):
            replayer.stop()
    for r in range(3):
        assert sum(c.n for c in got if c.run == r) == 30


def test_a_torn_last_line_is_dropped_and_the_prefix_replays(tmp_path):
    path, live = record(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    header, chunks, truncated = read_replay(path)
    assert truncated
    replayer = Replayer(path)
    partial = replay_summary(replayer)
    assert 0 < partial.records < live.records
    for x, y in zip(live.runs, partial.runs):
        if y.records:
            np.testing.assert_array_equal(x.series("loss")[: y.records], y.series("loss"))


def test_headless_replay_reproduces_the_verdicts(tmp_path):
    path, _ = record(tmp_path, name="01_lr_regimes")
    out = io.StringIO()
    assert drive(Replayer(path), out=out, err=io.StringIO()) == 0
    assert "claims: 5 of 5 hold" in out.getvalue()


@pytest.mark.parametrize("content", [b"", b"hello\n", b'{"format": "other"}\n', b"\xff\xfe\n"])
def test_files_that_are_not_replays_are_refused_by_name(tmp_path, content):
    path = tmp_path / "bad.replay"
    path.write_bytes(content)
    with pytest.raises(ReplayError, match="bad.replay"):
        Replayer(path)


def test_a_newer_format_version_is_refused_with_the_versions_read(tmp_path):
    path = tmp_path / "new.replay"
    path.write_text(json.dumps({"format": "tui-optim-replay", "version": 99}) + "\n")
    with pytest.raises(ReplayError, match="99"):
        Replayer(path)


def json_lines(path: Path) -> tuple[dict, list[dict]]:
    """A recording as the JSON objects of versions 1 and 2 (arrays as base64 of their
    bytes): the header and one object per chunk. Those versions are still read."""
    import base64

    from tui_optim.replay import read_replay

    header, items, _ = read_replay(path)

    def enc(a):
        a = np.ascontiguousarray(a)
        return {"dtype": a.dtype.str, "shape": list(a.shape),
                "data": base64.b64encode(a.tobytes()).decode()}

    objs = []
    for _, c in items:
        c = c.load()
        objs.append({"run": c.run, "start": c.start, "n": c.n, "status": c.status.value,
                     "diverged_at": c.diverged_at,
                     "series": {k: enc(v) for k, v in c.series.items()},
                     "snapshots": {k: enc(v) for k, v in c.snapshots.items()}})
    return {**header, "version": 2}, objs


def test_crafted_recordings_are_refused_with_their_line(tmp_path):
    """A header without its scenario, chunks of a run that does not exist, a gap, a repeat,
    a series that is not a table, JSON nested 100 000 deep (each with a valid checksum, as a
    crafted file would have): each a ReplayError naming the line, never a traceback and never
    a silently different run. Version 2 lines here; version 3 frames below."""
    from tui_optim.replay import encode_line

    path, _ = record(tmp_path, name="01_lr_regimes")
    header, objs = json_lines(path)
    first, second = objs[0], encode_line(objs[1]).rstrip("\n")

    def line(obj) -> str:
        return encode_line(obj).rstrip("\n")

    def damaged(name: str, *body: str, head: dict | None = None) -> Path:
        p = tmp_path / name
        p.write_text("\n".join([line(head or header), *body]) + "\n")
        return p

    deep = "[" * 100_000 + "]" * 100_000
    cases = {
        "no scenario": damaged("a", line(first), head={k: v for k, v in header.items() if k != "scenario"}),
        "no run -1": damaged("b", line({**first, "run": -1}), second),
        "run 99": damaged("c", line({**first, "run": 99}), second),
        "a gap": damaged("d", line({**first, "start": 10 ** 18}), second),
        "repeated": damaged("e", line(first), line(first), second),
        "series list": damaged("f", line({**first, "series": [1, 2]}), second),
        "deep": damaged("g", f"{zlib.crc32(deep.encode()):08x} {deep}", second),
    }
    for what, p in cases.items():
        with pytest.raises(ReplayError) as info:
            Replayer(p)
        assert str(p) in str(info.value), what


def test_crafted_frames_are_refused_with_their_byte(tmp_path):
    """Version 3: frames with valid checksums that cannot come from a recording (a run out of
    range, a gap, a repeat, arrays of the wrong size, a snapshot that is not numbers)."""
    from tui_optim import frames

    path, _ = record(tmp_path, name="01_lr_regimes")
    data = path.read_bytes()
    head = data[: data.index(b"\n") + 1]
    (_, ref), (_, ref2) = read_replay_items(path)[:2]
    c, c2 = ref.load(), ref2.load()

    def frame(chunk=c, **meta_over):
        if not meta_over:
            return b"".join(frames.chunk_frame(chunk))
        meta = {"run": chunk.run, "start": chunk.start, "n": chunk.n, "status": "running",
                "diverged_at": None, "series": list(chunk.series), "snapshots": []}
        return b"".join(frames.encode({**meta, **meta_over}, list(chunk.series.values())))

    cases = {
        "run 99": frame(run=99), "a gap": frame(start=10 ** 18),
        "wrong size": frame(n=c.n + 1),
        "not numbers": b"".join(frames.encode({"run": 0, "start": 0, "n": 0,
                                               "status": "running", "diverged_at": None,
                                               "series": [], "snapshots": [["s", "|O", [1]]]},
                                              [])),
        "repeated": frame() + frame(),
    }
    for what, body in cases.items():
        p = tmp_path / f"{what}.replay"
        p.write_bytes(head + body + b"".join(frames.chunk_frame(c2)))
        with pytest.raises(ReplayError) as info:
            Replayer(p)
        assert str(p) in str(info.value) and "byte" in str(info.value), (what, str(info.value))


def read_replay_items(path):
    from tui_optim.replay import read_replay

    return read_replay(path)[1]


def test_every_changed_byte_is_found_never_replayed(tmp_path):
    """Every byte of a recording is under a checksum: a flipped bit anywhere is a ReplayError
    naming where (or, in the last frame's head, a recording that is said to end early), never
    different numbers."""
    path, live = record(tmp_path, name="01_lr_regimes")
    data = path.read_bytes()
    last = int(read_replay_items(path)[-1][0].rsplit("byte ", 1)[1])
    rng = np.random.default_rng(0)
    for pos in rng.choice(len(data) - 1, size=300, replace=False):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << int(rng.integers(8))
        p = tmp_path / "flipped.replay"
        p.write_bytes(bytes(flipped))
        try:
            replayer = Replayer(p)
        except ReplayError as e:
            assert "checksum mismatch" in str(e) or "header" in str(e) or "not a" in str(e), str(e)
            continue
        assert replayer.truncated and pos >= last, pos     # the torn-last-frame case only
        got = replay_summary(replayer)
        for x, y in zip(live.runs, got.runs):
            np.testing.assert_array_equal(x.series("loss")[: y.records], y.series("loss"))


@pytest.mark.parametrize("version", [1, 2])
def test_older_recordings_still_replay(tmp_path, version):
    import json as _json

    from tui_optim.replay import encode_line

    path, live = record(tmp_path, name="01_lr_regimes")
    header, objs = json_lines(path)
    old = tmp_path / f"v{version}.replay"
    header["version"] = version
    if version == 1:
        old.write_text("".join(_json.dumps(obj) + "\n" for obj in [header, *objs]))
    else:
        old.write_text("".join(encode_line(obj) for obj in [header, *objs]))
    got = replay_summary(Replayer(old))
    np.testing.assert_array_equal(got.runs[2].series("loss"), live.runs[2].series("loss"))


def test_a_session_and_a_replay_are_both_sources_and_say_which_they_are(tmp_path):
    from tui_optim.runner import Source

    path, _ = record(tmp_path)
    replayer, session = Replayer(path, speed=50.0), Session(load_scenario("03_momentum_ravine"))
    for source in (replayer, session):
        assert isinstance(source, Source)
    assert replayer.is_replay and not session.is_replay
    again = replayer.reopen()
    assert isinstance(again, Replayer) and again.path == path and again.speed == 50.0
    assert again is not replayer and again.scenario.title == replayer.scenario.title
    assert replayer.scale_lr(0, 2.0) == 1.0            # a recording's ε is fixed
    path.unlink()                                        # reopening never reads the file again
    assert sum(c.n for c in replayer.reopen().chunks()) == sum(c.n for c in again.chunks())
    fresh = session.reopen()
    assert fresh is not session and fresh.scenario is session.scenario


def test_a_live_change_of_lr_is_recorded_replayed_and_reported(tmp_path):
    from tui_optim.report import status_text, summary_rows

    scenario = load_scenario("01_lr_regimes")
    session = Session(scenario)
    path = tmp_path / "altered.replay"
    live = Summary(scenario.runs)
    with Recorder(path, scenario) as rec:
        for chunk in session.chunks():
            if chunk.run == 0 and chunk.start == 0:
                session.scale_lr(0, 2.0)          # `]` after the first chunk of run 0
                at = chunk.stop
            rec.write(chunk)
            live.add(chunk)
    replayer = Replayer(path)
    replayed = Summary(replayer.runs)
    for chunk in replayer.chunks():
        replayed.add(chunk)
    for summary in (live, replayed):
        run = summary.runs[0]
        assert run.lr_changes == [(at, 2.0)] and summary.runs[1].lr_changes == []
        assert status_text(run).endswith(f"ε × 2 from step {at} (live)")
        assert summary_rows(summary.runs)[0]["lr_changes"] == [{"step": at, "scale": 2.0}]
        lr = run.series("lr")
        assert lr[at] == 2 * lr[at - 1]               # the records were made at the new ε
    assert replayer.lr_scale(0) == 2.0 and replayer.lr_scale(1) == 1.0


def test_two_recordings_of_one_problem_overlay_and_of_two_problems_are_refused(tmp_path):
    from tui_optim.replay import overlay

    a, _ = record(tmp_path)
    (tmp_path / "other").mkdir()
    b, b_summary = record(tmp_path / "other", sets=["runs[0].lr=0.01"])
    both = overlay(Replayer(a), Replayer(b))
    # both files are run.replay: each run is labelled with its recording's whole path
    assert [r.label for r in both.runs] == [f"{r} · {p}" for p in (a, b)
                                            for r in ("SGD", "momentum", "Nesterov")]
    assert both.scenario.expects == ()         # claims name one recording's runs
    summary = replay_summary(both)
    for k in range(3):                         # the second recording's runs, as they were
        np.testing.assert_array_equal(summary.runs[3 + k].series("loss"),
                                      b_summary.runs[k].series("loss"))
    assert both.reopen().length == both.length == 300
    (tmp_path / "ls").mkdir()
    c, _ = record(tmp_path / "ls", name="01_lr_regimes")
    with pytest.raises(ReplayError, match="only recordings of the same problem overlay"):
        overlay(Replayer(a), Replayer(c))


def test_a_recording_changed_after_it_was_opened_is_refused_when_played(tmp_path):
    path, _ = record(tmp_path, name="01_lr_regimes")
    replayer = Replayer(path)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF                       # the file is written over in place meanwhile
    with open(path, "r+b") as f:
        f.write(bytes(data))
    with pytest.raises(ReplayError, match="changed since it was opened"):
        for _ in replayer.chunks():
            pass


def test_a_second_recorder_of_a_file_waits_for_the_first_and_a_closed_one_refuses(tmp_path):
    import threading

    scenario = load_scenario("01_lr_regimes")
    path = tmp_path / "r.replay"
    first = Recorder(path, scenario)
    chunks = list(Session(scenario).chunks())
    first.write(chunks[0])
    made = []
    later = threading.Thread(target=lambda: made.append(Recorder(path, scenario)))
    later.start()
    later.join(0.3)
    assert not made                         # it waits: one writer of the partial file
    first.close()
    later.join(10)
    second = made[0]
    for c in chunks:
        second.write(c)
    second.close()
    assert sum(c.n for _, c in read_replay_items(path)) == sum(c.n for c in chunks)
    with pytest.raises(ValueError, match="closed"):
        second.write(chunks[0])


def test_crafted_numbers_too_large_for_a_float_are_refused(tmp_path):
    from tui_optim import frames

    path, _ = record(tmp_path, name="01_lr_regimes")
    data = path.read_bytes()
    head = data[: data.index(b"\n") + 1]
    bad = b"".join(frames.encode({"trial": 0, "steps": 1, "status": "done", "diverged_at": None,
                                  "metrics": {"final.loss": 10 ** 400}, "seconds": 0}, []))
    p = tmp_path / "big.replay"
    p.write_bytes(head + bad + data[len(head):])
    with pytest.raises(ReplayError, match="byte .*damaged chunk record"):
        Replayer(p)
