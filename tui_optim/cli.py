"""`tui-optim`: the command line. Exit status 0 ok, 1 an [expect] claim failed, 2 bad input,
130 / 143 / 129 interrupted (Ctrl-C, SIGTERM, SIGHUP), 70 an internal error (a bug: never 1).

Bad input (a scenario with problems, a missing file, an unwritable output) is reported in one
message per problem and never as a traceback. The Textual UI is imported only when a screen is
wanted, so headless use never loads textual.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tui_optim.errors import BadInput, UserError

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70      # EX_SOFTWARE: our bug, told apart from a failed claim (1)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tui-optim",
        description="Watch optimizers and small networks learn, live in the terminal. "
                    "With no command, opens the scenario browser.",
    )
    _screen_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario file or built-in (dashboard, or --headless)")
    run.add_argument("scenario", metavar="FILE|NAME")
    run.add_argument("--headless", action="store_true", help="no screen: report and check claims")
    run.add_argument("--record", metavar="FILE", type=Path, help="record the run for replay")
    run.add_argument("--record-every", metavar="K|full", type=_record_every,
                     help="record one bucket per K steps (its last value, min, max and sum, "
                          "and each run's exact summary for the claims); full: every step. "
                          "Default: every step, unless a run has over 10^6 steps")
    run.add_argument("--seed", type=int, metavar="N", help="master seed (overrides the file's)")
    run.add_argument("--steps", type=int, metavar="N", help="steps per run (overrides the file's)")
    run.add_argument("--workers", type=int, metavar="N",
                     help="trials (keep = \"result\") on a local Dask cluster of N worker "
                          "processes (default: a pool of local processes when worth it)")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="trials on a running Dask cluster (also TUI_OPTIM_SCHEDULER); its "
                          "workers need tui-optim installed")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="override a key, e.g. lr=0.1, runs[1].momentum=0.5 (repeatable)")
    _report_options(run)
    _screen_options(run, argparse.SUPPRESS)

    rep = sub.add_parser("replay", help="replay a recorded run (two: overlaid, same problem)")
    rep.add_argument("file", type=Path, metavar="FILE")
    rep.add_argument("other", type=Path, metavar="FILE2", nargs="?",
                     help="a second recording of the same problem, drawn on the same panes")
    rep.add_argument("--headless", action="store_true", help="no screen: report and check claims")
    _report_options(rep)
    _screen_options(rep, argparse.SUPPRESS)

    srv = sub.add_parser("serve", help="serve the dashboard to web browsers (each tab its own)")
    srv.add_argument("scenario", nargs="?", metavar="FILE|NAME",
                     help="open this scenario (default: the scenario browser)")
    srv.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default 127.0.0.1: this machine only)")
    srv.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free one)")
    srv.add_argument("--font-size", type=int, default=16, metavar="PX",
                     help="the page's font size (default 16; larger for a projector)")
    _screen_options(srv, argparse.SUPPRESS)

    sub.add_parser("list", help="list the built-in scenarios")

    chk = sub.add_parser("check", help="validate scenario files")
    chk.add_argument("files", nargs="+", metavar="FILE")

    sub.add_parser("prepare", help="compile every kernel now (once after installing): every "
                                   "scenario then starts at full speed")
    return p


def _record_every(text: str) -> int:
    if text == "full":
        return 1
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 or full, got {text!r}")
    return int(text)


def _screen_options(p: argparse.ArgumentParser, default=None) -> None:
    """Options of every command that shows the dashboard (given before or after the command)."""
    p.add_argument("--theme", metavar="NAME", default=default,
                   help="dark, light, auto (the default: follows the terminal where it says, "
                        "else dark) or a Textual theme name; also TUI_OPTIM_THEME")
    p.add_argument("--screenshots", type=Path, metavar="DIR", default=default,
                   help="folder for `s` pictures and `x` exports (default: tui-optim in your "
                        "downloads folder)")


def _dashboard_options(args: argparse.Namespace) -> dict:
    """The dashboard's theme and save folder, checked before anything starts."""
    from tui_optim.ui.app import resolve_theme

    try:
        theme = resolve_theme(args.theme)
    except ValueError as e:
        raise BadInput(f"--theme: {e}") from None
    folder = args.screenshots
    if folder is not None and folder.exists() and not folder.is_dir():
        raise BadInput(f"--screenshots {folder}: not a folder")
    return {"theme": theme, "save_dir": folder.resolve() if folder is not None else None}


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", type=Path, metavar="FILE", help="headless: write summary and verdicts")
    p.add_argument("--csv", type=Path, metavar="FILE", help="headless: write every per-step series")
    p.add_argument("--results", type=Path, metavar="FILE",
                   help="headless: one row per run (hyperparameters, final and best metrics, "
                        "status, steps, seconds) as .csv or .parquet")
    p.add_argument("--force", action="store_true",
                   help="replace existing output files (by default an existing file is kept)")


