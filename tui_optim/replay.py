"""Record the chunk stream to a file and feed it back, so a replay is the live run again.

Format (version 4): a header line ("CRC32 JSON": format, version, the scenario's full text and
the overrides it ran with, the runs, the resolution), then one binary frame per chunk or trial
outcome (frames.py: the arrays' raw bytes, every byte under a checksum). A long run is recorded
at reduced resolution (reduce.py: buckets of K records, each its last record, min, max and
sum) and, when it ends, with its exact summary, which its claims read in a replay. Each frame
is flushed as it is written (by a writer thread: a crash loses the few still queued), so a
crash or Ctrl-C leaves a readable prefix; the reader drops a torn last frame and says so. A
replay reads a chunk's arrays from the file when it plays it: memory stays flat. Versions 1
and 2 (JSON lines, arrays in base64) are still read.
"""

from __future__ import annotations

import base64
import zlib
import json
import os
import queue
import signal
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from tui_optim import frames
from tui_optim.errors import LocatedError
from tui_optim.outputs import partial_path
from tui_optim.chunk import Chunk, Outcome, Status, buckets
from tui_optim.expect import claim_tolerances
from tui_optim.reduce import Reducer, every_for
from tui_optim.summary import KEEP_RECORDS, RunSummary, Summary
from tui_optim.runner.pacing import PacedControls, Pacer
from tui_optim.runner.session import RunInfo, run_infos

FORMAT = "tui-optim-replay"
# 4: version 3, and recordings at reduced resolution (header "every" > 1: the buckets' last,
# min, max and sum, and each run's exact summary; reduce.py); 3: the header line, then binary
# frames (frames.py); 2: every line is "CRC32 JSON" (8 hex digits of zlib.crc32 of the JSON, a
# space, the JSON), arrays in base64; 1: plain JSON lines.
VERSION = 4
READS = (1, 2, 3, 4)


def encode_line(obj: dict[str, Any]) -> str:
    """A checksummed JSON line: a version-3 header, or any line of version 2."""
    payload = json.dumps(obj, separators=(",", ":"))
    return f"{zlib.crc32(payload.encode()):08x} {payload}\n"


def _checked(raw: bytes) -> bytes:
    """The JSON of a version-2 line; ValueError when its checksum does not match."""
    crc, sep, payload = raw.partition(b" ")
    if len(crc) != 8 or not sep or int(crc, 16) != zlib.crc32(payload):
        raise ValueError("checksum mismatch")
    return payload


class ReplayError(LocatedError):
    """A file that is not a readable replay; the message names the file and the problem."""


def _decode(d: dict[str, Any]) -> np.ndarray:
    raw = base64.b64decode(d["data"])
    return np.frombuffer(raw, dtype=np.dtype(d["dtype"])).reshape(d["shape"]).copy()


_DEFERRED = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)} \
    if hasattr(signal, "pthread_sigmask") else set()


class _Open(threading.Condition):
    """The partial files Recorders of this process are writing."""

    paths: set[Path]


_OPEN = _Open()
_OPEN.paths = set()


