/*
 * serve_conf.c — the `snapcat serve --config FILE` reader (see
 * serve_conf.h): one `key = value` line -> one "--key=value" (or "--key")
 * argument.
 */
#include "serve_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc.h"

#define CONF_LINE_MAX 8192

static char *conf_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = 0;
	return s;
}

static const struct option *conf_find(const struct option *lo, const char *k)
{
	for (; lo->name; lo++)
		if (!strcmp(lo->name, k))
			return lo;
	return NULL;
}

static void conf_push(struct serve_conf *c, char *arg)
{
	c->argv = sc_xrealloc(c->argv, (size_t)(c->argc + 2) * sizeof(char *));
	c->argv[c->argc++] = arg;
	c->argv[c->argc] = NULL;
}

/* 1: a true boolean, 0: false, -1: neither. */
static int conf_bool(const char *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* One line; 0 or -1 with why. */
static int conf_line(struct serve_conf *c, const struct option *lo, char *s,
		     const char **why)
{
	s = conf_trim(s);
	if (!*s || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	if (!eq) {
		*why = "not a `key = value` line";
		return -1;
	}
	*eq = 0;
	char *k = conf_trim(s), *v = conf_trim(eq + 1);
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = 0;
		v++;
	}
	const struct option *o = conf_find(lo, k);
	if (!o || !strcmp(k, "config") || !strcmp(k, "help")) {
		*why = "unknown key (keys are the long option names of snapcat "
		       "serve --help)";
		return -1;
	}
	if (o->has_arg == no_argument) {
		int b = conf_bool(v);
		if (b < 0) {
			*why = "this key wants true or false";
			return -1;
		}
		if (b)
			conf_push(c, sc_xasprintf("--%s", k));
		return 0;
	}
	conf_push(c, sc_xasprintf("--%s=%s", k, v));
	return 0;
}

int serve_conf_load(const char *path, const struct option *lo,
		    struct serve_conf *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	conf_push(c, sc_xstrdup("serve"));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = sc_xmalloc(CONF_LINE_MAX);
	int rc = 0, no = 0;
	while (!rc && fgets(line, CONF_LINE_MAX, f)) {
		const char *why = NULL;
		no++;
		if (!strchr(line, '\n') && !feof(f))
			why = "line too long";
		if (why || conf_line(c, lo, line, &why)) {
			snprintf(err, errlen, "%s:%d: %s", path, no, why);
			rc = -1;
		}
	}
	if (!rc && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

void serve_conf_free(struct serve_conf *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	memset(c, 0, sizeof(*c));
}
