/*
 * floor OUT N PROG [ARGS...]
 *
 * Runs PROG N times with fork + execv + waitpid and writes one line per run to OUT:
 * the wall time of that run in nanoseconds (CLOCK_MONOTONIC) and its wait status.
 * PROG's stdout and stderr go to /dev/null.  Used for scenario 1: PROG is a static
 * no-op program (the floor) or an init wrapping it (`tini -- noop`).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: floor OUT N PROG [ARGS...]\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) { perror(argv[1]); return 2; }
    long n = strtol(argv[2], NULL, 10);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0) { perror("/dev/null"); return 2; }
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    for (long i = 0; i < n; i++) {
        long long t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0) return 3;
        if (pid == 0) {
            execv(argv[3], argv + 3);
            _exit(127);
        }
        int status = 0;
        if (waitpid(pid, &status, 0) < 0) return 3;
        long long t1 = now_ns();
        fprintf(out, "%lld %d\n", t1 - t0, status);
    }
    return fclose(out) == 0 ? 0 : 3;
}
