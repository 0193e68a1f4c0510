# Set-up and everyday commands. Every target creates .venv with the machine's python3 if it is missing
# and installs the project with its dev extra into it first, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run app test test-fast lint bench install clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The default TCP's (BHR) baseline: 1,000 replications, outputs in outputs/<date>/<time>_bhr_baseline/
run: $(STAMP)
	$(PY) -m sim

## The web app for planners (sim/app): served on http://127.0.0.1:8501 (PORT=... for another); Ctrl-C stops it.
## CONFIG_DIR="DIR ..." offers the areas of your own folders too (each as python -m sim --config-dir DIR)
PORT ?= 8501
CONFIG_DIR ?=
app: $(STAMP)
	$(PY) -m sim.app --port $(PORT) $(foreach d,$(CONFIG_DIR),--config-dir $(d))

## The whole test suite, spread over the cores (pytest-xdist)
test: $(STAMP)
	$(PY) -m pytest -q -n auto

## The suite without the tests marked slow (long statistical, notebooks, sweeps, end to end)
test-fast: $(STAMP)
	$(PY) -m pytest -q -n auto -m "not slow"

## ruff's rules and layout, and mypy on the non-Numba packages (both configured in pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Engines against each other and Ciw (benchmarks/bench.py); the last line is machine readable
bench: $(STAMP)
	$(PY) benchmarks/bench.py

clean-venv:
	rm -rf $(VENV)
