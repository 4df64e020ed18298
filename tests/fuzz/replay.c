/*
 * replay.c — a main() for the libFuzzer targets so that their corpora run as
 * ordinary tests under gcc (and ASan+UBSan in the sanitizer build):
 *   fuzz_<name>_replay DIR  calls LLVMFuzzerTestOneInput on every file in DIR.
 * The targets abort() on a broken property, which fails the test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int main(int argc, char **argv)
{
	DIR *d = argc == 2 ? opendir(argv[1]) : NULL;
	if (!d) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	int files = 0, bad = 0;
	char path[4096];
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		bad += replay_file(path) != 0;
		files++;
	}
	closedir(d);
	printf("%d inputs replayed, %d unreadable\n", files, bad);
	return files && !bad ? 0 : 1;
}
