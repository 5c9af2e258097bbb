/*
 * probe.c — handshakes with upstreams as nginx 1.22 does (ngx_event_openssl.c,
 * ngx_http_upstream.c, ngx_http_proxy_module.c): the same SSL_CTX settings, the same SNI
 * and name rules, the same order of checks, and the same messages. Many upstreams run
 * concurrently under one poll(); one SSL_CTX per distinct settings. The what-if answers
 * re-verify the collected chain offline. No terminal I/O: fmt-probe.c renders, cli-probe.c
 * prints.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "buf.h"
#include "evloop.h"
#include "certinfo.h"
#include "pemload.h"
#include "probe.h"
#include "sslconf.h"
#include "tlserr.h"
#include "xmalloc.h"

/* How long to wait for a TLS 1.3 post-handshake alert: twice the handshake's own time (the
 * alert comes one round trip after our Finished), within these bounds. */
#define POST_HANDSHAKE_WAIT_MIN_MS 200
#define POST_HANDSHAKE_WAIT_MAX_MS 1000

static const char *const verdict_names[] = {
    [PROBE_OK] = "ok",
    [PROBE_VERIFY_ERROR] = "verify_error",
    [PROBE_NAME_MISMATCH] = "name_mismatch",
    [PROBE_HANDSHAKE_ERROR] = "handshake_error",
    [PROBE_TIMEOUT] = "timeout",
    [PROBE_CONNECT_ERROR] = "connect_error",
    [PROBE_CONFIG_ERROR] = "config_error",
};

const char *
probe_verdict_name(enum probe_verdict v)
{
    if (v < 0 || (size_t)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
        return NULL;
    return verdict_names[v];
}

void
probe_opts_init(struct probe_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->verify = true;
    o->depth = 1;
    o->timeout_ms = PROBE_DEFAULT_TIMEOUT_MS;
}

static bool
setting_on(const struct pss_value *v, bool dflt)
{
    if (v->value == NULL)
        return dflt;
    return strcmp(v->value, "on") == 0;
}

int
probe_opts_from_settings(struct probe_opts *o, const struct proxy_ssl_settings *s, const char *host,
                         int port, char **cause)
{
    const char *depth = s->v[PSS_VERIFY_DEPTH].value;

    probe_opts_init(o);
    o->host = host;
    o->port = port;
    o->verify = setting_on(&s->v[PSS_VERIFY], false);
    o->server_name = setting_on(&s->v[PSS_SERVER_NAME], false);
    o->trusted = s->v[PSS_TRUSTED_CERTIFICATE].value;
    o->name = s->v[PSS_NAME].value;
    o->protocols = s->v[PSS_PROTOCOLS].value;
    o->ciphers = s->v[PSS_CIPHERS].value;
    o->cert = s->v[PSS_CERTIFICATE].value;
    o->key = s->v[PSS_CERTIFICATE_KEY].value;
    o->password_file = s->v[PSS_PASSWORD_FILE].value;
    o->crl = s->v[PSS_CRL].value;
    o->family = s->family;
    if (depth != NULL) {
        char *end;
        long d = strtol(depth, &end, 10);
        if (*depth == '\0' || *end != '\0' || d < 0 || d > 100) {
            *cause = xasprintf("invalid %s \"%s\"", sslconf_directive(s->family, PSS_VERIFY_DEPTH),
                               depth);
            return -1;
        }
        o->depth = (int)d;
    }
    if (o->name != NULL && strchr(o->name, '$') != NULL) {
        *cause = xasprintf("%s \"%s\" uses variables: give --name",
                           sslconf_directive(s->family, PSS_NAME), o->name);
        return -1;
    }
    return 0;
}

/* ---- names: nginx's SNI and host-check rules ---- */

char *
probe_ssl_name(const char *name)
{
    const char *p = name, *colon;

    if (*p == '[') {
        p = strchr(p, ']');
        if (p == NULL)
            p = name;
    }
    colon = strchr(p, ':');
    return colon != NULL ? xstrndup(name, (size_t)(colon - name)) : xstrdup(name);
}

bool
probe_sends_sni(const char *name, bool server_name)
{
    if (!server_name || name[0] == '\0' || name[0] == '[')
        return false;
    return !addr_is_ipv4(name, strlen(name));
}

bool
probe_name_matches(X509 *cert, const char *name, bool check_ip_san)
{
    bool ok;

    if (name[0] == '\0')
        return false;
    if (check_ip_san && addr_is_ip(name)) {
        char tmp[64];
        size_t len = strlen(name);
        if (name[0] == '[' && len > 2 && len - 2 < sizeof(tmp)) {
            memcpy(tmp, name + 1, len - 2);
            tmp[len - 2] = '\0';
            name = tmp;
        }
        ok = X509_check_ip_asc(cert, name, 0) == 1;
    } else
        ok = X509_check_host(cert, name, strlen(name), 0, NULL) == 1;
    tlserr_clear();
    return ok;
}

char *
probe_msg_verify_error(long code)
{
    return xasprintf("upstream SSL certificate verify error: (%ld:%s)", code,
                     X509_verify_cert_error_string(code));
}

char *
probe_msg_name_mismatch(const char *name)
{
    return xasprintf("upstream SSL certificate does not match \"%s\"", name);
}

/* ---- SSL_CTX, built as ngx_ssl_create() + ngx_http_proxy_set_ssl() do, cached ---- */

struct ctx_entry {
    char *key;
    SSL_CTX *ctx;
    STACK_OF(X509) * anchors; /* the trusted file's certificates, from the store */
    time_t anchor_not_after;  /* the earliest expiry among them, 0 when none */
    char *error;              /* the [emerg] nginx would print for these settings */
    /* proxy_ssl_crl's CRLs (NULL: none configured, or verify off: nginx loads none) */
    STACK_OF(X509_CRL) * crls;
    struct ctx_entry *next;
};

static const struct {
    const char *name;
    unsigned long op;
} protocol_ops[] = {
    {"SSLv2", SSL_OP_NO_SSLv2},     {"SSLv3", SSL_OP_NO_SSLv3},     {"TLSv1", SSL_OP_NO_TLSv1},
    {"TLSv1.1", SSL_OP_NO_TLSv1_1}, {"TLSv1.2", SSL_OP_NO_TLSv1_2}, {"TLSv1.3", SSL_OP_NO_TLSv1_3},
};

static int
verify_callback(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1; /* as ngx_ssl_verify_callback: let the handshake finish, judge afterwards */
}

static int
cert_requested_cb(SSL *ssl, void *arg)
{
    (void)arg;
    SSL_set_app_data(ssl, (void *)1); /* remember the upstream asked for a client cert */
    return 1;
}

static char *
ctx_key(const struct probe_opts *o)
{
    return xasprintf("%d|%d|%s|%d|%s|%s|%s|%s|%s|%s|%s", (int)o->family, o->verify,
                     o->trusted ? o->trusted : "", o->depth, o->protocols ? o->protocols : "",
                     o->ciphers ? o->ciphers : "", o->cert ? o->cert : "", o->key ? o->key : "",
                     o->password_file ? o->password_file : "", o->crl ? o->crl : "",
                     o->conf_commands ? o->conf_commands : "");
}

static unsigned long
protocol_options(const char *protocols, char **cause)
{
    unsigned long no = 0;
    char *copy, *tok, *save = NULL;

    if (protocols == NULL)
        protocols = "TLSv1 TLSv1.1 TLSv1.2"; /* nginx 1.22's default for proxy_ssl_protocols */
    for (size_t i = 0; i < sizeof(protocol_ops) / sizeof(protocol_ops[0]); i++)
        no |= protocol_ops[i].op;
    copy = xstrdup(protocols);
    for (tok = strtok_r(copy, " \t", &save); tok != NULL; tok = strtok_r(NULL, " \t", &save)) {
        size_t i;
        for (i = 0; i < sizeof(protocol_ops) / sizeof(protocol_ops[0]); i++) {
            if (strcmp(tok, protocol_ops[i].name) == 0) {
                no &= ~protocol_ops[i].op;
                break;
            }
        }
        if (i == sizeof(protocol_ops) / sizeof(protocol_ops[0])) {
            *cause = xasprintf("invalid value \"%s\" in \"proxy_ssl_protocols\"", tok);
            break;
        }
    }
    free(copy);
    return no;
}

/* nginx's [emerg] text: FMT with ARG, then the drained error queue (ngx_ssl_error). */
static char *
emerg(const char *fmt, const char *arg)
{
    struct buf b = BUF_INIT;
    char *msg;
    const char *pct = strstr(fmt, "%s");

    /* fmt holds exactly one %s; built by hand so the format stays a literal at call sites */
    buf_add(&b, fmt, (size_t)(pct - fmt));
    buf_adds(&b, arg);
    buf_adds(&b, pct + 2);
    msg = tlserr_message(buf_str(&b), 0);
    buf_free(&b);
    return msg;
}

/* The client certificate and key, loaded as ngx_ssl_certificate() loads them (so a failure
 * reads as nginx's [emerg]); an encrypted key fails without a prompt. Returns NULL, or the
 * message. */
static char *
load_cert_key(SSL_CTX *ctx, const char *cert, const char *key, const char *password_file)
{
    STACK_OF(X509) *chain = NULL;
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    struct pemload_pass pass = {NULL, NULL, NULL};
    char *msg = NULL;

    /* nginx reads the password file first (ngx_ssl_read_password_file) */
    if (password_file != NULL && pemload_pass_file(password_file, &pass, &msg) != 0)
        goto out;

    if (pemload_cert(cert, &x, &chain, &msg) != PEMLOAD_OK)
        goto out;
    tlserr_clear();
    if (SSL_CTX_use_certificate(ctx, x) != 1) {
        msg = emerg("SSL_CTX_use_certificate(\"%s\") failed", cert);
        goto out;
    }
    while (sk_X509_num(chain) > 0) {
        X509 *extra = sk_X509_shift(chain);
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            msg = emerg("SSL_CTX_add0_chain_cert(\"%s\") failed", cert);
            goto out;
        }
    }
    if (pemload_key(key, &pass, &pk, &msg) != PEMLOAD_OK)
        goto out;
    tlserr_clear();
    if (SSL_CTX_use_PrivateKey(ctx, pk) != 1)
        msg = emerg("SSL_CTX_use_PrivateKey(\"%s\") failed", key);
out:
    pemload_pass_free(&pass);
    EVP_PKEY_free(pk);
    X509_free(x);
    sk_X509_pop_free(chain, X509_free);
    return msg;
}

