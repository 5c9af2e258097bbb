/*
 * probe.h — a live TLS handshake with an upstream done exactly as nginx does it (trusted
 * file, depth, protocols, ciphers, SNI rule, client certificate, time-outs), its verdict
 * and the very message nginx would log, the chain the upstream sent, and what-if answers
 * that turn a failure into a fix. Many upstreams are probed concurrently under one poll().
 */
#ifndef TT_PROBE_H
#define TT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "certinfo.h"
#include "sslconf.h"

#define PROBE_MAX_CHAIN 16 /* certificates of the presented chain kept and shown */
#define PROBE_DEFAULT_TIMEOUT_MS 5000
#define PROBE_DEFAULT_PARALLEL 32

enum probe_verdict {
    PROBE_NOT_TRIED = -1,  /* what-if not applicable (JSON null) */
    PROBE_OK = 0,          /* nginx would pass the request on */
    PROBE_VERIFY_ERROR,    /* upstream SSL certificate verify error: (N:reason) */
    PROBE_NAME_MISMATCH,   /* upstream SSL certificate does not match "NAME" */
    PROBE_HANDSHAKE_ERROR, /* SSL_do_handshake() failed / peer closed connection / SSL_read() */
    PROBE_TIMEOUT,         /* upstream timed out (110: Connection timed out) */
    PROBE_CONNECT_ERROR,   /* connect() failed (111: Connection refused) */
    PROBE_CONFIG_ERROR,    /* nginx would not even load these settings (bad file, cipher) */
};

/* The settings of one handshake, named after the nginx directives they mirror. Strings are
 * borrowed: they must outlive the probe. */
struct probe_opts {
    const char *host; /* host of proxy_pass: "127.0.0.1", "api.internal", "[::1]" */
    int port;
    const char *name;          /* proxy_ssl_name; NULL: host (port stripped as nginx does) */
    bool server_name;          /* proxy_ssl_server_name: send SNI (never for an IP literal) */
    bool verify;               /* proxy_ssl_verify */
    const char *trusted;       /* proxy_ssl_trusted_certificate; NULL: nothing is trusted */
    int depth;                 /* proxy_ssl_verify_depth (default 1) */
    const char *protocols;     /* proxy_ssl_protocols "TLSv1.2 TLSv1.3"; NULL: nginx's default */
    const char *ciphers;       /* proxy_ssl_ciphers; NULL: "DEFAULT" */
    const char *cert;          /* proxy_ssl_certificate */
    const char *key;           /* proxy_ssl_certificate_key */
    const char *password_file; /* proxy_ssl_password_file: passphrases of an encrypted key */
    const char *crl;           /* proxy_ssl_crl: CRLs checked for every certificate */
    /* proxy_ssl_conf_command: "Name value" lines applied with SSL_CONF_cmd() after the rest,
     * as nginx (1.19.4+) does; NULL: none. */
    const char *conf_commands;
    int timeout_ms;            /* proxy_connect_timeout: for the connect, then for the handshake */
    bool check_ip_san;         /* nginx >= 1.31.0: an IP-literal name is checked against IP SANs */
    const char *nginx_version; /* "1.22.1" as read from nginx -V (it sets check_ip_san), or
                                  NULL when not read: the 1.22 rule applies */
    bool what_if;              /* compute the what-if answers after a verify/name failure */
    const char *location;      /* where the settings come from ("location /api in server x
                                   (nginx.conf:12)"), or NULL for a command-line target */
    /* The module whose directives these are: grpc sends ALPN "h2" as ngx_http_grpc_module
     * does for grpcs (an upstream that supports ALPN but not h2 then refuses the handshake
     * with alert 120); messages and hints name the family's directives. */
    enum pss_family family;
};

/* Defaults as nginx 1.22's: verify on (what the probe is for), depth 1, no SNI, 5 s. */
void probe_opts_init(struct probe_opts *o);

/* Fills o from the effective settings of a block and its proxy_pass HOST:PORT. The strings
 * of s and host stay borrowed. Returns 0, or -1 with *cause (a value nginx would refuse). */
int probe_opts_from_settings(struct probe_opts *o, const struct proxy_ssl_settings *s,
                             const char *host, int port, char **cause);

struct probe_whatif {
    bool computed;
    enum probe_verdict unlimited_depth;  /* proxy_ssl_verify_depth raised */
    enum probe_verdict with_sni;         /* proxy_ssl_server_name on (a second handshake) */
    enum probe_verdict trust_leaf;       /* the presented self-signed leaf pinned */
    enum probe_verdict trust_root;       /* the presented root added to the trusted file */
    enum probe_verdict add_intermediate; /* the missing intermediate added (when found) */
    enum probe_verdict system_store;     /* the system CA store as trusted file */
    char *intermediate_note;             /* what is known of a missing intermediate */
    char **names;                        /* names that would pass as proxy_ssl_name */
    size_t nnames;
};

