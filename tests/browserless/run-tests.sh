#!/bin/sh
# run-tests.sh — snapcat against a real browserless (npm
# @browserless.io/browserless, started by the tests themselves on loopback
# with Debian's Chromium: see start.mjs).
#
#   tests/browserless/run-tests.sh SNAPCAT_BIN FIXTURE_SERVER [node --test args/files]
#
# `npm ci` runs only when node_modules is missing. browserless asks for
# Node >= 24 in its package.json; it runs on Node 20 (checked with 20.20),
# which is what Debian 12 has here. Needs /usr/bin/chromium (or $CHROMIUM).
# Test files: tests/browserless/*.test.js; they use tests/node/lib (only
# Node's own modules).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary_arg() { case $1 in --|-*|*.js) return 1 ;; *) return 0 ;; esac; }
if [ $# -gt 0 ] && binary_arg "$1"; then SNAPCAT_BIN=$1; shift; fi
if [ $# -gt 0 ] && binary_arg "$1"; then FIXTURE_SERVER=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
: "${SNAPCAT_BIN:?usage: run-tests.sh SNAPCAT_BIN FIXTURE_SERVER}"
: "${FIXTURE_SERVER:?usage: run-tests.sh SNAPCAT_BIN FIXTURE_SERVER}"
abs() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$(pwd)" "$1" ;; esac; }
SNAPCAT_BIN=$(abs "$SNAPCAT_BIN")
FIXTURE_SERVER=$(abs "$FIXTURE_SERVER")
export SNAPCAT_BIN FIXTURE_SERVER

for f in "$SNAPCAT_BIN" "$FIXTURE_SERVER"; do
  [ -x "$f" ] || { echo "run-tests.sh: $f is not an executable (build it first)" >&2; exit 2; }
done
command -v node >/dev/null || { echo "run-tests.sh: node is not installed" >&2; exit 2; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  { echo "run-tests.sh: node >= 20 is needed, this is $(node --version)" >&2; exit 2; }

cd "$here"
if [ ! -d node_modules ]; then
  echo "run-tests.sh: npm ci (first run)" >&2
  npm ci --no-audit --no-fund --ignore-scripts >&2
fi

has_file=0
for a in "$@"; do case $a in *.js) has_file=1 ;; esac; done
if [ $has_file -eq 0 ]; then set -- "$@" *.test.js; fi
exec node --test --test-concurrency=1 "$@"
