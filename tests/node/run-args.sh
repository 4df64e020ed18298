# run-args.sh — sourced by tests/node/run-tests.sh and
# tests/browserless/run-tests.sh: takes SNAPCAT_BIN and FIXTURE_SERVER from
# the first arguments (else the environment), makes them absolute and
# exported, and checks them and node >= 20. Sourced without arguments, it
# shifts the caller's own: what is left are node --test's.
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
