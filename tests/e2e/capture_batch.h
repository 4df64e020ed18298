/*
 * capture_batch.h — a folder of fixture pages through one `snapcat
 * capture` run, for the e2e tests that judge pages by the JSON lines the
 * command prints (test_consent_libs.c, test_ready.c). Header-only.
 *
 *   cb_load_names(dir) -> the .html names, sorted
 *   cb_cmd(...) + the test's URLs -> cb_run (popen) -> lines[n] by "n"
 */
#ifndef CAPTURE_BATCH_H
#define CAPTURE_BATCH_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sc.h"

static int cb_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's .html files (at most max, sc_xstrdup'ed) into
 * names[], sorted; returns how many. */
static __attribute__((unused)) int cb_load_names(const char *dir,
						 char **names, int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)) && n < max)
		if (strstr(e->d_name, ".html"))
			names[n++] = sc_xstrdup(e->d_name);
	if (d)
		closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cb_names_cmp);
	return n;
}

/* "'bin' capture --out 'tmp/out' --concurrency 2 flags" into cmd; the
 * bytes written. */
static __attribute__((unused)) size_t cb_cmd(char *cmd, size_t len,
					     const char *bin, const char *tmp,
					     const char *flags)
{
	return (size_t)snprintf(cmd, len, "'%s' capture --out '%s/out' "
				"--concurrency 2 %s", bin, tmp, flags);
}

/* Run cmd; each JSON line it prints with "n" in 1..n into lines[n] (a
 * line already there is deleted). */
static __attribute__((unused)) void cb_run(const char *cmd, cJSON **lines,
					   int n)
{
	fprintf(stderr, "$ %s\n", cmd);
	FILE *p = popen(cmd, "r");
	char *line = NULL;
	size_t cap = 0;
	while (p && getline(&line, &cap, p) > 0) {
		cJSON *j = cJSON_Parse(line);
		const cJSON *k = cJSON_GetObjectItem(j, "n");
		if (cJSON_IsNumber(k) && k->valueint >= 1 && k->valueint <= n) {
			cJSON_Delete(lines[k->valueint]);
			lines[k->valueint] = j;
		} else {
			cJSON_Delete(j);
		}
	}
	free(line);
	if (p)
		pclose(p);
}

#endif
