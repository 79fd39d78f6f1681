# The two commands of the README: `make run` (the demo on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/legday demo

test: $(STAMP)
	bash scripts/services.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/bench_decode.py
	$(BIN)/python bench/bench_backfill.py
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_athlete_day.py

# The long reliability runs of issue 12 (fuzz, secret leaks): under an hour on 2 cores,
# ends with the table of docs/reliability.md. Needs PostgreSQL like `make test`.
soak: $(STAMP)
	bash scripts/services.sh
	$(BIN)/python scripts/soak.py
	$(BIN)/python bench/soak_crash.py
	$(BIN)/python bench/soak_garmin.py
	$(BIN)/python bench/soak_web.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