/* proxy_ssl_crl, loaded as ngx_ssl_crl() does (under proxy_ssl_verify on): every CRL (and
 * certificate) of the file into the store, then CRL checks for the whole chain, so a
 * revoked certificate, a missing CRL (3) or an expired one (12) fail as in nginx. Returns
 * NULL, or nginx's [emerg]. */
static char *
load_crl(SSL_CTX *ctx, const char *crl)
{
    X509_STORE *store;
    X509_LOOKUP *lookup;

    tlserr_clear();
    if ((store = SSL_CTX_get_cert_store(ctx)) == NULL)
        return tlserr_message("SSL_CTX_get_cert_store() failed", 0);
    if ((lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file())) == NULL)
        return tlserr_message("X509_STORE_add_lookup() failed", 0);
    if (X509_LOOKUP_load_file(lookup, crl, X509_FILETYPE_PEM) == 0)
        return emerg("X509_LOOKUP_load_file(\"%s\") failed", crl);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return NULL;
}

/* proxy_ssl_conf_command, applied last as ngx_ssl_conf_commands() does: an SSL_CONF_CTX
 * for a file, client and server, with certificates, on the context. Returns NULL, or
 * nginx's [emerg] for a command OpenSSL refuses. */
static char *
conf_commands(SSL_CTX *ctx, const char *lines)
{
    SSL_CONF_CTX *cctx = SSL_CONF_CTX_new();
    char *copy = xstrdup(lines), *save = NULL, *msg = NULL;

    if (cctx == NULL) {
        free(copy);
        return tlserr_message("SSL_CONF_CTX_new() failed", 0);
    }
    SSL_CONF_CTX_set_flags(cctx, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER | SSL_CONF_FLAG_CLIENT |
                                     SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
    SSL_CONF_CTX_set_ssl_ctx(cctx, ctx);
    for (char *l = strtok_r(copy, "\n", &save); l != NULL && msg == NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(l, ' ');
        const char *value = sp != NULL ? sp + 1 : "";
        if (sp != NULL)
            *sp = '\0';
        tlserr_clear();
        if (SSL_CONF_cmd(cctx, l, value) <= 0) {
            char *what = xasprintf("SSL_CONF_cmd(\"%s\", \"%s\") failed", l, value);
            msg = tlserr_message(what, 0);
            free(what);
        }
    }
    tlserr_clear();
    if (msg == NULL && SSL_CONF_CTX_finish(cctx) != 1)
        msg = tlserr_message("SSL_CONF_finish() failed", 0);
    SSL_CONF_CTX_free(cctx);
    free(copy);
    return msg;
}

static void
ctx_build(struct ctx_entry *e, const struct probe_opts *o)
{
    SSL_CTX *ctx;
    char *cause = NULL;
    unsigned long no;

    tlserr_clear();
    no = protocol_options(o->protocols, &cause);
    if (cause != NULL) {
        e->error = cause;
        return;
    }
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        e->error = tlserr_message("SSL_CTX_new() failed", 0);
        return;
    }
    e->ctx = ctx;
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3);
    SSL_CTX_set_options(ctx, no);
    SSL_CTX_set_min_proto_version(ctx, 0); /* nginx overrides openssl.cnf's MinProtocol */
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_ANTI_REPLAY);
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
    SSL_CTX_set_options(ctx, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* fresh handshakes only */
    SSL_CTX_set_cert_cb(ctx, cert_requested_cb, NULL);
    if (o->family == PSS_FAM_GRPC) {
        /* ngx_http_grpc_set_ssl(): grpcs offers "h2" and nothing else */
        static const unsigned char alpn[] = "\x02h2";
        if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
            e->error = tlserr_message("SSL_CTX_set_alpn_protos() failed", 0);
            return;
        }
    }

    tlserr_clear();
    if (SSL_CTX_set_cipher_list(ctx, o->ciphers != NULL ? o->ciphers : "DEFAULT") == 0) {
        e->error = emerg("SSL_CTX_set_cipher_list(\"%s\") failed", o->ciphers);
        return;
    }
    if (o->cert != NULL &&
        (e->error = load_cert_key(ctx, o->cert, o->key != NULL ? o->key : o->cert,
                                  o->password_file)) != NULL)
        return;
    if (o->verify) {
        /* ngx_ssl_trusted_certificate(): the verify mode stays as it is (a client verifies
         * the server's chain anyway and records the result), the callback returns 1. */
        SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_callback);
        SSL_CTX_set_verify_depth(ctx, o->depth);
        if (o->trusted != NULL) {
            tlserr_clear();
            if (SSL_CTX_load_verify_locations(ctx, o->trusted, NULL) == 0) {
                e->error = emerg("SSL_CTX_load_verify_locations(\"%s\") failed", o->trusted);
                return;
            }
            e->anchors = X509_STORE_get1_all_certs(SSL_CTX_get_cert_store(ctx));
            for (int i = 0; e->anchors != NULL && i < sk_X509_num(e->anchors); i++) {
                time_t t;
                struct tm tm;
                memset(&tm, 0, sizeof(tm));
                if (ASN1_TIME_to_tm(X509_get0_notAfter(sk_X509_value(e->anchors, i)), &tm) != 1)
                    continue;
                t = timegm(&tm);
                if (e->anchor_not_after == 0 || t < e->anchor_not_after)
                    e->anchor_not_after = t;
            }
        }
    }
    /* ngx_http_proxy_set_ssl() loads the CRL only under proxy_ssl_verify on (measured: nginx
     * 1.22.1 -t accepts an unloadable CRL file with verify off) */
    if (o->verify && o->crl != NULL) {
        if ((e->error = load_crl(ctx, o->crl)) != NULL)
            return;
        e->crls = certinfo_store_crls(SSL_CTX_get_cert_store(ctx));
        if (e->crls == NULL)
            e->crls = sk_X509_CRL_new_null();
    }
    if (o->conf_commands != NULL && (e->error = conf_commands(ctx, o->conf_commands)) != NULL)
        return;
    tlserr_clear();
}

