/*
 * resolve.h — what the config tree means for one request: the server and location nginx
 * picks (listen + server_name incl. default_server, wildcards and regexes; locations by
 * `=`, longest prefix, `^~`, regexes in order, nested), the proxy_pass target, and the
 * effective proxy_ssl_* values with their origin (struct proxy_ssl_settings). Also the list
 * of every TLS upstream use in the config, for `probe --all` and `check`.
 * Regex locations and server names are matched with POSIX regcomp (REG_EXTENDED) after
 * translating the common PCRE escapes (\d \D (?: ...); others are reported, not guessed.
 */
#ifndef TT_RESOLVE_H
#define TT_RESOLVE_H

#include <stdbool.h>

#include "ngxconf.h"
#include "sslconf.h"

struct resolve_target {
    char *host; /* as written: "127.0.0.1", "api.internal", "[::1]" */
    unsigned port;
};

enum resolve_kind {
    RESOLVE_LITERAL,  /* proxy_pass https://host:port */
    RESOLVE_UPSTREAM, /* proxy_pass https://NAME where upstream NAME { server ...; } exists */
    RESOLVE_VARIABLE, /* proxy_pass with a $variable: cannot resolve statically */
};

/* One place nginx proxies to a TLS upstream: an http location (or `if` in one) whose
 * proxy_pass is https://, or a stream server whose proxy_pass runs with proxy_ssl on. */
struct tls_use {
    const struct ngx_node *block;      /* the location / if / stream server */
    const struct ngx_node *server;     /* the enclosing server block */
    const struct ngx_node *proxy_pass; /* its proxy_pass directive (file:line) */
    bool stream;
    enum resolve_kind kind;
    char *proxy_host;                /* host part of proxy_pass (the upstream name for
                                        RESOLVE_UPSTREAM): nginx's default proxy_ssl_name */
    const struct ngx_node *upstream; /* the upstream block, for RESOLVE_UPSTREAM */
    struct resolve_target *targets;  /* the literal host:port, the upstream's servers, or
                                        for RESOLVE_VARIABLE the candidates (all upstream
                                        servers of that module) */
    size_t ntargets;
    char *context;                 /* "location /api in server api.example" */
    struct proxy_ssl_settings ssl; /* effective values; strings point into the tree */
};

/* What a log line tells about the request. Any field may be NULL. */
struct resolve_query {
    bool stream;          /* a stream-module line */
    const char *server;   /* http: the `server:` field (server_name) or the Host header */
    const char *listen;   /* http: "addr:port" the request came to, if known;
                             stream: the `server:` field ("127.0.0.1:8443") */
    const char *uri;      /* request URI; query string and fragment are ignored */
    const char *upstream; /* "https://10.0.0.5:8443/x", "10.0.0.5:8443" as logged */
};

struct resolve_result {
    const struct ngx_node *server; /* server block nginx picks, or NULL */
    const struct ngx_node *block;  /* the location (or stream server) nginx uses, or NULL */
    bool has_use;                  /* use is filled: block proxies to a TLS upstream */
    struct tls_use use;
    bool upstream_matches; /* the query's upstream is among use.targets (false for
                              RESOLVE_VARIABLE and DNS names that need resolving) */
    char *note;            /* why something could not be decided, or NULL */
};

/*
 * Finds the block nginx used for the query and fills res (free with resolve_result_free).
 * When the query has no server/uri but an upstream, the TLS use targeting that upstream
 * is chosen (if exactly one does). Returns 0, or -1 with *cause when no block matches.
 */
int resolve_find(const struct ngxconf *conf, const struct resolve_query *q,
                 struct resolve_result *res, char **cause);
void resolve_result_free(struct resolve_result *res);

/* The effective proxy_ssl_* values in block (a location, if, server, http, stream server):
 * set in it, inherited from the nearest enclosing block setting it, or nginx's default. */
void resolve_settings(const struct ngx_node *block, struct proxy_ssl_settings *out);

/* Every TLS upstream use in the config, in file order. Returns the count; *uses is an
 * array the caller frees with resolve_uses_free. */
size_t resolve_uses(const struct ngxconf *conf, struct tls_use **uses);
void resolve_uses_free(struct tls_use *uses, size_t n);
void resolve_use_clear(struct tls_use *use);

/* The name nginx checks the upstream certificate against (and sends as SNI when
 * proxy_ssl_server_name is on): proxy_ssl_name when set, else the proxy_pass host. */
const char *resolve_ssl_name(const struct tls_use *use);

/* "location /api in server api.example" for a block. Caller frees. */
char *resolve_context(const struct ngx_node *block);


#endif
