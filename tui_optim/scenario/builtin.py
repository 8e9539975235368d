"""Locating the built-in scenarios: inside the installed package, or at the top of a checkout."""

from __future__ import annotations

import os
from pathlib import Path

from tui_optim.scenario.errors import Problem, ScenarioError
from tui_optim.scenario.specs import suggest


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
