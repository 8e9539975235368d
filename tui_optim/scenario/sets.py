"""`--set key=value` overrides, applied to the parsed TOML before validation.

`problem.noise=0.2`, `defaults.momentum=0.5`, `steps=100`, `runs[1].lr=0.3` write into the
document as if the file said so. A bare key that is not a top-level key (`lr=0.1`) is a run key for
every run: it wins over the runs' own and swept values (see loader). Values parse as TOML values,
falling back to a plain string (`optimizer=adam`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any, Sequence

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


@dataclass(frozen=True)
class SetItem:
    """One parsed `--set`: key path parts (names and list indices) and the value."""

    text: str
    path: str
    parts: tuple[str | int, ...]
    value: Any


def parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except Exception:
        return text


def parse_set(text: str) -> SetItem:
    """Parse `key.path=value`; raise ValueError with a message naming the problem."""
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"expected key=value, got {text!r}")
    key, _, value = text.partition("=")
    key = key.strip()
    parts: list[str | int] = []
    for piece in key.split("."):
        m = _PART.match(piece.strip())
        if not m:
            raise ValueError(f"bad key path {key!r} (expected e.g. lr, problem.noise, runs[1].lr)")
        parts.append(m.group(1))
        if m.group(2) is not None:
            parts.append(int(m.group(2)))
    path = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p)
                   for i, p in enumerate(parts))
    return SetItem(text, path, tuple(parts), parse_value(value.strip()))


def apply_set(doc: dict, item: SetItem) -> str | None:
    """Write `item` into `doc`; return an error message, or None."""
    node: Any = doc
    parts = item.parts
    for i, p in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(p, int):
            if not isinstance(node, list) or p >= len(node):
                n = len(node) if isinstance(node, list) else 0
                return f"no entry [{p}] (the file has {n})"
            node = node[p]
        else:
            if not isinstance(node, dict):
                return "cannot set a key inside a value that is not a table"
            if p not in node:
                if isinstance(nxt, int):
                    return f"no entry [{nxt}] (the file has none)"
                node[p] = {}
            node = node[p]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            return f"no entry [{last}]"
        node[last] = item.value
    else:
        if not isinstance(node, dict):
            return "cannot set a key inside a value that is not a table"
        node[last] = item.value
        # A set value wins over the same key's sweep in that run entry.
        sweep = node.get("sweep")
        control = ("mode", "count", "seed") if isinstance(sweep, dict) and \
            sweep.get("mode") == "random" else ("mode", "count")
        if isinstance(sweep, dict) and last in sweep and last not in control:
            del sweep[last]
            if all(k in ("mode", "count", "seed") for k in sweep):
                del node["sweep"]  # nothing left to vary
    return None


def parse_sets(texts: Sequence[str]) -> tuple[list[SetItem], list[tuple[str, str]]]:
    """Parse all `--set`s: (items, [(text, error)])."""
    items, errors = [], []
    for t in texts:
        try:
            items.append(parse_set(t))
        except ValueError as e:
            errors.append((str(t), str(e)))
    return items, errors
