/*
 * gen-errorlog.c — writes a deterministic, realistic nginx error.log of about SIZE MiB to
 * stdout: mostly everyday errors, warnings and notices, a few percent upstream TLS failures
 * (every kind, http and stream, OpenSSL 3 wording) and some hostile requests. Used by
 * bench/scan/run.sh. Usage: gen-errorlog SIZE_MIB [SEED]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const words[] = {"api", "v1", "v2", "items", "users", "static", "img",
                                    "orders", "cart", "search", "health", "login", "assets",
                                    "reports", "export", "a1b2c3", "feed", "comments"};
static const char *const servers[] = {"api.example.com", "www.example.com", "shop.example.com",
                                      "_"};
static const char *const methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"};

static void
uri(char *out, size_t cap)
{
    size_t n = 0;
    int parts = 1 + (int)rnd(4);

    for (int i = 0; i < parts && n + 20 < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "/%s", words[rnd(sizeof(words) / sizeof(words[0]))]);
    if (rnd(3) == 0 && n + 20 < cap)
        snprintf(out + n, cap - n, "?id=%u&page=%u", rnd(100000), rnd(50));
}

int
main(int argc, char **argv)
{
    unsigned long long limit, written = 0, conn = 1000;
    unsigned sec = 0;
    char line[4096], u[256], client[32];
    static char obuf[1 << 20];

    if (argc < 2) {
        fprintf(stderr, "usage: gen-errorlog SIZE_MIB [SEED]\n");
        return 2;
    }
    limit = strtoull(argv[1], NULL, 10) << 20;
    if (argc > 2)
        rng ^= strtoull(argv[2], NULL, 10) * 0x9E3779B97F4A7C15ULL;
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    while (written < limit) {
        unsigned r = rnd(1000);
        int pid = 2100 + (int)rnd(4);
        const char *srv = servers[rnd(4)], *m = methods[rnd(7)];
        char ts[32];
        int n;

        if (rnd(40) == 0)
            sec++;
        snprintf(ts, sizeof(ts), "2026/11/%02u %02u:%02u:%02u", 20 + (sec / 86400) % 8,
                 (sec / 3600) % 24, (sec / 60) % 60, sec % 60);
        snprintf(client, sizeof(client), "%u.%u.%u.%u", 10 + rnd(200), rnd(256), rnd(256),
                 1 + rnd(254));
        uri(u, sizeof(u));
        conn++;
        if (r < 380) {
            n = snprintf(line, sizeof(line),
                         "%s [error] %d#%d: *%llu open() \"/usr/share/nginx/html%s\" failed (2: "
                         "No such file or directory), client: %s, server: %s, request: \"%s %s "
                         "HTTP/1.1\", host: \"%s\"%s\n",
                         ts, pid, pid, conn, u, client, srv, m, u, srv,
                         rnd(2) ? ", referrer: \"https://www.example.com/\"" : "");
        } else if (r < 520) {
            n = snprintf(line, sizeof(line),
                         "%s [error] %d#%d: *%llu upstream timed out (110: Connection timed out) "
                         "while reading response header from upstream, client: %s, server: %s, "
                         "request: \"%s %s HTTP/1.1\", upstream: \"http://10.0.3.%u:8080%s\", "
                         "host: \"%s\"\n",
                         ts, pid, pid, conn, client, srv, m, u, 1 + rnd(9), u, srv);
        } else if (r < 620) {
            n = snprintf(line, sizeof(line),
                         "%s [info] %d#%d: *%llu client closed connection while waiting for "
                         "request, client: %s, server: 0.0.0.0:443\n",
                         ts, pid, pid, conn, client);
        } else if (r < 700) {
            n = snprintf(line, sizeof(line),
                         "%s [warn] %d#%d: *%llu an upstream response is buffered to a temporary "
                         "file /var/cache/nginx/proxy_temp/%u/%02u/%010u while reading upstream, "
                         "client: %s, server: %s, request: \"GET %s HTTP/1.1\", upstream: "
                         "\"http://10.0.3.%u:8080%s\", host: \"%s\"\n",
                         ts, pid, pid, conn, rnd(10), rnd(100), rnd(2000000000), client, srv, u,
                         1 + rnd(9), u, srv);
        } else if (r < 780) {
            n = snprintf(line, sizeof(line),
                         "%s [info] %d#%d: *%llu SSL_do_handshake() failed (SSL: "
                         "error:0A000102:SSL routines::unsupported protocol) while SSL "
                         "handshaking, client: %s, server: 0.0.0.0:443\n",
                         ts, pid, pid, conn, client);
        } else if (r < 840) {
            n = snprintf(line, sizeof(line),
                         "%s [error] %d#%d: *%llu limiting requests, excess: %u.%03u by zone "
                         "\"perip\", client: %s, server: %s, request: \"%s %s HTTP/1.1\", host: "
                         "\"%s\"\n",
                         ts, pid, pid, conn, rnd(20), rnd(1000), client, srv, m, u, srv);
        } else if (r < 900) {
            n = snprintf(line, sizeof(line),
                         "%s [error] %d#%d: *%llu upstream prematurely closed connection while "
                         "reading response header from upstream, client: %s, server: %s, "
                         "request: \"%s %s HTTP/1.1\", upstream: \"http://10.0.3.%u:8080%s\", "
                         "host: \"%s\"\n",
                         ts, pid, pid, conn, client, srv, m, u, 1 + rnd(9), u, srv);
        } else if (r < 940) {
            n = snprintf(line, sizeof(line),
                         "%s [notice] %d#%d: signal process started\n", ts, pid, pid);
        } else if (r < 960) {
            n = snprintf(line, sizeof(line),
                         "%s [error] %d#%d: *%llu client intended to send too large body: %u "
                         "bytes, client: %s, server: %s, request: \"POST %s HTTP/1.1\", host: "
                         "\"%s\"\n",
                         ts, pid, pid, conn, 1048577 + rnd(9000000), client, srv, u, srv);
        } else {
            /* about 4 %: upstream TLS failures of every kind */
            static const char *const msgs[] = {
                "upstream SSL certificate verify error: (18:self-signed certificate)",
                "upstream SSL certificate verify error: (20:unable to get local issuer "
                "certificate)",
                "upstream SSL certificate verify error: (10:certificate has expired)",
                "upstream SSL certificate does not match \"10.0.2.88\"",
                "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version "
                "number)",
                "SSL_do_handshake() failed (SSL: error:0A00042E:SSL routines::tlsv1 alert "
                "protocol version:SSL alert number 70)",
                "upstream timed out (110: Connection timed out)",
                "peer closed connection in SSL handshake (104: Connection reset by peer)",
            };
            unsigned k = rnd(10);
            unsigned port = 8443 + rnd(3);
            if (k < 8) {
                if (rnd(10) == 0)
                    n = snprintf(line, sizeof(line),
                                 "%s [error] %d#%d: *%llu %s while SSL handshaking to upstream, "
                                 "client: %s, server: 127.0.0.1:9443, upstream: "
                                 "\"10.0.2.88:%u\", bytes from/to client:0/0, bytes from/to "
                                 "upstream:0/0\n",
                                 ts, pid, pid, conn, msgs[k], client, port);
                else
                    n = snprintf(line, sizeof(line),
                                 "%s [error] %d#%d: *%llu %s while SSL handshaking to upstream, "
                                 "client: %s, server: %s, request: \"%s %s HTTP/1.1\", upstream: "
                                 "\"https://10.0.2.88:%u%s\", host: \"%s\"%s\n",
                                 ts, pid, pid, conn, msgs[k], client, srv, m,
                                 rnd(50) == 0 ? "/x\", upstream: \"https://evil:1/" : u,
                                 port, u, srv,
                                 rnd(20) == 0 ? ", referrer: \"x\", upstream: "
                                                "\"https://evil:443/\", host: \"evil\""
                                              : "");
            } else {
                n = snprintf(line, sizeof(line),
                             "%s [error] %d#%d: *%llu connect() failed (111: Connection refused) "
                             "while connecting to upstream, client: %s, server: %s, request: "
                             "\"%s %s HTTP/1.1\", upstream: \"https://10.0.2.89:%u%s\", host: "
                             "\"%s\"\n",
                             ts, pid, pid, conn, client, srv, m, u, port, u, srv);
            }
        }
        if (n <= 0 || (size_t)n >= sizeof(line))
            continue;
        fwrite(line, 1, (size_t)n, stdout);
        written += (unsigned long long)n;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
