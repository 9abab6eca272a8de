#!/usr/bin/env bash
# Runs the whole test suite (live kernel tests included; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
# The live kernel tests are most of the suite: without root they would be skipped, and a
# green run would prove little.
if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: run the test suite as root (it loads BPF programs)" >&2
  exit 1
fi
.venv/bin/ruff check .
# The layers (frontend < ir < backend < kllvm), no import cycles, compile and run apart.
.venv/bin/lint-imports --no-cache
# Static types: mypy --strict over the packages listed in pyproject.toml [tool.mypy].
.venv/bin/mypy
# pytest exits 5 when it collects nothing, so an empty run can never pass.
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
