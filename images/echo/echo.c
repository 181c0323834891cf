/* The lab's echo server: answers every HTTP request on [::]:8080 (IPv4 too) with
 * "POD_NAME on NODE_NAME\n" (both from the environment, set by the downward API), so a
 * test sees which pod on which node its request reached. Built static (gcc -static), it
 * is the whole echo image. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static void quit(int sig) {
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    char body[512];
    int blen = snprintf(body, sizeof body, "%s on %s\n", env_or("POD_NAME", "unknown-pod"),
                        env_or("NODE_NAME", "unknown-node"));
    if (blen < 0 || (size_t)blen >= sizeof body) {
        return 1;
    }
    char resp[1024];
    int rlen = snprintf(resp, sizeof resp,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n%s",
                        blen, body);
    signal(SIGTERM, quit);
    signal(SIGINT, quit);
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    int off = 0, on = 1;
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port),
                             .sin6_addr = in6addr_any};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
        perror("echo: listening");
        return 1;
    }
    fprintf(stderr, "echo: %s answering on [::]:%d\n", env_or("POD_NAME", "?"), port);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            continue;
        }
        struct timeval tv = {.tv_sec = 5};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        /* Read the request head (up to the blank line, or what arrives first). */
        char buf[4096];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof buf - 1 && (n = read(c, buf + got, sizeof buf - 1 - got)) > 0) {
            got += (size_t)n;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) {
                break;
            }
        }
        ssize_t w = write(c, resp, (size_t)rlen);
        (void)w;
        close(c);
    }
}
