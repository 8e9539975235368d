"""`python -m tui_optim` is the same as the `tui-optim` command."""

from tui_optim.cli import main

raise SystemExit(main())
