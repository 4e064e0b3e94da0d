#!/usr/bin/env bash
# Installs the published Python nodelink 0.6.0 (and its dependencies) from PyPI into
# a virtualenv for the interop tests, with the Prometheus client's parser for the
# metrics test; does nothing when they are already there.
#
# Usage: tests/python/setup.sh [VENV_DIR]   (default target/python-interop)
# Prints the virtualenv's python path on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-target/python-interop}"
python="$venv/bin/python"
# prometheus-client: the Prometheus project's own OpenMetrics parser, which
# tests/metrics.rs reads the server's metrics with.
if ! "$python" -c 'import nodelink, sys, prometheus_client; sys.exit(nodelink.__version__ != "0.6.0")' 2>/dev/null; then
  python3 -m venv "$venv"
  "$python" -m pip install --quiet --disable-pip-version-check "nodelink==0.6.0" "prometheus-client==0.21.1"
fi
echo "$python"
