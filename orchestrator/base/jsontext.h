/*
 * jsontext.h — checks on JSON text that cJSON does not make: its strings
 * are NUL-terminated, so a "\u0000" (or a raw 0 byte) inside one would
 * silently cut a URL, a tag or a title short. Used on API request bodies
 * (http/req.c) and JSON imports (io_import.c).
 */
#ifndef ORCH_JSONTEXT_H
#define ORCH_JSONTEXT_H

#include <stddef.h>

/*
 * Does the JSON text s[0..n) hold a NUL character: a raw 0 byte anywhere,
 * or the escape \u0000 inside a string ("\\u0000", an escaped backslash
 * and then text, is not one)? 1 or 0. Meant for text cJSON accepted.
 */
int jsontext_has_nul(const char *s, size_t n);

#endif
