/*
 * hsrv: the HTTP server the probes scenario's health checks ask.
 *
 *   hsrv PORTFILE
 *
 * Listens on 127.0.0.1 at a port the kernel picks, and writes that port to PORTFILE
 * (written to PORTFILE.tmp, then renamed, so a reader sees all of it or nothing).  One
 * thread, one connection at a time: it reads the request head (up to the blank line,
 * at most 4 KiB, 2 s), answers and closes.  `GET /count` is answered with the number of
 * other requests answered so far (and not counted itself); anything else is answered
 * `200 OK` with a 3-byte body and counted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int read_head(int fd, char *buf, size_t size) {
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t r = read(fd, buf + len, size - 1 - len);
        if (r <= 0) return -1;
        len += (size_t)r;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) return 0;
    }
    return 0; /* a head over 4 KiB: answer what we have */
}

static void answer(int fd, const char *body) {
    char out[256];
    int len = snprintf(out, sizeof out,
                       "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       strlen(body), body);
    ssize_t w = write(fd, out, (size_t)len);
    (void)w;
}

static int listen_loopback(const char *portfile) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) < 0)
        return -1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%d\n", ntohs(addr.sin_port));
    if (fclose(f) != 0 || rename(tmp, portfile) != 0) return -1;
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hsrv PORTFILE\n");
        return 111;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = listen_loopback(argv[1]);
    if (lfd < 0) {
        perror("hsrv");
        return 111;
    }
    unsigned long long served = 0;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[4096];
        if (read_head(fd, buf, sizeof buf) == 0) {
            if (strncmp(buf, "GET /count ", 11) == 0) {
                char body[32];
                snprintf(body, sizeof body, "%llu\n", served);
                answer(fd, body);
            } else {
                answer(fd, "ok\n");
                served++;
            }
        }
        close(fd);
    }
}
