"""Where the dashboard saves what the user keeps (`s` pictures, `x` numbers), and how.

Everything goes into one folder: `--screenshots DIR`, else `tui-optim/` in the user's downloads
folder (never the current directory, which may be a repository). File names carry the
scenario's name and the time, and never replace an existing file. In a browser (`serve`) the
same files are also handed to the visitor's browser as downloads.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from platformdirs import user_downloads_dir

from tui_optim.outputs import write_bytes, write_text
from tui_optim.ui.svg import screen_lines, to_svg

PNG_ZOOM = 2.0          # pixels per SVG unit: a picture sharp enough for a slide


def default_folder() -> Path:
    return Path(user_downloads_dir()) / "tui-optim"


def new_paths(folder: Path, stem: str, *suffixes: str, when: float | None = None) -> list[Path]:
    """`folder/stem-YYYYmmdd-HHMMSS` + each suffix, with -2, -3, … until none of them exists.
    The names are reserved (created empty, exclusively) so two saves in the same second, in
    two workers, never pick the same one."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:60] or "tui-optim"
    base, n = f"{safe}-{stamp}", 2
    while True:
        paths = [folder / (base + s) for s in suffixes]
        made: list[Path] = []
        try:
            for p in paths:
                p.open("x").close()
                made.append(p)
            return paths
        except FileExistsError:
            for p in made:
                p.unlink(missing_ok=True)
            base, n = f"{safe}-{stamp}-{n}", n + 1


def screenshot_svg(app: Any, title: str) -> str:
    """The app's screen now, as an SVG that renders alike in any viewer (see ui/svg.py)."""
    return to_svg(screen_lines(app), title=title)


def svg_to_png(svg: str, path: Path) -> Path | None:
    """Rasterize with resvg (system fonts for the text); None when it cannot. In a child
    process: resvg holds the GIL for the whole call (0.9 s for a 120x40 screen, measured),
    which would freeze the screen meanwhile, and a panic in its Rust cannot end the dashboard."""
    if importlib.util.find_spec("resvg_py") is None:
        return None
    try:
        done = subprocess.run([sys.executable, "-P", "-c", _RASTERIZE, str(PNG_ZOOM)],
                              input=svg.encode("utf-8"), capture_output=True,
                              timeout=RASTER_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        return None             # no resvg here, or it refused this SVG
    write_bytes(path, done.stdout)
    return path


RASTER_SECONDS = 120.0    # a loaded machine's worst; a hung rasterizer must not hold the save
_RASTERIZE = """import sys, resvg_py
svg = sys.stdin.buffer.read().decode("utf-8")
sys.stdout.buffer.write(bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=float(sys.argv[1]))))"""


@dataclass(frozen=True)
class Saved:
    """What one key press wrote: the paths, for the message and the browser's downloads."""

    paths: tuple[Path, ...]

    def message(self, what: str) -> str:
        folder = self.paths[0].parent
        names = ", ".join(p.name for p in self.paths)
        return f"{what} saved to {folder}/: {names}"


def save_screenshot(svg: str, folder: Path, stem: str) -> Saved:
    """The SVG (and a PNG beside it when it can be rasterized)."""
    folder.mkdir(parents=True, exist_ok=True)
    svg_path, png_path = new_paths(folder, stem, ".svg", ".png")
    write_text(svg_path, svg)
    png = svg_to_png(svg, png_path)
    if png is None:
        png_path.unlink(missing_ok=True)        # the reserved name, left empty
    return Saved((svg_path,) + ((png,) if png else ()))


def save_numbers(runs: Sequence, verdicts, scenario: Any, folder: Path, stem: str,
                 trials: Sequence = (), **notes: Any) -> Saved:
    """The runs' series as CSV and the summary as JSON, the formats of headless --csv/--json;
    with trials, their results table too (headless --results)."""
    from tui_optim.report import write_csv, write_json, write_results

    folder.mkdir(parents=True, exist_ok=True)
    suffixes = (".csv", ".json") + ((".results.csv",) if trials else ())
    paths = new_paths(folder, stem, *suffixes)
    write_csv(runs, paths[0])
    write_json(runs, verdicts, scenario, paths[1], interrupted=False, **notes)
    if trials:
        write_results(trials, paths[2])
    return Saved(tuple(paths))
