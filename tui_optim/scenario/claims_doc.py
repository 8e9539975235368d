"""docs/claims.md: for every built-in, what its explanation says and the claim that checks it
on the numbers the screen shows. Generated (`python -m tui_optim.scenario.claims_doc`), and a
test keeps the page equal to the scenarios."""

from __future__ import annotations

from tui_optim.scenario.browse import list_builtins
from tui_optim.scenario.loader import load_scenario

HEAD = """# What each built-in says, and the claim that checks it

Every behavioural sentence of a built-in's explanation is restated as an `[[expect]]` claim that
measures what its panes show (the swing across a valley, the longest jump, the sign flips, the
per-layer std), and `tui-optim run NAME --headless` checks them all (exit 1 if one fails). The
tests also put scenarios in the wrong regime and see the claims fail. Generated from
`scenarios/` by `python -m tui_optim.scenario.claims_doc > docs/claims.md`.

| scenario | what the screen shows (the claim) | how it is checked |
|---|---|---|
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def claims_table() -> str:
    rows = []
    for info in list_builtins():
        s = load_scenario(info.path)
        for k, e in enumerate(s.expects):
            name = f"`{info.name}` {s.title}" if k == 0 else ""
            rows.append(f"| {_cell(name)} | {_cell(e.claim)} | `{_cell(e.check)}` |")
    return HEAD + "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(claims_table(), end="")
