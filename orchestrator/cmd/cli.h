/*
 * cli.h — the subcommands of the snapcat binary that live in the
 * orchestrator library (main.c dispatches to them). The clients of a
 * running server (add, ls, import, export, backup) share one HTTP client
 * (cli_http.h: server, token, requests, error messages) and one terminal
 * sanitiser (cli_term.h) for everything the server sends.
 */
#ifndef CLI_H
#define CLI_H

/* `snapcat capture [options] URL…` (argv[0] is "capture"). Returns the
 * process exit status: 0 all captured, 1 some failed, 2 usage error. */
int cli_capture(int argc, char **argv);

/*
 * `snapcat add [--tag T]... [--server URL] [--token T] [--json] URL...`
 * (argv[0] is "add"): POST /api/links for each URL to a running
 * `snapcat serve` and print one line per URL (cli_client.c). The server is
 * --server, else $SNAPCAT_SERVER, else http://127.0.0.1:8080 (http and https
 * only); the token --token, else $SNAPCAT_TOKEN (cli_http_open). Returns
 * the process exit status: 0 all added, 1 some failed (the server said no,
 * or could not be reached), 2 usage error (a bad server URL or token
 * included). Messages go to stderr. curl_global_init() must have been
 * called; not thread-safe (getopt_long).
 */
int cli_add(int argc, char **argv);

/*
 * `snapcat ls [--tag T]... [--any] [--q TEXT] [--limit N] [--all]
 * [--server URL] [--token T] [--json]` (argv[0] is "ls"): GET /api/links and
 * print id, last job state, tags, title (or URL) and URL per link, as a
 * table cut to the width of a terminal, tab-separated otherwise, or one JSON
 * line per link; --all follows next_cursor. Text from the server is printed
 * with terminal controls replaced by '?' (cli_term.h). Returns 0 ok, 1 a
 * request failed, 2 usage error. Same server/token rules and preconditions
 * as cli_add.
 */
int cli_ls(int argc, char **argv);

/*
 * cli_io.c: `snapcat import FILE`, `snapcat export`, `snapcat backup` (via
 * a running server, or --data DIR offline) and `snapcat restore BACKUP
 * --data DIR` (argv[0] is the command). Each returns the exit status: 0
 * ok, 1 failed (message on stderr), 2 usage error. Same server/token rules
 * and preconditions as cli_add.
 */
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_restore(int argc, char **argv);

#endif
