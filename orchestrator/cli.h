/*
 * cli.h — the subcommands of the snapcat binary that live in the
 * orchestrator library (main.c dispatches to them).
 */
#ifndef CLI_H
#define CLI_H

/* `snapcat capture [options] URL…` (argv[0] is "capture"). Returns the
 * process exit status: 0 all captured, 1 some failed, 2 usage error. */
int cli_capture(int argc, char **argv);

#endif
