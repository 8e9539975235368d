"""The runner: builds steppers for a scenario's runs and turns them into the chunk stream."""

from tui_optim.runner.pacing import SPEEDS, Pacer
from tui_optim.runner.session import RunInfo, Session, default_speed
from tui_optim.runner.source import Source

__all__ = ["SPEEDS", "Pacer", "RunInfo", "Session", "Source", "default_speed"]
