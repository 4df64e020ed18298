/*
 * launch.h — start a local headless Chromium and learn its DevTools endpoint.
 *
 *   cdp_launch -> fork; child: own process group, stderr -> pipe, exec chromium
 *                 --remote-debugging-port=0 --user-data-dir=<fresh> ...
 *              -> parent reads stderr until "DevTools listening on ws://…"
 *              -> a drain thread keeps reading stderr (logged at debug level)
 *                 so that Chromium never blocks on a full pipe
 *   cdp_process_free -> SIGKILL to the whole group, reap, remove the profile
 *
 * Blocking (up to the launch timeout): call it from a worker thread or before
 * the event loop runs. It makes no lws call.
 *
 * The child gets PR_SET_PDEATHSIG(SIGKILL): if snapcat dies, the browser dies.
 * Linux ties that signal to the *thread* that forked, so launch from a thread
 * that lives as long as the browser should (the main thread or a pool worker).
 */
#ifndef CDP_LAUNCH_H
#define CDP_LAUNCH_H

#include <sys/types.h>

#include "sc.h"

struct cdp_launch_opts {
	const char *chromium;      /* NULL: $SNAPCAT_CHROMIUM or /usr/bin/chromium */
	const char *user_data_dir; /* NULL: a fresh temp dir, removed at free */
	const char *const *extra_args; /* NULL-terminated; NULL for none */
	int timeout_ms;            /* for the DevTools line; 0 = 30000 */
};

struct cdp_process;

/*
 * Launch Chromium. On SC_OK *out holds the running browser (free it with
 * cdp_process_free). On error (SC_ERR_BROWSER: could not exec, exited early,
 * no DevTools line in time) err holds a message with the last lines Chromium
 * printed, nothing is left running and *out is NULL.
 */
sc_result cdp_launch(const struct cdp_launch_opts *opts,
		     struct cdp_process **out, char *err, size_t errlen)
	SC_MUST_CHECK;

/* "ws://127.0.0.1:PORT/devtools/browser/ID"; owned by p. */
const char *cdp_process_ws_url(const struct cdp_process *p);
pid_t cdp_process_pid(const struct cdp_process *p);
const char *cdp_process_user_data_dir(const struct cdp_process *p);

/* 1 if the browser process is still running; reaps it if it exited. */
int cdp_process_alive(struct cdp_process *p);

/* SIGKILL the browser's whole process group (does not wait). */
void cdp_process_kill(struct cdp_process *p);

/* Memory of the process group pgid (a launched browser's is its pid,
 * cdp_process_pid) in KiB: the sum of its processes' PSS
 * (/proc/PID/smaps_rollup; VmRSS where that cannot be read), and the
 * number of processes in it; -1 if unknown. Slow (tens to hundreds of
 * milliseconds for a big browser): call it on a worker. */
long cdp_pgroup_pss_kb(pid_t pgid, int *nprocs);

/* Kill the group, reap the browser (bounded wait), remove a temp profile,
 * free, set *p to NULL. NULL-safe. */
void cdp_process_free(struct cdp_process **p);

#endif
