/*
 * bsvc: the service every benchmark scenario supervises.
 *
 *   bsvc [--notify-fd N] MODE STAMPFILE [ARGS...]
 *   run [...]                 (called as "run", or with no arguments: read them from
 *                              ./bsvc.args, one per line;
 *                              lets an s6/runit `run` file be a symlink to this binary,
 *                              so no shell sits between the supervisor and the service)
 *
 * The very first thing it does is read CLOCK_MONOTONIC; it then appends
 * "<nanoseconds> <pid>\n" to STAMPFILE (created if missing).  Modes:
 *   pause         then sleep; on SIGTERM append "T <nanoseconds> <pid>\n" to STAMPFILE and
 *                 die of SIGTERM (so a supervisor sees the usual status, and the harness
 *                 can tell a graceful stop from a SIGKILL)
 *   ignore-term   ignore SIGTERM, then sleep (only SIGKILL ends it)
 *   fail          exit 1 at once
 *   exit CODE     exit CODE at once
 *   group10       fork 10 children that pause (as above) in this process group, then pause
 *   watchdog MS   send the datagram "WATCHDOG=1" to $NOTIFY_SOCKET (a path, or @name for
 *                 the abstract namespace) at once and then every MS milliseconds, forever;
 *                 after each, append "P <nanoseconds> <pid>\n" to STAMPFILE
 *   storm N RESULT [pause]
 *                 create N double-forked orphans blocked on a pipe, release them all at
 *                 once, and poll until every one has been reaped by someone (kill(pid,0)
 *                 fails with ESRCH), at most 30 s; write "<ns to clear> <left> <zombies>"
 *                 to RESULT, then exit 0 (with "pause": sleep instead, so a supervisor
 *                 does not start it again).  If RESULT exists already, just pause.
 * --notify-fd N writes "\n" to fd N after the stamp (s6 readiness notification).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ts_ns(const struct timespec *ts) {
    return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

static int stamp_fd = -1;

/* async-signal-safe: format by hand, one write(2) */
static void on_term(int sig) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char buf[64], digits[24];
    int len = 0;
    buf[len++] = 'T';
    buf[len++] = ' ';
    long long values[2] = {ts_ns(&ts), (long long)getpid()};
    for (int v = 0; v < 2; v++) {
        long long x = values[v];
        int d = 0;
        do { digits[d++] = (char)('0' + x % 10); x /= 10; } while (x > 0);
        while (d > 0) buf[len++] = digits[--d];
        buf[len++] = v == 0 ? ' ' : '\n';
    }
    if (stamp_fd >= 0) {
        ssize_t w = write(stamp_fd, buf, (size_t)len);
        (void)w;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void sleep_forever(void) {
    for (;;) pause();
}

static char *file_args[64];

static int load_args_file(void) {
    static char buf[8192];
    int fd = open("bsvc.args", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) return -1;
    buf[len] = 0;
    int n = 1;
    file_args[0] = "bsvc";
    for (char *p = buf; *p && n < 63;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (*p) file_args[n++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    file_args[n] = NULL;
    return n;
}

/* systemd's notify protocol without libsystemd: one datagram per ping */
static int watchdog(long ms, int stamp) {
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!path || !*path || strlen(path) >= sizeof addr.sun_path) return 3;
    strcpy(addr.sun_path, path);
    if (path[0] == '@') addr.sun_path[0] = 0;
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 3;
    struct timespec period = {ms / 1000, (ms % 1000) * 1000000L};
    for (;;) {
        ssize_t w = sendto(fd, "WATCHDOG=1", 10, 0, (struct sockaddr *)&addr, alen);
        char line[64];
        int len = snprintf(line, sizeof line, "P %lld %d\n", now_ns(), (int)getpid());
        if (w == 10 && stamp >= 0) w = write(stamp, line, (size_t)len);
        (void)w;
        nanosleep(&period, NULL);
    }
}

static int is_zombie(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0) return 0;
    buf[len] = 0;
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static int storm(long n, const char *result, int then_pause) {
    if (access(result, F_OK) == 0) sleep_forever();
    int gate[2], pids[2];
    if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(pids, O_CLOEXEC) < 0) return 3;
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    if (!kids) return 3;
    for (long i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0) return 3;
        if (child == 0) {
            pid_t grandchild = fork();
            if (grandchild == 0) {
                char c;
                close(gate[1]);
                close(pids[0]);
                close(pids[1]);
                while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
                _exit(0);
            }
            if (grandchild > 0) {
                ssize_t w = write(pids[1], &grandchild, sizeof grandchild);
                (void)w;
            }
            _exit(grandchild > 0 ? 0 : 1);
        }
        int st;
        waitpid(child, &st, 0);
        ssize_t r = read(pids[0], &kids[i], sizeof kids[i]);
        if (r != sizeof kids[i]) return 3;
    }
    long long t0 = now_ns();
    close(gate[1]); /* every orphan sees EOF and exits now */
    long left = n;
    long long deadline = t0 + 30LL * 1000000000LL;
    while (left > 0 && now_ns() < deadline) {
        left = 0;
        for (long i = 0; i < n; i++) {
            if (kids[i] == 0) continue;
            if (kill(kids[i], 0) < 0 && errno == ESRCH) kids[i] = 0;
            else left++;
        }
        if (left > 0) {
            struct timespec pause_ts = {0, 200000};
            nanosleep(&pause_ts, NULL);
        }
    }
    long long cleared = now_ns() - t0;
    long zombies = 0;
    for (long i = 0; i < n; i++)
        if (kids[i] != 0 && is_zombie(kids[i])) zombies++;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", result);
    FILE *f = fopen(tmp, "w");
    if (!f) return 3;
    fprintf(f, "%lld %ld %ld\n", cleared, left, zombies);
    if (fclose(f) != 0 || rename(tmp, result) != 0) return 3;
    if (then_pause) sleep_forever();
    return 0;
}

