"""Every key of the run screen, driven with Pilot against the fake session (no engine)."""

from __future__ import annotations

import asyncio
from pathlib import Path


from test_ui_fakes import FakeSession, network_scenario, surface_scenario
from tui_optim.chunk import Chunk, Status
from tui_optim.ui.app import create_app
from tui_optim.ui.help import HelpScreen
from tui_optim.ui.run_screen import RunScreen


class Sink:
    """A recorder stand-in (the ChunkSink of runner/source.py): the chunks it was given, a
    STOPPED marker where a run was cut short, and whether it was closed."""

    def __init__(self) -> None:
        self.chunks, self.closed = [], False

    def write(self, chunk) -> None:
        self.chunks.append(chunk)

    def write_stopped(self, run: int) -> None:
        start = max((c.stop for c in self.chunks if c.run == run), default=0)
        self.chunks.append(Chunk(run, start, 0, {}, {}, Status.STOPPED))

    def close(self) -> None:
        self.closed = True


def make(scenario=None, *, speed=2000.0, steps=100_000, compile_seconds=0.0, **kw):
    scenario = scenario or surface_scenario(steps=steps, lrs=(0.01, 0.02, 0.03))
    made = []

    def source(sc):
        s = FakeSession(sc, speed=speed, compile_seconds=compile_seconds)
        made.append(s)
        return s

    app = create_app(scenario, make_source=source, **kw)
    return app, made


def run(coro):
    return asyncio.run(coro)


async def until(pilot, cond, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


def screen(app) -> RunScreen:
    assert isinstance(app.screen, RunScreen)
    return app.screen


def test_space_pauses_and_resumes():
    async def go():
        app, made = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: screen(app).trace.records(0) > 0)
            await pilot.press("space")
            assert made[0].paused
            await pilot.pause(0.2)
            n = screen(app).trace.records(0)
            await pilot.pause(0.3)
            assert screen(app).trace.records(0) <= n + 20   # at most the chunk in flight
            await pilot.press("space")
            assert not made[0].paused
    run(go())


def test_n_takes_one_step():
    async def go():
        app, made = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: screen(app).trace.records(0) > 0)
            await pilot.press("space")
            await pilot.pause(0.3)
            n = screen(app).trace.records(0)
            await pilot.press("n")
            assert await until(pilot, lambda: screen(app).trace.records(0) == n + 1)
            assert made[0].paused
    run(go())


def test_plus_minus_change_speed():
    async def go():
        app, made = make(speed=1000.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("plus")
            assert made[0].speed == 2000.0
            await pilot.press("minus")
            await pilot.press("minus")
            assert made[0].speed == 500.0
    run(go())


def test_r_restarts_with_a_fresh_source():
    async def go():
        app, made = make(speed=500.0)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: screen(app).trace.records(0) > 200)
            old, old_source = screen(app).trace, screen(app).source
            await pilot.press("r")
            assert old_source.pacer.stopped
            new = screen(app).source
            assert new is not old_source and new.scenario is old_source.scenario
            assert new.speed == old_source.speed == 500.0
            assert screen(app).trace is not old and screen(app).ctx.trace is screen(app).trace
            assert await until(pilot, lambda: screen(app).trace.records(0) > 0)
    run(go())


def test_brackets_scale_lr_of_the_selected_run():
    async def go():
        app, made = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("left_square_bracket")
            assert made[0].lr_scale(0) == 0.5
            await pilot.press("down")
            await pilot.press("right_square_bracket")
            assert made[0].lr_scale(1) == 2.0
            await pilot.press("3")
            assert screen(app).selected == 2
            await pilot.press("up")
            assert screen(app).selected == 1
            await pilot.press("right_square_bracket")
            assert made[0].lr_scale(1) == 4.0 and made[0].lr_scale(2) == 1.0
            await pilot.pause(0.2)
            legend = str(app.screen.query_one("#legend").render())
            assert "ε×4" in legend and "ε×0.5" in legend
    run(go())


