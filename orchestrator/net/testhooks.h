/*
 * testhooks.h — test-only switches for the SSRF tests, compiled in only
 * with -DSNAPCAT_TEST_HOOKS=ON (scripts/test builds; scripts/serve does not).
 *
 *   main -> testhooks_init(): reads the environment once, before threads
 *   url_ip_private_reason -> testhooks_public(addr): the test's "public" alias
 *   resolve_host -> testhooks_lookup(name): the test's own names
 *   cdp launch -> testhooks_resolver_rules(): the same names for Chromium
 *
 * The guard cannot be tested on one machine without an address it treats
 * as public, and names that resolve to it: the tests serve "public" pages
 * on a loopback alias (127.0.0.2) and a canary on 127.0.0.1, and assert
 * that the canary is never contacted.
 *
 *   SNAPCAT_TEST_PUBLIC=127.0.0.2[,ADDR...]  addresses judged public
 *   SNAPCAT_TEST_HOSTS=NAME=ADDR[>ADDR2],... names and their addresses;
 *       "NAME=A>B" answers A to the first lookup and B to every later one
 *       (DNS rebinding); "NAME=!" does not resolve (at once: a machine
 *       without DNS can take seconds to say so)
 *
 * A build without SNAPCAT_TEST_HOOKS refuses to start when either is set
 * (testhooks_init fails), so a production server can never be told that a
 * private address is public.
 */
#ifndef TESTHOOKS_H
#define TESTHOOKS_H

#include <netinet/in.h>
#include <stddef.h>

#include "sc.h"

#define TESTHOOKS_MAX 16 /* names, and public addresses */

/* Read the two variables. SC_OK if they are unset, or set and valid in a
 * build with the hooks; else SC_ERR_INVALID and a sentence in err. Call
 * once from main, before any thread starts. */
sc_result testhooks_init(char *err, size_t errlen) SC_MUST_CHECK;

/* 1 if the test made a (IPv4 mapped, or IPv6) public. Thread-safe. */
int testhooks_public(const struct in6_addr *a);

/* 1 and the address for a test name (counting lookups, for "A>B"), -1
 * for a test name that does not resolve, 0 if name is not a test name.
 * Thread-safe. */
int testhooks_lookup(const char *name, struct in6_addr *out);

/* "MAP a.test 127.0.0.2,MAP b.test 127.0.0.2" (first answers) for a
 * browser's --host-resolver-rules, or NULL. Static. */
const char *testhooks_resolver_rules(void);

#endif