static struct ctx_entry *
ctx_get(struct ctx_entry **cache, const struct probe_opts *o, struct probe_stats *stats)
{
    char *key = ctx_key(o);
    struct ctx_entry *e;

    for (e = *cache; e != NULL; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            free(key);
            return e;
        }
    }
    e = xcalloc(1, sizeof(*e));
    e->key = key;
    ctx_build(e, o);
    if (stats != NULL)
        stats->contexts++;
    e->next = *cache;
    *cache = e;
    return e;
}

static void
ctx_free_all(struct ctx_entry *e)
{
    while (e != NULL) {
        struct ctx_entry *next = e->next;
        SSL_CTX_free(e->ctx);
        sk_X509_pop_free(e->anchors, X509_free);
        sk_X509_CRL_pop_free(e->crls, X509_CRL_free);
        free(e->error);
        free(e->key);
        free(e);
        e = next;
    }
}

/* ---- one connection's state machine ---- */

enum conn_state { CS_IDLE, CS_CONNECTING, CS_HANDSHAKE, CS_POSTREAD, CS_DONE };

struct conn {
    const struct probe_opts *o;
    struct probe_result *r;
    struct ctx_entry *ce;
    enum conn_state state;
    int fd;
    SSL *ssl;
    short events;
    long long start, deadline;
    long long hs_start; /* when the TLS handshake began */
};

