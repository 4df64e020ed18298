/*
 * jsontext.c — see jsontext.h: one pass over the text, tracking whether
 * it is inside a string and skipping each escaped character.
 */
#include "jsontext.h"

#include <string.h>

int jsontext_has_nul(const char *s, size_t n)
{
	int in = 0;
	for (size_t i = 0; i < n; i++) {
		if (!s[i])
			return 1;
		if (!in) {
			in = s[i] == '"';
		} else if (s[i] == '"') {
			in = 0;
		} else if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && n - i >= 6 &&
			    !memcmp(s + i + 2, "0000", 4))
				return 1;
			i++; /* the escaped character */
		}
	}
	return 0;
}
