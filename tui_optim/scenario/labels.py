"""Run label templates: `"lr {lr:.2g}"` filled from the run's own values.

Only plain field names are allowed (no attribute or index access), so a template cannot reach
into objects; list values format element-wise ("[0.5, 1]").
"""

from __future__ import annotations

import re
import string
from typing import Any, Mapping, Sequence

from tui_optim.scenario.specs import is_number, suggest


def _format(value: Any, spec: str) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v, spec) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_format(v, spec)}" for k, v in value.items()) + "}"
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        if not is_number(value):
            return str(value)  # a number format on a string field: show the string
        raise


def fields(template: str) -> list[str]:
    """Field names of a template; ValueError if it is malformed."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


MAX_LABEL = 120        # characters: a label names a run in a legend, not a paragraph


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill the template; ValueError with a readable message on a bad field or format."""
    out = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"bad label template {template!r}: {e}") from None
    for literal, field, spec, conv in parsed:
        out.append(literal)
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"bad field {{{field}}} in label (use a run key, e.g. {{lr:.2g}})")
        if field not in values:
            raise ValueError(f"unknown field {{{field}}} in label"
                             f"{suggest(field, list(values))}")
        if spec and ("{" in spec):
            raise ValueError(f"nested fields are not allowed in a label: {{{field}:{spec}}}")
        if any(int(n) > MAX_LABEL for n in re.findall(r"\d+", spec or "")):
            raise ValueError(f"{{{field}:{spec[:20]}}}: a width or precision above {MAX_LABEL} "
                             "in a label")
        value = values[field]
        if conv == "r":
            value = repr(value)
        elif conv in ("s", "a"):
            value = str(value)
        try:
            out.append(_format(value, spec or ""))
        except (ValueError, TypeError) as e:
            raise ValueError(f"cannot format {{{field}:{spec}}} in label: {e}") from None
    label = "".join(out)
    if len(label) > MAX_LABEL:
        raise ValueError(f"the label is {len(label)} characters long; at most {MAX_LABEL}")
    return label


def default_template(optimizer: str, swept: Sequence[str], values: Mapping[str, Any]) -> str:
    """The optimizer name, plus `key=value` fields for each swept key."""
    if not swept:
        return optimizer
    parts = []
    for k in swept:
        v = values.get(k)
        spec = ":.3g" if is_number(v) or (isinstance(v, (list, tuple)) and all(map(is_number, v))) \
            else ""
        parts.append(f"{k}={{{k}{spec}}}" if k != "optimizer" else "{optimizer}")
    head = "" if "optimizer" in swept else optimizer + " "
    return head + " ".join(parts)
