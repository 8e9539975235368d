"""The Textual dashboard: a scenario browser and a run screen whose panes read the trace.

Entry points for the CLI live in `tui_optim.ui.app` (`run_app`, `create_app`).
"""
