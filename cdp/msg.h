/*
 * msg.h — parse one DevTools-protocol message without copying its big strings.
 *
 *   rx buffer (whole WebSocket message) -> cdp_msg_parse -> struct cdp_msg
 *     .root  cJSON tree of everything but the big strings (they read as "")
 *     .big   (path, pointer, length) of each string >= threshold, unescaped
 *            in place inside the rx buffer, which the msg now owns
 *
 * Pure functions over memory, no lws: unit-tested and fuzzed on their own.
 */
#ifndef CDP_MSG_H
#define CDP_MSG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "sc.h"

#define CDP_MSG_MAX_BIG 8
#define CDP_MSG_MAX_DEPTH 64
#define CDP_MSG_BIG_STRING (256 * 1024)

struct cdp_msg_big {
	char path[128]; /* dotted, from the message root: "result.data" */
	char *s;        /* unescaped, NUL-terminated, inside buf */
	size_t len;
};

struct cdp_msg {
	cJSON *root;
	char *buf; /* the rx buffer, owned, or NULL once taken */
	size_t nbig;
	struct cdp_msg_big big[CDP_MSG_MAX_BIG];
};

/*
 * Parse buf[0..len) (buf must have a NUL at buf[len]). Takes ownership of buf
 * on SC_OK and on error alike (freed on error). Strings of `threshold` bytes
 * or more (0 = CDP_MSG_BIG_STRING) are detached as described above.
 * Returns SC_ERR_PROTOCOL for malformed JSON or nesting deeper than
 * CDP_MSG_MAX_DEPTH. *out is zeroed on error.
 */
sc_result cdp_msg_parse(char *buf, size_t len, size_t threshold,
			struct cdp_msg *out) SC_MUST_CHECK;

/* Free the tree and the buffer (if not taken). NULL-safe; zeroes *m. */
void cdp_msg_free(struct cdp_msg *m);

/* Find a detached string by its dotted path from the root; NULL if none. */
const struct cdp_msg_big *cdp_msg_find_big(const struct cdp_msg *m,
					   const char *path);

/* Follow a dotted path ("result.result.value", "a.0.b") in a cJSON tree. */
const cJSON *cdp_json_path(const cJSON *root, const char *path);

/*
 * Unescape a JSON string body (between the quotes) in place; returns the new
 * length, or (size_t)-1 on a bad escape. Writes a NUL after the result.
 */
size_t cdp_json_unescape(char *s, size_t len);

#endif