static void
conn_finish(struct conn *c, enum probe_verdict v, char *message)
{
    c->r->verdict = v;
    free(c->r->nginx_message);
    c->r->nginx_message = message;
    if (message == NULL || v == PROBE_CONFIG_ERROR)
        c->r->phase = NULL;
    else if (c->state == CS_HANDSHAKE)
        c->r->phase = "SSL handshaking to upstream";
    else if (c->state == CS_POSTREAD)
        c->r->phase = "reading response header from upstream";
    else
        c->r->phase = "connecting to upstream";
    c->r->elapsed_ms = (long long)evloop_now_ms() - c->start;
    if (c->ssl != NULL) {
        SSL_free(c->ssl); /* no shutdown: nginx sends none after a failed handshake either */
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->state = CS_DONE;
}

/* x's issuer among the chain sent and the trusted file's certificates, or NULL. */
static X509 *
issuer_of(X509 *x, STACK_OF(X509) * sk, STACK_OF(X509) * anchors)
{
    STACK_OF(X509) * where[2] = {sk, anchors};

    for (int w = 0; w < 2; w++) {
        for (int i = 0; where[w] != NULL && i < sk_X509_num(where[w]); i++) {
            X509 *y = sk_X509_value(where[w], i);
            if (y != x && X509_check_issued(y, x) == X509_V_OK)
                return y;
        }
    }
    if (X509_check_issued(x, x) == X509_V_OK)
        return x;
    return NULL;
}

/* The facts of the chain as sent (leaf first), with each certificate's revocation status
 * under crls (may be NULL): shared by the live probe and the offline check. */
static void
fill_chain(struct probe_result *r, STACK_OF(X509) * sk, STACK_OF(X509) * anchors,
           STACK_OF(X509_CRL) * crls)
{
    time_t now = time(NULL);

    r->presented = X509_chain_up_ref(sk);
    r->chain_total = (size_t)sk_X509_num(sk);
    r->nchain = r->chain_total < PROBE_MAX_CHAIN ? r->chain_total : PROBE_MAX_CHAIN;
    r->chain = xcalloc(r->nchain ? r->nchain : 1, sizeof(*r->chain));
    for (size_t i = 0; i < r->nchain; i++) {
        X509 *x = sk_X509_value(sk, (int)i);
        certinfo_from_x509(x, anchors, now, &r->chain[i]);
        certinfo_revocation(x, issuer_of(x, sk, anchors), crls, &r->chain[i]);
    }
}

static void
collect_chain(struct conn *c)
{
    struct probe_result *r = c->r;
    STACK_OF(X509) *sk = SSL_get_peer_cert_chain(c->ssl);

    r->protocol = xstrdup(SSL_get_version(c->ssl));
    r->cipher = xstrdup(SSL_get_cipher_name(c->ssl));
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
    if (alpn != NULL && alpn_len > 0)
        r->alpn = xstrndup((const char *)alpn, alpn_len);
    else if (c->o->family == PSS_FAM_GRPC)
        r->unchecked = xstrdup("the upstream selected no ALPN protocol (it ignores ALPN): nginx "
                               "speaks HTTP/2 to it anyway, and whether it understands HTTP/2 is "
                               "beyond the handshake the probe checks");
    if (sk == NULL)
        return;
    fill_chain(r, sk, c->ce->anchors, c->ce->crls);
}

/* The verified chain's facts (vc: leaf first). */
static void
fill_verified(struct probe_result *r, STACK_OF(X509) * vc, STACK_OF(X509) * anchors,
              STACK_OF(X509_CRL) * crls)
{
    time_t now = time(NULL);
    int n = vc != NULL ? sk_X509_num(vc) : 0;

    if (n > PROBE_MAX_CHAIN)
        n = PROBE_MAX_CHAIN;
    if (n <= 0)
        return;
    r->verified = xcalloc((size_t)n, sizeof(*r->verified));
    r->nverified = (size_t)n;
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(vc, i);
        certinfo_from_x509(x, anchors, now, &r->verified[i]);
        certinfo_revocation(x, issuer_of(x, vc, anchors), crls, &r->verified[i]);
    }
}

static void
collect_verified(struct conn *c)
{
    fill_verified(c->r, SSL_get0_verified_chain(c->ssl), c->ce->anchors, c->ce->crls);
}

/* nginx's judgement once OpenSSL's verification has run (r->verify_code set): with
 * proxy_ssl_verify on, the verify result, then the name of peer. PROBE_OK or the failure
 * with *message (nginx's text). Shared by the live probe and probe_verify_chain. */
static enum probe_verdict
judge(const struct probe_opts *o, const struct probe_result *r, X509 *peer, char **message)
{
    *message = NULL;
    if (!o->verify) /* proxy_ssl_verify off: nginx checks neither chain nor name */
        return PROBE_OK;
    if (r->verify_code != X509_V_OK) {
        *message = probe_msg_verify_error(r->verify_code);
        return PROBE_VERIFY_ERROR;
    }
    if (peer == NULL || !probe_name_matches(peer, r->name, o->check_ip_san)) {
        *message = probe_msg_name_mismatch(r->name);
        return PROBE_NAME_MISMATCH;
    }
    return PROBE_OK;
}

/* After the handshake: the checks of ngx_http_upstream_ssl_handshake(), in its order. */
static void
conn_judge(struct conn *c)
{
    struct probe_result *r = c->r;
    X509 *peer;
    enum probe_verdict v;
    char *message;

    collect_chain(c);
    r->verify_code = SSL_get_verify_result(c->ssl);
    if (c->o->verify && r->verify_code == X509_V_OK)
        collect_verified(c);
    peer = SSL_get0_peer_certificate(c->ssl);
    if ((v = judge(c->o, r, peer, &message)) != PROBE_OK) {
        conn_finish(c, v, message);
        return;
    }
    if (SSL_get_app_data(c->ssl) != NULL && SSL_version(c->ssl) >= TLS1_3_VERSION) {
        /* TLS 1.3 with a client-certificate request: the upstream judges our certificate
         * after our Finished, so its alert arrives when nginx reads the response. */
        c->state = CS_POSTREAD;
        c->events = POLLIN;
        long long now = (long long)evloop_now_ms(), wait = 2 * (now - c->hs_start);
        if (wait < POST_HANDSHAKE_WAIT_MIN_MS)
            wait = POST_HANDSHAKE_WAIT_MIN_MS;
        if (wait > POST_HANDSHAKE_WAIT_MAX_MS)
            wait = POST_HANDSHAKE_WAIT_MAX_MS;
        long long until = now + wait;
        if (until < c->deadline)
            c->deadline = until;
        return;
    }
    conn_finish(c, PROBE_OK, NULL);
}

/* One step of SSL_do_handshake() or the post-handshake read, as ngx_ssl_handshake() and
 * ngx_ssl_handle_recv() treat their results. */
static void
conn_tls_step(struct conn *c)
{
    int n, sslerr, err;
    char buf[512];
    bool handshake = c->state == CS_HANDSHAKE;

    tlserr_clear();
    errno = 0;
    n = handshake ? SSL_do_handshake(c->ssl) : SSL_read(c->ssl, buf, sizeof(buf));
    if (handshake && n == 1) {
        conn_judge(c);
        return;
    }
    if (!handshake && n > 0) {
        conn_finish(c, PROBE_OK, NULL); /* data: the upstream accepted us */
        return;
    }
    sslerr = SSL_get_error(c->ssl, n);
    if (sslerr == SSL_ERROR_WANT_READ) {
        c->events = POLLIN;
        return;
    }
    if (sslerr == SSL_ERROR_WANT_WRITE) {
        c->events = POLLOUT;
        return;
    }
    err = sslerr == SSL_ERROR_SYSCALL ? errno : 0;
    if (!handshake) {
        if (sslerr == SSL_ERROR_ZERO_RETURN || !tlserr_pending()) {
            conn_finish(c, PROBE_OK, NULL); /* closed without complaint: not a TLS verdict */
            return;
        }
        conn_finish(c, PROBE_HANDSHAKE_ERROR, tlserr_message("SSL_read() failed", err));
        return;
    }
    if (sslerr == SSL_ERROR_ZERO_RETURN || !tlserr_pending()) {
        tlserr_clear();
        conn_finish(c, PROBE_HANDSHAKE_ERROR,
                    tlserr_errno_message("peer closed connection in SSL handshake", err));
        return;
    }
    conn_finish(c, PROBE_HANDSHAKE_ERROR, tlserr_message("SSL_do_handshake() failed", err));
}

