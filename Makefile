# Two commands do everything on a fresh machine with only Python 3.11:
#   make run   - start the app (web, workers, clock) and, with no portal configured, a local b24emu portal
#   make test  - run the whole test suite
# make run APP_PORT=8010 EMU_PORT=8910 VAR_DIR=/tmp/second   moves the ports and every file
# (command-line variables reach app.devrun through the environment)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench venv clean screenshots

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m app.devrun

# Tests wait on portals, workers and browsers more than they compute: three processes on two
# cores finish in about half the serial time (each gets its own Redis database: tests/conftest.py)
TEST_WORKERS ?= 3

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

# PNGs of every page, in Russian and English, as the browser tests open them (var/ is ignored)
screenshots: $(STAMP)
	SCREENSHOTS_DIR=$(CURDIR)/var/screenshots $(PY) -m pytest tests/browser -q -m browser
	@echo "screenshots in var/screenshots/"

lint: $(STAMP)
	$(PY) -m ruff check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
