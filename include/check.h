/*
 * check.h — the config rules TT001–TT011 run over every TLS upstream use (resolve.h), with
 * the certificate and CRL files they name loaded once each. fmt-check.h renders the findings as
 * text, JSON or SARIF 2.1.0; cli-check.c drives it; the TUI may show the same findings.
 */
#ifndef TT_CHECK_H
#define TT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "ngxconf.h"
#include "sslconf.h"

struct tls_use;

enum check_severity { CHECK_WARNING, CHECK_ERROR };

struct check_rule {
    const char *id;       /* "TT001" */
    const char *severity; /* "error", "warning", "warning/error" */
    const char *summary;  /* one line */
};

/* The rules, in id order; the man page and SARIF list them from here. */
extern const struct check_rule check_rules[];
extern const size_t check_nrules;

struct check_finding {
    const char *rule; /* "TT004" */
    enum check_severity severity;
    char *file; /* where to look (the directive, or the proxy_pass) */
    unsigned line;
    char *context; /* "location /api in server api.example" */
    char *message;
    char *fix; /* one line; never "proxy_ssl_verify off" */
};

struct check_opts {
    const char *nginx; /* binary for `nginx -V` (run only when TT004 or TT011 needs it) */
    time_t now;        /* 0: the current time */
    int expiry_days;   /* 0: 30 — TT006 warns this many days before notAfter */
};

struct check_report {
    struct check_finding *findings; /* sorted by file, line, rule; one per rule and place */
    size_t nfindings;
    size_t nuses;   /* TLS upstream uses examined */
    size_t nerrors; /* findings of severity error */
    char *ip_rule;  /* the IP-SAN rule applied for TT004 (and why), or NULL if not needed */
};

/* Runs every rule. Never fails: unreadable files are findings. */
void check_run(const struct ngxconf *conf, const struct check_opts *opts, struct check_report *r);
void check_report_free(struct check_report *r);

/* TT009's question for one setting of a use: when proxy_ssl_* setting k is not set for u,
 * the ssl_* twin (nginx's own TLS server's: ssl_trusted_certificate or ssl_client_certificate
 * for PSS_TRUSTED_CERTIFICATE, ssl_verify_depth, ...) in force in u's scope, else NULL.
 * Diagnose's cause text names it too (remedy.c). */
const struct ngx_node *check_server_twin(const struct tls_use *u, enum pss k);

#endif
