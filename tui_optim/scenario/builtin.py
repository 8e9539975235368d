"""Locating the built-in scenarios: inside the installed package, or at the top of a checkout."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tui_optim.scenario.errors import Problem, ScenarioError
from tui_optim.scenario.specs import suggest


@dataclass(frozen=True)
class BuiltinInfo:
    """One built-in scenario for the browser; `error` is set (and the rest guessed) when broken."""

    name: str
    path: Path
    title: str
    topic: str
    order: int
    error: str | None = None


def builtin_dir() -> Path:
    """The wheel force-includes scenarios/ as tui_optim/scenarios; a checkout has it at the top."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "scenarios"
    if installed.is_dir():
        return installed
    return package.parent / "scenarios"


def builtin_paths() -> dict[str, Path]:
    d = builtin_dir()
    if not d.is_dir():
        return {}
    return {p.stem: p for p in sorted(d.glob("*.toml")) if p.is_file()}


def is_bare_name(name: str) -> bool:
    return not name.endswith(".toml") and "/" not in name and os.sep not in name \
        and (os.altsep is None or os.altsep not in name)


def resolve_scenario_path(path_or_name: str | Path) -> Path:
    """A file path as given, or the built-in of that name (no .toml, no path separator)."""
    if isinstance(path_or_name, Path) or not is_bare_name(str(path_or_name)):
        return Path(path_or_name)
    name = str(path_or_name)
    paths = builtin_paths()
    if name in paths:
        return paths[name]
    raise ScenarioError([Problem(name, None, "", f"no built-in scenario {name!r}"
                                 f"{suggest(name, list(paths))} (see `tui-optim list`)")])


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
    from tui_optim.scenario.loader import load_scenario

    infos = []
    for name, path in builtin_paths().items():
        try:
            s = load_scenario(path)
            infos.append(BuiltinInfo(name, path, s.title, s.topic, s.order))
        except ScenarioError as e:
            title, topic, order = _raw_heading(path, name)
            infos.append(BuiltinInfo(name, path, title, topic, order, str(e)))
    return sorted(infos, key=lambda b: (b.order, b.name))
