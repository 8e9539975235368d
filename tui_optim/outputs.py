"""The files tui-optim writes (recordings, JSON and CSV reports): written under a hidden partial
name and renamed over the target only when complete, so a failed or cut-off run never destroys
an older file; and never an existing file, the scenario itself or one output twice, unless the
user says --force."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from tui_optim.errors import UserError


class OutputError(UserError, ValueError):
    """An output that cannot or must not be written; the message names the option and path."""


def partial_path(path: Path) -> Path:
    """Where a file is written until it is complete (then renamed over `path`)."""
    return path.with_name(f".{path.name}.partial")


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` all at once or not at all."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once or not at all."""
    with whole(path) as tmp:
        tmp.write_bytes(data)


@contextmanager
def whole(path: Path) -> Iterator[Path]:
    """The partial path to write `path` under: renamed over `path` when the block ends, removed
    if it raises (a failed or interrupted write never leaves half a file)."""
    tmp = partial_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_outputs(outputs: Iterable[tuple[Path | None, str]], *, inputs: Iterable[Path] = (),
                  force: bool = False) -> None:
    """Before anything runs: every output's folder exists and is writable, no output is an
    input or another output, and none exists unless `force`."""
    ins = {p.expanduser().resolve() for p in inputs}
    seen: dict[Path, str] = {}
    for path, what in outputs:
        if path is None:
            continue
        real = path.expanduser().resolve()
        parent = real.parent
        if real in ins:
            raise OutputError(f"{what} {path}: that is the input file itself")
        if real in seen:
            raise OutputError(f"{what} {path}: the same file as {seen[real]}")
        seen[real] = what
        if not parent.is_dir():
            raise OutputError(f"{what} {path}: folder {parent} does not exist")
        if real.is_dir():
            raise OutputError(f"{what} {path}: is a folder, expected a file name")
        if not os.access(parent, os.W_OK):
            raise OutputError(f"{what} {path}: folder {parent} is not writable")
        if real.exists() and not real.is_file():
            raise OutputError(f"{what} {path}: not a regular file (a device or a pipe is never "
                              "replaced)")
        if real.exists() and not force:
            raise OutputError(f"{what} {path}: the file exists (--force replaces it)")