def test_tab_moves_between_panes_and_f_zooms():
    async def go():
        app, _ = make()
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            panes = s.panes
            assert all(p.display for p in panes)
            await pilot.press("tab")
            assert s.current == 1 and panes[1].has_class("-current")
            await pilot.press("shift+tab")
            assert s.current == 0
            await pilot.press("tab")
            await pilot.press("f")
            assert s.has_class("-zoomed")
            assert [p.display for p in panes] == [False, True, False]
            await pilot.press("escape")           # esc leaves zoom too
            assert not s.has_class("-zoomed")
            await pilot.press("f")
            await pilot.press("f")
            assert all(p.display for p in panes)
    run(go())


def test_l_toggles_log_scale_of_the_current_pane():
    async def go():
        app, _ = make()
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            await pilot.press("tab")
            pane = s.panes[1]
            assert pane.log_scale
            await pilot.press("l")
            assert not pane.log_scale and pane.border_title == "loss"
            await pilot.press("l")
            assert pane.log_scale and pane.border_title == "loss · log"
    run(go())


def test_s_saves_a_picture_svg_and_png_and_says_where(tmp_path: Path):
    async def go():
        app, _ = make(save_dir=tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("s")          # (rasterizing takes a second, more on a busy machine)
            assert await until(pilot, lambda: getattr(app.screen, "last_saved", None) is not None,
                               timeout=60)
            svg, png = app.screen.last_saved.paths
            assert svg.suffix == ".svg" and svg.read_text().startswith("<svg")
            assert png.suffix == ".png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert any(str(tmp_path) in str(n.message) and svg.name in str(n.message)
                       for n in app._notifications)
            await pilot.press("s")      # a second picture never replaces the first
            assert await until(pilot, lambda: len(list(tmp_path.glob("*.svg"))) == 2, timeout=60)
    run(go())


def test_x_exports_the_runs_numbers_as_csv_and_json(tmp_path: Path):
    import csv
    import json

    async def go():
        app, made = make(save_dir=tmp_path, steps=300, speed=100_000.0)
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            assert await until(pilot, lambda: all(s.trace.status(i)[0] != Status.RUNNING
                                                  for i in range(3)), timeout=20)
            await pilot.press("x")
            assert await until(pilot, lambda: getattr(s, "last_saved", None) is not None,
                               timeout=60)
            csv_path, json_path = s.last_saved.paths
            rows = list(csv.DictReader(csv_path.open()))
            assert [r for r in rows if r["run"] == "0"][-1]["step"] == "299"
            assert len(rows) == 3 * 300              # every step of every run, headless's format
            assert float(rows[5]["loss"]) == s.trace.samples(0, "loss")[1][5]
            report = json.loads(json_path.read_text())
            assert report["resolution"] == "every step" and report["claims_checked"]
            assert [r["steps"] for r in report["runs"]] == [300, 300, 300]
            assert any(str(csv_path.name) in str(n.message) for n in app._notifications)
    run(go())


