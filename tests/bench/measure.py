#!/usr/bin/env python3
"""measure.py OUT.json CMD [ARG...] -- run CMD and account its CPU and memory.

Used by bench.mjs for both systems (snapcat, and the puppeteer peer's node
process), so both are measured the same way:

  * This process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
    so every Chromium process that CMD starts is, in the end, reaped either by
    its own parent or by us, and its CPU time lands in our RUSAGE_CHILDREN.
  * CMD's *own* CPU time (utime+stime of CMD's process, all its threads, but
    none of its children) is read from /proc/<pid>/stat while CMD is a zombie:
    we wait for its exit with waitid(WEXITED|WNOWAIT), which leaves it
    unreaped, read fields 14-17 (utime, stime, cutime, cstime), then reap it.
  * total_cpu = our RUSAGE_CHILDREN after everything is reaped = CMD itself +
    all its descendants (Chromium's browser, GPU/utility, zygote and renderer
    processes). browser_cpu = total_cpu - self_cpu.
  * peak_rss: VmHWM of CMD's process (its own resident-set high-water mark,
    children not included), sampled every 20 ms; VmHWM is a running maximum
    kept by the kernel, so only growth in CMD's last 20 ms could be missed.
    Also the peak of the sum of VmRSS over the whole process tree (Chromium
    included) as tree_peak_rss (sampled every 500 ms, so approximate).
  * A timeline for per-page attribution, sampled every 100 ms: [t, tree CPU,
    CMD's own CPU, processes], t in s since CMD started. Tree CPU =
    utime+stime+cutime+cstime of every live (or zombie) process in CMD's tree
    and of our own unreaped orphans, plus our RUSAGE_CHILDREN (orphans already
    reaped): a process that ended and was reaped by its parent is in that
    parent's cutime/cstime, so the sum never goes back. Processes = the
    processes of the tree other than CMD (Chromium's browser, zygotes, GPU,
    utility and renderer processes), zombies not counted.
  * CMD's stdout goes through us: each line is copied to our stdout at once
    and its arrival time recorded (line_times, same clock as the timeline),
    so a page's JSON line tells when that page was done.
  * child_cmdlines: the command lines of CMD's direct children (for snapcat:
    the Chromium it launched, so the peers can be given the same flags).

Writes a JSON object to OUT.json; CMD's stderr is inherited.
Exit status: CMD's.
"""
import ctypes
import json
import os
import resource
import signal
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36


