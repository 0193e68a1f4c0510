# Set-up and everyday commands. `make run` and `make test` create .venv with the machine's python3
# if it is missing and install the project into it first, so both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench install clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The default TCP's (BHR) baseline: 1,000 replications, outputs in outputs/<date>/<time>_bhr_baseline/
run: $(STAMP)
	$(PY) -m sim

## The whole test suite, spread over the cores (pytest-xdist)
test: $(STAMP)
	$(PY) -m pytest -q -n auto

## Engines against each other and Ciw (benchmarks/bench.py); the last line is machine readable
bench: $(STAMP)
	$(PY) benchmarks/bench.py

clean-venv:
	rm -rf $(VENV)
