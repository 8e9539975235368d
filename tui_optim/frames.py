"""The binary frames of a version-3/4 recording: one per chunk (or trial outcome, or a run's
exact summary at reduced resolution), its arrays as their raw float64 bytes, so a recording
costs 8 bytes per value (4 per bucket at reduced resolution) and no text encoding.

A frame is a 14-byte head, `TF`, the payload's length and CRC-32, and the CRC-32 of those 10
bytes; then the payload: the length of a JSON description (run, start, n, status, the series'
names, the snapshots' dtypes and shapes), the JSON, and the arrays' bytes. Every byte is under
a checksum (checked when the file is opened and again when a chunk is read), so a changed
byte is found, never replayed; a frame cut short at the end of the file is a run cut off (a
crash mid-write). Reading keeps the descriptions and where each
frame's arrays are: a chunk's arrays are read from the file when it is replayed, so memory
stays flat however long the recording.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

import numpy as np

from tui_optim.chunk import Chunk, Outcome, Status, buckets
from tui_optim.summary import KeptSeries

MAGIC = b"TF"
_HEAD = struct.Struct("<2sII")          # magic, payload length, payload CRC
_HEAD_CRC = struct.Struct("<I")
HEAD_BYTES = _HEAD.size + _HEAD_CRC.size
_META_LEN = struct.Struct("<I")
MAX_META = 1 << 20                      # a description is a few hundred bytes


class FrameError(ValueError):
    """A frame whose bytes do not check out: the message says what, the reader adds where."""


def encode(meta: dict[str, Any], arrays: list[np.ndarray]) -> list[bytes | memoryview]:
    """The frame as the buffers to write, in order: the arrays' own memory, not copies
    (a recorder writes each chunk once, from a thread of its own)."""
    raw = json.dumps(meta, separators=(",", ":")).encode()
    parts: list[bytes | memoryview] = [_META_LEN.pack(len(raw)), raw]
    parts += [memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8)) for a in arrays]
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    head = _HEAD.pack(MAGIC, sum(len(p) for p in parts), crc)
    return [head + _HEAD_CRC.pack(zlib.crc32(head)), *parts]


def chunk_frame(chunk: Chunk) -> list[bytes | memoryview]:
    """A chunk's frame: each series' values (at reduced resolution, then its bands: the
    buckets' min, max and sum), then the snapshots."""
    series = [np.asarray(v, dtype=np.float64) for v in chunk.series.values()]
    if chunk.every > 1:
        series = [a for k, v in zip(chunk.series, series)
                  for a in (v, np.asarray(chunk.bands[k], dtype=np.float64))]
    snaps = {k: np.ascontiguousarray(v) for k, v in chunk.snapshots.items()}
    meta = {"run": chunk.run, "start": chunk.start, "n": chunk.n, "status": chunk.status.value,
            "diverged_at": chunk.diverged_at, "series": list(chunk.series),
            "snapshots": [[k, v.dtype.str, list(v.shape)] for k, v in snaps.items()]}
    if chunk.lr_scale != 1.0:
        meta["lr_scale"] = chunk.lr_scale
    if chunk.every > 1:
        meta["every"] = chunk.every
    if chunk.first:
        meta["first"] = chunk.first         # floats: JSON's NaN and Infinity as json writes them
    return encode(meta, [*series, *snaps.values()])


@dataclass(frozen=True, eq=False)
class Exact:
    """The exact summary of one run that a recording at reduced resolution carries, written
    when the run ended: what its claims read in a replay (summary.KeptSeries per series)."""

    run: int
    series: dict[str, KeptSeries]


def exact_frame(run: int, series: dict[str, KeptSeries]) -> list[bytes | memoryview]:
    described, arrays = [], []
    for name, kept in series.items():
        stats, head, tail = kept.state()
        described.append([name, stats, len(head), len(tail)])
        arrays += [head, tail]
    return encode({"exact": run, "series": described}, arrays)


def exact_from(meta: dict[str, Any], data: bytes) -> Exact:
    """An exact summary from its frame, its sizes checked against its bytes."""
    run = _int(meta, "exact")
    described = meta["series"]
    if not isinstance(described, list):
        raise FrameError("series must be a list")
    if not all(isinstance(d, list) and len(d) == 4 and all(
            isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in d[2:])
            for d in described):
        raise FrameError("a series needs a name, its statistics and its kept lengths")
    if 8 * sum(n_head + n_tail for _, _, n_head, n_tail in described) != len(data):
        raise FrameError("its arrays do not match its description")
    series, at = {}, 0
    for name, stats, n_head, n_tail in described:
        if not isinstance(name, str) or not isinstance(stats, dict):
            raise FrameError("a series needs a name and its statistics")
        head = np.frombuffer(data, np.float64, n_head, at)
        tail = np.frombuffer(data, np.float64, n_tail, at + 8 * n_head)
        at += 8 * (n_head + n_tail)
        series[name] = KeptSeries.restored(stats, head, tail)
    return Exact(run, series)


def outcome_frame(o: Outcome) -> list[bytes | memoryview]:
    return encode({"trial": o.trial, "steps": o.steps, "status": o.status.value,
                   "diverged_at": o.diverged_at, "metrics": o.metrics, "seconds": o.seconds}, [])


class Blob:
    """The open recording a replay reads its chunks' arrays from (kept open: a replay started
    over never opens the file again, even if it was removed meanwhile)."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self._lock = threading.Lock()

    def read(self, offset: int, size: int) -> bytes:
        """Up to `size` bytes at `offset` (fewer only at the end of the file)."""
        if not hasattr(os, "pread"):
            with self._lock:
                self.f.seek(offset)
                return self.f.read(size)
        parts, got = [], 0
        while got < size:               # one pread returns at most about 2 GB
            part = os.pread(self.f.fileno(), min(size - got, 1 << 30), offset + got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)


@dataclass(frozen=True, eq=False)
class ChunkRef:
    """A recorded chunk whose arrays are still on disk: `load()` reads them."""

    run: int
    start: int
    n: int
    status: Status
    diverged_at: int | None
    lr_scale: float
    names: tuple[str, ...]
    every: int
    first: dict[str, float]
    snapshot_specs: tuple[tuple[str, str, tuple[int, ...]], ...]
    blob: Blob = field(repr=False)
    offset: int = 0                     # where its frame's payload begins in the file
    length: int = 0                     # the payload's bytes
    crc: int = 0                        # and their CRC-32, checked again when loaded
    data_at: int = 0                    # where its arrays begin in the payload

    @property
    def stop(self) -> int:
        return self.start + self.n

    def load(self) -> Chunk:
        """The chunk with its arrays, read from the file and checked again (FrameError if the
        file changed since it was opened)."""
        payload = self.blob.read(self.offset, self.length)
        if len(payload) != self.length or zlib.crc32(payload) != self.crc:
            raise FrameError("the recording changed since it was opened")
        raw = payload[self.data_at:]
        per = _values_per_series(self.n, self.every)
        sizes = [8 * per] * len(self.names) + [
            np.dtype(dt).itemsize * math.prod(shape) for _, dt, shape in self.snapshot_specs]
        arrays, at = [], 0
        for size in sizes:
            arrays.append(raw[at:at + size])
            at += size
        values = [np.frombuffer(b, dtype=np.float64) for b in arrays[:len(self.names)]]
        series, bands = {}, {}
        for k, v in zip(self.names, values):
            series[k] = v if self.every == 1 else v[:len(v) // 4]
            if self.every > 1:
                bands[k] = v[len(v) // 4:].reshape(3, -1)
        snaps = {k: np.frombuffer(b, dtype=np.dtype(dt)).reshape(shape)
                 for (k, dt, shape), b in zip(self.snapshot_specs, arrays[len(self.names):])}
        return Chunk(self.run, self.start, self.n, series, snaps, self.status, self.diverged_at,
                     self.lr_scale, self.every, bands, self.first)


def _values_per_series(n: int, every: int) -> int:
    """Values a frame holds per series: n records, or 4 per bucket (last, min, max, sum)."""
    return n if every == 1 else 4 * buckets(n, every)


def _int(meta: dict[str, Any], key: str) -> int:
    v = meta[key]
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise FrameError(f"{key} must be a whole number >= 0")
    return v


def placed(meta: dict[str, Any]) -> tuple[int, int, int, int | None, float]:
    """(run, start, n, diverged_at, lr_scale) of a chunk's description (this frame's, or a
    version-2 line), their types checked (FrameError, a ValueError, otherwise)."""
    n, run, start = _int(meta, "n"), _int(meta, "run"), _int(meta, "start")
    diverged_at = meta.get("diverged_at")
    if diverged_at is not None:
        _int(meta, "diverged_at")
    scale = meta.get("lr_scale", 1.0)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale < math.inf:
        raise FrameError("lr_scale must be a number > 0")
    return run, start, n, diverged_at, float(scale)


def _ref(meta: dict[str, Any], data_len: int, blob: Blob, offset: int, length: int, crc: int,
         data_at: int) -> ChunkRef:
    """A chunk frame's description, its types and sizes checked against its bytes."""
    run, start, n, diverged_at, scale = placed(meta)
    names = meta["series"]
    specs = meta["snapshots"]
    if not isinstance(names, list) or not all(isinstance(k, str) for k in names):
        raise FrameError("series must be a list of names")
    if not isinstance(specs, list):
        raise FrameError("snapshots must be a list")
    checked = []
    for spec in specs:
        k, dt, shape = spec
        if not isinstance(k, str) or not isinstance(shape, list) or not all(
                isinstance(d, int) and d >= 0 for d in shape):
            raise FrameError("a snapshot needs a name, a dtype and a shape")
        if np.dtype(dt).kind not in "biuf":
            raise FrameError(f"snapshot {k!r} is not numbers")
        checked.append((k, np.dtype(dt).str, tuple(shape)))
    every = _int(meta, "every") if "every" in meta else 1
    if every < 1:
        raise FrameError("every must be a whole number >= 1")
    first = meta.get("first", {})
    if not isinstance(first, dict) or not all(
            k in names and isinstance(v, (int, float)) and not isinstance(v, bool)
            for k, v in first.items()):
        raise FrameError("first must be a table of the series' first values")
    size = 8 * _values_per_series(n, every) * len(names) + sum(
        np.dtype(dt).itemsize * math.prod(s) for _, dt, s in checked)
    if size != data_len:
        raise FrameError(f"its arrays are {data_len} bytes, its description says {size}")
    return ChunkRef(run, start, n, Status(meta["status"]), diverged_at, scale,
                    tuple(names), every, {k: float(v) for k, v in first.items()},
                    tuple(checked), blob, offset, length, crc, data_at)


