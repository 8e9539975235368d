"""The key bar: every key of the screen with what it does, wrapped between items (never
inside one), so at 80 columns all keys stay readable."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


def key_text(items: list[tuple[str, str]], width: int) -> Text:
    out = Text(no_wrap=True)
    col = 0
    for key, what in items:
        n = len(key) + 1 + len(what)
        if col and col + 1 + n > width:
            out.append("\n")
            col = 0
        elif col:
            out.append(" ")
            col += 1
        out.append(key, style="bold reverse")
        out.append(" " + what)
        col += n
    return out


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        height: auto;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, items: list[tuple[str, str]], **kw) -> None:
        super().__init__(**kw)
        self.items = items

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(key_text(self.items, max(1, width)).plain.split("\n"))

    def render(self) -> Text:
        return key_text(self.items, max(1, self.content_size.width))
