#!/usr/bin/env bash
# Installs Python nodelink 0.6.0 from PyPI into nodelink-bench/python/.venv, for the
# baseline server (server.py). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import nodelink, sys; sys.exit(0 if nodelink.__version__ == "0.6.0" else 1)' 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check "nodelink==0.6.0"
fi
.venv/bin/python -c 'import nodelink; print("python nodelink", nodelink.__version__)'
