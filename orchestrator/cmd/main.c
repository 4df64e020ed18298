/*
 * main.c — the snapcat binary: dispatch to a subcommand.
 *
 *   snapcat capture …  one-shot captures (orchestrator/cmd/cli_capture.c)
 *   snapcat serve …    the server (http/ on the orchestrator)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "serve.h"
#include "testhooks.h"

#define SNAPCAT_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("snapcat " SNAPCAT_VERSION " — archive web pages as full-page PNG + MHTML\n\n"
	      "usage: snapcat <command> [options]\n\n"
	      "commands:\n"
	      "  capture URL...   capture URLs now, no server (see snapcat capture --help)\n"
	      "  serve            run the server: REST API, progress feeds, admin page\n"
	      "  add URL...       add links to a running server (--tag T ...)\n"
	      "  ls               list the links of a running server (--tag, --q)\n"
	      "  import FILE      import bookmarks (html), CSV, URL lists, JSON\n"
	      "  export           export the catalog (--format json|html|csv)\n"
	      "  backup           back up catalog + files (--server, or --data DIR)\n"
	      "  restore DIR      restore a backup (--data DIR, server stopped)\n"
	      "  version          print the version\n",
	      f);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	char err[256];
	if (testhooks_init(err, sizeof(err))) {
		fprintf(stderr, "snapcat: %s\n", err);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = 2;
	if (argc < 2) {
		usage(stderr);
	} else if (!strcmp(argv[1], "capture")) {
		rc = cli_capture(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "add")) {
		rc = cli_add(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "ls")) {
		rc = cli_ls(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "import")) {
		rc = cli_import(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "export")) {
		rc = cli_export(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "backup")) {
		rc = cli_backup(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "restore")) {
		rc = cli_restore(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "serve")) {
		rc = serve_main(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("snapcat %s\n", SNAPCAT_VERSION);
		rc = 0;
	} else if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
		   !strcmp(argv[1], "-h")) {
		usage(stdout);
		rc = 0;
	} else {
		fprintf(stderr, "snapcat: unknown command \"%s\"\n\n", argv[1]);
		usage(stderr);
	}
	curl_global_cleanup();
	return rc;
}
