#!/usr/bin/env bash
# `make test` after ruff: the type check and the Python 3.13 pass run beside the main pytest run.
# The suite spends much of its time waiting on services and child processes, so the cores have
# room for them; together they take about as long as pytest alone. Each one's output is kept and
# printed whole when all are done (pytest's streams as it goes); the exit status is non-zero when
# any of the three failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The two beside pytest run at a lower priority: the main run is the longest and waits on its
# services and children about a fifth of the time; these fill those waits rather than slowing it.
nice -n 5 "$BIN/mypy" >"$logs/mypy" 2>&1 &  # packages and plugins: [tool.mypy] in pyproject.toml
mypy_pid=$!
nice -n 5 bash scripts/test_py313.sh >"$logs/py313" 2>&1 &
py313_pid=$!

"$BIN/python" -m pytest  # parallel: -n auto from pyproject's addopts
pytest_rc=$?
wait "$mypy_pid"
mypy_rc=$?
wait "$py313_pid"
py313_rc=$?

echo "--- mypy (exit $mypy_rc)"
cat "$logs/mypy"
echo "--- Python 3.13 pass (exit $py313_rc)"
cat "$logs/py313"
echo "checks: pytest exit $pytest_rc, mypy exit $mypy_rc, Python 3.13 pass exit $py313_rc"
[ "$pytest_rc" -eq 0 ] && [ "$mypy_rc" -eq 0 ] && [ "$py313_rc" -eq 0 ]
