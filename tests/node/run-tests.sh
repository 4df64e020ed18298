#!/bin/sh
# run-tests.sh — the Node.js end-to-end tests of snapcat's live progress
# channels (SSE, POST stream, WebSocket, long-poll, back-pressure, browser
# EventSource), with the real npm clients.
#
#   tests/node/run-tests.sh [SNAPCAT_BIN FIXTURE_SERVER] [--] [node --test args/files]
#
# e.g.  tests/node/run-tests.sh build/snapcat build/tests/fixtures/fixture_server
#       tests/node/run-tests.sh build/snapcat build/tests/fixtures/fixture_server \
#           --test-name-pattern=resume eventsource.test.js
# The binaries come from the arguments, else from $SNAPCAT_BIN and
# $FIXTURE_SERVER. `npm ci` runs only when node_modules is missing.
# SNAPCAT_NODE_KEEP=1 keeps each server's data dir and log (in $TMPDIR).
# Needs node >= 20, npm, curl and /usr/bin/chromium (or $CHROMIUM).
# Test files: tests/node/*.test.js (one snapcat server each).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
binary_arg() { case $1 in --|-*|*.js) return 1 ;; *) return 0 ;; esac; }
if [ $# -gt 0 ] && binary_arg "$1"; then SNAPCAT_BIN=$1; shift; fi
if [ $# -gt 0 ] && binary_arg "$1"; then FIXTURE_SERVER=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
: "${SNAPCAT_BIN:?usage: run-tests.sh SNAPCAT_BIN FIXTURE_SERVER (or set SNAPCAT_BIN, FIXTURE_SERVER)}"
: "${FIXTURE_SERVER:?usage: run-tests.sh SNAPCAT_BIN FIXTURE_SERVER (or set SNAPCAT_BIN, FIXTURE_SERVER)}"
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
command -v curl >/dev/null || { echo "run-tests.sh: curl is not installed" >&2; exit 2; }

cd "$here"
if [ ! -d node_modules ]; then
  echo "run-tests.sh: npm ci (first run)" >&2
  npm ci --no-audit --no-fund >&2
fi

# Sequential files: each starts its own snapcat (and Chromium); the
# back-pressure test measures latency and memory, which parallel files
# would disturb on a small machine.
has_file=0
for a in "$@"; do case $a in *.js) has_file=1 ;; esac; done
if [ $has_file -eq 0 ]; then set -- "$@" *.test.js; fi
exec node --test --test-concurrency=1 "$@"