static void
conn_start_tls(struct conn *c)
{
    struct probe_result *r = c->r;

    tlserr_clear();
    if ((c->ssl = SSL_new(c->ce->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        conn_finish(c, PROBE_CONFIG_ERROR, tlserr_message("SSL_new() failed", 0));
        return;
    }
    SSL_set_connect_state(c->ssl);
    if (r->sni != NULL && SSL_set_tlsext_host_name(c->ssl, r->sni) != 1) {
        conn_finish(c, PROBE_CONFIG_ERROR, tlserr_message("SSL_set_tlsext_host_name() failed", 0));
        return;
    }
    c->state = CS_HANDSHAKE;
    c->hs_start = (long long)evloop_now_ms();
    c->deadline = c->hs_start + c->o->timeout_ms; /* nginx re-arms connect_timeout */
    conn_tls_step(c);
}

static void
conn_start(struct conn *c)
{
    const struct probe_opts *o = c->o;
    struct addrinfo hints, *ai = NULL;
    char host[256], port[16];
    size_t hl = strlen(o->host);
    int rc, err;

    c->start = (long long)evloop_now_ms();
    c->fd = -1;
    if (c->ce->anchor_not_after != 0) {
        double secs = difftime(c->ce->anchor_not_after, time(NULL));
        c->r->anchor_not_after = c->ce->anchor_not_after;
        c->r->anchor_days_left = (long)(secs / 86400) - (secs < 0 ? 1 : 0);
    }
    if (c->ce->error != NULL) {
        conn_finish(c, PROBE_CONFIG_ERROR, xstrdup(c->ce->error));
        return;
    }
    if (o->host[0] == '[' && hl > 2 && o->host[hl - 1] == ']' && hl - 2 < sizeof(host)) {
        memcpy(host, o->host + 1, hl - 2);
        host[hl - 2] = '\0';
    } else
        snprintf(host, sizeof(host), "%s", o->host);
    snprintf(port, sizeof(port), "%d", o->port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
        conn_finish(c, PROBE_CONFIG_ERROR,
                    xasprintf("host not found in upstream \"%s:%d\" (%s)", o->host, o->port,
                              gai_strerror(rc)));
        return;
    }
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        err = errno;
        freeaddrinfo(ai);
        conn_finish(c, PROBE_CONNECT_ERROR, tlserr_errno_message("socket() failed", err));
        return;
    }
    c->deadline = c->start + o->timeout_ms;
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
        freeaddrinfo(ai);
        conn_start_tls(c);
        return;
    }
    err = errno;
    if (err != EINPROGRESS) {
        char addr[INET6_ADDRSTRLEN] = "?";
        char *text;
        if (ai->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, addr,
                      sizeof(addr));
        else
            inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, sizeof(addr));
        text = xasprintf(ai->ai_family == AF_INET6 ? "connect() to [%s]:%d failed"
                                                   : "connect() to %s:%d failed",
                         addr, o->port);
        freeaddrinfo(ai);
        conn_finish(c, PROBE_CONNECT_ERROR, tlserr_errno_message(text, err));
        free(text);
        return;
    }
    freeaddrinfo(ai);
    c->state = CS_CONNECTING;
    c->events = POLLOUT;
}

static void
conn_ready(struct conn *c)
{
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
            err = errno;
        if (err == ECONNRESET) {
            /* Accepted, then reset at once. nginx reads SO_ERROR when its write event fires,
             * which on loopback is usually before the reset lands, so it meets the reset in
             * SSL_do_handshake() and logs that (tests/lab "reset"). Say what nginx says. */
            c->state = CS_HANDSHAKE;
            conn_finish(c, PROBE_HANDSHAKE_ERROR,
                        tlserr_errno_message("peer closed connection in SSL handshake", err));
            return;
        }
        if (err != 0) {
            conn_finish(c, PROBE_CONNECT_ERROR, tlserr_errno_message("connect() failed", err));
            return;
        }
        conn_start_tls(c);
    } else if (c->state == CS_HANDSHAKE || c->state == CS_POSTREAD)
        conn_tls_step(c);
}

static void
conn_timeout(struct conn *c)
{
    if (c->state == CS_POSTREAD) {
        conn_finish(c, PROBE_OK, NULL); /* no alert came: the upstream accepted us */
        return;
    }
    conn_finish(c, PROBE_TIMEOUT, tlserr_errno_message("upstream timed out", ETIMEDOUT));
}

static void
result_init(struct probe_result *r, const struct probe_opts *o)
{
    memset(r, 0, sizeof(*r));
    r->verdict = PROBE_NOT_TRIED;
    r->verify_code = -1;
    r->upstream = xasprintf("%s:%d", o->host, o->port);
    r->family = o->family;
    r->location = o->location != NULL ? xstrdup(o->location) : NULL;
    r->name = probe_ssl_name(o->name != NULL ? o->name : o->host);
    if (probe_sends_sni(r->name, o->server_name))
        r->sni = xstrdup(r->name);
    if (!addr_is_ip(r->name))
        r->name_rule = xstrdup("a DNS name: X509_check_host (DNS SANs, else the subject CN), "
                               "the same in every nginx version");
    else if (o->check_ip_san)
        r->name_rule = xasprintf("an IP literal under nginx %s (nginx -V) >= 1.31.0: checked "
                                 "against IP SANs",
                                 o->nginx_version != NULL ? o->nginx_version : "?");
    else if (o->nginx_version != NULL)
        r->name_rule = xasprintf("an IP literal under nginx %s (nginx -V) < 1.31.0: "
                                 "X509_check_host checks DNS names only, so it never matches",
                                 o->nginx_version);
    else
        r->name_rule = xstrdup("an IP literal; nginx -V not read, so nginx 1.22's rule: "
                               "X509_check_host checks DNS names only, so it never matches");
    r->what_if.computed = false;
}

static int
run_engine(const struct probe_opts *opts, size_t n, struct probe_result *res, int parallel,
           struct ctx_entry **cache, struct probe_stats *stats, char **cause)
{
    struct conn *conns = xcalloc(n ? n : 1, sizeof(*conns));
    struct pollfd *pfd = xcalloc((size_t)(parallel > 0 ? parallel : 1), sizeof(*pfd));
    struct conn **act = xcalloc((size_t)(parallel > 0 ? parallel : 1), sizeof(*act));
    size_t next = 0, done = 0;
    int rc = 0;

