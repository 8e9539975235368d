"""Recordings at reduced resolution: the replay draws what the live trace drew (spikes
included), its claims read the exact summary recorded with it, and a cut-off one says so."""

import numpy as np
import pytest

from tui_optim.chunk import Chunk, Status, note_lr_change
from tui_optim.expect import claim_tolerances, evaluate
from tui_optim.headless import drive
from tui_optim.reduce import Reducer, every_for
from tui_optim.replay import Recorder, Replayer, ReplayError, read_replay
from tui_optim.runner import Session
from tui_optim.scenario import load_scenario
from tui_optim.summary import KeptSeries, Summary
from tui_optim.trace import DEFAULT_CAPACITY, Series, Trace


def spiky(n, seed=0):
    """A decaying loss with one spike, a NaN and noise: what a picture must not lose."""
    rng = np.random.default_rng(seed)
    v = np.exp(-np.arange(n) / (n / 5)) * (1 + 0.1 * rng.standard_normal(n))
    v[n // 3 + 7] = 1e6
    v[n // 2 + 1] = np.nan
    return v


def bucket_bands(values, every):
    """(last, bands) of `values` in buckets of `every`, as one reducer makes them of one chunk."""
    reducer = Reducer(every, frame_buckets=max(1, -(-len(values) // every)))
    (chunk,) = reducer.fold(Chunk(0, 0, len(values), {"v": np.asarray(values)},
                                  status=Status.DONE))
    return chunk.series["v"], chunk.bands["v"]


def chunks_of(v, sizes, run=0, name="loss"):
    """v cut into chunks of the given sizes (cycled), the last one DONE."""
    out, at, i = [], 0, 0
    while at < len(v):
        n = min(sizes[i % len(sizes)], len(v) - at)
        out.append(Chunk(run, at, n, {name: v[at:at + n]},
                         status=Status.DONE if at + n == len(v) else Status.RUNNING))
        at, i = at + n, i + 1
    return out


@pytest.mark.parametrize("every", [1, 8, 64, 1000])
def test_reduced_chunks_are_the_buckets_of_the_whole_series_whatever_the_chunking(every):
    v = spiky(100_003)
    reducer = Reducer(every)
    got = [c for chunk in chunks_of(v, [977, 1, 5000, 63]) for c in reducer.fold(chunk)]
    assert all(c.start % every == 0 and c.every == every for c in got)
    assert [c.start for c in got[1:]] == [c.stop for c in got[:-1]] and got[-1].stop == len(v)
    assert got[-1].status == Status.DONE
    last = np.concatenate([c.series["loss"] for c in got])
    bands = np.concatenate([c.bands["loss"] for c in got], axis=1)
    want_last, want_bands = bucket_bands(v, every)
    np.testing.assert_array_equal(last, want_last)
    np.testing.assert_array_equal(bands[:2], want_bands[:2])
    np.testing.assert_allclose(bands[2], want_bands[2], rtol=1e-12)
    # by hand: the bucket holding the spike has it as its max; the last record is exact
    k = (len(v) // 3 + 7) // every
    assert bands[1, k] == 1e6 and last[-1] == v[-1]
    assert last[0] == v[every - 1]


@pytest.mark.parametrize("every", [1, 3, 4, 7, 64])
def test_the_bucket_kernel_is_numpys_fmin_fmax_and_sum_of_each_bucket(every):
    v = spiky(1001)
    v[:every] = np.nan                         # a bucket with nothing but NaN
    odd = [np.inf, -np.inf, np.nan, 2.0, -0.5, 7.0, 1e300][:every]
    v[every:every + len(odd)] = odd
    v[-every:] = np.inf                        # and one of +inf only
    last, bands = bucket_bands(v, every)
    for b, at in enumerate(range(0, len(v), every)):
        part = v[at:at + every]
        with np.errstate(invalid="ignore"):
            want = [np.fmin.reduce(part), np.fmax.reduce(part), np.sum(part)]
        np.testing.assert_array_equal([last[b], *bands[:2, b]], [part[-1], *want[:2]])
        np.testing.assert_allclose(bands[2, b], want[2], rtol=1e-13)


def test_a_live_change_of_lr_falls_on_its_bucket_and_frames_send_in_batches(monkeypatch):
    monkeypatch.setattr(Reducer, "FRAME_BUCKETS", 4)
    v = spiky(12_000)
    chunks = [Chunk(0, c.start, c.n, c.series, status=c.status,
                    lr_scale=1.0 if c.start < 5000 else 2.0) for c in chunks_of(v, [1000, 77])]
    reducer = Reducer(64)
    got = [c for chunk in chunks for c in reducer.fold(chunk)]
    changes = []
    for c in got:
        note_lr_change(changes, c)
    at = next(c.start for c in chunks if c.lr_scale == 2.0)
    assert changes == [(at // 64 * 64, 2.0)] and at % 64     # the change falls in its bucket
    assert [c.start for c in got[1:]] == [c.stop for c in got[:-1]] and got[-1].stop == 12_000
    np.testing.assert_array_equal(np.concatenate([c.series["loss"] for c in got]),
                                  bucket_bands(v, 64)[0])
    assert max(c.n for c in got[1:-1]) < 64 * (4 + 1000 // 64 + 1)


def test_the_trace_of_a_reduced_recording_is_the_live_trace_once_its_buckets_are_as_wide():
    v = spiky(200_000)
    live, reduced = Series(64), Series(64)
    for c in chunks_of(v, [3000, 17]):
        live.append(c.start, c.series["loss"])
    reducer = Reducer(32)
    for chunk in chunks_of(v, [999, 4096]):
        for c in reducer.fold(chunk):
            reduced.append(c.start, c.series["loss"], c.every, c.bands["loss"], c.n)
    assert live.width == reduced.width >= 32 and live.used == reduced.used
    u = live.used
    for name in ("count", "first", "min", "max", "last_in"):
        np.testing.assert_array_equal(getattr(live, name)[:u], getattr(reduced, name)[:u])
    np.testing.assert_allclose(live.sum[:u], reduced.sum[:u], rtol=1e-12)
    a, b = live.view(40), reduced.view(40)
    np.testing.assert_array_equal(a.hi, b.hi)
    assert np.nanmax(b.hi) == 1e6 and b.last == v[-1]


def test_the_default_records_every_step_up_to_a_million_then_about_half_a_million_buckets():
    assert every_for(10**6) == 1
    assert every_for(10**6 + 1) == 64           # a bucket's four numbers save 94 % at 64
    assert every_for(10**8) == 256 and 10**8 / 256 <= 1 << 19 < 10**8 / 128


def test_a_kept_series_state_reads_back_to_the_same_answers():
    v = spiky(50_000)
    k = KeptSeries(1000, 2000, tols=[0.5, 1e-3])
    for c in chunks_of(v, [777]):
        k.add(c.series["loss"])
    back = KeptSeries.restored(*k.state())
    for attr in KeptSeries.STATS:
        assert np.array_equal(getattr(back, attr), getattr(k, attr), equal_nan=True)
    assert back.below(0.5) == k.below(0.5) and back.below(1e-3) == k.below(1e-3)
    np.testing.assert_array_equal(back.window(0, 1000), k.window(0, 1000))
    np.testing.assert_array_equal(back.window(48_000, 50_000), k.window(48_000, 50_000))
    assert not back.complete


def record_both(path, name, every, **kw):
    """Record `name` at reduced resolution; return the live trace and summary beside it."""
    scenario = load_scenario(name, **kw)
    live_trace = Trace(len(scenario.runs))
    live = Summary(scenario.runs, tols=claim_tolerances(scenario.expects))
    with Recorder(path, scenario, every=every, **kw) as rec:
        for chunk in Session(scenario).chunks():
            rec.write(chunk)
            live.add(chunk)
            live_trace.ingest(chunk)
    return scenario, live, live_trace


def test_a_reduced_replay_draws_the_live_picture_and_checks_the_same_claims(tmp_path, capsys):
    path = tmp_path / "ravine.replay"
    scenario, live, live_trace = record_both(path, "03_momentum_ravine", 16, steps=20_000)
    replayer = Replayer(path)
    assert replayer.every == 16 and set(replayer.exact) == set(range(len(scenario.runs)))
    trace = Trace(len(replayer.runs))
    for chunk in replayer.chunks():
        trace.ingest(chunk)
    for run in range(len(scenario.runs)):
        assert trace.records(run) == live_trace.records(run) > 0
        assert trace.status(run) == live_trace.status(run)
        for name in live_trace.names(run):
            a, b = live_trace.view(run, name, 60), trace.view(run, name, 60)
            assert a.last == b.last
            assert trace.first(run, name) == live_trace.first(run, name)   # record 0, exact
            assert np.array_equal(np.nanmax(a.hi), np.nanmax(b.hi), equal_nan=True)
            assert np.array_equal(np.nanmin(a.lo), np.nanmin(b.lo), equal_nan=True)
            if trace.records(run) > DEFAULT_CAPACITY * 8:     # the live buckets are 16 wide
                np.testing.assert_array_equal(a.steps, b.steps)
                np.testing.assert_array_equal(a.lo, b.lo)
                np.testing.assert_array_equal(a.hi, b.hi)
    want = evaluate(scenario.expects, live.records_all)
    assert want and all(v.holds for v in want)
    assert drive(Replayer(path)) == 0
    out = capsys.readouterr().out
    assert "one value per 16 steps" in out
    for v in want:        # the very measurements of the live run, from the exact summary
        assert v.measured in out


def test_a_cut_off_reduced_recording_says_its_claims_cannot_be_checked(tmp_path, capsys):
    path = tmp_path / "cut.replay"
    scenario = load_scenario("03_momentum_ravine", steps=20_000)
    with Recorder(path, scenario, every=16, steps=20_000) as rec:
        for chunk in Session(scenario).chunks():
            if chunk.status != Status.RUNNING:
                break           # killed before any run ended: no exact summary written
            rec.write(chunk)
    replayer = Replayer(path)
    assert replayer.exact == {}
    assert drive(replayer) == 1
    out = capsys.readouterr().out
    assert "cut off" in out and "one value per 16 steps" in out
    assert "no exact summary of this run" in out and "not checked" in out


def test_a_reduced_chunk_in_buckets_the_header_does_not_name_is_refused(tmp_path):
    path = tmp_path / "r.replay"
    scenario = load_scenario("03_momentum_ravine", steps=2000)
    with Recorder(path, scenario, every=8, steps=2000) as rec:
        for chunk in Session(scenario).chunks():
            rec.write(chunk)
    raw = path.read_bytes()
    head, _, rest = raw.partition(b"\n")
    import json
    import zlib

    header = json.loads(head.split(b" ", 1)[1])
    header["every"] = 4
    body = json.dumps(header, separators=(",", ":"))
    path.write_bytes(f"{zlib.crc32(body.encode()):08x} {body}\n".encode() + rest)
    with pytest.raises(ReplayError, match="buckets of 8 from record 0; the recording's header "
                                          "says buckets of 4"):
        Replayer(path)
    assert read_replay(path)[0]["every"] == 4


def test_record_every_is_checked_on_the_command_line(tmp_path, capsys):
    from tui_optim.cli import main

    with pytest.raises(SystemExit) as e:
        main(["run", "03_momentum_ravine", "--headless", "--record", str(tmp_path / "x"),
              "--record-every", "0"])
    assert e.value.code == 2 and "expected a whole number >= 1 or full, got '0'" in \
        capsys.readouterr().err
    assert main(["run", "03_momentum_ravine", "--headless", "--record-every", "4"]) == 2
    assert "--record-every goes with --record FILE" in capsys.readouterr().err


def test_a_headless_recording_replays_to_the_same_report(tmp_path, capsys):
    """Headless, the recorder reads the exact summaries from the report's own (Recorder.share)."""
    from tui_optim.cli import main

    path = str(tmp_path / "r.replay")
    assert main(["run", "03_momentum_ravine", "--steps", "20000", "--headless",
                 "--record", path, "--record-every", "16"]) == 0
    live = capsys.readouterr().out
    assert main(["replay", path, "--headless"]) == 0
    replayed = capsys.readouterr().out
    claims = live[live.index("claims:"):]
    assert claims.count("PASS") >= 2 and replayed.endswith(claims)
    assert "one value per 16 steps" in replayed


def record_reduced(path, steps=20_000, every=16, name="03_momentum_ravine"):
    scenario = load_scenario(name, steps=steps)
    with Recorder(path, scenario, every=every, steps=steps) as rec:
        for chunk in Session(scenario).chunks():
            rec.write(chunk)
    return scenario


def test_a_cut_off_reduced_recording_still_gives_its_results_table(tmp_path, capsys):
    """--results on a reduced recording cut off before its exact summaries: each run's final
    record (a bucket's last record is exact), and no best value, instead of a crash."""
    import csv

    path = tmp_path / "cut.replay"
    scenario = load_scenario("03_momentum_ravine", steps=20_000)
    with Recorder(path, scenario, every=16, steps=20_000) as rec:
        for chunk in Session(scenario).chunks():
            if chunk.status != Status.RUNNING:
                break
            rec.write(chunk)
    last = {c.run: c.series["loss"][-1] for c in Replayer(path).chunks() if c.n}
    drive(Replayer(path), results_path=tmp_path / "r.csv")
    rows = list(csv.DictReader(open(tmp_path / "r.csv")))
    assert len(rows) == len(scenario.runs)
    for row in rows:
        run = int(row["run"])
        assert float(row["final_loss"]) == last[run] and row["best_loss"] == "nan"


def test_a_paced_reduced_replay_keeps_its_pace_though_it_plays_whole_buckets(tmp_path):
    """A grant of one record plays a whole bucket of 16: the runs then wait for the next 15
    grants, so the replay moves at its speed, not 16 times faster."""
    path = tmp_path / "r.replay"
    record_reduced(path, steps=2000)
    replayer = Replayer(path, speed=1e9)
    grants = [0]

    def one_record(n, should_stop):
        grants[0] += 1
        return 1

    replayer.pacer.grant = one_record
    played = {}
    for chunk in replayer.chunks():
        played[chunk.run] = chunk.stop
    assert set(played.values()) <= {2000} | set(range(2000)) and max(played.values()) == 2000
    assert 2000 - 16 <= grants[0] <= 2000 + 1


def test_an_overlay_of_reduced_recordings_keeps_both_exact_summaries(tmp_path):
    from tui_optim.replay import overlay

    a, b = tmp_path / "a.replay", tmp_path / "b.replay"
    scenario = record_reduced(a, steps=3000, every=16)
    record_reduced(b, steps=3000, every=32)
    both = overlay(Replayer(a), Replayer(b))
    n = len(scenario.runs)
    assert set(both.exact) == set(range(2 * n)) and both.every == 32
    assert both.exact[n]["loss"].final == Replayer(b).exact[0]["loss"].final


def test_an_interrupt_between_the_report_and_the_file_leaves_no_wrong_exact_summary(tmp_path):
    """Headless, the report's summary gets a chunk before the recorder does: if an interrupt
    falls between, the run's exact summary would count records the file does not hold, so it
    is not written (the replay says its claims are not checked)."""
    path = tmp_path / "r.replay"
    scenario = load_scenario("03_momentum_ravine", steps=20_000)
    summary = Summary(scenario.runs, tols=claim_tolerances(scenario.expects))
    with Recorder(path, scenario, every=16, steps=20_000) as rec:
        rec.share(summary)
        for chunk in Session(scenario).chunks():
            summary.add(chunk)
            if chunk.run == 0 and chunk.start > 0:
                break               # run 0's second chunk reached the report, not the file
            rec.write(chunk)
        for run in summary.runs:
            if run.status == Status.RUNNING.value:
                summary.add(Chunk(run.index, run.records, 0, {}, {}, Status.STOPPED))
                rec.write_stopped(run.index)
    exact = Replayer(path).exact
    assert 0 not in exact and set(exact) == set(range(1, len(scenario.runs)))


def test_buckets_wait_at_most_frame_seconds_so_a_crash_loses_little_of_a_slow_run(monkeypatch):
    """A network at 5 k steps a second fills FRAME_BUCKETS of 64 in 100 s: its buckets are sent
    once the oldest has waited FRAME_SECONDS, whatever their number."""
    v = spiky(10_000)
    reducer = Reducer(64)
    chunks = chunks_of(v, [640])
    assert len(reducer.fold(chunks[0])) == 1            # the first buckets go at once
    assert reducer.fold(chunks[1]) == []                # then they wait for more...
    monkeypatch.setattr(Reducer, "FRAME_SECONDS", 0.0)
    (sent,) = reducer.fold(chunks[2])                   # ...at most FRAME_SECONDS
    assert (sent.start, sent.n) == (640, 1280)