class Recorder:
    """Appends chunks to a replay file, one flushed frame each. The frames go to a hidden
    `.NAME.partial` beside it, renamed to NAME on close: a run that fails to start leaves an
    older recording intact, and one killed midway leaves its readable prefix in the partial.

    A thread of its own encodes, checksums and writes the frames (zlib and the file release
    the GIL), so on a second core recording costs the run little time; at most QUEUED chunks
    wait for it (a crash loses those). A write error is raised once, at the next write or at
    close. A second Recorder of the same file (a restart) waits for the first to close."""

    QUEUED = 8

    def __init__(self, path: str | Path, scenario: Any, *, sets=(), seed=None, steps=None,
                 every: int | None = None) -> None:
        """`every`: records per bucket at reduced resolution (reduce.py): 1 records every
        record; None, the default, every record unless a run is longer than
        reduce.FULL_UP_TO steps."""
        self.path = Path(path)
        self.every = every if every is not None else max(
            (every_for(r.steps) for r in scenario.runs), default=1)
        if self.every < 1:
            raise ValueError("every must be >= 1")
        # at reduced resolution, each run's buckets and the exact summary its claims will read
        self._reducers: dict[int, Reducer] = {}
        self._exact: dict[int, RunSummary] = {}
        self._tols = claim_tolerances(scenario.expects) if self.every > 1 else {}
        self._shared: Summary | None = None       # share()
        self._partial = partial_path(self.path)
        with _OPEN:                     # the same partial file: one writer at a time
            if not _OPEN.wait_for(lambda: self._partial.resolve() not in _OPEN.paths, 10.0):
                raise OSError(f"{self.path}: still being written by an earlier recording")
            self._f = open(self._partial, "wb")
            _OPEN.paths.add(self._partial.resolve())
        header = {
            "format": FORMAT,
            "version": VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "scenario": {
                "name": scenario.name,
                "file": str(scenario.path) if scenario.path else None,
                "text": scenario.source_text,
            },
            "overrides": {"sets": list(sets), "seed": seed, "steps": steps},
            "runs": [{"label": r.label, "group": r.group, "steps": r.steps} for r in scenario.runs],
            "trials": len(scenario.trials),
            "every": self.every,
        }
        self.chunks_written = 0
        self.next_start: dict[int, int] = {}      # per run: where its next chunk starts
        self._f.write(encode_line(header).encode())
        self._f.flush()
        self._queue: queue.Queue = queue.Queue(self.QUEUED)
        self._error: Exception | None = None
        self._writer = threading.Thread(target=self._drain, name="recorder", daemon=True)
        self._writer.start()

    def _drain(self) -> None:
        if _DEFERRED:       # Ctrl-C and the like go to the thread that records chunks
            signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                if isinstance(item, Outcome):
                    self._f.writelines(frames.outcome_frame(item))
                elif self.every == 1:
                    self._f.writelines(frames.chunk_frame(item))
                else:
                    self._reduced(item)
                self._f.flush()
            except Exception as e:      # raised to the writer at its next write or close
                self._error = e

    def _reduced(self, chunk: Chunk) -> None:
        """Write the buckets `chunk` completes; when its run has ended, the run's exact
        summary too (claims on the replay read it)."""
        if chunk.run not in self._reducers:
            self._reducers[chunk.run] = Reducer(self.every)
            if self._shared is None:
                self._exact[chunk.run] = RunSummary(chunk.run, "", "", {}, 0, tols=self._tols)
        if self._shared is None:
            self._exact[chunk.run].add(chunk)
        for reduced in self._reducers[chunk.run].fold(chunk):
            self._f.writelines(frames.chunk_frame(reduced))
        if chunk.status != Status.RUNNING:
            exact = (self._exact.pop(chunk.run) if self._shared is None
                     else self._shared.runs[chunk.run])
            # a shared summary can hold a chunk an interrupt kept from this file: then the
            # file holds no exact summary of the run (its claims are not checked), never a
            # wrong one
            if exact.records == chunk.stop:
                self._f.writelines(frames.exact_frame(chunk.run, exact.exact))
            del self._reducers[chunk.run]

    def share(self, summary: Summary) -> None:
        """Read each run's exact summary from `summary`, which the caller feeds every chunk
        before writing it (headless runs), instead of keeping a second one: when it keeps
        what this recording needs (flat, with the claims' tolerances)."""
        if self.every > 1 and all(r.keep == KEEP_RECORDS and r.tols == self._tols
                                  for r in summary.runs):
            self._shared = summary

    def _write(self, item: Chunk | Outcome) -> None:
        """Queue one chunk or outcome and do its bookkeeping: Ctrl-C, SIGTERM and SIGHUP wait
        until both are done (a signal between them would put the stopped marker in the wrong
        place)."""
        self._raise()
        if self._f.closed:
            raise ValueError(f"{self.path}: the recording is closed")
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED) if _DEFERRED else None
        try:
            self._queue.put(item)
            if isinstance(item, Chunk):
                self.chunks_written += 1
                self.next_start[item.run] = item.stop
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def write_stopped(self, run: int) -> None:
        """The stopped marker of a run, where this recording's own chunks of it end (an
        interrupt can fall between a chunk reaching the report and reaching the file)."""
        self.write(Chunk(run, self.next_start.get(run, 0), 0, {}, {}, Status.STOPPED))

    def write(self, chunk: Chunk | Outcome) -> None:
        self._write(chunk)

    def _raise(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            self._failed = True
            raise error

    def close(self) -> None:
        """Write what is queued, then give the file its name (not after a write error: the
        partial file keeps what was written). Signals wait meanwhile."""
        if self._f.closed:
            return
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED) if _DEFERRED else None
        try:
            self._queue.put(None)
            self._writer.join()
            self._f.close()
            self._raise()
            if not getattr(self, "_failed", False):
                os.replace(self._partial, self.path)
        finally:
            with _OPEN:         # only now may the next recorder of this file open its partial
                _OPEN.paths.discard(self._partial.resolve())
                _OPEN.notify_all()
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chunk_from(obj: dict[str, Any]) -> Chunk:
    """A chunk record, its types checked (anything else raises ValueError/KeyError/TypeError)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("series"), dict) \
            or not isinstance(obj.get("snapshots"), dict):
        raise ValueError("not a chunk record")
    if "diverged_at" not in obj:
        raise ValueError("not a chunk record")
    run, start, n, diverged_at, scale = frames.placed(obj)
    chunk = Chunk(
        run=run, start=start, n=n,
        series={k: _decode(v) for k, v in obj["series"].items()},
        snapshots={k: _decode(v) for k, v in obj["snapshots"].items()},
        status=Status(obj["status"]),
        diverged_at=diverged_at,
        lr_scale=scale,
    )
    if any(v.ndim != 1 or len(v) != n for v in chunk.series.values()):
        raise ValueError("a series of the wrong length")
    return chunk


def check_stream(path: Path, header: dict[str, Any], chunks: list[tuple[str, Any]],
                 steps: list[int], n_trials: int = 0) -> None:
    """Chunks that cannot come from a recording are refused with their place: a run index out
    of range, a start that is not where that run's last chunk stopped (a gap, a repeat), a
    trial out of range or recorded twice, records past a run's planned steps."""
    n_runs = len(steps)
    next_start = [0] * n_runs
    seen: set[int] = set()
    summarized: set[int] = set()
    every = header.get("every", 1)
    for where, c in chunks:
        if isinstance(c, frames.Exact):
            if not 0 <= c.run < n_runs or c.run in summarized:
                raise ReplayError(f"{where}: exact summary of run {c.run}: " + (
                    "recorded twice" if c.run in summarized else
                    f"the scenario has runs 0..{n_runs - 1}"))
            summarized.add(c.run)
            continue
        if isinstance(c, Outcome):
            if not 0 <= c.trial < n_trials or c.trial in seen:
                raise ReplayError(f"{where}: outcome of trial {c.trial}: "
                                  + ("recorded twice" if c.trial in seen else
                                     f"the scenario has {n_trials} trials"))
            seen.add(c.trial)
            continue
        if not 0 <= c.run < n_runs:
            raise ReplayError(f"{where}: chunk of run {c.run}; the scenario has runs "
                              f"0..{n_runs - 1}")
        if c.start != next_start[c.run]:
            raise ReplayError(f"{where}: chunk of run {c.run} starts at record {c.start}, "
                              f"expected {next_start[c.run]} (a gap or a repeated chunk)")
        if c.stop > steps[c.run]:
            raise ReplayError(f"{where}: chunk of run {c.run} ends at record {c.stop}; the run "
                              f"has {steps[c.run]} steps")
        if c.every != every or c.start % every or c.run in summarized:
            raise ReplayError(f"{where}: chunk of run {c.run} " + (
                "after the run's exact summary" if c.run in summarized else
                f"in buckets of {c.every} from record {c.start}; the recording's header says "
                f"buckets of {every}"))
        next_start[c.run] = c.stop