def _outputs(args: argparse.Namespace, inputs) -> None:
    """Every output checked before anything runs (nothing recorded is lost to a bad path)."""
    from tui_optim.outputs import check_outputs

    outs = [(getattr(args, "record", None), "--record"), (args.json, "--json"), (args.csv, "--csv"),
            (args.results, "--results")]
    check_outputs(outs, inputs=[p for p in inputs if p is not None], force=args.force)
    if args.results is not None:
        from tui_optim.report import RESULT_FORMATS

        suffix = args.results.suffix.lower()
        if suffix not in RESULT_FORMATS:
            raise BadInput(f"--results {args.results}: expected a file ending in "
                           f"{' or '.join(RESULT_FORMATS)}, got {suffix or 'no extension'!r}")
        if suffix == ".parquet":
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError:
                raise BadInput(f"--results {args.results}: Parquet needs pyarrow "
                               "(pip install pyarrow), or write .csv") from None


def _load(args: argparse.Namespace):
    from tui_optim.scenario import load_scenario

    if args.steps is not None and args.steps < 1:
        raise BadInput(f"--steps: expected a whole number >= 1, got {args.steps}")
    if args.seed is not None and args.seed < 0:
        raise BadInput(f"--seed: expected a whole number >= 0, got {args.seed}")
    return load_scenario(args.scenario, sets=args.sets, steps=args.steps, seed=args.seed)


def cmd_run(args: argparse.Namespace) -> int:
    from tui_optim.replay import Recorder
    from tui_optim.runner.executor import check_reachable, executor_spec

    if args.record_every is not None and args.record is None:
        raise BadInput("--record-every goes with --record FILE")
    scenario = _load(args)
    _outputs(args, [scenario.path])
    executor = executor_spec(args.scheduler, args.workers)
    if scenario.trials:         # where trials run: of no concern to a scenario without them
        check_reachable(executor)
    if not args.headless:
        if args.json or args.csv or args.results:
            raise BadInput("--json, --csv and --results go with --headless")
        from tui_optim.runner.session import Session, default_speed
        from tui_optim.ui.app import run_app

        return run_app(scenario=scenario, record=args.record,
                       record_overrides=dict(sets=args.sets, seed=args.seed, steps=args.steps,
                                             every=args.record_every),
                       make_source=lambda sc: Session(sc, speed=default_speed(sc),
                                                      executor=executor, tiered=True),
                       **_dashboard_options(args))
    from tui_optim.headless import drive, stop_on_signals
    from tui_optim.runner import Session

    stop_on_signals()
    recorder = None
    if args.record:
        recorder = Recorder(args.record, scenario, sets=args.sets, seed=args.seed, steps=args.steps,
                            every=args.record_every)
    return drive(Session(scenario, executor=executor), recorder=recorder, json_path=args.json,
                 csv_path=args.csv, results_path=args.results)


def cmd_replay(args: argparse.Namespace) -> int:
    from tui_optim.replay import Replayer, overlay

    _outputs(args, [args.file, args.other])
    replayer = Replayer(args.file)
    for path, one in ((args.file, replayer),) + (((args.other, Replayer(args.other)),)
                                                  if args.other else ()):
        if one.truncated:
            print(f"tui-optim: {path}: the recording ends mid-write (the run was cut off); "
                  "replaying what it holds", file=sys.stderr)
        if one is not replayer:
            replayer = overlay(replayer, one)
    if not args.headless:
        if args.json or args.csv or args.results:
            raise BadInput("--json, --csv and --results go with --headless")
        from tui_optim.ui.app import run_app

        return run_app(replayer=replayer, **_dashboard_options(args))
    from tui_optim.headless import drive, stop_on_signals

    stop_on_signals()
    return drive(replayer, json_path=args.json, csv_path=args.csv, results_path=args.results)


