/*
 * mhtml_int.h — what mhtml.c and mhtml_rewrite.c share (see mhtml.h).
 */
#ifndef IO_MHTML_INT_H
#define IO_MHTML_INT_H

#include <stddef.h>

#include "sc.h"

/* One part: pointers into the caller's buffer (not NUL-terminated). */
struct mhtml_part {
	const char *loc, *cid, *body;
	size_t loclen, cidlen, len;
	char type[96]; /* lower case, NUL-terminated; "" if none */
	int b64, qp; /* Content-Transfer-Encoding */
};

struct mhtml {
	const char *bnd;
	size_t bndlen;
	struct mhtml_part *parts;
	int n, alloc;
};

/* Part pt's body decoded (base64, quoted-printable or as it is) into out. */
sc_result mhtml_part_decode(const struct mhtml_part *pt, struct sc_buf *out)
	SC_MUST_CHECK;

#endif
