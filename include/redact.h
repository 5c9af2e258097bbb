/*
 * redact.h — local redaction for reports: client addresses, host and server names (other
 * than the upstreams'), credentials in headers, request lines and URLs, token-like values,
 * query strings, passwords, private-key blocks and the contents of key and password files.
 * Each real value gets a stable placeholder within one redactor ("host-1", "ip-2", or the
 * --redact-map's name) and every replacement is counted by kind. No I/O but the map file;
 * prints nothing. Used by report.c (and the TUI's report through it).
 */
#ifndef TT_REDACT_H
#define TT_REDACT_H

#include <stdbool.h>
#include <stddef.h>

enum redact_kind {
    RK_ADDRESS,     /* an IPv4/IPv6 address (clients, allow lines): "ip-N" */
    RK_HOST,        /* a host or server name that is not an upstream's: "host-N" */
    RK_HEADER,      /* the value of Authorization, Cookie, Proxy-Authorization, Set-Cookie */
    RK_TOKEN,       /* bearer/basic credentials, JWT-like, long hex or base64, api_key=... */
    RK_QUERY,       /* a URL's query string (the path is kept) */
    RK_USERINFO,    /* user:password@ in a URL */
    RK_PASSWORD,    /* password=..., passwd: ... */
    RK_PRIVATE_KEY, /* a PEM private-key block */
    RK_SECRET_FILE, /* the lines of a key or password file in a diff */
    RK__COUNT
};

struct redact;

/* A redactor; when enabled is false every function hands text back unchanged (and counts
 * nothing), so the front ends have one path. */
struct redact *redact_new(bool enabled);
void redact_free(struct redact *r);
bool redact_enabled(const struct redact *r);

/* Reads a --redact-map (YAML):
 *     names:            # real name or address -> placeholder; a placeholder equal to the
 *       db.corp: db     # name, or "keep", keeps the name as it is
 *     keep: [api.corp]  # names shown as they are
 * Mapped names are hidden wherever they appear. Returns 0, or -1 with *cause naming
 * FILE:LINE. */
int redact_load_map(struct redact *r, const char *path, char **cause);

/* Names and addresses that stay as they are (the upstreams': "host" or "host:port"). */
void redact_keep(struct redact *r, const char *name);
/* A name to hide wherever it appears (a server name, a Host header); kept names win. */
void redact_learn_host(struct redact *r, const char *name);
/* A path whose contents are secret (ssl_password_file, a certificate key): its lines in a
 * diff are replaced. The path itself may be shown. */
void redact_learn_secret_file(struct redact *r, const char *path);

/* The placeholder of a host name (kept ones as they are) / a client's address (kept only
 * by the map: a client that shares an upstream's address is still hidden). The result is
 * owned by r (or is the argument, when nothing is replaced) and stable for r's life: the
 * same name always gets the same placeholder. */
const char *redact_host(struct redact *r, const char *name);
const char *redact_address(struct redact *r, const char *addr);

/* Free text (a log field, a request line, a message, a config line): returns an allocated
 * copy with every secret replaced. len bytes of s (s may hold NULs: they end the copy). */
char *redact_text(struct redact *r, const char *s, size_t len);
/* A unified diff: private-key blocks and the lines of secret files replaced, certificate
 * blocks shortened, then each line as redact_text. */
char *redact_diff(struct redact *r, const char *diff);

unsigned long redact_count(const struct redact *r, enum redact_kind k);
unsigned long redact_total(const struct redact *r);
const char *redact_kind_name(enum redact_kind k);

#endif
