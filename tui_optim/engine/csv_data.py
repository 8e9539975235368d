"""Reading a data set from CSV: numba-free, so `tui-optim check` validates the data (every
problem at its FILE:LINE) exactly as the run will read it."""

from __future__ import annotations

import csv
import math
import os
import stat

import numpy as np

from tui_optim.errors import UserError

MAX_CSV_BYTES = 64 * 2**20      # a data set for a teaching network; larger is a mistake


class DataError(UserError, ValueError):
    """A data set could not be built (bad CSV, unknown name); the message names the place."""


def _open(path: str):
    try:
        st = os.stat(path)
    except OSError as e:
        raise DataError(f"{path}: cannot read CSV file: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{path}: not a regular file (a CSV data set is a file)")
    if st.st_size > MAX_CSV_BYTES:
        raise DataError(f"{path}: {st.st_size / 2**20:.0f} MB is larger than the "
                        f"{MAX_CSV_BYTES // 2**20} MB a CSV data set may have")
    try:
        return open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read CSV file: {e.strerror}") from None


def read_csv(path: str, label: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(X, Y, classes): features from every column but `label`. Labels that are not numbers,
    or are all integers, are classes (sorted distinct values → 0..C−1, classes = C);
    otherwise regression targets (classes = 0). Only regular UTF-8 files up to
    MAX_CSV_BYTES: a device or a huge file is an error, not a hang."""
    fh = _open(path)
    try:
        return _parse(fh, path, label)
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    finally:
        fh.close()


def _parse(fh, path: str, label: str) -> tuple[np.ndarray, np.ndarray, int]:
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        raise DataError(f"{path}:1: empty CSV file (expected a header row)")
    header = [h.strip() for h in header]
    if label not in header:
        raise DataError(f"{path}:1: no column named {label!r} (columns: {', '.join(header)})")
    li = header.index(label)
    if len(header) < 2:
        raise DataError(f"{path}:1: no feature columns besides {label!r}")
    rows, labels = [], []
    for row in reader:
        line_no = reader.line_num         # the line a record ends on (quoted fields may span lines)
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{path}:{line_no}: expected {len(header)} fields, "
                            f"found {len(row)}")
        feats = []
        for j, cell in enumerate(row):
            if j == li:
                continue
            try:
                v = float(cell)
            except ValueError:
                raise DataError(f"{path}:{line_no}: column {header[j]!r}: {cell.strip()!r} "
                                f"is not a number") from None
            if not math.isfinite(v):
                raise DataError(f"{path}:{line_no}: column {header[j]!r}: {cell.strip()!r} "
                                f"is not finite")
            feats.append(v)
        if row[li].strip().lower() in ("nan", "inf", "+inf", "-inf", "infinity", "-infinity"):
            raise DataError(f"{path}:{line_no}: column {label!r}: {row[li].strip()!r} is not "
                            "a finite label")
        rows.append(feats)
        labels.append(row[li].strip())
    if not rows:
        raise DataError(f"{path}:2: no data rows")
    X = np.array(rows, dtype=np.float64).reshape(len(rows), len(header) - 1)
    try:
        vals = [float(s) for s in labels]
        numeric = True
    except ValueError:
        numeric = False
    if numeric and not all(v.is_integer() for v in vals):
        return X, np.array(vals)[:, None], 0
    keys = sorted(set(vals if numeric else labels))
    index = {k: i for i, k in enumerate(keys)}
    y = np.array([index[v] for v in (vals if numeric else labels)], dtype=np.float64)
    return X, y[:, None], len(keys)


