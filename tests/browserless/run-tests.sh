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
. "$here/../node/run-args.sh"

cd "$here"
if [ ! -d node_modules ]; then
  echo "run-tests.sh: npm ci (first run)" >&2
  npm ci --no-audit --no-fund --ignore-scripts >&2
fi

has_file=0
for a in "$@"; do case $a in *.js) has_file=1 ;; esac; done
if [ $has_file -eq 0 ]; then set -- "$@" *.test.js; fi
exec node --test --test-concurrency=1 "$@"
