"""What every test starts from: no theme or background hint from the terminal that runs it."""

import pytest


@pytest.fixture(autouse=True)
def _no_terminal_theme(monkeypatch):
    monkeypatch.delenv("COLORFGBG", raising=False)
    monkeypatch.delenv("TUI_OPTIM_THEME", raising=False)
