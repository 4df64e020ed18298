/*
 * serve.h — the `snapcat serve` command (main.c dispatches to it).
 */
#ifndef HTTP_SERVE_H
#define HTTP_SERVE_H

/* argv[0] is "serve". Returns the exit status: 0 after a clean stop, 1 if
 * it could not start, 2 for usage errors. */
int serve_main(int argc, char **argv);

#endif