MAX_HEADER = 8 << 20        # the header line holds the scenario's text (at most 1 MB)


def read_replay(path: str | Path
                ) -> tuple[dict[str, Any], list[tuple[str, Chunk | frames.ChunkRef | Outcome]], bool]:
    """(header, (where, chunk) pairs, truncated): `where` names the line (versions 1, 2) or the
    byte (version 3) of each, for messages. A version-3 chunk is a ChunkRef whose arrays stay
    on disk. Raises ReplayError for a file that is not a replay, or whose header or chunks are
    damaged."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise ReplayError(f"{path}: not a regular file (a recording is a file)")
    try:
        f = open(path, "rb")
        first = f.readline(MAX_HEADER)
    except OSError as e:
        raise ReplayError(f"{path}: cannot read: {e.strerror or e}") from None
    first = first.rstrip(b"\n")
    checked = not first.startswith(b"{")            # version 1 lines are bare JSON
    try:
        header = json.loads(_checked(first) if checked else first)
    except (ValueError, UnicodeDecodeError, RecursionError):
        f.close()
        if checked and first[:8].isalnum() and b'"format":"tui-optim-replay"' in first:
            raise ReplayError(f"{path}:1: checksum mismatch: the header is damaged "
                              "(a changed byte)") from None
        raise ReplayError(f"{path}: not a tui-optim replay file (no header line)") from None
    version = header.get("version") if isinstance(header, dict) else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        f.close()
        raise ReplayError(f"{path}: not a tui-optim replay file")
    if version not in READS or (version >= 2) != checked:
        f.close()
        raise ReplayError(f"{path}: replay format version {version!r}; "
                          f"this tui-optim reads versions {', '.join(map(str, READS))}")
    scenario = header.get("scenario")
    if not isinstance(scenario, dict) or not isinstance(scenario.get("text"), str):
        f.close()
        raise ReplayError(f"{path}:1: the header holds no scenario text")
    if not isinstance(header.get("overrides", {}), dict):
        f.close()
        raise ReplayError(f"{path}:1: the header's overrides are not a table")
    every = header.get("every", 1)
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        f.close()
        raise ReplayError(f"{path}:1: the header's every is not a whole number >= 1")
    if version >= 3:
        return header, *_read_frames(path, f)
    rest = f.read()
    f.close()
    return header, *_read_lines(path, rest.split(b"\n"), checked)


def _read_frames(path: Path, f) -> tuple[list, bool]:
    blob = frames.Blob(f)
    start, end = f.tell(), os.fstat(f.fileno()).st_size
    items: list[tuple[str, Any]] = []
    for offset, item, problem in frames.scan(blob, start, end):
        if problem == "cut short":
            return items, True          # a crash mid-write: the prefix replays
        if problem is not None:
            raise ReplayError(f"{path}: byte {offset}: {problem}")
        items.append((f"{path}: byte {offset}", item))
    return items, False


def _read_lines(path: Path, body: list[bytes], checked: bool) -> tuple[list, bool]:
    """The chunk lines of versions 1 and 2 (base64 arrays in JSON), read whole."""
    chunks: list[tuple[str, Chunk | Outcome]] = []
    for i, line in enumerate(body):
        if not line.strip():
            continue
        try:
            obj = json.loads(_checked(line) if checked else line)
            chunks.append((f"{path}:{i + 2}", frames.outcome_from(obj)
                           if isinstance(obj, dict) and "trial" in obj else _chunk_from(obj)))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError,
                ArithmeticError) as e:
            # Only a torn last line is expected (crash mid-write); anything else is damage.
            if any(rest.strip() for rest in body[i + 1:]):
                what = ("checksum mismatch: a changed byte" if "checksum" in str(e)
                        else "damaged chunk record")
                raise ReplayError(f"{path}:{i + 2}: {what}") from None
            return chunks, True
    return chunks, False


class Replayer(PacedControls):
    """Feeds a recorded chunk stream back with the controls of a live Session.

    `scenario` is re-read from the text embedded in the file, so panes, titles and claims are
    those the run had. ε cannot change in a replay: `scale_lr` says so by returning 1.
    """

    def __init__(self, path: str | Path, *, speed: float | None = None) -> None:
        from tui_optim.scenario import load_scenario_text
        from tui_optim.scenario.specs import visible

        self.path = Path(path)
        self.header, lined, self.truncated = read_replay(self.path)
        sc = self.header["scenario"]
        ov = self.header.get("overrides", {})
        self.scenario = load_scenario_text(      # the header's file name is shown: made visible
            sc["text"], visible(str(sc.get("file") or sc.get("name") or self.path)),
            sets=ov.get("sets") or (), steps=ov.get("steps"), seed=ov.get("seed"),
        )
        try:
            check_stream(self.path, self.header, lined, [r.steps for r in self.scenario.runs],
                         len(self.scenario.trials))
        except ReplayError:
            for _, c in lined[:1]:          # the open file of a version-3 recording
                if isinstance(c, frames.ChunkRef):
                    c.blob.f.close()
            raise
        self._chunks = [c for _, c in lined if isinstance(c, (Chunk, frames.ChunkRef))]
        self._outcomes = [c for _, c in lined if isinstance(c, Outcome)]
        # a recording at reduced resolution: the exact summary of each run that ended
        self.every = self.header.get("every", 1)
        self.exact = {c.run: c.series for _, c in lined if isinstance(c, frames.Exact)}
        self.runs = run_infos(self.scenario.runs)
        self.trials = run_infos(self.scenario.trials)
        self._start(speed)

    def _start(self, speed: float | None) -> None:
        """At step 0, with what follows from the chunks: their length and chunk ends."""
        self.pacer = Pacer(speed)
        self._seek_to = 0
        self._scales: dict[int, float] = {}
        self.compute_seconds = [0.0] * len(self.runs)
        self.length = max((c.stop for c in self._chunks), default=0)
        self.boundaries = sorted({c.stop for c in self._chunks})   # where a recorded chunk ends

    is_replay = True
    interpreted = False

    def reopen(self) -> "Replayer":
        """The same recording from step 0, without reading the file again (it may have
        changed or gone since; a seek must not read a long recording again either)."""
        again = object.__new__(Replayer)
        again.__dict__.update(self.__dict__)
        again._start(self.speed)
        return again

    def compile(self, progress: Callable[[int, int, str], None] | None = None) -> None:
        if progress:
            progress(1, 1, "replay loaded")

    def scale_lr(self, run: int, factor: float) -> float:
        return 1.0

    def lr_scale(self, run: int) -> float:
        """The live ε scale the recording had at the records replayed so far."""
        return self._scales.get(run, 1.0)

    def seek(self, record: int) -> None:
        """Fast-forward: every record before `record` is emitted at once, without pacing."""
        self._seek_to = max(self._seek_to, record)


    def chunks(self, should_stop: Callable[[], bool] = lambda: False
               ) -> Iterator[Chunk | Outcome]:
        """Yield the trials' outcomes (at once: they were computed in bulk; STOPPED for a
        trial the recording does not hold, which was cut off), then the recording run by run
        in rounds, as a live session does, so at any speed every run moves together. On stop,
        unfinished runs get an empty STOPPED chunk."""
        yield from self._outcomes
        held = {o.trial for o in self._outcomes}
        for i in range(len(self.trials)):
            if i not in held:
                yield Outcome(i, 0, Status.STOPPED, {})
        queues: dict[int, deque[Chunk | frames.ChunkRef]] = {}
        for chunk in self._chunks:
            queues.setdefault(chunk.run, deque()).append(chunk)
        pos = {run: 0 for run in queues}  # records of the head chunk already emitted
        owed: dict[int, int] = {}         # records a run played beyond its grants (buckets)
        heads: dict[int, Chunk] = {}      # each run's head chunk, its arrays read from disk

        def head_of(run: int) -> Chunk:
            if run not in heads:
                c = queues[run][0]
                try:
                    heads[run] = c.load() if isinstance(c, frames.ChunkRef) else c
                except frames.FrameError as e:
                    raise ReplayError(f"{self.path}: {e}") from None
            return heads[run]

        while queues:
            behind = [r for r in queues if queues[r][0].start + pos[r] < self._seek_to]
            granted = None if behind else self.pacer.grant(1 << 20, should_stop)
            if granted == 0:
                for run, q in queues.items():
                    names = q[0].names if isinstance(q[0], frames.ChunkRef) else q[0].series
                    yield Chunk(run, q[0].start + pos[run], 0, {k: np.empty(0) for k in names},
                                {}, Status.STOPPED)
                return
            for run in list(queues):
                if granted is None:
                    budget = self._seek_to - queues[run][0].start - pos[run]
                    owed.pop(run, None)
                else:       # less what whole buckets took beyond earlier grants
                    budget = granted - owed.pop(run, 0)
                    if budget <= 0:
                        owed[run] = -budget
                        continue
                while budget >= 0 and run in queues:
                    head = head_of(run)
                    k = head.every          # a reduced chunk is played in whole buckets
                    n = min(buckets(budget, k) * k, head.n - pos[run])
                    if n == 0 and head.n > 0:
                        break
                    last = pos[run] + n >= head.n
                    first = head.start + pos[run] == 0
                    self._scales[run] = head.lr_scale
                    b0, b1 = pos[run] // k, buckets(pos[run] + n, k)
                    yield Chunk(
                        run, head.start + pos[run], n,
                        {name: v[b0:b1] for name, v in head.series.items()},
                        head.snapshots if (last or first) else {},
                        head.status if last else Status.RUNNING,
                        head.diverged_at if last else None,
                        head.lr_scale, k,
                        {name: v[:, b0:b1] for name, v in head.bands.items()},
                        head.first if first else {},
                    )
                    budget -= n
                    if last:
                        queues[run].popleft()
                        heads.pop(run, None)
                        pos[run] = 0
                        if not queues[run]:
                            del queues[run]
                    else:
                        pos[run] += n
                    if budget <= 0:
                        break
                if granted is not None and budget < 0:
                    owed[run] = -budget


def overlay(first: Replayer, second: Replayer) -> Replayer:
    """Two recordings of the same problem as one replay: the first's runs, then the second's,
    labelled with the file each came from, on the same panes. Recordings of different
    problems are refused (their maps and axes would not be the same)."""
    a, b = first.scenario, second.scenario
    if a.problem != b.problem:
        pa, pb = dict(a.problem.values), dict(b.problem.values)
        differ = sorted(k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k))
        raise ReplayError(f"{second.path}: not the problem of {first.path} (problem "
                          f"{', '.join(differ[:4]) or 'type'} differ); only recordings of the "
                          "same problem overlay")
    from dataclasses import replace

    if not (first.runs and second.runs):
        raise ReplayError(f"{first.path if not first.runs else second.path}: a sweep of trials "
                          "(runs kept as results) only; overlays show watched runs")
    offset = len(first.runs)
    both = first.reopen()
    both.truncated = first.truncated or second.truncated
    names = (first.path.stem, second.path.stem)
    if names[0] == names[1]:
        names = (str(first.path), str(second.path))
    both.runs = tuple(
        RunInfo(k, f"{r.label} · {name}", f"{r.group} · {name}", r.steps, r.values)
        for k, (r, name) in enumerate([(r, names[0]) for r in first.runs]
                                      + [(r, names[1]) for r in second.runs]))
    both._chunks = first._chunks + [replace(c, run=c.run + offset) for c in second._chunks]
    both.exact = {**first.exact, **{run + offset: s for run, s in second.exact.items()}}
    both.every = max(first.every, second.every)
    both.trials, both._outcomes = (), []       # trials are a sweep's table: not overlaid
    # the claims name one recording's runs: they are checked on each recording alone
    both.scenario = replace(a, title=f"{a.title}: {names[0]} and {names[1]}", expects=(),
                            trials=())
    both._start(first.speed)
    return both