int main(int argc, char **argv) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start); /* first thing: when did this instance start */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (argc < 2 || strcmp(base, "run") == 0) { /* s6 passes the service name as argv[1] */
        argc = load_args_file();
        if (argc < 0) return 111;
        argv = file_args;
    }
    int notify_fd = -1;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--notify-fd") == 0) {
        notify_fd = atoi(argv[2]);
        i = 3;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: bsvc [--notify-fd N] MODE STAMPFILE [ARGS...]\n");
        return 111;
    }
    const char *mode = argv[i], *stamp = argv[i + 1];
    char line[64];
    int len = snprintf(line, sizeof line, "%lld %d\n", ts_ns(&start), (int)getpid());
    int fd = open(stamp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)len);
        (void)w;
    }
    if (notify_fd >= 0) {
        ssize_t w = write(notify_fd, "\n", 1);
        (void)w;
        close(notify_fd);
    }
    int pausing = strcmp(mode, "pause") == 0 || strcmp(mode, "group10") == 0;
    if (pausing) {
        stamp_fd = fd;
        signal(SIGTERM, on_term);
    } else if (strcmp(mode, "watchdog") == 0 && argc - i >= 3) {
        return watchdog(strtol(argv[i + 2], NULL, 10), fd);
    } else if (fd >= 0) {
        close(fd);
    }
    if (strcmp(mode, "pause") == 0) sleep_forever();
    if (strcmp(mode, "ignore-term") == 0) {
        signal(SIGTERM, SIG_IGN);
        sleep_forever();
    }
    if (strcmp(mode, "fail") == 0) return 1;
    if (strcmp(mode, "exit") == 0 && argc - i >= 3) return atoi(argv[i + 2]);
    if (strcmp(mode, "group10") == 0) {
        for (int k = 0; k < 10; k++) {
            pid_t p = fork();
            if (p == 0) sleep_forever();
        }
        sleep_forever();
    }
    if (strcmp(mode, "storm") == 0 && argc - i >= 4)
        return storm(strtol(argv[i + 2], NULL, 10), argv[i + 3],
                     argc - i >= 5 && strcmp(argv[i + 4], "pause") == 0);
    fprintf(stderr, "bsvc: unknown mode %s\n", mode);
    return 111;
}
