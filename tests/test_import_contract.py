"""The headless core never imports textual: DESIGN.md's arrows, checked in a fresh interpreter."""

import subprocess
import sys

CORE_MODULES = [
    "tui_optim.cli",
    "tui_optim.chunk",
    "tui_optim.scenario",
    "tui_optim.engine.surface_stepper",
    "tui_optim.runner",
    "tui_optim.summary",
    "tui_optim.replay",
    "tui_optim.headless",
    "tui_optim.expect",
    "tui_optim.trace",
]


def test_core_never_imports_textual():
    code = (
        "import sys\n"
        f"for m in {CORE_MODULES!r}: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext', 'textual_plotext'))\n"
        "print(' '.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_engine_depends_on_nothing_of_ours():
    code = (
        "import sys\n"
        "import tui_optim.engine.surface_stepper\n"
        "ours = sorted(m for m in sys.modules if m.startswith('tui_optim.') "
        "and not m.startswith('tui_optim.engine'))\n"
        "print(' '.join(ours))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_static_import_contracts_hold():
    """pyproject.toml's import-linter contracts (every import in every module, lazy ones
    included): the engine imports nothing of ours, the scenario layer no numba, the runner
    no screen, and nothing but the ui draws."""
    from pathlib import Path

    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_the_scenario_layer_has_no_import_cycle():
    """builtin.py only locates files; the listing that loads them lives in browse.py."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).parent.parent / "tui_optim/scenario/builtin.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "tui_optim.scenario.loader" not in imported
