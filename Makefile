# packdepth: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.packdepth-installed

.PHONY: install test lint demo clean bench-report

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(TORCH_SPEC)
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check packdepth tests bench

test: lint
	$(BIN)/python -m pytest -q tests

# The main job on the embedded default: synthetic streets -> 6 min of training -> held-out scores.
demo: $(STAMP)
	$(BIN)/packdepth demo --out demo_out

# docs/benchmarks.md from bench/results/ (one results file per benchmark command).
bench-report: $(STAMP)
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache build *.egg-info
