/*
 * test_files.h — file helpers the unit and e2e tests share: a whole
 * FILE read back (what an encoder wrote into a tmpfile), and seeded
 * random bytes written over part of a file (a damaged catalog).
 * Header-only.
 */
#ifndef TEST_FILES_H
#define TEST_FILES_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "sc.h"

/* The whole content of a FILE (rewound first) in a malloc'd buffer. */
static __attribute__((unused)) unsigned char *tf_slurp_fp(FILE *fp,
							 size_t *len)
{
	struct sc_buf b;
	char chunk[65536];
	size_t n;
	sc_buf_init(&b, 0);
	rewind(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (sc_buf_append(&b, chunk, n))
			abort();
	return (unsigned char *)sc_buf_take(&b, len);
}

/* Overwrite n bytes of the file at path at off with pseudo-random bytes
 * (seeded): 0, or -1 if not all were written. */
static __attribute__((unused)) int tf_scribble(const char *path, off_t off,
					       size_t n, unsigned seed)
{
	unsigned char *b = malloc(n);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (unsigned char)(seed >> 16);
	}
	int fd = open(path, O_WRONLY);
	ssize_t w = fd >= 0 ? pwrite(fd, b, n, off) : -1;
	if (fd >= 0)
		close(fd);
	free(b);
	return w == (ssize_t)n ? 0 : -1;
}

#endif
