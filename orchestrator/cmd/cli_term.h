/*
 * cli_term.h — the one terminal sanitiser of the command-line clients
 * (cli_client.c: add, ls; cli_io.c: import, export, backup): every string
 * that came from a server goes through it before it reaches a terminal.
 *
 *   server answer (cli_http.c) -> cJSON strings -> cli_term_put (a table
 *   cell, a line of a report), cli_term_clean (into a message built with
 *   printf), cli_term_json (a JSON line)
 *
 * The unsafe characters, which never reach the terminal as they are:
 *   - C0 controls (U+0000-U+001F: ESC starts the ANSI escape sequences; tab
 *     and newline too, since every field is printed within one line of a
 *     table or a message), DEL (U+007F) and the C1 controls (U+0080-U+009F:
 *     U+009B is a one-character CSI);
 *   - the invisible characters that break lines or reorder text: U+2028,
 *     U+2029 (line and paragraph separators), U+200E, U+200F, U+061C (bidi
 *     marks), U+202A-U+202E (embeddings, overrides) and U+2066-U+2069
 *     (isolates);
 *   - bytes that are not valid UTF-8 (malformed, overlong, surrogates, cut
 *     short), as sc_utf8_char() judges them: each such byte is one unsafe
 *     character.
 * Text output replaces each with '?'; JSON output escapes it (\uXXXX, or
 * \ufffd for a bad byte) so that the line means the same and stays valid.
 */
#ifndef CLI_TERM_H
#define CLI_TERM_H

#include <stddef.h>
#include <stdio.h>

/*
 * Print s (NULL: nothing) to f with each unsafe character as '?', in at
 * most width terminal columns (width < 0: no limit; East Asian wide
 * characters and emoji take two). A string cut short ends with "…"
 * (U+2026). With pad, spaces fill up to width. Returns the columns
 * printed. Write errors are left to the caller (ferror, fflush).
 */
int cli_term_put(FILE *f, const char *s, int width, int pad);

/* Copy s into out (outlen > 0; always NUL-terminated) with each unsafe
 * character as '?', cut at a character boundary when it does not fit:
 * server text for a message built with printf. */
void cli_term_clean(const char *s, char *out, size_t outlen);

/* Print the JSON text js and a newline to f, each unsafe character in it
 * written as a \uXXXX escape and each bad byte as \ufffd. js must be JSON
 * from cJSON_Print*: unsafe characters can then only be inside strings
 * (cJSON escapes C0 there already), so the line stays valid JSON and means
 * the same (but for bad bytes, which become U+FFFD). */
void cli_term_json(FILE *f, const char *js);

#endif
