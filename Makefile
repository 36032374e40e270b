# Shopper ReID: `make run` starts the dashboard, `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := data/demo.duckdb
PORT ?= 8501
# Address the dashboard listens on (default: 127.0.0.1, see .streamlit/config.toml).
ADDRESS ?=

.PHONY: run test lint format demo bench docs clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -r requirements-dev.txt
	touch $@

$(DEMO_DB): | $(VENV)/.installed
	$(BIN)/python -m pipeline demo --db $(DEMO_DB)

demo: $(DEMO_DB)

run: $(VENV)/.installed $(DEMO_DB)
	$(BIN)/python -m dashboard.server --port $(PORT) $(if $(ADDRESS),--address $(ADDRESS))

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/tracking.py

# Refill the measured tables of docs/ from benchmarks/results/ (the suite checks they agree).
docs: $(VENV)/.installed
	$(BIN)/python benchmarks/render_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
