#!/usr/bin/env bash
# Runs the whole test suite (live kernel tests included; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
# pytest exits 5 when it collects nothing, so an empty run can never pass.
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
