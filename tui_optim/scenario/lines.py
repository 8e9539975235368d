"""Key path -> line number, by scanning the TOML text.

tomllib gives values without positions, so problems found after parsing are placed by scanning
the text for table headers and `key =` lines. Paths look like `runs[2].lr`; a path with no line
of its own (an element of an array, a key inside an inline table) takes its nearest parent's.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _parse_key(s: str, i: int) -> tuple[list[str], int] | None:
    """Parse a dotted TOML key starting at s[i]; return its parts and the index after it."""
    parts: list[str] = []
    n = len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None
        if s[i] in "\"'":
            q = s[i]
            j = i + 1
            buf = []
            while j < n and s[j] != q:
                if q == '"' and s[j] == "\\" and j + 1 < n:
                    buf.append(s[j + 1])
                    j += 2
                    continue
                buf.append(s[j])
                j += 1
            if j >= n:
                return None
            parts.append("".join(buf))
            i = j + 1
        else:
            m = _BARE.match(s, i)
            if not m:
                return None
            parts.append(m.group())
            i = m.end()
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        return parts, i


def _skip_value(text: str, i: int) -> int:
    """Index just past the value starting at text[i] (handles strings, arrays, inline tables)."""
    n = len(text)
    depth = 0
    while i < n:
        c = text[i]
        if text.startswith('"""', i) or text.startswith("'''", i):
            q = text[i : i + 3]
            j = i + 3
            while j < n:
                if q == '"""' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(q, j):
                    j += 3
                    while j < n and text[j] == q[0]:  # up to two extra quotes belong to the string
                        j += 1
                    break
                j += 1
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                if c == '"' and text[j] == "\\":
                    j += 1
                j += 1
            i = j + 1
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "\n" and depth <= 0:
            return i
        i += 1
    return i


class LineMap:
    """Line of each key path defined in a TOML text (1-based)."""

    def __init__(self, text: str):
        self.lines: dict[str, int] = {}
        try:
            self._scan(text)
        except Exception:  # the map is a nicety: a text it cannot follow just gives fewer lines
            pass

    def _resolve(self, parts: list[str]) -> str:
        """Path of a header's parts, indexing arrays of tables at their latest element."""
        path = ""
        for p in parts:
            path = f"{path}.{p}" if path else p
            if path in self._aot:
                path = f"{path}[{self._aot[path]}]"
        return path

    def _scan(self, text: str) -> None:
        self._aot: dict[str, int] = {}
        prefix = ""
        i, n = 0, len(text)
        line_starts = [0]
        for k, c in enumerate(text):
            if c == "\n":
                line_starts.append(k + 1)

        def line_at(pos: int) -> int:
            import bisect

            return bisect.bisect_right(line_starts, pos)

        while i < n:
            while i < n and text[i] in " \t\r\n":
                i += 1
            if i >= n:
                break
            c = text[i]
            if c == "#":
                while i < n and text[i] != "\n":
                    i += 1
                continue
            if text.startswith("[[", i):
                parsed = _parse_key(text, i + 2)
                if parsed:
                    parts, _ = parsed
                    parent = self._resolve(parts[:-1])
                    base = f"{parent}.{parts[-1]}" if parent else parts[-1]
                    self._aot[base] = self._aot.get(base, -1) + 1
                    # forget arrays nested in the previous element
                    for k in [k for k in self._aot if k.startswith(base + "[")]:
                        del self._aot[k]
                    prefix = f"{base}[{self._aot[base]}]"
                    self.lines.setdefault(prefix, line_at(i))
            elif c == "[":
                parsed = _parse_key(text, i + 1)
                if parsed:
                    prefix = self._resolve(parsed[0])
                    self.lines.setdefault(prefix, line_at(i))
            else:
                parsed = _parse_key(text, i)
                if parsed:
                    parts, j = parsed
                    path = prefix
                    for p in parts:
                        path = f"{path}.{p}" if path else p
                        self.lines.setdefault(path, line_at(i))
                    if j < n and text[j] == "=":
                        i = _skip_value(text, j + 1)
                        continue
            while i < n and text[i] != "\n":
                i += 1

    def line_of(self, path: str) -> int | None:
        """Line of `path`, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                return None
            path = path[:cut]
        return None
