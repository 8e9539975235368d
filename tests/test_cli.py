"""The command line as a user meets it: exit statuses, reports, clean errors, Ctrl-C."""

import csv
import json
import os
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_optim.cli import main

DATA = Path(__file__).parent / "data"


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "tui_optim", *map(str, args)],
                          capture_output=True, text=True, timeout=600, **kw)


def test_headless_run_reports_table_and_claims_and_writes_json_and_csv(tmp_path, capsys):
    js, cs = tmp_path / "r.json", tmp_path / "r.csv"
    assert main(["run", "01_lr_regimes", "--headless", "--json", str(js), "--csv", str(cs)]) == 0
    out = capsys.readouterr().out
    assert "claims: 5 of 5 hold" in out
    assert "2.1 η_opt" in out and "done" in out
    report = json.loads(js.read_text())
    assert report["ok"] is True and len(report["expect"]) == 5
    assert [r["label"] for r in report["runs"]][0] == "0.5 η_opt"
    rows = list(csv.DictReader(cs.open()))
    assert len(rows) == 5 * 20
    assert rows[1]["label"] == "0.5 η_opt" and rows[1]["step"] == "1"
    assert float(rows[1]["x.0"]) == 1.0  # w1 = (1 − 0.25·2)·2


def test_a_failed_claim_exits_1_and_shows_what_was_measured(capsys):
    assert main(["run", str(DATA / "diverge.toml"), "--headless"]) == 1
    out = capsys.readouterr().out
    assert "claims: 1 of 2 hold" in out
    assert "FAIL  a claim that is false" in out
    assert "diverged at step" in out


def test_set_and_steps_override_the_file(tmp_path):
    js = tmp_path / "r.json"
    assert main(["run", "01_lr_regimes", "--headless", "--steps", "5",
                 "--set", "runs[0].lr=0.5", "--json", str(js)]) in (0, 1)
    runs = json.loads(js.read_text())["runs"]
    assert all(r["steps"] == 5 for r in runs)


