/*
 * incident.c — the incident store: groups upstream TLS events by (upstream, kind, verify code
 * or reason, server), keeps counts, first/last seen, a 60-minute per-minute ring, a bounded
 * set of clients and sample requests; and the const table of plain-words explanations.
 * Bounded memory, no I/O. Fed by cli-scan.c and the follower; read by scanout.c and the TUI.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "incident.h"
#include "xmalloc.h"

static char *
span_dup(struct span s)
{
    size_t n;
    char *p;

    if (s.p == NULL)
        return NULL;
    n = s.len > INCIDENT_FIELD_MAX ? INCIDENT_FIELD_MAX : s.len;
    p = xmalloc(n + 1);
    memcpy(p, s.p, n);
    p[n] = '\0';
    return p;
}

/* Compares a stored string (NULL = absent) with a span, as stored (truncated). */
static bool
str_eq_span(const char *s, struct span sp)
{
    size_t n;

    if (s == NULL || sp.p == NULL)
        return s == NULL && sp.p == NULL;
    n = sp.len > INCIDENT_FIELD_MAX ? INCIDENT_FIELD_MAX : sp.len;
    return strlen(s) == n && memcmp(s, sp.p, n) == 0;
}

static bool
str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static uint64_t
hash_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

/* 8 bytes a step, the length mixed in first (so fields need no separator). */
static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t w;

    h = hash_mix(h, n);
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = hash_mix(h, w);
    }
    if (n > 0) {
        w = 0;
        memcpy(&w, s, n);
        h = hash_mix(h, w);
    }
    return h;
}

static uint64_t
hash_key(const char *up, size_t uplen, enum ev_kind kind, int code, const char *reason, size_t rlen,
         const char *server, size_t slen)
{
    uint64_t h = 14695981039346656037ULL;
    bool by_reason = code < 0 && reason != NULL;

    h = hash_bytes(h, up, uplen);
    h = hash_mix(h, (uint64_t)(unsigned)kind << 32 | (uint32_t)code);
    h = hash_bytes(h, by_reason ? reason : "", by_reason ? rlen : 0);
    h = hash_bytes(h, server != NULL ? server : "", server != NULL ? slen : 0);
    return h;
}

static size_t
clamp(size_t n)
{
    return n > INCIDENT_FIELD_MAX ? INCIDENT_FIELD_MAX : n;
}

static uint64_t
hash_event(const struct ls_event *ev)
{
    struct span r = ev->verify_code >= 0 ? (struct span){NULL, 0} : ev->reason;
    return hash_key(ev->upstream.p != NULL ? ev->upstream.p : "", clamp(ev->upstream.len), ev->kind,
                    ev->verify_code, r.p, clamp(r.len), ev->server.p, clamp(ev->server.len));
}

static bool
incident_matches(const struct incident *inc, const struct ls_event *ev)
{
    struct span up = ev->upstream.p != NULL ? ev->upstream : (struct span){"", 0};

    if (inc->kind != ev->kind || inc->verify_code != ev->verify_code)
        return false;
    if (!str_eq_span(inc->upstream, up) || !str_eq_span(inc->server, ev->server))
        return false;
    return ev->verify_code >= 0 || str_eq_span(inc->reason, ev->reason);
}

void
incident_store_init(struct incident_store *st, size_t max)
{
    memset(st, 0, sizeof(*st));
    st->max = max == 0 ? INCIDENT_MAX_DEFAULT : max;
    st->nslots = 16;
    while (st->nslots < st->max * 2)
        st->nslots *= 2;
    st->slots = xcalloc(st->nslots, sizeof(*st->slots));
    st->items = xcalloc(st->max, sizeof(*st->items));
    st->newest = (time_t)-1;
}

static void
incident_free(struct incident *inc)
{
    free(inc->upstream);
    free(inc->scheme);
    free(inc->reason);
    free(inc->server);
    free(inc->name);
    free(inc->host);
    free(inc->ssl_error);
    for (size_t i = 0; i < inc->nclients; i++)
        free(inc->clients[i]);
    for (size_t i = 0; i < inc->nsamples; i++)
        free(inc->samples[i]);
    free(inc->file);
    free(inc);
}

void
incident_store_free(struct incident_store *st)
{
    for (size_t i = 0; i < st->n; i++)
        incident_free(st->items[i]);
    free(st->items);
    free(st->slots);
    memset(st, 0, sizeof(*st));
}

