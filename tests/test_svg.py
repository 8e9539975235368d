"""Screenshots that look the same anywhere: every glyph on its cell, plot glyphs as shapes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from PIL import Image
from rich.segment import Segment
from rich.style import Style

from tui_optim.ui.saving import PNG_ZOOM, svg_to_png
from tui_optim.ui.svg import CELL_H, CELL_W, to_svg

NS = {"s": "http://www.w3.org/2000/svg"}
RED = Style(color="#ff0000", bgcolor="#000000")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_each_glyph_is_centred_on_its_own_cell_whatever_the_font():
    # a wide character (2 cells) in the middle: the glyphs after it keep their cells
    svg = parse(to_svg([[Segment("ab", RED), Segment("界", RED), Segment("c d", RED)]]))
    texts = svg.findall(".//s:text", NS)
    xs = [float(v) for t in texts for v in t.get("x").split()]
    cells = [0, 1, 2, 4, 6]                       # a b 界(2 cells) c _ d
    widths = [1, 1, 2, 1, 1]
    assert "".join(t.text for t in texts) == "ab界cd"
    assert xs == [(c + w / 2) * CELL_W for c, w in zip(cells, widths)]
    assert svg.get("width") == str(7 * CELL_W) and svg.get("height") == str(CELL_H)


def test_plot_glyphs_are_shapes_not_text():
    svg = to_svg([[Segment("─│╭⣿▀█", RED)]])
    root = parse(svg)
    assert root.findall(".//s:text", NS) == []           # nothing left to a font
    (path,) = root.findall(".//s:path", NS)
    assert path.get("fill") == "#ff0000"
    assert path.get("d").count("z") == 2 + 2 + 2 + 8 + 1 + 1   # strokes, arms, dots, blocks


def test_the_svg_asks_for_nothing_from_the_network():
    svg = to_svg([[Segment("loss 1e-3 ⠁", RED)]], title="<a title> & more")
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "url(" not in svg and "@font-face" not in svg
    assert parse(svg).find("s:title", NS).text == "<a title> & more"


def test_braille_dots_land_on_their_pixels_in_the_png(tmp_path):
    # ⢁ is dots 1 and 8: top-left and bottom-right of the 2x4 grid
    svg = to_svg([[Segment("⢁", RED), Segment(" ", RED)]])
    png = svg_to_png(svg, tmp_path / "b.png")
    assert png is not None
    image = Image.open(png).convert("RGB")
    assert image.size == (2 * CELL_W * PNG_ZOOM, CELL_H * PNG_ZOOM)

    def at(col: float, row: float) -> tuple[int, int, int]:     # centre of a dot's slot
        return image.getpixel((int((col + 0.5) * CELL_W / 2 * PNG_ZOOM),
                               int((row + 0.5) * CELL_H / 4 * PNG_ZOOM)))

    assert at(0, 0) == (255, 0, 0) and at(1, 3) == (255, 0, 0)
    assert at(1, 0) == (0, 0, 0) and at(0, 3) == (0, 0, 0) and at(0, 1) == (0, 0, 0)


def test_box_lines_meet_across_cells_in_the_png(tmp_path):
    svg = to_svg([[Segment("╭──╮", RED)], [Segment("╰──╯", RED)]])
    image = Image.open(svg_to_png(svg, tmp_path / "box.png")).convert("RGB")
    mid_y = int(CELL_H / 2 * PNG_ZOOM)
    row = [image.getpixel((x, mid_y)) for x in range(int(CELL_W / 2 * PNG_ZOOM) + 1,
                                                     int(3.5 * CELL_W * PNG_ZOOM) - 1)]
    assert all(p == (255, 0, 0) for p in row), "the top edge has a gap"


def test_a_screenshot_of_the_dashboard_is_the_screen(tmp_path):
    import asyncio

    from test_ui_keys import make

    async def go():
        app, _ = make(save_dir=tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            from tui_optim.ui.saving import screenshot_svg
            svg = screenshot_svg(app, "Fake ravine")
        root = parse(svg)
        assert root.get("width") == str(80 * CELL_W) and root.get("height") == str(24 * CELL_H)
        text = " ".join(t.text for t in root.findall(".//s:text", NS))
        assert "Fake" in text and "ravine" in text and "quit" in text
        png = Image.open(svg_to_png(svg, tmp_path / "shot.png")).convert("RGB")
        assert len(png.getcolors(maxcolors=1 << 20)) > 20
    asyncio.run(go())


def test_two_saves_in_the_same_second_never_share_a_name(tmp_path):
    from tui_optim.ui.saving import new_paths

    first = new_paths(tmp_path, "ravine", ".svg", ".png", when=0.0)
    second = new_paths(tmp_path, "ravine", ".svg", ".png", when=0.0)   # before anything is written
    assert first[0] != second[0] and all(p.exists() for p in first + second)
    assert second[0].name.endswith("-2.svg")


def test_a_picture_resvg_refuses_is_saved_as_svg_alone(tmp_path):
    from tui_optim.ui.saving import save_screenshot

    assert svg_to_png("<svg this is not", tmp_path / "bad.png") is None
    assert not (tmp_path / "bad.png").exists()
    saved = save_screenshot("<svg this is not", tmp_path, "broken")
    assert [p.suffix for p in saved.paths] == [".svg"]
    assert sorted(p.suffix for p in tmp_path.iterdir() if p.name.startswith("broken")) == [".svg"]
