"""The one root of every error a user can cause, and how it is shown.

A scenario, a replay, a CSV data set, a claim, a command-line value, an output path, an address
to serve on: each kind of bad input is a `UserError` subclass, defined where it is detected.
cli.py prints every one in one place, as `tui-optim: MESSAGE` (or the error's own `FILE:LINE:`
lines), exit status 2, never a traceback. This module imports nothing, so every layer, the
engine included, may raise these.
"""


class UserError(Exception):
    """Bad input. `str(e)` is the whole message; `prefix` goes before it when printed."""

    prefix = "tui-optim: "

    def report(self) -> str:
        return f"{self.prefix}{self}"


class LocatedError(UserError):
    """An error whose lines already start with the place (`FILE:LINE: key.path: message`)."""

    prefix = ""


class BadInput(UserError):
    """A command-line value or combination that cannot work."""