def read_status_kb(pid, key):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root):
    """Sum of VmRSS over root and all its descendants (and our orphans)."""
    children = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat') as f:
                s = f.read()
            ppid = int(s[s.rindex(')') + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [root]
    me = os.getpid()
    todo += [p for p in children.get(me, []) if p != root]
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += read_status_kb(p, 'VmRSS')
        todo += children.get(p, [])
    return total


def tree_sample(root):
    """(tree CPU in clock ticks, processes other than root) for root's tree."""
    children, stats = {}, {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat') as f:
                s = f.read()
            rest = s[s.rindex(')') + 2:].split()
        except (OSError, ValueError, IndexError):
            continue
        pid = int(d)
        stats[pid] = rest
        children.setdefault(int(rest[1]), []).append(pid)
    me = os.getpid()
    todo = [root] + [p for p in children.get(me, []) if p != root]
    ticks, procs, seen = 0, 0, set()
    while todo:
        p = todo.pop()
        if p in seen or p not in stats:
            continue
        seen.add(p)
        rest = stats[p]
        ticks += sum(int(x) for x in rest[11:15])
        if p != root and rest[0] != 'Z':
            procs += 1
        todo += children.get(p, [])
    return ticks, procs, children.get(root, [])


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write('measure.py: prctl(PR_SET_CHILD_SUBREAPER) failed\n')
    clk = os.sysconf('SC_CLK_TCK')
    t0 = time.monotonic()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.dup2(wfd, 1)
            os.close(wfd)
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(wfd)

    state = {'hwm': 0, 'tree': 0, 'samples': 0, 'done': False, 'timeline': [], 'procs_max': 0, 'kids': {}}
    line_times = []

    def relay():
        with os.fdopen(rfd, 'rb') as f:
            for line in f:
                line_times.append(round(time.monotonic() - t0, 3))
                sys.stdout.buffer.write(line)
                sys.stdout.buffer.flush()

    def self_ticks():
        try:
            with open(f'/proc/{pid}/stat') as f:
                s = f.read()
            rest = s[s.rindex(')') + 2:].split()
            return int(rest[11]) + int(rest[12])
        except (OSError, ValueError, IndexError):
            return 0

    def sampler():
        n = 0
        while not state['done']:
            h = read_status_kb(pid, 'VmHWM')
            if h > state['hwm']:
                state['hwm'] = h
            if n % 5 == 0:  # the timeline: every 100 ms
                ticks, procs, kids = tree_sample(pid)
                for k in kids:
                    if k not in state['kids']:
                        try:
                            with open(f'/proc/{k}/cmdline', 'rb') as f:
                                state['kids'][k] = [a.decode(errors='replace') for a in f.read().split(b'\0')[:-1]]
                        except OSError:
                            state['kids'][k] = []
                ru = resource.getrusage(resource.RUSAGE_CHILDREN)
                state['timeline'].append([round(time.monotonic() - t0, 3),
                                          round(ticks / clk + ru.ru_utime + ru.ru_stime, 2),
                                          round(self_ticks() / clk, 2), procs])
                state['procs_max'] = max(state['procs_max'], procs)
            if n % 25 == 0:  # the RSS walk costs more: every 500 ms
                t = tree_rss_kb(pid)
                if t > state['tree']:
                    state['tree'] = t
            n += 1
            state['samples'] = n
            time.sleep(0.02)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    rl = threading.Thread(target=relay, daemon=True)
    rl.start()
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    wall = time.monotonic() - t0
    state['done'] = True
    th.join()
    rl.join(5)
    with open(f'/proc/{pid}/stat') as f:
        s = f.read()
    rest = s[s.rindex(')') + 2:].split()
    utime, stime, cutime, cstime = (int(x) / clk for x in rest[11:15])
    _, status, _ = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)

    # Orphans (Chromium processes that outlived their parent) come to us.
    orphans, killed = 0, 0
    deadline = time.monotonic() + 15
    while True:
        try:
            p, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if p:
            orphans += 1
            continue
        if time.monotonic() > deadline:
            for d in os.listdir('/proc'):
                if d.isdigit():
                    try:
                        with open(f'/proc/{d}/stat') as f:
                            st = f.read()
                        if int(st[st.rindex(')') + 2:].split()[1]) == os.getpid():
                            os.kill(int(d), signal.SIGKILL)
                            killed += 1
                    except (OSError, ValueError):
                        pass
            deadline = time.monotonic() + 15
        time.sleep(0.05)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    self_cpu = utime + stime
    res = {
        'cmd': cmd, 'exit_code': code, 'wall_s': round(wall, 3),
        'self_user_s': utime, 'self_sys_s': stime, 'self_cpu_s': round(self_cpu, 3),
        'children_cpu_waited_by_cmd_s': round(cutime + cstime, 3),
        'total_cpu_s': round(total, 3),
        'browser_cpu_s': round(total - self_cpu, 3),
        'peak_rss_kb': state['hwm'], 'tree_peak_rss_kb': state['tree'],
        'rss_samples': state['samples'],
        'orphans_reaped': orphans, 'orphans_killed': killed,
        'procs_max': state['procs_max'], 'line_times': line_times,
        'timeline': state['timeline'],
        'child_cmdlines': list(state['kids'].values()),
    }
    with open(out, 'w') as f:
        json.dump(res, f)
    return code


if __name__ == '__main__':
    sys.exit(main())