def test_an_unwritable_save_folder_is_a_message_not_a_crash(tmp_path: Path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")

    async def go():
        app, _ = make(save_dir=blocked / "inside")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("x")
            assert await until(pilot, lambda: any("cannot save" in str(n.message)
                                                  for n in app._notifications))
            assert app.is_running
    run(go())


def test_question_mark_opens_help_and_esc_closes_it():
    async def go():
        app, _ = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            text = " ".join(f"{k} {w}" for k, w in app.screen.items)
            for key in ("space", "restart", "zoom", "screenshot", "quit"):
                assert key in text
            await pilot.press("escape")
            assert isinstance(app.screen, RunScreen)
    run(go())


def test_e_toggles_the_full_explanation():
    async def go():
        app, _ = make()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e")
            assert screen(app).has_class("-explain-full")
            await pilot.press("e")
            assert not screen(app).has_class("-explain-full")
    run(go())


def test_q_quits_and_stops_the_engine():
    async def go():
        app, made = make()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("q")
            await pilot.pause(0.1)
        assert made[0].pacer.stopped
        assert app.return_code in (0, None)
    run(go())


def test_a_first_start_says_what_it_prepares_how_long_it_took_and_how_long_is_left():
    from tui_optim.runner.build import PREPARING, compile_estimate

    async def go():
        app, _ = make(compile_seconds=1.5)
        async with app.run_test(size=(120, 40)) as pilot:
            box = app.screen.query_one("#compiling")
            assert await until(pilot, lambda: box.display)
            label = str(app.screen.query_one("#compile-label").render())
            assert label.startswith(f"{PREPARING}: run ") and " of 3 · " in label
            took, left = label.split(" · ")[1].split(", ")
            assert took.endswith(" s") and float(took[:-2]) >= 0
            estimate = compile_estimate("surface")[0]
            assert left.startswith("about ") and left.endswith(" s left")
            assert abs(int(left.split()[1]) - (estimate - float(took[:-2]))) <= 1
            assert "preparing (first start)" in str(app.screen.query_one("#status").render())
            assert await until(pilot, lambda: not box.display, timeout=5)
    run(go())


def test_a_first_start_runs_interpreted_while_the_fast_kernels_are_prepared():
    """The dashboard's session starts its runs at once: the box says what is being prepared
    while the status says running and the steps go up; the box goes when the kernels are in."""
    from tui_optim.runner.build import PREPARING

    async def go():
        app, _ = make(compile_seconds=1.5)
        app.make_source = lambda sc: FakeSession(sc, speed=200.0, compile_seconds=1.5,
                                                 tiered=True)
        async with app.run_test(size=(80, 24)) as pilot:
            s = screen(app)
            box = s.query_one("#compiling")
            assert await until(pilot, lambda: box.display and s.trace.records(0) > 0)
            assert str(s.query_one("#compile-label").render()).startswith(PREPARING)
            status = str(s.query_one("#status").render())
            assert "running" in status and "preparing" not in status
            before = s.trace.records(0)
            assert await until(pilot, lambda: s.trace.records(0) > before and box.display)
            assert await until(pilot, lambda: not box.display, timeout=5)
            assert s.compiled_at is not None and not s.source.interpreted
    run(go())


def test_a_warm_start_says_nothing():
    async def go():
        app, _ = make(compile_seconds=0.6)
        made_warm = []

        def warm(sc):
            made_warm.append(FakeSession(sc, speed=2000.0, compile_seconds=0.6, cold=False))
            return made_warm[-1]
        app.make_source = warm
        async with app.run_test(size=(120, 40)) as pilot:
            box = app.screen.query_one("#compiling")
            seen = []
            for _ in range(20):                      # over the whole 0.6 s of loading
                seen.append(box.display)
                await pilot.pause(0.05)
            assert not any(seen) and made_warm and made_warm[0].compiled
    run(go())


def test_a_diverging_run_shows_its_status_and_the_app_keeps_running():
    async def go():
        app, _ = make(surface_scenario(steps=400, lrs=(0.02, 0.13)), speed=None)
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            assert await until(pilot, lambda: s.trace.status(1)[0] == Status.DIVERGED)
            assert await until(pilot, lambda: s.trace.status(0)[0] == Status.DONE)
            await pilot.pause(0.3)
            legend = str(s.query_one("#legend").render())
            at = s.trace.status(1)[1]
            assert f"diverged at step {at}" in legend
            assert "diverged" in str(s.query_one("#status").render())
            assert app.is_running
            await pilot.press("tab")          # still responsive
            assert s.current == 1
    run(go())


def test_small_terminals_show_two_panes_side_by_side_and_tab_slides_them():
    async def go():
        app, _ = make(network_scenario(steps=100_000))
        async with app.run_test(size=(80, 24)) as pilot:
            s = screen(app)
            await pilot.pause(0.2)
            assert s.has_class("-narrow")
            assert s.query_one("#tabs").display
            shown = [k for k, p in enumerate(s.panes) if p.display]
            assert shown == [0, 1]
            assert all(s.panes[k].content_size.width >= 30 for k in shown)
            await pilot.press("tab", "tab")
            assert s.current == 2 and [k for k, p in enumerate(s.panes) if p.display] == [2, 3]
            await pilot.press("f")            # zoom: the current pane alone
            assert [k for k, p in enumerate(s.panes) if p.display] == [2]
            await pilot.press("f")
            await pilot.resize_terminal(60, 24)   # too narrow for two: one at a time
            await pilot.pause(0.2)
            assert [k for k, p in enumerate(s.panes) if p.display] == [2]
            await pilot.resize_terminal(140, 45)
            await pilot.pause(0.2)
            assert not s.has_class("-narrow") and all(p.display for p in s.panes)
    run(go())


def test_panes_rebuild_only_when_their_data_changed():
    async def go():
        app, made = make(speed=None, steps=50)
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            await until(pilot, lambda: all(s.trace.status(i)[0] != Status.RUNNING for i in range(3)))
            await pilot.pause(0.5)
            counts = {}
            for p in s.panes:
                original = p.build

                def counting(w, h, p=p, original=original):
                    counts[p.id] = counts.get(p.id, 0) + 1
                    return original(w, h)
                p.build = counting
            await pilot.pause(0.6)       # six ticks, no new data
            assert counts == {}
    run(go())


def test_recorder_sink_gets_every_chunk():
    sinks: list = []

    def record():
        sinks.append(Sink())
        return sinks[-1]

    async def go():
        app, _ = make(speed=None, steps=30, record=record)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: sinks and sinks[0].closed)
    run(go())
    assert sinks[0].closed
    per_run = {}
    for c in sinks[0].chunks:
        per_run[c.run] = per_run.get(c.run, 0) + c.n
    assert per_run[0] == 30