@pytest.mark.parametrize("args, needle", [
    (["run", "no_such_scenario", "--headless"], "no_such_scenario"),
    (["run", "01_lr_regimes", "--headless", "--set", "lrr=0.1"], "did you mean 'lr'"),
    (["run", "01_lr_regimes", "--headless", "--set", "lr=-1"], "lr"),
    (["run", "01_lr_regimes", "--headless", "--steps", "0"], "--steps"),
    (["run", "01_lr_regimes", "--headless", "--json", "/no/such/dir/r.json"], "/no/such/dir"),
    (["check", str(DATA / "diverge.toml"), "/no/such.toml"], "/no/such.toml"),
    (["replay", "/no/such.replay", "--headless"], "/no/such.replay"),
    (["serve", "no_such_scenario"], "no_such_scenario"),
    (["serve", "--port", "70000"], "--port"),
    (["serve", "--font-size", "1000"], "--font-size"),
    (["--theme", "sepia"], "unknown theme 'sepia'"),
    (["run", "01_lr_regimes", "--theme", "sepia"], "textual-light"),
    (["run", "01_lr_regimes", "--screenshots", str(DATA / "diverge.toml")], "not a folder"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, needle):
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_every_problem_of_a_file_with_lines(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\nsteps = -3\n[problem]\ntype = "surface"\nsurface = "rosenbrok"\n')
    result = cli("check", bad)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{bad}:2: steps:") for line in lines)
    assert any(f"{bad}:5: problem.surface:" in line and "rosenbrock" in line for line in lines)


def test_record_then_replay_headless_gives_the_same_report(tmp_path):
    rec, j1, j2 = tmp_path / "run.replay", tmp_path / "a.json", tmp_path / "b.json"
    assert main(["run", "03_momentum_ravine", "--headless", "--record", str(rec), "--json", str(j1)]) == 0
    assert main(["replay", str(rec), "--headless", "--json", str(j2)]) == 0
    a, b = json.loads(j1.read_text()), json.loads(j2.read_text())
    assert a["expect"] == b["expect"]
    assert [r["final_loss"] for r in a["runs"]] == [r["final_loss"] for r in b["runs"]]


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                         (signal.SIGHUP, 129)], ids=["INT", "TERM", "HUP"])
def test_a_signal_stops_cleanly_and_keeps_what_was_recorded(tmp_path, sig, status):
    from tui_optim.replay import partial_path

    rec, js = tmp_path / "run.replay", tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_optim", "run", "08_no_critical_points", "--headless",
         "--steps", "1000000000", "--record", str(rec), "--json", str(js)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Wait until the recording (still under its partial name) holds some chunks.
        partial = partial_path(rec)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and (
                not partial.exists() or partial.stat().st_size < 10_000):
            time.sleep(0.1)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == status, err
    assert "Traceback" not in err
    assert "interrupted" in out
    report = json.loads(js.read_text())
    assert report["interrupted"] is True and report["runs"][0]["steps"] > 0
    assert rec.exists() and not partial_path(rec).exists()     # renamed once complete
    replay = cli("replay", rec, "--headless")
    assert replay.returncode in (0, 1), replay.stderr
    assert "Traceback" not in replay.stderr and "cut off at" in replay.stdout
    assert "recording ends at step" in replay.stdout and "on a cut-off recording" in replay.stdout


def test_list_shows_every_builtin_grouped_by_topic():
    result = cli("list")
    assert result.returncode == 0
    assert "01_lr_regimes" in result.stdout and "learning rate" in result.stdout


def test_python_dash_m_and_help_work():
    result = cli("--help")
    assert result.returncode == 0 and "replay" in result.stdout


def test_outputs_never_destroy_work(tmp_path, capsys):
    """An existing file is kept unless --force; one path for two outputs, or the scenario's own
    path, is refused before anything runs."""
    js = tmp_path / "r.json"
    js.write_text("precious")
    assert main(["run", "01_lr_regimes", "--headless", "--json", str(js)]) == 2
    assert "exists (--force replaces it)" in capsys.readouterr().err and js.read_text() == "precious"
    assert main(["run", "01_lr_regimes", "--headless", "--json", str(js), "--force"]) == 0
    assert json.loads(js.read_text())["ok"] is True
    same = tmp_path / "same"
    assert main(["run", "01_lr_regimes", "--headless", "--json", str(same), "--csv", str(same)]) == 2
    assert "the same file as --json" in capsys.readouterr().err
    scenario = tmp_path / "mine.toml"
    scenario.write_text((DATA / "diverge.toml").read_text())
    assert main(["run", str(scenario), "--headless", "--record", str(scenario), "--force"]) == 2
    assert "the input file itself" in capsys.readouterr().err
    assert scenario.read_text() == (DATA / "diverge.toml").read_text()


def test_an_internal_error_is_one_line_with_its_own_status(monkeypatch, capsys):
    import tui_optim.cli as cli_mod

    def boom(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli_mod, "cmd_list", boom)
    assert main(["list"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError: a bug" in err
    assert "please report" in err


def test_no_escape_sequence_from_a_scenario_reaches_the_terminal(tmp_path):
    """A shared scenario's text could set the terminal's title, clear the screen or write the
    clipboard (OSC 52): every control character is shown as a symbol instead."""
    hostile = tmp_path / "hostile.toml"
    hostile.write_text(
        'title = "\\u001b]0;pwned\\u0007 title"\n'
        'explanation = "\\u001b[2J cleared \\u001b]52;c;cHduZWQ=\\u0007 \\r overwritten"\n'
        '[problem]\ntype = "surface"\nsurface = "quadratic"\neigenvalues = [1.0, 2.0]\n'
        '[[runs]]\noptimizer = "sgd"\nlabel = "\\u009b31m red"\nlr = 0.1\n'
        '[[expect]]\nclaim = "\\u001b[31m claim"\ncheck = "final(\'\\u009b31m red\', \'loss\') < 1"\n')
    result = cli("run", hostile, "--headless", "--steps", "20")
    assert result.returncode == 0, result.stderr
    for stream in (result.stdout, result.stderr):
        assert not any(c in stream for c in "\x1b\x07\x9b\r")
    assert "␛]0;pwned␇ title" in result.stdout
    from tui_optim.scenario import load_scenario

    s = load_scenario(hostile)
    assert "␛[2J cleared" in s.explanation and "\x1b" not in s.explanation
    assert s.runs[0].label == "\ufffd31m red"


def test_a_huge_label_width_is_an_error_not_500_mb(tmp_path):
    path = tmp_path / "wide.toml"
    path.write_text('title = "t"\n[problem]\ntype = "surface"\nsurface = "rosenbrock"\n'
                    '[[runs]]\noptimizer = "sgd"\nlabel = "{lr:>100000000}"\n')
    result = cli("check", path)
    assert result.returncode == 2 and len(result.stderr) < 500
    assert "width or precision above 120" in result.stderr


def test_a_network_too_big_for_memory_says_how_much_it_would_need(capsys):
    status = main(["check", str(Path(__file__).parent.parent / "scenarios" / "16_init_histograms.toml")])
    assert status == 0
    assert main(["run", "16_init_histograms", "--headless",
                 "--set", "layers=[4096, 4096, 4096, 4096, 4096]"]) == 2
    err = capsys.readouterr().err
    assert "would need about" in err and "GB" in err and "Traceback" not in err


def test_a_device_is_never_an_output(capsys):
    assert main(["run", "01_lr_regimes", "--headless", "--json", "/dev/full", "--force"]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("given, environ, theme", [
    (None, {}, "textual-dark"),
    (None, {"COLORFGBG": "0;15"}, "textual-light"),        # black on white
    (None, {"COLORFGBG": "15;default;0"}, "textual-dark"),
    (None, {"COLORFGBG": "0;7"}, "textual-light"),
    (None, {"TUI_OPTIM_THEME": "light", "COLORFGBG": "15;0"}, "textual-light"),
    ("dark", {"TUI_OPTIM_THEME": "light"}, "textual-dark"),
    ("nord", {}, "nord"),
])
def test_the_theme_follows_the_option_then_the_environment_then_the_terminal(given, environ, theme):
    from tui_optim.ui.app import resolve_theme

    assert resolve_theme(given, environ) == theme


def test_a_light_theme_draws_runs_in_the_light_palette():
    from tui_optim.ui import colors
    from tui_optim.ui.app import create_app

    create_app(theme="light")
    assert colors.run_color(0) == colors.LIGHT.runs[0]
    create_app(theme="solarized-dark")
    assert colors.run_color(0) == colors.DARK.runs[0]


def test_every_kind_of_bad_input_is_one_root_printed_by_one_handler(monkeypatch, capsys):
    import tui_optim.cli as cli_module
    from tui_optim.engine.csv_data import DataError
    from tui_optim.errors import BadInput, UserError
    from tui_optim.expect import EvalError
    from tui_optim.outputs import OutputError
    from tui_optim.replay import ReplayError
    from tui_optim.scenario.errors import Problem, ScenarioError
    from tui_optim.ui.serve import CannotServe

    cases = [
        (ScenarioError([Problem("s.toml", 3, "runs[0].lr", "expected > 0")]),
         "s.toml:3: runs[0].lr: expected > 0"),
        (ReplayError("r.replay: line 2: not JSON"), "r.replay: line 2: not JSON"),
        (DataError("d.csv:4: column 2: not a number"), "tui-optim: d.csv:4: column 2: not a number"),
        (EvalError("no run 'x'"), "tui-optim: no run 'x'"),
        (OutputError("--json r.json: exists"), "tui-optim: --json r.json: exists"),
        (CannotServe("cannot serve on 1.2.3.4 port 80"), "tui-optim: cannot serve on 1.2.3.4"),
        (BadInput("--steps: expected >= 1"), "tui-optim: --steps: expected >= 1"),
    ]
    assert all(isinstance(e, UserError) for e, _ in cases)
    for error, shown in cases:
        def fail(args, error=error):
            raise error
        monkeypatch.setattr(cli_module, "cmd_list", fail)
        assert main(["list"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(shown) and "Traceback" not in err


def test_results_are_one_row_per_run_with_its_hyperparameters_and_metrics(tmp_path):
    import pyarrow.parquet as pq

    out_csv, out_pq = tmp_path / "r.csv", tmp_path / "r.parquet"
    assert main(["run", "01_lr_regimes", "--headless", "--results", str(out_csv)]) == 0
    assert main(["run", "01_lr_regimes", "--headless", "--results", str(out_pq)]) == 0
    rows = list(csv.DictReader(out_csv.open()))
    table = pq.read_table(out_pq).to_pylist()
    assert [r["label"] for r in rows] == [r["label"] for r in table]
    assert len(rows) == 5 and {"lr", "optimizer", "seed", "final_loss", "best_loss", "status",
                               "steps", "seconds"} <= set(rows[0])
    lrs = sorted(float(r["lr"]) for r in rows)
    assert len(set(lrs)) == 5                       # the swept axis is a column
    for r, t in zip(rows, table):
        assert float(r["final_loss"]) == t["final_loss"]
        assert float(r["best_loss"]) <= float(r["final_loss"]) or math.isnan(float(r["final_loss"]))
        assert int(r["steps"]) == t["steps"] == 20 and r["status"] == "done"


def test_results_need_a_known_format(tmp_path, capsys):
    assert main(["run", "01_lr_regimes", "--headless", "--results", str(tmp_path / "r.xlsx")]) == 2
    assert "expected a file ending in .csv or .parquet" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["q", "hangup"])
def test_quitting_during_a_first_start_does_not_wait_for_the_compile(tmp_path, how):
    """A first start compiles in a process of its own: `q` (or an SSH drop) while it works
    ends the dashboard and that process, instead of waiting a minute for numba."""
    import pty
    import select

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cold-cache"), TERM="xterm-256color")
    pid, fd = pty.fork()
    if pid == 0:                                              # the child: the dashboard
        os.execve(sys.executable, [sys.executable, "-m", "tui_optim", "run", "17_batch_norm"], env)
    def read() -> bytes:
        try:
            return os.read(fd, 65536)
        except OSError:           # EIO: the dashboard has closed its terminal (it exited)
            return b""

    seen, deadline = b"", time.monotonic() + 300
    while b"preparing fast kernels" not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            seen = (seen + read())[-20000:]
    assert b"preparing fast kernels" in seen, "the first start never said what it prepares"
    if how == "q":
        os.write(fd, b"q")
    else:
        os.close(fd)
    pressed, status = time.monotonic(), None
    while status is None and time.monotonic() - pressed < 30:   # the compile takes > 40 s
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(raw)
        elif how == "q" and select.select([fd], [], [], 0.05)[0]:
            read()
        else:
            time.sleep(0.05)
    if status is None:
        os.kill(pid, signal.SIGKILL)
    assert status == (0 if how == "q" else 129)
    mark = f"NUMBA_CACHE_DIR={tmp_path / 'cold-cache'}".encode()

    def preparing() -> list[str]:                # this test's compile process, if it lives on
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and mark in (proc / "environ").read_bytes().split(b"\0") \
                        and b"tui_optim.runner.prepare" in (proc / "cmdline").read_bytes():
                    found.append(proc.name)
            except OSError:
                pass
        return found

    until = time.monotonic() + 10
    while preparing() and time.monotonic() < until:
        time.sleep(0.1)
    assert not preparing(), "the compile process outlived the dashboard"