static void
replace_str(char **dst, struct span s)
{
    if (str_eq_span(*dst, s))
        return;
    free(*dst);
    *dst = span_dup(s);
}

static void
copy_time(char dst[20], struct span t)
{
    size_t n = t.p != NULL ? (t.len < 19 ? t.len : 19) : 0;

    if (n > 0)
        memcpy(dst, t.p, n);
    dst[n] = '\0';
}

static void
note_minute(struct incident *inc, time_t when)
{
    int64_t minute;
    size_t slot;

    if (when == (time_t)-1)
        return;
    minute = (int64_t)when / 60;
    slot = (size_t)(((minute % INCIDENT_MINUTES) + INCIDENT_MINUTES) % INCIDENT_MINUTES);
    if (inc->slot_minute[slot] != minute) {
        if (inc->slot_minute[slot] > minute && inc->per_minute[slot] != 0)
            return; /* older than the ring: too late to chart */
        inc->slot_minute[slot] = minute;
        inc->per_minute[slot] = 0;
    }
    if (inc->per_minute[slot] < UINT32_MAX)
        inc->per_minute[slot]++;
}

static void
note_client(struct incident *inc, struct span c)
{
    if (c.p == NULL || inc->clients_overflow)
        return;
    for (size_t i = 0; i < inc->nclients; i++) {
        if (str_eq_span(inc->clients[i], c))
            return;
    }
    if (inc->nclients == INCIDENT_MAX_CLIENTS) {
        inc->clients_overflow = true;
        return;
    }
    inc->clients[inc->nclients++] = span_dup(c);
}

static void
note_sample(struct incident *inc, struct span r)
{
    if (r.p == NULL || inc->nsamples == INCIDENT_MAX_SAMPLES)
        return;
    for (size_t i = 0; i < inc->nsamples; i++) {
        if (str_eq_span(inc->samples[i], r))
            return;
    }
    inc->samples[inc->nsamples++] = span_dup(r);
}

static struct incident *
store_lookup(const struct incident_store *st, const struct ls_event *ev, size_t *slot_out)
{
    size_t mask = st->nslots - 1, i = (size_t)hash_event(ev) & mask;

    while (st->slots[i] != 0) {
        struct incident *inc = st->items[st->slots[i] - 1];
        if (incident_matches(inc, ev))
            return inc;
        i = (i + 1) & mask;
    }
    *slot_out = i;
    return NULL;
}

struct incident *
incident_store_add(struct incident_store *st, const struct ls_event *ev, const char *file)
{
    struct incident *inc;
    size_t slot = 0;

    if (ev->kind == EV_NONE)
        return NULL;
    st->events++;
    if (ev->when != (time_t)-1 && (st->newest == (time_t)-1 || ev->when > st->newest))
        st->newest = ev->when;
    inc = store_lookup(st, ev, &slot);
    if (inc == NULL) {
        if (st->n == st->max) {
            st->other++;
            return NULL;
        }
        inc = xcalloc(1, sizeof(*inc));
        inc->upstream = ev->upstream.p != NULL ? span_dup(ev->upstream) : xstrdup("");
        inc->scheme = ev->scheme.p != NULL ? span_dup(ev->scheme) : NULL;
        inc->kind = ev->kind;
        inc->verify_code = ev->verify_code;
        inc->reason = span_dup(ev->reason);
        inc->server = span_dup(ev->server);
        inc->first_seen = ev->when;
        copy_time(inc->first_time, ev->time);
        for (size_t i = 0; i < INCIDENT_MINUTES; i++)
            inc->slot_minute[i] = INT64_MIN;
        st->items[st->n++] = inc;
        st->slots[slot] = st->n;
    }
    inc->count++;
    if (inc->first_seen == (time_t)-1 || (ev->when != (time_t)-1 && ev->when < inc->first_seen)) {
        inc->first_seen = ev->when;
        copy_time(inc->first_time, ev->time);
    }
    if (ev->when == (time_t)-1 || inc->last_seen == (time_t)-1 || ev->when >= inc->last_seen) {
        inc->last_seen = ev->when;
        copy_time(inc->last_time, ev->time);
    }
    if (ev->verify_code >= 0)
        replace_str(&inc->reason, ev->reason); /* same code, latest wording */
    replace_str(&inc->name, ev->name);
    replace_str(&inc->host, ev->host);
    replace_str(&inc->ssl_error, ev->ssl_error);
    inc->alert = ev->alert;
    inc->stream = ev->stream;
    note_minute(inc, ev->when);
    note_client(inc, ev->client);
    note_sample(inc, ev->request);
    if (!str_eq(inc->file, file)) {
        free(inc->file);
        inc->file = file != NULL ? xstrdup(file) : NULL;
    }
    inc->line = ev->line;
    if (ev->ambiguous) {
        inc->ambiguous = true;
        inc->ambiguous_count++;
    }
    return inc;
}

