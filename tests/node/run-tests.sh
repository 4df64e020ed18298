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
. "$here/run-args.sh"
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
