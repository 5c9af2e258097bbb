/* writer.c — bench/follow's log writer: appends realistic nginx error.log lines to FILE at
 * RATE lines/s for SECONDS, in 1 ms batches (one write(2) each). Upstream-TLS event lines carry
 * the wall-clock time of their write in the request URI (/bench/SEQ/NS) for the lag meter.
 * EVENTS_PCT (environment, default 90) is the share of upstream-TLS event lines: 90 is an
 * outage where nearly every line is a failure, 4 the everyday mix of bench/scan's generator.
 * usage: writer FILE RATE SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *const kinds[] = {
    "upstream SSL certificate verify error: (18:self-signed certificate) while SSL handshaking to upstream",
    "upstream SSL certificate verify error: (20:unable to get local issuer certificate) while SSL handshaking to upstream",
    "upstream SSL certificate does not match \"api.internal\" while SSL handshaking to upstream",
    "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream",
    "upstream timed out (110: Connection timed out) while SSL handshaking to upstream",
};

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: writer FILE RATE SECONDS\n");
        return 2;
    }
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
    long rate = atol(argv[2]), secs = atol(argv[3]);
    long long total = (long long)rate * secs, seq = 0;
    const char *pct_env = getenv("EVENTS_PCT");
    long long pct = pct_env != NULL ? atoll(pct_env) : 90;
    long long t0 = now_ns(CLOCK_MONOTONIC);
    size_t cap = 1 << 20;
    char *buf = malloc(cap);

    if (fd < 0 || buf == NULL || rate <= 0) {
        perror(argv[1]);
        return 1;
    }
    while (seq < total) {
        /* lines due by now, at most 1 ms worth per batch */
        long long elapsed = now_ns(CLOCK_MONOTONIC) - t0;
        long long due = elapsed * rate / 1000000000LL;
        size_t len = 0;
        if (due > total)
            due = total;
        if (due <= seq) {
            struct timespec ts = {0, 1000000 - (elapsed % 1000000)};
            nanosleep(&ts, NULL);
            continue;
        }
        time_t wall = time(NULL);
        struct tm tm;
        char stamp[32];
        localtime_r(&wall, &tm);
        strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm);
        long long wns = now_ns(CLOCK_REALTIME);
        for (; seq < due && len + 1024 < cap; seq++) {
            int n;
            if (seq % 100 >= pct) /* not an upstream TLS event */
                n = snprintf(buf + len, cap - len,
                             "%s [warn] 2817#2817: *%lld an upstream response is buffered to a "
                             "temporary file /var/cache/nginx/proxy_temp/1/%02lld/%lld while "
                             "reading upstream, client: 10.1.%lld.%lld, server: shop.example\n",
                             stamp, seq, seq % 100, seq, (seq / 250) % 250, seq % 250);
            else
                n = snprintf(buf + len, cap - len,
                             "%s [error] 2817#2817: *%lld %s, client: 10.0.%lld.%lld, server: "
                             "api.example, request: \"GET /bench/%lld/%lld HTTP/1.1\", upstream: "
                             "\"https://10.0.2.%lld:8443/bench/%lld\", host: \"api.example\"\n",
                             stamp, seq, kinds[seq % 5], (seq / 250) % 250, seq % 250, seq, wns,
                             seq % 7 + 10, seq);
            len += (size_t)n;
        }
        for (size_t off = 0; off < len;) {
            ssize_t w = write(fd, buf + off, len - off);
            if (w <= 0) {
                perror("write");
                return 1;
            }
            off += (size_t)w;
        }
    }
    close(fd);
    printf("%lld lines in %.3f s\n", seq, (now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
    return 0;
}
