/*
 * addr.c — the one parser of "host:port" / "[v6]:port" text and the one test for IP
 * literals. Knows nothing of listen or proxy_pass syntax around them (schemes, paths,
 * "unix:", a port alone): resolve.c strips those. Called by resolve.c (listen, proxy_pass,
 * upstream servers), cli-probe.c (HOST:PORT arguments), probe.c (SNI and name rules),
 * check.c and remedy.c (IP-literal names).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "xmalloc.h"

bool
addr_is_ipv4(const char *s, size_t len)
{
    unsigned octet = 0, dots = 0;
    size_t digits = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            octet = octet * 10 + (unsigned)(s[i] - '0');
            if (octet > 255)
                return false;
            digits++;
        } else if (s[i] == '.' && digits > 0) {
            dots++;
            octet = 0;
            digits = 0;
        } else
            return false;
    }
    return dots == 3 && digits > 0;
}

bool
addr_is_ip(const char *s)
{
    unsigned char a[16];
    char tmp[64];
    size_t len = strlen(s);

    if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
        if (len - 2 >= sizeof(tmp))
            return false;
        memcpy(tmp, s + 1, len - 2);
        tmp[len - 2] = '\0';
        return inet_pton(AF_INET6, tmp, a) == 1;
    }
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* A port written in digits, 1-65535. Returns 0 or -1. */
static int
port_parse(const char *s, size_t len, unsigned *port)
{
    unsigned long v = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > 65535)
            return -1;
    }
    if (v == 0)
        return -1;
    *port = (unsigned)v;
    return 0;
}

int
addr_split(const char *s, size_t len, unsigned default_port, char **host, unsigned *port)
{
    const char *end = s + len, *colon = NULL;
    size_t hl;
    unsigned p = default_port;

    *host = NULL;
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (rb == NULL || rb == s + 1)
            return -1;
        if (rb + 1 < end) {
            if (rb[1] != ':')
                return -1;
            colon = rb + 1;
        }
        hl = (size_t)(rb - s) + 1;
    } else {
        colon = memchr(s, ':', len);
        if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
            return -1; /* a bare IPv6 address: nginx wants it in brackets */
        hl = colon != NULL ? (size_t)(colon - s) : len;
    }
    if (colon != NULL && port_parse(colon + 1, (size_t)(end - colon - 1), &p) != 0)
        return -1;
    *host = xstrndup(s, hl);
    *port = p;
    return 0;
}
