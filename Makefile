# Two commands for a fresh machine:  make studio   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: setup studio train test test-fast browser bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

# The main job: the Studio as an app in the browser (the VAE on the digits, ready to train).
# Pass options with STUDIO_ARGS, e.g. make studio STUDIO_ARGS="--no-browser --port 8900".
STUDIO_ARGS ?=
studio: setup
	$(BIN)/genwidgets studio $(STUDIO_ARGS)

# The same training headless: the AE on the digits from the command line.
train: setup
	$(BIN)/genwidgets train --model ae --data digits --epochs 20 --out runs/quickstart --overwrite  # its own run again
	@echo "Run written to runs/quickstart (model.keras, config.json, history.jsonl)"

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

test: setup browser
	$(BIN)/python -m pytest -q --durations=30

test-fast: setup
	$(BIN)/python -m pytest -q -m "not browser and not slow"

bench: setup
	for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) runs build *.egg-info
