# The two commands of the README: `make run` (the demo on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test lint bench soak clean

# Python writes and reuses bytecode here even where the environment says not to: the suite
# starts hundreds of Python processes (workers, servers, the CLI), and without .pyc files each
# one compiled legday and its libraries again (import of the web app: 4.0 s of CPU, 1.4 s with).
unexport PYTHONDONTWRITEBYTECODE

# `make run` needs only legday itself; `make test` adds the test tools (browser driver, fuzzers,
# schemathesis...) to the same venv. Installed by uv (put into the venv by pip: one wheel), which
# resolves and installs the same pyproject.toml in seconds where pip took over a minute.
# --compile-bytecode: what pip does by default. Without it the suite's xdist workers, starting
# together, each compiled the same libraries (7 s of CPU apiece, 10 s instead of 3 s to collect).
UV := $(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python

UV_STAMP := $(VENV)/.uv

$(UV_STAMP):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv>=0.5,<1'
	touch $(UV_STAMP)

$(RUN_STAMP): pyproject.toml | $(UV_STAMP)
	$(UV) -e .
	touch $(RUN_STAMP)

# One resolution for `make test` in a new checkout (legday and the test tools together), not
# legday first and its test extra after it; the run stamp is then current too.
$(STAMP): pyproject.toml | $(UV_STAMP)
	$(UV) -e '.[test]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/legday demo

# pytest, with mypy and the Python 3.13 pass (scripts/test_py313.sh) beside it: scripts/run_checks.sh.
test: $(STAMP)
	bash scripts/services.sh
	$(BIN)/ruff check .
	BIN=$(BIN) bash scripts/run_checks.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_decode.py
	$(BIN)/python bench/bench_backfill.py
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_athlete_day.py
	$(BIN)/python bench/bench_fit_caps.py

# The long reliability runs of issues 12 and 18 (fuzz, secret leaks, crashes, Garmin chaos and
# edges: concurrent pushes, lost answers, gzip bombs; concurrent imports of twin FIT files):
# under an hour on 2 cores, ends with the table of docs/reliability.md. Needs PostgreSQL like `make test`.
soak: $(STAMP)
	bash scripts/services.sh
	$(BIN)/python scripts/soak.py
	$(BIN)/python bench/soak_crash.py
	$(BIN)/python bench/soak_garmin.py
	$(BIN)/python bench/soak_email.py
	$(BIN)/python bench/soak_garmin_edges.py
	$(BIN)/python bench/soak_import.py
	$(BIN)/python bench/soak_web.py

clean:
	rm -rf $(VENV) .venv313 .pytest_cache .ruff_cache