    if (parallel < 1)
        parallel = 1;
    for (size_t i = 0; i < n; i++) {
        conns[i].o = &opts[i];
        conns[i].r = &res[i];
        conns[i].fd = -1;
        conns[i].state = CS_IDLE;
    }
    while (done < n) {
        int nact = 0, timeout;
        long long now, soonest = -1;

        /* start more, up to parallel, and gather the live ones */
        for (size_t i = 0; i < n && nact < parallel; i++) {
            struct conn *c = &conns[i];
            if (c->state == CS_IDLE) {
                if (next > i)
                    continue;
                c->ce = ctx_get(cache, c->o, stats);
                if (stats != NULL)
                    stats->handshakes++;
                next = i + 1;
                conn_start(c);
            }
            if (c->state == CS_DONE)
                continue;
            act[nact] = c;
            pfd[nact].fd = c->fd;
            pfd[nact].events = c->events;
            pfd[nact].revents = 0;
            if (soonest < 0 || c->deadline < soonest)
                soonest = c->deadline;
            nact++;
        }
        if (nact == 0) {
            done = 0;
            for (size_t i = 0; i < n; i++)
                done += conns[i].state == CS_DONE;
            if (done < n && next >= n) {
                *cause = xstrdup("probe engine stalled");
                rc = -1;
                break;
            }
            continue;
        }
        now = (long long)evloop_now_ms();
        timeout = soonest > now ? (int)(soonest - now) : 0;
        if (poll(pfd, (nfds_t)nact, timeout) < 0 && errno != EINTR) {
            *cause = xasprintf("poll() failed: %s", strerror(errno));
            rc = -1;
            break;
        }
        now = (long long)evloop_now_ms();
        for (int k = 0; k < nact; k++) {
            struct conn *c = act[k];
            if (pfd[k].revents != 0)
                conn_ready(c);
            /* events first, then timers, as nginx does; a peer dribbling bytes still meets
             * its deadline */
            if (c->state != CS_DONE && now >= c->deadline)
                conn_timeout(c);
        }
        done = 0;
        for (size_t i = 0; i < n; i++)
            done += conns[i].state == CS_DONE;
    }
    for (size_t i = 0; i < n; i++) {
        if (conns[i].state != CS_DONE && conns[i].state != CS_IDLE)
            conn_finish(&conns[i], PROBE_TIMEOUT, xstrdup("probe aborted"));
    }
    free(conns);
    free(pfd);
    free(act);
    return rc;
}

/* ---- what-if: offline re-verification of the presented chain ---- */

struct offline {
    STACK_OF(X509) * anchors; /* trusted file */
    X509 *extra;              /* one more anchor, or NULL */
    bool system;              /* the system CA store instead of the trusted file */
    int depth;                /* -1: OpenSSL's default limit (100) */
    int seclevel;
};

static long
offline_verify(STACK_OF(X509) * presented, const struct offline *ov)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    long code = X509_V_ERR_UNSPECIFIED;

    if (store == NULL || ctx == NULL || presented == NULL || sk_X509_num(presented) == 0)
        goto out;
    if (ov->system)
        X509_STORE_set_default_paths(store);
    else {
        for (int i = 0; ov->anchors != NULL && i < sk_X509_num(ov->anchors); i++)
            X509_STORE_add_cert(store, sk_X509_value(ov->anchors, i));
    }
    if (ov->extra != NULL)
        X509_STORE_add_cert(store, ov->extra);
    X509_STORE_set_verify_cb(store, verify_callback);
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(presented, 0), presented) != 1)
        goto out;
    X509_STORE_CTX_set_default(ctx, "ssl_server");
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_auth_level(param, ov->seclevel);
    if (ov->depth >= 0)
        X509_VERIFY_PARAM_set_depth(param, ov->depth);
    X509_verify_cert(ctx);
    code = X509_STORE_CTX_get_error(ctx);
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    tlserr_clear();
    return code;
}

static enum probe_verdict
offline_verdict(const struct probe_result *r, const struct probe_opts *o, const struct offline *ov)
{
    long code = offline_verify(r->presented, ov);

    if (code != X509_V_OK)
        return PROBE_VERIFY_ERROR;
    return probe_name_matches(sk_X509_value(r->presented, 0), r->name, o->check_ip_san)
               ? PROBE_OK
               : PROBE_NAME_MISMATCH;
}

static void
add_name(struct probe_whatif *w, const char *name)
{
    for (size_t i = 0; i < w->nnames; i++) {
        if (strcmp(w->names[i], name) == 0)
            return;
    }
    w->names = xreallocarray(w->names, w->nnames + 1, sizeof(*w->names));
    w->names[w->nnames++] = xstrdup(name);
}

static void
whatif_names(struct probe_result *r, const struct probe_opts *o)
{
    X509 *leaf = sk_X509_value(r->presented, 0);
    struct cert_info *ci = &r->chain[0];
    bool any_dns = false;

    for (size_t i = 0; i < ci->nsan; i++) {
        const char *v = ci->san[i].value;
        if (ci->san[i].type == SAN_DNS) {
            any_dns = true;
            if (strchr(v, '*') != NULL || probe_name_matches(leaf, v, o->check_ip_san))
                add_name(&r->what_if, v); /* a wildcard is listed as the pattern it is */
        } else if (o->check_ip_san && probe_name_matches(leaf, v, true))
            add_name(&r->what_if, v);
    }
    if (!any_dns) { /* X509_check_host falls back to the subject CN */
        X509_NAME *subj = X509_get_subject_name(leaf);
        int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        if (idx >= 0) {
            ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
            unsigned char *u = NULL;
            int len = ASN1_STRING_to_UTF8(&u, s);
            if (len > 0) {
                char *cn = xstrndup((const char *)u, (size_t)len);
                if (probe_name_matches(leaf, cn, o->check_ip_san))
                    add_name(&r->what_if, cn);
                free(cn);
            }
            OPENSSL_free(u);
        }
    }
}

static char *
aia_issuer_url(X509 *x)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
    char *url = NULL;

    for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI) {
            ASN1_IA5STRING *u = ad->location->d.uniformResourceIdentifier;
            url = xstrndup((const char *)ASN1_STRING_get0_data(u), (size_t)ASN1_STRING_length(u));
            break;
        }
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    return url;
}

/* What is known of the issuer of the last certificate sent when that is not a root: the
 * tool cannot fetch it (no AIA fetching), but can say whether the trusted file holds it. */
