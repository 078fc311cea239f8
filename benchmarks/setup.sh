#!/usr/bin/env bash
# Prepare the benchmark suite: the load generator's npm packages and a venv with
# python-engineio 4.15.1 (the baseline) plus the very same server packages, at the
# same versions, that .venv runs engineio-core under.
# Needs .venv (./scripts/setup). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "run ./scripts/setup first: the benchmarks use .venv" >&2; exit 1
fi
npm ci --prefix benchmarks/loadgen --no-audit --no-fund --loglevel=error

VENV=benchmarks/.venv-pyeio
PYTHON=${PYTHON:-.venv/bin/python}
if [ ! -x "$VENV/bin/python" ]; then
  # The same interpreter as .venv, so both servers run on the same Python.
  "$(.venv/bin/python -c 'import sys; print(sys._base_executable)')" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# Pin every server package (and what they depend on) to the version in .venv.
constraints=$(mktemp)
trap 'rm -f "$constraints"' EXIT
"$PYTHON" -m pip freeze --exclude-editable | grep -v '^eio-' | grep -v '^engineio-core' >"$constraints"
"$VENV/bin/python" -m pip install --quiet -c "$constraints" \
  python-engineio==4.15.1 simple-websocket \
  uvicorn uvloop httptools websockets wsproto \
  aiohttp tornado sanic eventlet gevent gevent-websocket gunicorn uWSGI
# py-spy for profiles (also in .venv).
"$PYTHON" -m pip install --quiet py-spy
echo "benchmark setup done: $VENV ($("$VENV/bin/python" -c 'import engineio, importlib.metadata as m; print("python-engineio", m.version("python-engineio"))'))"
