"""The built-ins as the browser and `tui-optim list` show them: each loaded, sorted by
curriculum order, a broken one listed with its error. (Apart from builtin.py, which only
locates files, so the loader can resolve names without importing this.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui_optim.scenario.builtin import builtin_paths
from tui_optim.scenario.errors import ScenarioError
from tui_optim.scenario.loader import load_scenario


@dataclass(frozen=True)
class BuiltinInfo:
    """One built-in scenario for the browser; `error` is set (and the rest guessed) when broken."""

    name: str
    path: Path
    title: str
    topic: str
    order: int
    error: str | None = None


def _raw_heading(path: Path, name: str) -> tuple[str, str, int]:
    """Title, topic and order of a broken file, as far as they can be read."""
    import tomllib

    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        doc = {}
    title, topic, order = doc.get("title"), doc.get("topic"), doc.get("order")
    return (title if isinstance(title, str) else name,
            topic if isinstance(topic, str) else "misc",
            order if isinstance(order, int) and not isinstance(order, bool) else 999)


def list_builtins() -> list[BuiltinInfo]:
    """All built-ins sorted by (order, name); a broken one is listed with its error."""
    infos = []
    for name, path in builtin_paths().items():
        try:
            s = load_scenario(path)
            infos.append(BuiltinInfo(name, path, s.title, s.topic, s.order))
        except ScenarioError as e:
            title, topic, order = _raw_heading(path, name)
            infos.append(BuiltinInfo(name, path, title, topic, order, str(e)))
    return sorted(infos, key=lambda b: (b.order, b.name))
