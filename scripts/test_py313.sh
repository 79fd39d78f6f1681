#!/usr/bin/env bash
# `make test`, second part: the unit tests and the FIT/Garmin contract tests on Python 3.13, the
# Docker image's Python, in a venv of their own (.venv313). legday overrides private members of
# fitparse and garth; this is where a change in them on 3.13 would show.
#
# Finds python3.13 on PATH (a working one, not a pyenv shim that refuses) or under pyenv;
# without one it says so plainly and exits 0 (the 3.11 suite already ran). LEGDAY_PY313=skip
# skips it on purpose; LEGDAY_PY313=required makes a missing interpreter an error.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv313
find_python() {
  if python3.13 -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
    command -v python3.13
    return
  fi
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  for candidate in "$root"/versions/3.13*/bin/python3.13; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  return 1
}

if [ "${LEGDAY_PY313:-}" = "skip" ]; then
  echo "py313: skipped (LEGDAY_PY313=skip)"
  exit 0
fi
if ! PY=$(find_python); then
  message="py313: no python3.13 on this machine (PATH or pyenv): the 3.13 tests did not run"
  if [ "${LEGDAY_PY313:-}" = "required" ]; then echo "$message" >&2; exit 1; fi
  echo "$message"
  exit 0
fi

if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
  rm -rf "$VENV"  # made anew: uv refuses an existing venv, and a new extra must drop old packages
  MAIN_PY="${BIN:-.venv/bin}/python"
  if "$MAIN_PY" -m uv --version >/dev/null 2>&1; then
    # The main venv's uv makes this one too: no ensurepip, no pip run (4 s of CPU less).
    "$MAIN_PY" -m uv venv --quiet --python "$PY" "$VENV"
    UV=("$MAIN_PY" -m uv)
  else
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet 'uv>=0.5,<1'  # then uv installs the rest, as in the Makefile
    UV=("$VENV/bin/python" -m uv)
  fi
  # With its bytecode, as pip would: the pass's workers then do not each compile the libraries.
  # Only what these tests need (the test-core extra): no browser, fuzzer or type checker to
  # install and compile, and no pytest plugin of theirs loaded by each of the pass's processes.
  "${UV[@]}" pip install --quiet --compile-bytecode --python "$VENV/bin/python" -e '.[test-core]'
  touch "$VENV/.installed"
fi
echo "py313: $("$VENV/bin/python" --version) - unit and FIT/Garmin contract tests"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "$(nproc)" \
  tests/unit \
  tests/integration/test_corpus.py \
  tests/integration/test_garmin_client.py \
  tests/integration/test_garmin_sandbox_shapes.py \
  tests/integration/test_garmin_sync.py