struct incident *
incident_store_find(const struct incident_store *st, const char *upstream, enum ev_kind kind,
                    int verify_code, const char *reason, const char *server)
{
    for (size_t i = 0; i < st->n; i++) {
        struct incident *inc = st->items[i];
        if (inc->kind == kind && inc->verify_code == verify_code &&
            str_eq(inc->upstream, upstream != NULL ? upstream : "") &&
            str_eq(inc->server, server) && (verify_code >= 0 || str_eq(inc->reason, reason)))
            return inc;
    }
    return NULL;
}

static int
cmp_incident(const void *a, const void *b)
{
    const struct incident *x = *(struct incident *const *)a;
    const struct incident *y = *(struct incident *const *)b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->last_seen != y->last_seen)
        return x->last_seen > y->last_seen ? -1 : 1;
    return strcmp(x->upstream, y->upstream);
}

struct incident **
incident_store_sorted(const struct incident_store *st)
{
    struct incident **v = xcalloc(st->n + 1, sizeof(*v));

    if (st->n > 0) {
        memcpy(v, st->items, st->n * sizeof(*v));
        qsort(v, st->n, sizeof(*v), cmp_incident);
    }
    return v;
}

void
incident_minutes(const struct incident *inc, time_t now, uint32_t out[INCIDENT_MINUTES])
{
    int64_t cur = (int64_t)now / 60;

    for (int i = 0; i < INCIDENT_MINUTES; i++) {
        int64_t minute = cur - (INCIDENT_MINUTES - 1) + i;
        size_t slot = (size_t)(((minute % INCIDENT_MINUTES) + INCIDENT_MINUTES) % INCIDENT_MINUTES);
        out[i] =
            (now != (time_t)-1 && inc->slot_minute[slot] == minute) ? inc->per_minute[slot] : 0;
    }
}

unsigned long
incident_recent(const struct incident *inc, time_t now, int minutes)
{
    uint32_t v[INCIDENT_MINUTES];
    unsigned long sum = 0;

    if (minutes > INCIDENT_MINUTES)
        minutes = INCIDENT_MINUTES;
    incident_minutes(inc, now, v);
    for (int i = INCIDENT_MINUTES - minutes; i < INCIDENT_MINUTES; i++)
        sum += v[i];
    return sum;
}

