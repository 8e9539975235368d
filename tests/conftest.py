"""What every test starts from: no theme or background hint from the terminal that runs it,
and a cache folder of its own (the measured compile times are not the user's to change)."""

import pytest


@pytest.fixture(autouse=True)
def _no_terminal_theme(monkeypatch, tmp_path_factory):
    monkeypatch.delenv("COLORFGBG", raising=False)
    monkeypatch.delenv("TUI_OPTIM_THEME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
