/*
 * replay.c — a main() for the libFuzzer targets so that their corpora run as
 * ordinary tests under gcc (and ASan+UBSan in the sanitizer build):
 *   fuzz_<name>_replay DIR...  calls LLVMFuzzerTestOneInput on every file
 *   in each DIR: corpus_<name>/, then any seed directory shared with other
 *   tests (tests/CMakeLists.txt, FUZZ_SEEDS_<name>; run-fuzzers passes the
 *   same ones to libFuzzer).
 * The targets abort() on a broken property, which fails the test; so does
 * a DIR that cannot be read, an unreadable file or no input at all.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf)
		return -1;
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

/* Every file of dir (not the dot files); -1 if dir cannot be read. */
static int replay_dir(const char *dir, int *files, int *bad)
{
	DIR *d = opendir(dir);
	char path[4096];
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		*bad += replay_file(path) != 0;
		(*files)++;
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, bad = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (replay_dir(argv[i], &files, &bad)) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 2;
		}
	printf("%d inputs replayed, %d unreadable\n", files, bad);
	return files && !bad ? 0 : 1;
}