def cmd_serve(args: argparse.Namespace) -> int:
    """Each visitor's tab runs `tui-optim [run SCENARIO]` with this command's options."""
    import shlex

    from tui_optim.ui.serve import serve

    options = _dashboard_options(args)
    if not 0 <= args.port <= 65535:
        raise BadInput(f"--port: expected 0 to 65535, got {args.port}")
    if not 6 <= args.font_size <= 72:
        raise BadInput(f"--font-size: expected 6 to 72 (pixels), got {args.font_size}")
    command = [sys.executable, "-m", "tui_optim", "--theme", options["theme"]]
    if options["save_dir"] is not None:
        command += ["--screenshots", str(options["save_dir"])]
    title = "the scenario browser"
    if args.scenario is not None:
        from tui_optim.scenario import load_scenario

        scenario = load_scenario(args.scenario)      # a bad name fails here, not in every tab
        target = str(Path(scenario.path).resolve()) if scenario.path else args.scenario
        command += ["run", target]
        title = scenario.title
    return serve(shlex.join(command), host=args.host, port=args.port, title=title,
                 font_size=args.font_size)


def cmd_list(args: argparse.Namespace) -> int:
    from tui_optim.scenario import list_builtins

    infos = list_builtins()
    width = max((len(i.name) for i in infos), default=0)
    topics: dict[str, list] = {}
    for info in infos:  # sorted by curriculum order: a topic is listed where it first appears
        topics.setdefault(info.topic, []).append(info)
    for topic, members in topics.items():
        print(f"\n{topic}")
        for info in members:
            print(f"  {info.name.ljust(width)}  {info.title}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from tui_optim.scenario import ScenarioError, load_scenario

    bad = 0
    for f in args.files:
        try:
            sc = load_scenario(f)
        except ScenarioError as e:
            print(e, file=sys.stderr)
            bad += 1
        else:
            trials = f", {len(sc.trials)} trials" if sc.trials else ""
            print(f"{f}: ok ({len(sc.runs)} runs{trials}, {len(sc.expects)} claims)")
    return EXIT_BAD_INPUT if bad else 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from tui_optim.runner.build import prepare_all

    def say(seconds: float) -> None:
        print(f"\rpreparing every kernel (once after installing)… {seconds:.0f} s", end="",
              file=sys.stderr, flush=True)

    took = prepare_all(say if sys.stderr.isatty() else None)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"every kernel is ready ({took:.1f} s): scenarios now start at full speed")
    return 0


def _leave_a_core_for_the_screen(args: argparse.Namespace) -> None:
    """With the dashboard open, BLAS threads fight the UI for the second core: measured on the
    spiral MLP, one BLAS thread ran 7.3 k steps/s with the dashboard against 5.6 k with two.
    Must happen before numpy (and its OpenBLAS) is first imported; a user's setting wins."""
    if getattr(args, "headless", False) or args.command in ("list", "check", "prepare"):
        return
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _leave_a_core_for_the_screen(args)
    try:
        if args.command is None:
            from tui_optim.ui.app import run_app

            return run_app(**_dashboard_options(args))
        return {"run": cmd_run, "replay": cmd_replay, "serve": cmd_serve, "list": cmd_list,
                "check": cmd_check, "prepare": cmd_prepare}[args.command](args)
    except UserError as e:          # every kind of bad input, one way (tui_optim/errors.py)
        print(e.report(), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `tui-optim list | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0
    except OSError as e:
        print(f"tui-optim: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as stop:
        from tui_optim.headless import exit_status

        return exit_status(stop)
    except RecursionError:
        print("tui-optim: the input is nested too deeply", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("tui-optim: out of memory (the scenario asks for more than this machine has)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as e:  # a bug of ours: one line, its own status, never a traceback
        where = e.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        at = f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}" if where else ""
        print(f"tui-optim: internal error: {type(e).__name__}: {str(e)[:200]}{at} "
              "(a bug in tui-optim; please report it with the command you ran)", file=sys.stderr)
        return EXIT_INTERNAL
