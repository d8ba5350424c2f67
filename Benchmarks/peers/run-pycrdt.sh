#!/bin/sh
# Runs pycrdt on the given traces: creates Benchmarks/peers/.venv with pycrdt from PyPI on first use.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/.venv/bin/python" ] || { python3 -m venv "$here/.venv" && "$here/.venv/bin/pip" install --quiet pycrdt; }
exec "$here/.venv/bin/python" "$here/pycrdt_bench.py" "$@"
