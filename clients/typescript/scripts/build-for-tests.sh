#!/usr/bin/env bash
# Builds the package for the tests that run it (tests/typescript_client.rs,
# tests/web_game.rs): installs the locked dependencies when they are missing and
# compiles when a source is newer than the build. Output goes to stderr; the last
# line of stdout is the path of the interop client script.
#
# Usage: clients/typescript/scripts/build-for-tests.sh   (needs node and npm)
set -euo pipefail
cd "$(dirname "$0")/.."
script=dist/test/e2e/interop-client.js
if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --include=dev --no-audit --no-fund --loglevel=error >&2
fi
if [ ! -f "$script" ] || [ -n "$(find src test examples package.json tsconfig.json -newer "$script" -print -quit)" ]; then
  npm run build --silent >&2
fi
echo "$PWD/$script"
