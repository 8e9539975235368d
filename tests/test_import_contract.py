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