static char *
intermediate_note(X509 *top, STACK_OF(X509) * anchors)
{
    struct cert_info tmp;
    char *url = aia_issuer_url(top), *note;
    bool found = false;

    for (int i = 0; anchors != NULL && i < sk_X509_num(anchors); i++) {
        if (X509_check_issued(sk_X509_value(anchors, i), top) == X509_V_OK) {
            found = true;
            break;
        }
    }
    tlserr_clear();
    certinfo_from_x509(top, NULL, time(NULL), &tmp);
    if (found)
        note = xasprintf("the issuer of the last certificate sent (%s) is in the trusted file",
                         tmp.issuer);
    else
        note =
            xasprintf("the upstream did not send the issuer of its last certificate (%s) "
                      "and the trusted file does not hold it; %s%s",
                      tmp.issuer, url != NULL ? "its CA publishes it at " : "no AIA URL names it",
                      url != NULL ? url : "");
    certinfo_free(&tmp);
    free(url);
    return note;
}

static void
whatif_compute(struct probe_result *r, const struct probe_opts *o, struct ctx_entry *ce)
{
    struct probe_whatif *w = &r->what_if;
    struct offline ov = {ce->anchors, NULL, false, o->depth, 1};
    int n = sk_X509_num(r->presented);
    X509 *leaf = sk_X509_value(r->presented, 0), *top = sk_X509_value(r->presented, n - 1);

    w->computed = true;
    w->unlimited_depth = w->with_sni = w->trust_leaf = w->trust_root = PROBE_NOT_TRIED;
    w->add_intermediate = w->system_store = PROBE_NOT_TRIED;
    if (ce->ctx != NULL)
        ov.seclevel = SSL_CTX_get_security_level(ce->ctx);
    whatif_names(r, o);
    if (r->verdict != PROBE_VERIFY_ERROR && r->verdict != PROBE_NAME_MISMATCH)
        return;

    ov.depth = -1;
    w->unlimited_depth = offline_verdict(r, o, &ov);
    ov.depth = o->depth;
    if (r->chain[0].self_signed) {
        ov.extra = leaf;
        w->trust_leaf = offline_verdict(r, o, &ov);
    }
    if (n > 1 && r->nchain == (size_t)n && r->chain[n - 1].self_signed) {
        ov.extra = top;
        w->trust_root = offline_verdict(r, o, &ov);
    }
    ov.extra = NULL;
    if (r->nchain == (size_t)n && !r->chain[n - 1].self_signed) {
        X509 *issuer;
        w->intermediate_note = intermediate_note(top, ce->anchors);
        if (r->verdict == PROBE_VERIFY_ERROR && (issuer = certinfo_system_issuer(top)) != NULL) {
            if (X509_check_issued(issuer, issuer) != X509_V_OK) { /* an intermediate */
                struct cert_info ci;
                char *note = w->intermediate_note;
                ov.extra = issuer;
                w->add_intermediate = offline_verdict(r, o, &ov);
                ov.extra = NULL;
                certinfo_from_x509(issuer, NULL, time(NULL), &ci);
                w->intermediate_note = xasprintf("%s; the system CA store holds it (%s): "
                                                 "adding it to the trusted file",
                                                 note, ci.subject);
                certinfo_free(&ci);
                free(note);
            }
            X509_free(issuer);
        }
    }
    ov.system = true;
    ov.depth = o->depth;
    w->system_store = offline_verdict(r, o, &ov);
}

/* ---- public entry points ---- */

static int run_many(const struct probe_opts *opts, size_t n, struct probe_result *res, int parallel,
                    struct probe_stats *stats, char **cause);

int
probe_run_many(const struct probe_opts *opts, size_t n, struct probe_result *res, int parallel,
               struct probe_stats *stats, char **cause)
{
    /* A peer that resets while we write must not kill us: SIGPIPE is ignored process-wide
     * (procenv.c), so a reset shows as EPIPE. */
    return run_many(opts, n, res, parallel, stats, cause);
}

static int
run_many(const struct probe_opts *opts, size_t n, struct probe_result *res, int parallel,
         struct probe_stats *stats, char **cause)
{
    struct ctx_entry *cache = NULL;
    struct probe_opts *retry = NULL;
    struct probe_result *rres = NULL;
    size_t *idx = NULL, nretry = 0;
    int rc;

    for (size_t i = 0; i < n; i++)
        result_init(&res[i], &opts[i]);
    rc = run_engine(opts, n, res, parallel, &cache, stats, cause);
    if (rc != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct probe_whatif *w = &res[i].what_if;
        enum probe_verdict v = res[i].verdict;
        if (!opts[i].what_if)
            continue;
        if (res[i].presented != NULL && sk_X509_num(res[i].presented) > 0)
            whatif_compute(&res[i], &opts[i], ctx_get(&cache, &opts[i], stats));
        else if (v == PROBE_HANDSHAKE_ERROR) { /* no chain: only SNI can be tried */
            w->computed = true;
            w->unlimited_depth = w->with_sni = w->trust_leaf = w->trust_root = PROBE_NOT_TRIED;
            w->add_intermediate = w->system_store = PROBE_NOT_TRIED;
        }
        /* an upstream may pick its certificate, or refuse the handshake, by SNI */
        if ((v == PROBE_VERIFY_ERROR || v == PROBE_NAME_MISMATCH || v == PROBE_HANDSHAKE_ERROR) &&
            w->computed && res[i].sni == NULL && probe_sends_sni(res[i].name, true)) {
            retry = xreallocarray(retry, nretry + 1, sizeof(*retry));
            idx = xreallocarray(idx, nretry + 1, sizeof(*idx));
            retry[nretry] = opts[i];
            retry[nretry].server_name = true;
            retry[nretry].what_if = false;
            idx[nretry++] = i;
        }
    }
    if (nretry > 0) {
        rres = xcalloc(nretry, sizeof(*rres));
        for (size_t i = 0; i < nretry; i++)
            result_init(&rres[i], &retry[i]);
        rc = run_engine(retry, nretry, rres, parallel, &cache, stats, cause);
        for (size_t i = 0; i < nretry; i++) {
            res[idx[i]].what_if.with_sni = rres[i].verdict;
            probe_result_free(&rres[i]);
        }
    }
out:
    free(rres);
    free(retry);
    free(idx);
    ctx_free_all(cache);
    return rc;
}

int
probe_run(const struct probe_opts *o, struct probe_result *r, char **cause)
{
    return probe_run_many(o, 1, r, 1, NULL, cause);
}

/*
 * The judgement of a handshake without the handshake: the SSL_CTX nginx would build from o
 * (ctx_build: trusted file, depth, CRL, security level), the chain verified by OpenSSL as
 * ssl_verify_cert_chain() verifies a server's chain, then judge() as after a live handshake.
 */
