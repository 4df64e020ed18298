# e2e.channels: the live progress channels of `snapcat serve` end to end with
# real third-party clients (tests/node): the npm packages eventsource,
# @microsoft/fetch-event-source and ws, curl -N, and a browser EventSource
# in headless Chromium (puppeteer-core) -- SSE resume, POST streams to
# [DONE], WebSocket, long-poll, back-pressure, tokens and CORS; and the
# admin page's flows (admin*.test.js, and pdf.test.js: the PDF view;
# about 100 s more on a loaded machine, hence 1500 s; the browsable copy,
# page-copy.test.js, about 20 s: 1600 s; shot-progress.test.js, two
# 60,000 px captures, 140..200 s on a loaded machine: 1900 s).
# Under a sanitizer the waits stretch threefold (SNAPCAT_TEST_SLOW=3).
# Needs node >= 20 and npm (the first run does `npm ci` in tests/node),
# curl and /usr/bin/chromium (or $CHROMIUM). Included from
# tests/e2e/CMakeLists.txt.
add_test(NAME e2e.channels
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/../node/run-tests.sh
          $<TARGET_FILE:snapcat> $<TARGET_FILE:fixture_server>)
set_tests_properties(e2e.channels PROPERTIES TIMEOUT 1900
  LABELS "e2e;browser;node" SKIP_RETURN_CODE 77)
if(SNAPCAT_SANITIZE OR SNAPCAT_TSAN)
  set_tests_properties(e2e.channels PROPERTIES ENVIRONMENT SNAPCAT_TEST_SLOW=3)
endif()