struct probe_result {
    char *upstream; /* "host:port" as given */
    char *location; /* probe_opts.location, copied (NULL for command-line targets) */
    char *name;     /* the name checked (proxy_ssl_name) */
    char *sni;      /* the SNI sent, NULL when none */
    enum probe_verdict verdict;
    long verify_code;    /* SSL_get_verify_result(); -1 when no handshake completed */
    char *nginx_message; /* exact text nginx logs up to " while ..."; NULL when ok */
    const char *phase;   /* what nginx says it was doing: "SSL handshaking to upstream",
                            "connecting to upstream", "reading response header from
                            upstream"; NULL when ok or for a config error */
    char *protocol;      /* "TLSv1.3", NULL before a handshake */
    char *cipher;
    char *name_rule;            /* which name rule was applied, and from which nginx version */
    STACK_OF(X509) * presented; /* the chain as sent (leaf first), NULL if none */
    struct cert_info *chain;    /* facts of the first PROBE_MAX_CHAIN of them */
    size_t nchain;
    size_t chain_total;         /* certificates actually sent */
    struct cert_info *verified; /* the verified chain when verification succeeded */
    size_t nverified;
    struct probe_whatif what_if;
    time_t anchor_not_after; /* earliest expiry among the trusted file's certificates
                                (0: no trusted file) */
    long anchor_days_left;   /* the same in whole days from now */
    long elapsed_ms;
    enum pss_family family; /* probe_opts.family */
    char *alpn;             /* the ALPN protocol the upstream selected ("h2"), or NULL */
    /* What the probe cannot check, or NULL: for grpc, an upstream that selected no ALPN
     * protocol (nginx then speaks HTTP/2 to it anyway; whether it understands is beyond the
     * handshake). Owned. */
    char *unchecked;
};

struct probe_stats {
    unsigned contexts; /* SSL_CTX built (trusted files loaded), one per distinct setting */
    unsigned handshakes;
};

/* Probes one upstream. Returns 0 (the verdict is in *r), or -1 with *cause when it could
 * not even try (e.g. out of descriptors). Never blocks longer than about 2 x timeout_ms. */
int probe_run(const struct probe_opts *o, struct probe_result *r, char **cause);

/* Probes n upstreams concurrently, at most parallel at a time, one SSL_CTX (and one load of
 * each trusted file) per distinct settings. res[i] is the result of opts[i]. */
int probe_run_many(const struct probe_opts *opts, size_t n, struct probe_result *res, int parallel,
                   struct probe_stats *stats, char **cause);

/* The same judgement without a connection: chain (leaf first, as an upstream sends it) is
 * verified with o's trusted file, depth, CRL and name rule by the SSL_CTX a probe builds
 * and OpenSSL's verification of a server chain, then judged as after a handshake. Fills *r
 * as probe_run does (what-if answers when o->what_if, with_sni never: that takes a second
 * handshake); protocols, ciphers and the upstream's demands cannot be judged. Opens no
 * connection. Returns 0, or -1 with *cause (an empty chain). */
int probe_verify_chain(const struct probe_opts *o, STACK_OF(X509) * chain, struct probe_result *r,
                       char **cause);

void probe_result_free(struct probe_result *r);

/* "ok", "verify_error", ... as in the JSON output; NULL for PROBE_NOT_TRIED. */
const char *probe_verdict_name(enum probe_verdict v);

/* nginx's messages, built as nginx builds them (also used by the tests). */
char *probe_msg_verify_error(long code);
char *probe_msg_name_mismatch(const char *name);

/* The name nginx checks and sends: port stripped from a "host:port" / "[v6]:port" name. */
char *probe_ssl_name(const char *name);
/* Whether nginx sends SNI for this name (server_name on, not empty, not an IP literal). */
bool probe_sends_sni(const char *name, bool server_name);
/* nginx's name check: X509_check_host (DNS names, CN fallback), plus the IP SAN check of
 * nginx >= 1.31.0 when check_ip_san. */
bool probe_name_matches(X509 *cert, const char *name, bool check_ip_san);

/* What a failure without a certificate to judge most likely means, in words, in the
 * family's spelling (grpc_ssl_ciphers for a grpc probe), or NULL: "nothing listens on that
 * port", "the port speaks plain HTTP", ... Caller frees. */
char *probe_hint(const struct probe_result *r);

#endif
