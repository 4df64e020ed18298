/*
 * fuzz.h — what every fuzz target in tests/fuzz/ starts with: the libFuzzer
 * entry point and FUZZ_ASSERT, the property check.
 *
 *   #define FUZZ_NAME "fuzz_url"    (before the include; default "fuzz")
 *   #include "fuzz.h"
 *   int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { ... }
 *
 * FUZZ_ASSERT(x) prints "FUZZ_NAME: x failed (line N)" and abort()s when x
 * is false, so libFuzzer keeps the input as a crash and the corpus replay
 * (replay.c, the ctest fuzz.<name>) fails on it.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME "fuzz"
#endif

#define FUZZ_ASSERT(x)                                                     \
	do {                                                               \
		if (!(x)) {                                                \
			fprintf(stderr, FUZZ_NAME ": %s failed (line %d)\n",\
				#x, __LINE__);                             \
			abort();                                           \
		}                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
