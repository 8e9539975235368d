"""Scenario files: TOML (stdlib tomllib) into immutable, validated objects.

Every problem of a file is reported at once as `FILE:LINE: key.path: message`; defaults are
defined once, in keys.py / network_keys.py; sweeps expand here. See docs/scenario-format.md.
Imports neither numba nor textual.
"""

from tui_optim.scenario.browse import BuiltinInfo, list_builtins
from tui_optim.scenario.builtin import resolve_scenario_path
from tui_optim.scenario.errors import Problem, ScenarioError
from tui_optim.scenario.loader import load_scenario, load_scenario_text
from tui_optim.scenario.model import (
    ExpectSpec, FrozenDict, PaneSpec, ProblemSpec, RunSpec, Scenario,
)

__all__ = [
    "load_scenario", "load_scenario_text", "ScenarioError", "Problem", "Scenario", "RunSpec",
    "ProblemSpec", "PaneSpec", "ExpectSpec", "list_builtins", "resolve_scenario_path",
    "BuiltinInfo", "FrozenDict",
]
