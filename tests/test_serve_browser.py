"""`tui-optim serve` in a real browser: Debian's headless Chromium, driven by Playwright.

`make test` installs Chromium (Debian's `chromium` package) before the suite runs; nothing is
downloaded here. What the browser shows is read from the xterm.js terminal's own text buffer.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

# textual-serve's page keeps its xterm.js Terminal in a closure. Its constructor assigns
# `this.terminal` and then `this.fitAddon`: a setter for `fitAddon` on Object.prototype sees
# that object once, and keeps its terminal for the test to read.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "fitAddon", {configurable: true, set(value) {
  Object.defineProperty(this, "fitAddon", {value, writable: true, configurable: true});
  if (this.terminal && this.terminal.buffer) window.__terminal = this.terminal;
}});
window.__screenText = () => {
  const t = window.__terminal;
  if (!t) return "";
  const b = t.buffer.active, rows = [];
  for (let i = 0; i < b.length; i++) rows.push(b.getLine(i).translateToString(true));
  return rows.join("\\n");
};
"""


@pytest.fixture
def server(tmp_path: Path):
    """`tui-optim serve` on a free port, in its own process group; yields (process, url)."""
    assert CHROMIUM, "Debian's chromium is not installed: `make test` installs it"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_optim", "serve", "03_momentum_ravine", "--port", "0",
         "--screenshots", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    first = proc.stdout.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", first)
    assert match, f"serve said: {first!r}"
    try:
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _dashboards(pgid: int) -> int:
    """The visitors' dashboard processes in the server's process group."""
    n = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if os.getpgid(int(entry.name)) == pgid and cmd[:4] == [
                    sys.executable.encode(), b"-m", b"tui_optim", b"--theme"]:
                n += 1
        except (OSError, ProcessLookupError):
            pass
    return n


def _group_gone(pgid: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_the_dashboard_draws_in_a_browser_answers_keys_and_the_server_stops_cleanly(server, tmp_path):
    proc, url = server
    saved_in = tmp_path
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800},
                                          accept_downloads=True)
            downloads = []
            context.on("page", lambda tab: tab.on("download", lambda d: downloads.append(d)))
            page = context.new_page()
            page.add_init_script(CATCH_TERMINAL)
            page.goto(url)
            # the scenario's title, its explanation and the key bar, drawn by the dashboard
            page.wait_for_function("() => window.__screenText().includes('Momentum in a ravine')",
                                   timeout=60_000)
            text = page.evaluate("window.__screenText()")
            assert "tilted valley" in text and "quit" in text
            # ~100 columns of 1280 px: the terminal fills the page, as the key bar's width shows
            assert max(len(row) for row in text.splitlines()) >= 100

            picture = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
            colors = picture.getcolors(maxcolors=1 << 20)
            assert colors is not None and len(colors) > 50, "the page looks blank"

            page.click(".xterm-screen")
            page.keyboard.press("?")
            page.wait_for_function("() => window.__screenText().includes('help:')", timeout=30_000)
            assert "halve / double ε" in page.evaluate("window.__screenText()")
            page.keyboard.press("Escape")
            page.wait_for_function("() => !window.__screenText().includes('help:')",
                                   timeout=30_000)

            # s: the pictures are saved on the server and downloaded by the browser
            # (what the files are, not the message: a 6 s toast on a loaded machine can come and
            # go between two looks; the message itself is tested with Pilot, test_ui_keys)
            page.keyboard.press("s")
            deadline = time.monotonic() + 90
            while len(downloads) < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            names = sorted(d.suggested_filename for d in downloads)
            assert sorted(p.name for p in saved_in.iterdir()) == names
            assert [Path(n).suffix for n in names] == [".png", ".svg"]
            svg = next(d for d in downloads if d.suggested_filename.endswith(".svg"))
            assert Path(svg.path()).read_bytes() == (saved_in / svg.suggested_filename).read_bytes()
        finally:
            browser.close()
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert "stopping the server" in proc.stdout.read()
    assert _group_gone(proc.pid, time.monotonic() + 10), "a dashboard outlived the server"


def test_each_browser_tab_gets_its_own_dashboard(server):
    proc, url = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            pages = [browser.new_page(viewport={"width": 1024, "height": 700}) for _ in range(2)]
            for page, query in zip(pages, ("", "?fontsize=32")):     # the second for a projector
                page.add_init_script(CATCH_TERMINAL)
                page.goto(url + query)
                page.wait_for_function(
                    "() => window.__screenText().includes('Momentum in a ravine')", timeout=60_000)
            pages[0].click(".xterm-screen")
            pages[0].keyboard.press("?")
            pages[0].wait_for_function("() => window.__screenText().includes('help:')",
                                       timeout=30_000)
            assert "help:" not in pages[1].evaluate("window.__screenText()")
            assert _dashboards(proc.pid) == 2
            cols = [page.evaluate("window.__terminal.cols") for page in pages]
            assert cols[1] < cols[0] * 0.6                 # twice the font: half the columns
        finally:
            browser.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert _group_gone(proc.pid, time.monotonic() + 10)


def test_a_busy_port_is_a_clear_error(tmp_path: Path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "tui_optim", "serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert f"cannot serve on 127.0.0.1 port {port}" in out.stderr and "Traceback" not in out.stderr
