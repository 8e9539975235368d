# Two entry points a fresh machine needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SCENARIO ?= 03_momentum_ravine

.PHONY: demo test chromium fuzz bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/tui-optim run $(SCENARIO)

test: $(VENV)/.installed chromium
	$(BIN)/python -m pytest -q -n 2

# The browser test (tests/test_serve_browser.py) drives Debian's chromium.
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# The fuzz properties of the suite, run long (the suite runs each a hundred times or so).
fuzz: $(VENV)/.installed
	TUI_OPTIM_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -q -n 2 tests/test_fuzz_inputs.py tests/test_scenario_fuzz.py

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_surfaces.py
	$(BIN)/python bench/bench_network.py
	$(BIN)/python bench/bench_ui.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
