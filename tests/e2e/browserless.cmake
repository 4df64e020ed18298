# e2e.browserless: snapcat against a real browserless (npm
# @browserless.io/browserless 2.42.0, tests/browserless), started by the
# tests themselves on loopback with Debian's Chromium: the --browser forms
# with a token (tests/browserless/forms.test.js) and a pool of browserless
# + a local Chromium under load, with browserless killed and brought back
# (tests/browserless/pool.test.js). Needs node >= 20 and npm (the first run
# does `npm ci` in tests/browserless) and /usr/bin/chromium (or $CHROMIUM).
# Included from tests/e2e/CMakeLists.txt.
add_test(NAME e2e.browserless
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/../browserless/run-tests.sh
          $<TARGET_FILE:snapcat> $<TARGET_FILE:fixture_server>)
set_tests_properties(e2e.browserless PROPERTIES TIMEOUT 1500
  LABELS "e2e;browser;node" SKIP_RETURN_CODE 77)
