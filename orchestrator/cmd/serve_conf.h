/*
 * serve_conf.h — `snapcat serve --config FILE`: a `key = value` file whose
 * keys are serve's long option names, turned into the argument vector
 * getopt_long reads before the command line (so command-line flags win).
 *
 *   FILE -> serve_conf_load -> {"serve", "--listen=127.0.0.1:8080",
 *           "--mobile", ...} -> serve_parse (getopt_long), then argv
 *
 * Lines: `key = value`, blank, or a comment (first non-blank character
 * '#'; a '#' later in a line is part of the value: `hide = #chat`). A
 * value may be "double-quoted". Options without an argument take true,
 * yes, on or 1 (set) and false, no, off or 0 (left out).
 */
#ifndef HTTP_SERVE_CONF_H
#define HTTP_SERVE_CONF_H

#include <getopt.h>
#include <stddef.h>

struct serve_conf {
	char **argv; /* argv[0] = "serve"; NULL-terminated */
	int argc;
};

/*
 * Read path into c against the options lo (getopt_long's table, ended by
 * a zero entry). 0 on success; -1 with err ("FILE:LINE: why") if the file
 * cannot be read, a line is not `key = value`, a key is unknown (or is
 * "config"), or a flag's value is not a boolean. Free with
 * serve_conf_free (also after an error).
 */
int serve_conf_load(const char *path, const struct option *lo,
		    struct serve_conf *c, char *err, size_t errlen);

/* Free the vector; c is left empty. NULL-safe. */
void serve_conf_free(struct serve_conf *c);

#endif