def outcome_from(meta: dict[str, Any]) -> Outcome:
    """A trial's outcome from its description (this frame's, or a version-2 line), its types
    checked (FrameError, a ValueError, otherwise)."""
    metrics = meta["metrics"]
    if not isinstance(metrics, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
            for k, v in metrics.items()):
        raise FrameError("metrics must be a table of numbers")
    if meta.get("diverged_at") is not None:
        _int(meta, "diverged_at")
    seconds = meta.get("seconds", 0.0)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise FrameError("seconds must be a number")
    return Outcome(_int(meta, "trial"), _int(meta, "steps"), Status(meta["status"]),
                   {k: float(v) for k, v in metrics.items()}, meta.get("diverged_at"),
                   float(seconds))


def scan(blob: Blob, offset: int, end: int
         ) -> Iterator[tuple[int, ChunkRef | Outcome | Exact | None, str | None]]:
    """(offset, item, problem) for every frame from `offset` to `end`: item None and a problem
    for a frame that does not check out ("cut short" when it runs past the end)."""
    while offset < end:
        head = blob.read(offset, HEAD_BYTES)
        if len(head) < HEAD_BYTES:
            yield offset, None, "cut short"
            return
        magic, length, crc = _HEAD.unpack(head[:_HEAD.size])
        if magic != MAGIC or _HEAD_CRC.unpack(head[_HEAD.size:])[0] != zlib.crc32(head[:_HEAD.size]):
            # zeros to the end: what a power cut leaves after the last whole frame
            zeros = not blob.read(offset, end - offset).strip(b"\0")
            yield offset, None, "cut short" if zeros else "checksum mismatch: a changed byte"
            return
        if offset + HEAD_BYTES + length > end:
            yield offset, None, "cut short"
            return
        payload = blob.read(offset + HEAD_BYTES, length)
        if zlib.crc32(payload) != crc:
            last = offset + HEAD_BYTES + length == end     # a torn last write, as in versions 1-2
            yield offset, None, "cut short" if last else "checksum mismatch: a changed byte"
            return
        try:
            (meta_len,) = _META_LEN.unpack(payload[:_META_LEN.size])
            if meta_len > min(MAX_META, length - _META_LEN.size):
                raise FrameError("its description is longer than the frame")
            meta = json.loads(payload[_META_LEN.size:_META_LEN.size + meta_len])
            if not isinstance(meta, dict):
                raise FrameError("its description is not a table")
            data_at = _META_LEN.size + meta_len
            item = (outcome_from(meta) if "trial" in meta else
                    exact_from(meta, payload[data_at:]) if "exact" in meta else
                    _ref(meta, length - data_at, blob, offset + HEAD_BYTES, length, crc, data_at))
        except (FrameError, ValueError, KeyError, TypeError, struct.error, RecursionError,
                ArithmeticError) as e:
            yield offset, None, f"damaged chunk record ({e})"
            return
        yield offset, item, None
        offset += HEAD_BYTES + length
