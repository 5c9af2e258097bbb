/*
 * resolve.h — what the config tree means for one request: the server and location nginx
 * picks (listen + server_name incl. default_server, wildcards and regexes; locations by
 * `=`, longest prefix, `^~`, regexes in order, nested), the proxy_pass target, and the
 * effective proxy_ssl_* values with their origin (struct proxy_ssl_settings). Also the list
 * of every TLS upstream use in the config, for `probe --all` and `check`.
 * Regex locations and server names are matched with PCRE2 exactly as nginx compiles them
 * (ngx_regex.c: no options but PCRE2_CASELESS for `~*` and server names; the subject is the
 * decoded, normalised URI or the lowercased Host without port), with their captures.
 * Variable upstreams ($backend from a literal `set` or a `map` with literal values, regex
 * captures, $host) are resolved to their candidate targets where the config allows it.
 */
#ifndef TT_RESOLVE_H
#define TT_RESOLVE_H

#include <stdbool.h>

#include "ngxconf.h"
#include "sslconf.h"

struct resolve_target {
    char *host; /* as written: "127.0.0.1", "api.internal", "[::1]" */
    unsigned port;
    /* The directive this target comes from: the proxy_pass (literal), the upstream's `server`
     * line, or for RESOLVE_VARIABLE the `set` directive or `map` entry whose value gives it.
     * NULL only for a guess. */
    const struct ngx_node *origin;
    /* RESOLVE_VARIABLE only: the host part of the value the variable takes for this target
     * (the upstream group's name, or the host): nginx's default proxy_ssl_name for it. NULL
     * otherwise (then use->proxy_host is that name). See resolve_target_ssl_name(). */
    char *name;
    /* RESOLVE_VARIABLE that cannot be resolved statically: a candidate only (a server of one
     * of the module's upstream groups), not a value the config is known to produce. */
    bool guess;
};

enum resolve_kind {
    RESOLVE_LITERAL,  /* proxy_pass https://host:port */
    RESOLVE_UPSTREAM, /* proxy_pass https://NAME where upstream NAME { server ...; } exists */
    RESOLVE_VARIABLE, /* proxy_pass with a $variable: cannot resolve statically */
};

/* One place nginx proxies to a TLS upstream: an http location (or `if` in one) whose
 * proxy_pass is https:// (grpc_pass grpcs://, uwsgi_pass suwsgi://: ssl.family says which), or
 * a stream server whose proxy_pass runs with proxy_ssl on. */
struct tls_use {
    const struct ngx_node *block;      /* the location / if / stream server */
    const struct ngx_node *server;     /* the enclosing server block */
    const struct ngx_node *proxy_pass; /* its proxy_pass (grpc_pass, uwsgi_pass) directive */
    bool stream;
    enum resolve_kind kind;
    char *proxy_host;                /* host part of proxy_pass (the upstream name for
                                        RESOLVE_UPSTREAM): nginx's default proxy_ssl_name */
    const struct ngx_node *upstream; /* the upstream block, for RESOLVE_UPSTREAM */
    struct resolve_target *targets;  /* the literal host:port, the upstream's servers, or
                                        for RESOLVE_VARIABLE the values it can take (see
                                        var_static); ntargets may be 0 for a variable that
                                        nothing in the config gives a value: index targets
                                        only below ntargets */
    size_t ntargets;
    char *context;                 /* "location /api in server api.example"; for a use in an
                                      if / limit_except: "if ($x) in location /api in ..." */
    struct proxy_ssl_settings ssl; /* effective values; strings point into the tree */
    /* RESOLVE_VARIABLE: true when every value the variables can take is known (literal
     * `set`, `map` whose values are literals, a regex capture or $host of this request):
     * targets are exactly those (guess false). false: "cannot resolve statically"; targets
     * hold the values that are known followed by guesses (every server of the module's
     * upstream groups, guess true), possibly none. Always false for the other kinds. */
    bool var_static;
    /* The location nginx runs the request in when this use applies: block itself, or the
     * location enclosing an if / limit_except block; for stream the stream server. */
    const struct ngx_node *location;
};

/* What a log line tells about the request. Any field may be NULL. New fields go last; with
 * -Wextra a positional initialiser must list them all, so prefer memset or designators. */
struct resolve_query {
    bool stream; /* a stream-module line */
    /* http: the log's `server:` field, which nginx fills with the chosen server's first
     * server_name as written (lowercased; a leading '.' dropped; "~regex" kept; "" for a
     * server without server_name: `server: ,`). Matched first as that spelling (the first
     * name, then any name), then as a host name by nginx's rules. A Host header value may be
     * given here too (the probe verb does). "" or NULL with `host` set: `host` names it. */
    const char *server;
    const char *listen;   /* http: "addr:port" the request came to, if known;
                             stream: the `server:` field ("127.0.0.1:8443") */
    const char *uri;      /* request URI as logged ("/a/../b%20c?x"; an absolute
                             "http://h/p" too): decoded and normalised as nginx does,
                             query string and fragment ignored */
    const char *upstream; /* "https://10.0.0.5:8443/x", "10.0.0.5:8443" as logged */
    /* http: the log's `host:` value (the Host header: "name", "name:port", "[v6]:port"). Its
     * port stands for the listen port when listen is NULL (servers listening elsewhere are
     * out), its name for the server name when server gives none. */
    const char *host;
};

/* A regex capture of the request: "1".."9" or a named one ("ver" from (?<ver>...)). */
struct resolve_capture {
    char *name;
    char *value;
};

