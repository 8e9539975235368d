"""docs/scenario-format.md's tables of optimizers, schedules, surfaces and panes, made from the
catalog (engine/catalog.py) and the pane keys. Each sits between `<!-- catalog:NAME -->` and
`<!-- /catalog:NAME -->`; `python -m tui_optim.scenario.catalog_doc` rewrites them in place, and
a test keeps the page equal to the catalog."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tui_optim.engine import catalog
from tui_optim.scenario.panes import PANE_KEYS

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _keys(params) -> str:
    parts = []
    for p in params:
        shown = p.shown_default()
        words = [] if shown == "derived" else [shown]
        if p.choices:
            words.append(" / ".join(f'"{c}"' for c in p.choices))
        if p.help:
            words.append(p.help)
        parts.append(f"`{p.name}`" + (f" ({'; '.join(words)})" if words else ""))
    return ", ".join(parts)


def _table(head: str, rows: list[tuple[str, ...]]) -> str:
    cols = head.count("|") - 1
    return "\n".join([head, "|" + "---|" * cols] + ["| " + " | ".join(_cell(c) for c in r) + " |"
                                                   for r in rows])


def tables() -> dict[str, str]:
    def pane_default(d) -> str:
        if d is None or d == ():
            return ""
        if isinstance(d, tuple):
            return f" ({list(d)})"
        return f' ("{d}")' if isinstance(d, str) else f" ({str(d).lower()})"

    return {
        "optimizers": _table(
            "| `optimizer` | keys (defaults) | update |",
            [(f"`{o.name}`", _keys(o.params), o.formula) for o in catalog.OPTIMIZERS]),
        "schedules": _table(
            "| name | keys (defaults) | ε(t) |",
            [(f"`{s.name}`", _keys(q for q in s.params if q is not catalog.WARMUP), s.formula)
             for s in catalog.SCHEDULES]),
        "surfaces": _table(
            "| `surface` | keys (defaults) | f |",
            [(f"`{s.name}`", _keys(s.params), s.formula) for s in catalog.SURFACES]),
        "panes": _table(
            "| `kind` | problems | keys (defaults) | shows |",
            [(f"`{p.kind}`", ", ".join(p.problems),
              ", ".join(f"`{k}`{pane_default(d)}" for k, (_, d) in PANE_KEYS[p.kind].items()),
              p.help) for p in catalog.PANES]),
    }


def update(text: str) -> str:
    """`text` with every catalog table replaced by the catalog's current one."""
    for name, table in tables().items():
        pattern = re.compile(rf"(<!-- catalog:{name} -->\n).*?(\n<!-- /catalog:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"{DOC.name} has no <!-- catalog:{name} --> section")
        text = pattern.sub(lambda m: m.group(1) + table + m.group(2), text)
    return text


if __name__ == "__main__":
    DOC.write_text(update(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {DOC}", file=sys.stderr)
