"""The catalog (engine/catalog.py) is the one vocabulary: the scenario layer, the engine and
the screen agree with it."""

from __future__ import annotations

import pytest

from tui_optim.engine import catalog
from tui_optim.scenario import load_scenario_text

HEAD = 'title = "t"\n[problem]\ntype = "surface"\nsurface = "quadratic"\neigenvalues = [1.0, 2.0]\n'


@pytest.mark.parametrize("optimizer", [o.name for o in catalog.OPTIMIZERS])
def test_a_run_resolves_every_key_of_its_optimizer_to_the_catalog_default(optimizer):
    entry = catalog.by_name(catalog.OPTIMIZERS)[optimizer]
    values = load_scenario_text(HEAD + f'[[runs]]\noptimizer = "{optimizer}"\n', "t.toml").runs[0].values
    for p in entry.params:
        assert values[p.name] == p.default, p.name
    others = {p.name for o in catalog.OPTIMIZERS for p in o.params} - {p.name for p in entry.params}
    assert not others & {k for k, v in values.items() if v is not None}


def test_the_engine_takes_its_parameters_from_the_catalog():
    from tui_optim.engine import optimizers as O
    from tui_optim.engine.schedules import schedule_params

    code, op = O.optimizer_params({"optimizer": "rmsprop"})
    assert code == catalog.by_name(catalog.OPTIMIZERS)["rmsprop"].code
    assert op[O.LR] == 0.01 and op[O.RHO] == 0.9 and op[O.DELTA] == 1e-6
    assert schedule_params({"name": "cosine"}, 300)[1].tolist() == [0.0, 0.0, 300.0]
    with pytest.raises(ValueError, match="schedule 'step' needs 'every'"):
        schedule_params({"name": "step"}, 300)


def test_every_pane_kind_has_one_widget_and_one_key_table():
    from tui_optim.scenario.panes import PANE_KEYS
    from tui_optim.ui.panes import KINDS

    kinds = [p.kind for p in catalog.PANES]
    assert list(KINDS) == kinds and list(PANE_KEYS) == kinds


def test_network_names_and_codes_are_the_catalogs():
    from tui_optim.engine.network import codes
    from tui_optim.scenario import network_keys

    for table, engine, scenario in ((catalog.ACTIVATIONS, codes.ACTIVATIONS, network_keys.ACTIVATIONS),
                                    (catalog.LOSSES, codes.LOSSES, network_keys.LOSSES),
                                    (catalog.INITS, codes.INITS, network_keys.INITS)):
        assert engine == catalog.codes(table) and set(scenario) == set(engine)


@pytest.mark.parametrize("surface", [s for s in catalog.SURFACES if s.start is not None],
                         ids=lambda s: s.name)
def test_a_fixed_start_is_the_one_the_engine_uses(surface):
    from tui_optim.engine.surface_specs import build_surface

    assert tuple(build_surface({"surface": surface.name}).start) == surface.start
    sc = load_scenario_text(f'title = "t"\n[problem]\ntype = "surface"\nsurface = "{surface.name}"\n',
                            "t.toml")
    assert sc.runs[0].values["start"] == surface.start


def test_fast_paths_and_closed_forms_are_the_catalogs():
    from tui_optim.engine import optimizers as O
    from tui_optim.engine.surface_kernel import FAST_PATHS, _is_2d
    from tui_optim.engine.surfaces import TWO_D_CODES

    assert set(FAST_PATHS) == {o.code for o in catalog.OPTIMIZERS if o.fast_path}
    assert {O.SGD} == set(FAST_PATHS)
    for s in catalog.SURFACES:
        assert _is_2d.py_func(s.code) == s.closed_form_2d == (s.code in TWO_D_CODES), s.name


@pytest.mark.parametrize("surface", [s for s in catalog.SURFACES if s.window is not None],
                         ids=lambda s: s.name)
def test_a_surface_without_a_given_window_is_drawn_in_the_catalogs(surface):
    from tui_optim.engine.surface_specs import build_surface

    spec = build_surface({"surface": surface.name})
    x0, x1, y0, y1 = surface.window
    assert tuple(spec.window[:2]) == (x0, x1)
    if surface.dim == 2:
        assert tuple(spec.window) == surface.window
