#!/bin/sh
# scripts/setup.sh — shared by scripts/serve and scripts/test (sourced, not run):
# install the Debian 12 packages that are missing, then build snapcat with
# CMake into $SNAPCAT_BUILD (default ./build).
set -eu

SNAPCAT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
SNAPCAT_BUILD=${SNAPCAT_BUILD:-$SNAPCAT_ROOT/build}

# Build tools, the libraries (pkg-config names in CMakeLists.txt; libssl-dev
# for libcrypto, which libwebsockets-dev pulls in anyway),
# Chromium, and fonts so that pages render text.
SNAPCAT_PACKAGES="build-essential cmake pkg-config ca-certificates curl openssl \
libwebsockets-dev libcurl4-openssl-dev libsqlite3-dev libpng-dev libcjson-dev libssl-dev \
chromium fonts-dejavu-core fonts-liberation"
# What only the test suite needs: valgrind (unit tests under memcheck) and
# clang with libFuzzer (bounded fuzzer runs), poppler-utils (pdfinfo and
# pdftotext read the PDFs e2e.pdf captures). Node.js >= 20 and npm (for the
# real third-party clients in tests/node) come with the machine: Debian 12's
# own nodejs is 18.
SNAPCAT_TEST_PACKAGES="valgrind clang libclang-rt-14-dev sqlite3 poppler-utils"

snapcat_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

snapcat_install() {
	missing=""
	for p in $SNAPCAT_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "snapcat: installing$missing" >&2
		snapcat_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		# shellcheck disable=SC2086
		snapcat_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
	fi
}

# snapcat_build DIR [cmake options...]: an optimised build (with symbols)
snapcat_build() {
	dir=$1
	shift
	snapcat_build_type "$dir" RelWithDebInfo "$@"
}

# snapcat_build_type DIR TYPE [cmake options...]; $CC picks the compiler
# of a new build directory
snapcat_build_type() {
	dir=$1
	type=$2
	shift 2
	cmake -S "$SNAPCAT_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
	cmake --build "$dir" -j "$(nproc)"
}
