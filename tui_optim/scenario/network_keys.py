"""Keys of the `network` and `chain` problem types and their run keys, made from the catalog
(engine/catalog.py NETWORK_PROBLEM, NETWORK_RUN, CHAIN_PROBLEM, CHAIN_RUN).

`register` adds the run keys to keys.RUN_KEYS; the problem tables are read by the loader.
"""

from __future__ import annotations

from tui_optim.engine import catalog
from tui_optim.scenario.specs import PROBLEM_TYPES, REQUIRED, Key, Str, spec_of

DATASETS = catalog.DATASETS
REGRESSION_DATASETS = catalog.REGRESSION_DATASETS
ACTIVATIONS = tuple(catalog.codes(catalog.ACTIVATIONS))
LOSSES = tuple(catalog.codes(catalog.LOSSES))
INITS = tuple(catalog.codes(catalog.INITS))

_NET = frozenset({"network"})
_CHAIN = frozenset({"chain"})


def _table(params, problems: frozenset[str] | None = None, run: bool = False) -> dict[str, Key]:
    """Keys from the catalog's declarations. A function default of a run key depends on the
    problem table (the loss on the data set): it is handed the run's context's problem."""
    def default(p):
        if run and callable(p.default):
            return lambda ctx, f=p.default: f(ctx.problem)
        return p.default
    return {p.name: Key(p.name, spec_of(p), default(p), problems=problems) for p in params}


_TYPE = Key("type", Str(PROBLEM_TYPES), REQUIRED)
NETWORK_PROBLEM_KEYS: dict[str, Key] = {"type": _TYPE, **_table(catalog.NETWORK_PROBLEM)}
CHAIN_PROBLEM_KEYS: dict[str, Key] = {"type": _TYPE, **_table(catalog.CHAIN_PROBLEM)}
NETWORK_RUN_KEYS: dict[str, Key] = {**_table(catalog.NETWORK_RUN, _NET, run=True),
                                    **_table(catalog.CHAIN_RUN, _CHAIN, run=True)}


def register(run_keys: dict[str, Key]) -> None:
    """Add the network and chain run keys to the run key table."""
    run_keys.update(NETWORK_RUN_KEYS)