def test_replay_source_is_accepted_and_lr_keys_say_it_is_fixed():
    class FakeReplayer(FakeSession):
        is_replay = True

        def __init__(self, path):
            super().__init__(surface_scenario(steps=200), speed=1000.0)
            self.path = path

        length, boundaries = 200, list(range(10, 201, 10))

        def reopen(self):
            return FakeReplayer(self.path)

        def scale_lr(self, run, factor):
            return 1.0

        def seek(self, record):
            pass

    async def go():
        app = create_app(replayer=FakeReplayer("x.replay"))
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            assert s.scenario.title == "Fake ravine"
            assert await until(pilot, lambda: s.trace.records(0) > 0)
            assert await until(pilot, lambda: "REPLAY" in str(s.query_one("#status").render()))
            await pilot.press("right_square_bracket")
            assert any("fixed" in str(n.message) for n in app._notifications)
            await pilot.press("r")
            assert isinstance(s.source, FakeReplayer) and s.source.path == "x.replay"
    run(go())


def test_no_color_draws_meaning_with_glyphs(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def go():
        app, _ = make(surface_scenario(steps=60), speed=None)
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            assert app.no_color and s.ctx.no_color
            await until(pilot, lambda: s.trace.status(0)[0] != Status.RUNNING)
            await pilot.pause(0.4)
            surface = s.panes[0]
            text = "".join(seg.text for line in surface._picture.rows for seg in line)
            assert "@" in text or "%" in text      # the density ramp shades the map
            assert "1" in text and "2" in text      # runs marked by their numbers
    run(go())


def test_stop_at_pauses_every_run_at_that_step():
    async def go():
        app, made = make(surface_scenario(steps=1000, lrs=(0.01, 0.02)), speed=None, stop_at=50)
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            assert await until(pilot, lambda: made[0].paused)
            await pilot.pause(0.2)
            assert [s.trace.records(i) for i in range(2)] == [50, 50]
    run(go())


def test_quitting_leaves_a_stopped_marker_for_every_unfinished_run():
    sinks: list[Sink] = []

    def record():
        sinks.append(Sink())
        return sinks[-1]

    async def go():
        app, _ = make(record=record)
        async with app.run_test(size=(120, 40)) as pilot:
            s = screen(app)
            assert await until(pilot, lambda: s.trace.records(0) > 50)
            await pilot.press("ctrl+c")
        return app.return_value

    assert run(go()) == 130
    (sink,) = sinks
    assert await_closed(sink)
    stopped = [c for c in sink.chunks if c.status == Status.STOPPED]
    assert sorted(c.run for c in stopped) == [0, 1, 2]
    for c in stopped:                  # each marker sits right after the run's last record
        before = [x for x in sink.chunks if x.run == c.run and x is not c]
        assert c.start == before[-1].stop


def await_closed(sink: Sink, timeout: float = 10.0) -> bool:
    """The engine thread writes the markers as it stops; wait for it without a fixed sleep."""
    import time

    deadline = time.monotonic() + timeout
    while not sink.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    return sink.closed


def test_one_key_table_binds_shows_and_explains_every_key():
    """Every key on the bar is bound, every bound key (but synonyms) is explained in help."""
    from tui_optim.ui import keys

    for table in (keys.RUN_KEYS, keys.BROWSER_KEYS):
        for row in table:
            if row.bar is not None:
                assert row.help is not None, row
        bound = {b.key for b in keys.bindings(table)}
        assert all(key in bound for row in table for key, _ in row.bindings)
    actions = {b.action for b in RunScreen.BINDINGS}
    for action in ("toggle_pause", "step", "faster", "slower", "restart", "zoom", "toggle_log",
                   "toggle_explanation", "screenshot", "export", "help", "quit", "interrupt", "back"):
        assert action in actions and callable(getattr(RunScreen, f"action_{action}")), action


def _recorded(tmp_path, steps=120):
    """A real recording of a small scenario (three momentum-ravine runs)."""
    from tui_optim.replay import Recorder
    from tui_optim.runner import Session
    from tui_optim.scenario import load_scenario

    scenario = load_scenario("03_momentum_ravine", steps=steps)
    path = tmp_path / "ravine.replay"
    with Recorder(path, scenario, steps=steps) as rec:
        for chunk in Session(scenario).chunks():
            rec.write(chunk)
    return path


def test_a_replay_scrubs_back_and_forth_by_chunk_to_its_ends_and_to_a_step(tmp_path):
    from tui_optim.replay import Replayer

    from tui_optim.summary import Summary

    path = _recorded(tmp_path)
    whole = Replayer(path)
    summary = Summary(whole.runs)
    for chunk in whole.chunks():
        summary.add(chunk)
    recorded_loss = summary.runs[0].series("loss")

    async def go():
        replayer = Replayer(path, speed=5.0)
        app = create_app(replayer=replayer)
        async with app.run_test(size=(100, 32)) as pilot:
            s = screen(app)
            at = lambda: [s.trace.records(i) for i in range(3)]   # noqa: E731
            await pilot.press("space")                             # paused from here on
            assert await until(pilot, lambda: s.source.paused)
            await pilot.press("end")
            assert await until(pilot, lambda: at() == [120] * 3)
            assert await until(pilot, lambda: "▏ 100%" in str(s.query_one("#status").render()))
            await pilot.press("home")
            assert await until(pilot, lambda: at() == [0] * 3 and s.source.paused)
            # ← / →: to the next chunk's end, at most 2 % (2 of 120 steps) at a time, also
            # when pressed faster than the replay catches up
            assert 2 < s.source.boundaries[0]
            await pilot.press("right")
            assert await until(pilot, lambda: at() == [2] * 3)
            await pilot.press("right", "right", "left")
            assert await until(pilot, lambda: at() == [4] * 3)
            await pilot.press("end", "left")
            tail = max(b for b in s.source.boundaries if b < 120)
            assert await until(pilot, lambda: at() == [max(tail, 118)] * 3)
            await pilot.press("g")
            await pilot.press(*"77", "enter")
            assert await until(pilot, lambda: at() == [77] * 3)
            assert s.source.paused and s.source.is_replay
            # what the screen holds is the recording's own record 76 (the 77th)
            assert s.trace.last(0, "loss") == recorded_loss[76]
    run(go())


def test_the_step_prompt_takes_only_a_step_in_range():
    from tui_optim.ui.prompt import StepPrompt

    async def go():
        app, _ = make()
        async with app.run_test(size=(100, 32)) as pilot:
            answers = []
            app.push_screen(StepPrompt(120, 5), answers.append)
            await pilot.pause(0.1)
            await pilot.press("minus", "enter")          # what an integer field lets through
            assert isinstance(app.screen, StepPrompt) and "not a step" in str(
                app.screen.query_one("Static").render())
            await pilot.press("backspace", "9", "9", "9", "enter")
            assert isinstance(app.screen, StepPrompt) and "not in 0 to 120" in str(
                app.screen.query_one("Static").render())
            for _ in range(3):
                await pilot.press("backspace")
            await pilot.press("4", "2", "enter")
            assert await until(pilot, lambda: answers == [42])
    run(go())