const struct incident_explanation incident_explanations[] = {
    /* verify codes (X509_V_ERR_*) */
    {EV_VERIFY_ERROR, 2, NULL,
     "the upstream's chain names an issuer whose certificate nginx cannot find",
     "the trusted file lacks the CA (or intermediate) that signed the upstream's certificate"},
    {EV_VERIFY_ERROR, 9, NULL, "the upstream's certificate is not valid yet",
     "a clock is wrong on one of the two hosts, or the certificate was issued for the future"},
    {EV_VERIFY_ERROR, 10, NULL, "the upstream's certificate has expired",
     "renew the upstream's certificate; trusting it differently will not help"},
    {EV_VERIFY_ERROR, 18, NULL,
     "the upstream presents a self-signed certificate that the trusted file does not contain",
     "pin that certificate in proxy_ssl_trusted_certificate, or give the upstream a CA-signed "
     "one"},
    {EV_VERIFY_ERROR, 19, NULL,
     "the upstream's chain ends in a self-signed root that the trusted file does not contain",
     "add the internal CA root to proxy_ssl_trusted_certificate"},
    {EV_VERIFY_ERROR, 20, NULL,
     "nginx cannot find the issuer of the upstream's certificate in the trusted file",
     "the trusted file lacks the CA root, or the upstream does not send its intermediate"},
    {EV_VERIFY_ERROR, 21, NULL,
     "the upstream sent only its leaf certificate and nginx cannot build a chain",
     "the upstream must send its intermediate, or the trusted file must hold it"},
    {EV_VERIFY_ERROR, 22, NULL, "the upstream's certificate chain is longer than allowed",
     "raise proxy_ssl_verify_depth (default 1) to cover the intermediates"},
    {EV_VERIFY_ERROR, 23, NULL,
     "the upstream's certificate has been revoked (it is listed in the proxy_ssl_crl file)",
     "the upstream must get a new certificate and key; a revoked certificate is never fixed by "
     "trusting it differently (pinning it, another CA or chain): do not work around a "
     "revocation"},
    {EV_VERIFY_ERROR, 26, NULL, "the upstream's certificate is not meant for TLS servers",
     "its extended key usage lacks serverAuth: reissue it"},
    {EV_VERIFY_ERROR, 3, NULL,
     "the proxy_ssl_crl file holds no CRL for an issuer in the upstream's chain",
     "nginx checks the CRL of every certificate in the chain: add each issuing CA's current "
     "CRL to the proxy_ssl_crl file; trusting the certificate differently will not help"},
    {EV_VERIFY_ERROR, 12, NULL, "the CRL nginx checks (proxy_ssl_crl) has expired",
     "fetch the issuing CA's current CRL into the proxy_ssl_crl file and reload nginx; "
     "trusting the certificate differently will not help"},
    {EV_VERIFY_ERROR, -1, NULL, "nginx rejected the upstream's certificate chain",
     "compare the chain the upstream sends with proxy_ssl_trusted_certificate"},
    /* name mismatch */
    {EV_NAME_MISMATCH, -1, NULL,
     "the upstream's certificate does not name the host nginx expects (proxy_ssl_name)",
     "set proxy_ssl_name to a name in the certificate's SAN; nginx before 1.31 ignores IP SANs"},
    /* handshake errors by reason */
    {EV_HANDSHAKE_ERROR, -1, "wrong version number", "the upstream port speaks plain HTTP, not TLS",
     "proxy_pass says https:// but the port is a plain-HTTP one: fix the port or the scheme"},
    {EV_HANDSHAKE_ERROR, -1, "packet length too long",
     "the upstream port speaks plain HTTP, not TLS",
     "proxy_pass says https:// but the port is a plain-HTTP one: fix the port or the scheme"},
    {EV_HANDSHAKE_ERROR, -1, "http request", "the upstream port speaks plain HTTP, not TLS",
     "proxy_pass says https:// but the port is a plain-HTTP one: fix the port or the scheme"},
    {EV_HANDSHAKE_ERROR, -1, "protocol version",
     "nginx and the upstream share no TLS protocol version",
     "compare proxy_ssl_protocols with the versions the upstream accepts"},
    {EV_HANDSHAKE_ERROR, -1, "unsupported protocol",
     "nginx and the upstream share no TLS protocol version",
     "compare proxy_ssl_protocols with the versions the upstream accepts"},
    {EV_HANDSHAKE_ERROR, -1, "no application protocol",
     "the upstream's TLS listener supports ALPN but not HTTP/2 (\"h2\"), which grpc_pass "
     "grpcs:// offers and needs",
     "enable http2 on the upstream's TLS listener (listen ... ssl http2), or point grpc_pass at "
     "an endpoint that speaks h2; turning verification off changes nothing"},
    {EV_HANDSHAKE_ERROR, -1, "handshake failure", "the upstream refused the handshake",
     "often no common cipher, or the upstream wants SNI (proxy_ssl_server_name on)"},
    {EV_HANDSHAKE_ERROR, -1, "no shared cipher", "nginx and the upstream share no cipher",
     "compare proxy_ssl_ciphers with the upstream's"},
    {EV_HANDSHAKE_ERROR, -1, "unrecognized name",
     "the upstream does not know the name nginx sent in SNI",
     "set proxy_ssl_name to a name the upstream serves"},
    {EV_HANDSHAKE_ERROR, -1, "certificate required",
     "the upstream asks nginx for a client certificate (mTLS)",
     "set proxy_ssl_certificate and proxy_ssl_certificate_key"},
    {EV_HANDSHAKE_ERROR, -1, "certificate verify failed",
     "nginx rejected the upstream's certificate (older nginx wording)",
     "the upstream's chain does not lead to a CA in proxy_ssl_trusted_certificate"},
    {EV_HANDSHAKE_ERROR, -1, "unknown ca",
     "the upstream rejected the client certificate nginx sent",
     "the upstream does not trust the CA of proxy_ssl_certificate"},
    {EV_HANDSHAKE_ERROR, -1, "bad certificate", "the upstream rejected the client certificate",
     "check proxy_ssl_certificate against what the upstream expects"},
    {EV_HANDSHAKE_ERROR, -1, NULL, "the TLS handshake with the upstream failed",
     "probe the upstream to see what it answers"},
    {EV_HANDSHAKE_TIMEOUT, -1, NULL,
     "the upstream accepted the connection but never finished the "
     "TLS handshake",
     "the port may not speak TLS at all, or the upstream is overloaded"},
    {EV_PEER_CLOSED, -1, NULL, "the upstream closed the connection during the TLS handshake",
     "it may refuse nginx's protocol, ciphers or missing SNI / client certificate"},
    {EV_CONNECT_ERROR, -1, "refused", "the upstream is down, not a TLS fault",
     "nothing listens on that address and port"},
    {EV_CONNECT_ERROR, -1, "timed out", "the upstream does not answer connections",
     "a firewall or a dead host; not a TLS fault"},
    {EV_CONNECT_ERROR, -1, "no live upstreams", "every server of the upstream group is marked down",
     "earlier failures took them out; look at the first errors"},
    {EV_CONNECT_ERROR, -1, NULL, "nginx could not connect to the upstream",
     "a network problem, not a TLS fault"},
    /* [emerg] configuration errors */
    {EV_CONFIG_ERROR, -1, "proxy_ssl_trusted_certificate",
     "proxy_ssl_verify is on but no proxy_ssl_trusted_certificate is set",
     "nginx refuses this configuration: name the CA file that signs the upstream"},
    {EV_CONFIG_ERROR, -1, "SSL_CTX_load_verify_locations",
     "nginx cannot read the trusted certificate file",
     "the path in proxy_ssl_trusted_certificate is missing, unreadable or not PEM"},
    {EV_CONFIG_ERROR, -1, "\"proxy_ssl_certificate_key\" is defined",
     "proxy_ssl_certificate is set without proxy_ssl_certificate_key",
     "name the key file of the client certificate next to it"},
    {EV_CONFIG_ERROR, -1, "X509_LOOKUP_load_file", "nginx cannot load the proxy_ssl_crl file",
     "the path in proxy_ssl_crl is missing, unreadable or not a PEM CRL"},
    {EV_CONFIG_ERROR, -1, "SSL_CTX_use_PrivateKey",
     "the certificate key does not belong to the certificate (or cannot be used)",
     "pair proxy_ssl_certificate_key (or ssl_certificate_key) with its own certificate"},
    {EV_CONFIG_ERROR, -1, "certificate key", "nginx cannot load a certificate key",
     "the proxy_ssl_certificate_key (or ssl_certificate_key) file is missing or wrong"},
    {EV_CONFIG_ERROR, -1, "cannot load certificate", "nginx cannot load a certificate",
     "the proxy_ssl_certificate (or ssl_certificate) file is missing or not PEM"},
    {EV_CONFIG_ERROR, -1, NULL, "nginx refuses its upstream TLS configuration",
     "nginx -t shows the file and line"},
    {EV_NONE, -1, NULL, "an upstream failure", "see the log line"},
    {EV_NONE, -1, NULL, NULL, NULL},
};

const struct incident_explanation *
incident_explain(enum ev_kind kind, int verify_code, const char *reason)
{
    const struct incident_explanation *e;

    for (e = incident_explanations; e->plain != NULL; e++) {
        if (e->kind != EV_NONE && e->kind != kind)
            continue;
        if (e->verify_code >= 0 && e->verify_code != verify_code)
            continue;
        if (e->reason != NULL) {
            if (reason == NULL)
                continue;
            size_t n = strlen(e->reason), rl = strlen(reason);
            bool hit = false;
            for (size_t i = 0; i + n <= rl && !hit; i++)
                hit = strncasecmp(reason + i, e->reason, n) == 0;
            if (!hit)
                continue;
        }
        return e;
    }
    return e - 1; /* the catch-all before the terminator */
}
