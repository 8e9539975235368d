"""tui_optim: watch optimizers and small networks learn, live in the terminal.

Data flows one way (see docs/architecture.md):
scenario file -> Scenario -> runner (engine in a thread) -> Chunk stream -> trace / recorder / summary.
"""

__version__ = "0.1.0"