int
probe_verify_chain(const struct probe_opts *o, STACK_OF(X509) * chain, struct probe_result *r,
                   char **cause)
{
    struct ctx_entry *cache = NULL, *ce;
    SSL *ssl = NULL;
    X509_STORE_CTX *sctx = NULL;
    STACK_OF(X509) *vc = NULL;
    char *message = NULL;
    int rc = -1;

    result_init(r, o);
    if (chain == NULL || sk_X509_num(chain) == 0) {
        *cause = xasprintf("%s:%d: no certificate to verify", o->host, o->port);
        return -1;
    }
    ce = ctx_get(&cache, o, NULL);
    if (ce->error != NULL) { /* nginx would not load these settings */
        r->verdict = PROBE_CONFIG_ERROR;
        r->nginx_message = xstrdup(ce->error);
        rc = 0;
        goto out;
    }
    fill_chain(r, chain, ce->anchors, ce->crls);
    if (ce->anchor_not_after != 0) {
        double secs = difftime(ce->anchor_not_after, time(NULL));
        r->anchor_not_after = ce->anchor_not_after;
        r->anchor_days_left = (long)(secs / 86400) - (secs < 0 ? 1 : 0);
    }
    tlserr_clear();
    if ((ssl = SSL_new(ce->ctx)) == NULL || (sctx = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ce->ctx), sk_X509_value(chain, 0),
                            chain) != 1) {
        *cause = tlserr_message("X509_STORE_CTX_init() failed", 0);
        goto out;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
    X509_STORE_CTX_set_default(sctx, "ssl_server");
    X509_VERIFY_PARAM_set_auth_level(param, SSL_get_security_level(ssl));
    X509_VERIFY_PARAM_set1(param, SSL_get0_param(ssl)); /* the depth set by ctx_build */
    X509_STORE_CTX_set_verify_cb(sctx, verify_callback);
    X509_verify_cert(sctx);
    r->verify_code = X509_STORE_CTX_get_error(sctx);
    if (o->verify && r->verify_code == X509_V_OK) {
        vc = X509_STORE_CTX_get1_chain(sctx);
        fill_verified(r, vc, ce->anchors, ce->crls);
    }
    r->verdict = judge(o, r, sk_X509_value(chain, 0), &message);
    r->nginx_message = message;
    r->phase = message != NULL ? "SSL handshaking to upstream" : NULL;
    if (o->what_if && (r->verdict == PROBE_VERIFY_ERROR || r->verdict == PROBE_NAME_MISMATCH ||
                       r->verdict == PROBE_OK))
        whatif_compute(r, o, ce); /* with_sni stays "not tried": that takes a second handshake */
    rc = 0;
out:
    sk_X509_pop_free(vc, X509_free);
    X509_STORE_CTX_free(sctx);
    SSL_free(ssl);
    ctx_free_all(cache);
    tlserr_clear();
    return rc;
}

static void
certinfo_array_free(struct cert_info *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        certinfo_free(&a[i]);
    free(a);
}

void
probe_result_free(struct probe_result *r)
{
    free(r->upstream);
    free(r->location);
    free(r->name);
    free(r->sni);
    free(r->name_rule);
    free(r->nginx_message);
    free(r->protocol);
    free(r->cipher);
    free(r->alpn);
    free(r->unchecked);
    sk_X509_pop_free(r->presented, X509_free);
    certinfo_array_free(r->chain, r->nchain);
    certinfo_array_free(r->verified, r->nverified);
    free(r->what_if.intermediate_note);
    for (size_t i = 0; i < r->what_if.nnames; i++)
        free(r->what_if.names[i]);
    free(r->what_if.names);
    memset(r, 0, sizeof(*r));
}

static const struct {
    const char *needle; /* in nginx_message */
    const char *hint;
} probe_hints[] = {
    /* written in the proxy spelling: probe_hint() respells them for the family */
    {"no application protocol",
     "the upstream's TLS listener supports ALPN but not HTTP/2 (\"h2\"), which grpc_pass "
     "grpcs:// needs: enable http2 on the upstream's TLS listener (listen ... ssl http2), or "
     "point grpc_pass at an endpoint that speaks h2; turning verification off changes nothing"},
    {"wrong version number", "the upstream does not speak TLS on this port (plain HTTP?): use "
                             "proxy_pass http:// or the upstream's TLS port"},
    {"packet length too long", "the upstream does not speak TLS on this port"},
    {"alert protocol version", "no TLS version in common: compare proxy_ssl_protocols with the "
                               "versions the upstream accepts"},
    {"unsupported protocol", "no TLS version in common: compare proxy_ssl_protocols with the "
                             "versions the upstream accepts"},
    {"unrecognized name", "the upstream routes by SNI and refuses handshakes without a name it "
                          "knows: proxy_ssl_server_name on, with proxy_ssl_name set to it"},
    {"certificate required", "the upstream requires a client certificate: "
                             "proxy_ssl_certificate and proxy_ssl_certificate_key"},
    {"alert unknown ca", "the upstream does not trust the client certificate sent "
                         "(proxy_ssl_certificate)"},
    {"alert bad certificate", "the upstream rejected the client certificate sent "
                              "(proxy_ssl_certificate)"},
    {"alert handshake failure", "the upstream refused the handshake: no cipher in common "
                                "(proxy_ssl_ciphers), or it requires a client certificate "
                                "(proxy_ssl_certificate)"},
    {"no cipher match", "proxy_ssl_ciphers matches no cipher"},
    {"excessive message size", "the upstream sends a certificate chain larger than OpenSSL "
                               "accepts (100 KiB)"},
    {"peer closed connection", "the upstream closed or reset the connection during the "
                               "handshake: a TLS terminator refusing this client, or a "
                               "non-TLS service"},
    {"Connection refused", "nothing listens on that address and port"},
    {"upstream timed out", "the upstream accepted the connection (or nothing answered at all) "
                           "but did not complete the handshake within proxy_connect_timeout"},
};

char *
probe_hint(const struct probe_result *r)
{
    if (r->nginx_message == NULL ||
        (r->verdict != PROBE_HANDSHAKE_ERROR && r->verdict != PROBE_TIMEOUT &&
         r->verdict != PROBE_CONNECT_ERROR && r->verdict != PROBE_CONFIG_ERROR))
        return NULL;
    for (size_t i = 0; i < sizeof(probe_hints) / sizeof(probe_hints[0]); i++) {
        if (strstr(r->nginx_message, probe_hints[i].needle) != NULL)
            return sslconf_respell(r->family, probe_hints[i].hint);
    }
    return NULL;
}