struct resolve_result {
    const struct ngx_node *server; /* server block nginx picks, or NULL */
    const struct ngx_node *block;  /* the location (or stream server) nginx uses, or NULL;
                                      with has_use, use.location */
    bool has_use;                  /* use is filled: block proxies to a TLS upstream */
    /* The TLS use the event belongs to. use.block is the block whose proxy_pass applies:
     * the location itself, or an `if` / `limit_except` inside it whose own proxy_pass names
     * the logged upstream (use.proxy_pass is that directive). With an upstream in the query,
     * use never targets a different upstream: it is a use whose targets hold it (or a
     * variable that may give it); when none does, has_use is false and note says why. */
    struct tls_use use;
    bool upstream_matches; /* the query's upstream is among use.targets (exactly, or
                              "localhost" for 127.0.0.1 / [::1]; a guess for an unresolved
                              variable or a DNS name that needs resolving does not count) */
    char *note;            /* why something could not be decided, or NULL */
    /* When the log cannot decide (two servers without server_name on ports the line does not
     * name, a snippet included by two servers and no server in the line, two if-blocks of a
     * location proxying to the same upstream, ...): every use the event may belong to, in
     * file order, ncandidates >= 2. use is then a copy of candidates[0] (so callers that need
     * one still get one) and note says that the log cannot decide; a caller that must not
     * guess checks ncandidates first. 0 when the event is placed. Owned by the result. */
    struct tls_use *candidates;
    size_t ncandidates;
    /* use was found from the upstream alone: the query had no server / URI, or the location
     * the request maps to does not proxy to the logged upstream (a rewrite, error_page or
     * try_files sent it elsewhere); note names that location. */
    bool by_upstream;
    /* Regex captures of the request (the server_name regex, then the location regexes that
     * matched; later ones replace earlier ones of the same name, as in nginx). */
    struct resolve_capture *captures;
    size_t ncaptures;
};

/* A request named as a URL (probe --location-of): "http://NAME:PORT/uri" and "https://..."
 * (port 80 / 443 when none is written) are a request to PORT with NAME as its Host header,
 * so nginx picks the server by server_name among those listening on that port (exact,
 * wildcards, regexes, else the socket's default); an IP literal (or localhost, taken as
 * 127.0.0.1) also names the address connected to. "tcp://ADDR:PORT" (or "stream://") names
 * the stream server listening on ADDR:PORT. q borrows the owned strings. */
struct resolve_url {
    struct resolve_query q;
    char *host, *listen, *uri; /* owned */
};
/* Returns 0 (free with resolve_url_free), or -1 with *cause naming the URL. */
int resolve_url_parse(const char *url, struct resolve_url *u, char **cause);
void resolve_url_free(struct resolve_url *u);

/* A resolver for one config: keeps the regexes it compiled (per config node), so placing
 * many events costs one compile per regex. Holds a pointer to conf, which must outlive it. */
struct resolve_ctx;
struct resolve_ctx *resolve_ctx_new(const struct ngxconf *conf);
void resolve_ctx_free(struct resolve_ctx *ctx);
/* resolve_find with ctx's compiled-regex cache. */
int resolve_find_ctx(struct resolve_ctx *ctx, const struct resolve_query *q,
                     struct resolve_result *res, char **cause);

/*
 * Finds the block nginx used for the query and fills res (free with resolve_result_free).
 * When the query has no server/uri but an upstream, the TLS use targeting that upstream
 * is chosen (if exactly one does). Returns 0, or -1 with *cause when no block matches.
 */
int resolve_find(const struct ngxconf *conf, const struct resolve_query *q,
                 struct resolve_result *res, char **cause);
void resolve_result_free(struct resolve_result *res);

/* The effective proxy_ssl_* values in block (a location, if, server, http, stream server):
 * set in it, inherited from the nearest enclosing block setting it, or nginx's default. The
 * family is the block's (resolve_block_family): grpc_ssl_* in a grpc_pass location. */
void resolve_settings(const struct ngx_node *block, struct proxy_ssl_settings *out);
/* The same for a family given. */
void resolve_settings_family(const struct ngx_node *block, enum pss_family fam,
                             struct proxy_ssl_settings *out);
/* The family of the pass directive in force in block (its own, or that of the location an
 * if / limit_except is in): PSS_FAM_GRPC under grpc_pass; PSS_FAM_PROXY when none. */
enum pss_family resolve_block_family(const struct ngx_node *block);

/* Every TLS upstream use in the config, in file order: each location, `if` and
 * `limit_except` block with its own https proxy_pass (a location with if-blocks gives one use
 * per path), each stream server with proxy_ssl on; a snippet included by two servers gives
 * one use per server. No request is known here, so a variable taken from a regex capture or
 * $host is "cannot resolve statically" (resolve_find knows them). Returns the count; *uses
 * is an array the caller frees with resolve_uses_free. */
size_t resolve_uses(const struct ngxconf *conf, struct tls_use **uses);
void resolve_uses_free(struct tls_use *uses, size_t n);
void resolve_use_clear(struct tls_use *use);

/* The name nginx checks the upstream certificate against (and sends as SNI when
 * proxy_ssl_server_name is on): proxy_ssl_name when set, else the proxy_pass host. */
const char *resolve_ssl_name(const struct tls_use *use);
/* The same for target ti of use: for a resolved variable the host its value gives (not the
 * "$backend" text of proxy_pass). ti must be below use->ntargets. */
const char *resolve_target_ssl_name(const struct tls_use *use, size_t ti);

/* The proxy_ssl_conf_command (grpc_ssl_conf_command, uwsgi_ssl_conf_command for the block's
 * family: resolve_block_family) directives in force in block, as nginx merges an array
 * directive: all of those of the nearest block (itself or enclosing, up to http / stream)
 * that has any, in order, as "Name value" lines. NULL when none. Caller frees. */
char *resolve_conf_commands(const struct ngx_node *block);

/* "location /api in server api.example" for a block. Caller frees. */
char *resolve_context(const struct ngx_node *block);

#endif
