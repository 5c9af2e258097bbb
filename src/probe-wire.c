/*
 * probe-wire.c — owns the wire form of struct probe_result (with its cert_info facts and the
 * presented chain as DER) and the probe job: a worker runs probe_run_many and sends each
 * result as a record; the parent decodes them into an array. Does no probing of its own
 * (probe.c) and no formatting. For the TUI (upstream list, detail screen); nothing calls it yet.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "buf.h"
#include "job.h"
#include "probe-wire.h"
#include "wire.h"
#include "xmalloc.h"

#define PROBE_WIRE_REC (JOB_REC_USER + 1) /* {u32 index, result} */

/* probe.c's phase strings (struct probe_result.phase points at static text). */
static const char *const phases[] = {
    "SSL handshaking to upstream",
    "reading response header from upstream",
    "connecting to upstream",
};

static void
put_cert(struct buf *b, const struct cert_info *ci)
{
    wire_put_str(b, ci->subject);
    wire_put_str(b, ci->issuer);
    wire_put_str(b, ci->serial);
    wire_put_u32(b, (uint32_t)ci->nsan);
    for (size_t i = 0; i < ci->nsan; i++) {
        wire_put_u8(b, ci->san[i].type);
        wire_put_str(b, ci->san[i].value);
    }
    wire_put_i64(b, (int64_t)ci->nsan_total);
    wire_put_i64(b, (int64_t)ci->not_before);
    wire_put_i64(b, (int64_t)ci->not_after);
    wire_put_str(b, ci->not_before_s);
    wire_put_str(b, ci->not_after_s);
    wire_put_i64(b, ci->days_left);
    wire_put_str(b, ci->key);
    wire_put_str(b, ci->sig_alg);
    wire_put_str(b, ci->sha256);
    wire_put_bool(b, ci->is_ca);
    wire_put_bool(b, ci->self_signed);
    wire_put_bool(b, ci->trusted);
    wire_put_u8(b, (uint8_t)ci->revocation);
    wire_put_str(b, ci->revoked_at);
    wire_put_str(b, ci->revoked_reason);
    wire_put_str(b, ci->crl_issuer);
    wire_put_str(b, ci->crl_next_update);
}

/* A string into a fixed array (bad when it does not fit). */
static void
get_into(struct wire_rd *rd, char *dst, size_t size)
{
    char *s = wire_get_str(rd);

    if (s == NULL || strlen(s) >= size)
        rd->bad = true;
    else
        memcpy(dst, s, strlen(s) + 1);
    free(s);
}

static void
get_cert(struct wire_rd *rd, struct cert_info *ci)
{
    memset(ci, 0, sizeof(*ci));
    ci->subject = wire_get_str(rd);
    ci->issuer = wire_get_str(rd);
    ci->serial = wire_get_str(rd);
    ci->nsan = wire_get_count(rd, 5);
    if (ci->nsan > 0)
        ci->san = xcalloc(ci->nsan, sizeof(*ci->san));
    for (size_t i = 0; i < ci->nsan; i++) {
        unsigned t = wire_get_u8(rd);
        if (t != SAN_DNS && t != SAN_IP)
            rd->bad = true;
        ci->san[i].type = t == SAN_IP ? SAN_IP : SAN_DNS;
        ci->san[i].value = wire_get_str(rd);
    }
    ci->nsan_total = (size_t)wire_get_i64(rd);
    ci->not_before = (time_t)wire_get_i64(rd);
    ci->not_after = (time_t)wire_get_i64(rd);
    get_into(rd, ci->not_before_s, sizeof(ci->not_before_s));
    get_into(rd, ci->not_after_s, sizeof(ci->not_after_s));
    ci->days_left = (long)wire_get_i64(rd);
    ci->key = wire_get_str(rd);
    ci->sig_alg = wire_get_str(rd);
    get_into(rd, ci->sha256, sizeof(ci->sha256));
    ci->is_ca = wire_get_bool(rd);
    ci->self_signed = wire_get_bool(rd);
    ci->trusted = wire_get_bool(rd);
    unsigned rev = wire_get_u8(rd);
    if (rev > CERT_REV_NO_CRL)
        rd->bad = true;
    ci->revocation = rev <= CERT_REV_NO_CRL ? (enum cert_revocation)rev : CERT_REV_UNCHECKED;
    get_into(rd, ci->revoked_at, sizeof(ci->revoked_at));
    ci->revoked_reason = wire_get_str(rd);
    ci->crl_issuer = wire_get_str(rd);
    get_into(rd, ci->crl_next_update, sizeof(ci->crl_next_update));
}

static void
put_certs(struct buf *b, const struct cert_info *a, size_t n)
{
    wire_put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        put_cert(b, &a[i]);
}

static struct cert_info *
get_certs(struct wire_rd *rd, size_t *n)
{
    struct cert_info *a = NULL;

    *n = wire_get_count(rd, 64);
    if (*n > 0)
        a = xcalloc(*n, sizeof(*a));
    for (size_t i = 0; i < *n; i++)
        get_cert(rd, &a[i]);
    return a;
}

void
probe_wire_put(struct buf *b, const struct probe_result *r)
{
    const struct probe_whatif *w = &r->what_if;
    const enum probe_verdict wv[6] = {w->unlimited_depth, w->with_sni,         w->trust_leaf,
                                      w->trust_root,      w->add_intermediate, w->system_store};
    int phase = -1;

    wire_put_str(b, r->upstream);
    wire_put_str(b, r->location);
    wire_put_str(b, r->name);
    wire_put_str(b, r->sni);
    wire_put_i64(b, r->verdict);
    wire_put_i64(b, r->verify_code);
    wire_put_str(b, r->nginx_message);
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        if (r->phase != NULL && strcmp(r->phase, phases[i]) == 0)
            phase = (int)i;
    }
    if (r->phase != NULL && phase < 0)
        fatal("probe-wire: phase \"%s\" is missing from the table", r->phase);
    wire_put_i64(b, phase);
    wire_put_str(b, r->protocol);
    wire_put_str(b, r->cipher);
    wire_put_str(b, r->name_rule);
    wire_put_bool(b, r->presented != NULL);
    if (r->presented != NULL) {
        int n = sk_X509_num(r->presented);
        wire_put_u32(b, (uint32_t)n);
        for (int i = 0; i < n; i++) {
            unsigned char *der = NULL;
            int len = i2d_X509(sk_X509_value(r->presented, i), &der);
            if (len < 0)
                fatal("probe-wire: a presented certificate cannot be encoded");
            wire_put_bytes(b, der, (size_t)len);
            OPENSSL_free(der);
        }
    }
    put_certs(b, r->chain, r->nchain);
    wire_put_i64(b, (int64_t)r->chain_total);
    put_certs(b, r->verified, r->nverified);
    wire_put_bool(b, w->computed);
    for (int i = 0; i < 6; i++)
        wire_put_i64(b, wv[i]);
    wire_put_str(b, w->intermediate_note);
    wire_put_u32(b, (uint32_t)w->nnames);
    for (size_t i = 0; i < w->nnames; i++)
        wire_put_str(b, w->names[i]);
    wire_put_i64(b, (int64_t)r->anchor_not_after);
    wire_put_i64(b, r->anchor_days_left);
    wire_put_i64(b, r->elapsed_ms);
    wire_put_i64(b, r->family);
    wire_put_str(b, r->alpn);
    wire_put_str(b, r->unchecked);
}

static enum probe_verdict
get_verdict(struct wire_rd *rd)
{
    int64_t v = wire_get_i64(rd);

    if (v < PROBE_NOT_TRIED || v > PROBE_CONFIG_ERROR)
        rd->bad = true;
    return (enum probe_verdict)v;
}

int
probe_wire_get(struct wire_rd *rd, struct probe_result *r)
{
    struct probe_whatif *w = &r->what_if;
    enum probe_verdict *wv[6] = {&w->unlimited_depth, &w->with_sni,         &w->trust_leaf,
                                 &w->trust_root,      &w->add_intermediate, &w->system_store};
    int64_t phase;

    memset(r, 0, sizeof(*r));
    r->upstream = wire_get_str(rd);
    r->location = wire_get_str(rd);
    r->name = wire_get_str(rd);
    r->sni = wire_get_str(rd);
    r->verdict = get_verdict(rd);
    r->verify_code = (long)wire_get_i64(rd);
    r->nginx_message = wire_get_str(rd);
    phase = wire_get_i64(rd);
    if (phase >= (int64_t)(sizeof(phases) / sizeof(phases[0])) || phase < -1)
        rd->bad = true;
    else if (phase >= 0)
        r->phase = phases[phase];
    r->protocol = wire_get_str(rd);
    r->cipher = wire_get_str(rd);
    r->name_rule = wire_get_str(rd);
    if (wire_get_bool(rd)) {
        size_t n = wire_get_count(rd, 4);
        r->presented = sk_X509_new_null();
        for (size_t i = 0; i < n && !rd->bad; i++) {
            size_t len;
            unsigned char *der = wire_get_bytes(rd, &len);
            const unsigned char *q = der;
            X509 *x = der != NULL ? d2i_X509(NULL, &q, (long)len) : NULL;
            if (x == NULL || q != der + len) {
                X509_free(x);
                rd->bad = true;
            } else {
                sk_X509_push(r->presented, x);
            }
            free(der);
        }
    }
    r->chain = get_certs(rd, &r->nchain);
    r->chain_total = (size_t)wire_get_i64(rd);
    r->verified = get_certs(rd, &r->nverified);
    w->computed = wire_get_bool(rd);
    for (int i = 0; i < 6; i++)
        *wv[i] = get_verdict(rd);
    w->intermediate_note = wire_get_str(rd);
    w->nnames = wire_get_count(rd, 4);
    if (w->nnames > 0)
        w->names = xcalloc(w->nnames, sizeof(*w->names));
    for (size_t i = 0; i < w->nnames; i++)
        w->names[i] = wire_get_str(rd);
    r->anchor_not_after = (time_t)wire_get_i64(rd);
    r->anchor_days_left = (long)wire_get_i64(rd);
    r->elapsed_ms = (long)wire_get_i64(rd);
    int64_t fam = wire_get_i64(rd);
    if (fam < 0 || fam >= PSS_FAM__COUNT)
        rd->bad = true;
    else
        r->family = (enum pss_family)fam;
    r->alpn = wire_get_str(rd);
    r->unchecked = wire_get_str(rd);
    if (rd->bad) {
        probe_result_free(r);
        return -1;
    }
    return 0;
}

void
probe_wire_free_all(struct probe_result *res, size_t n)
{
    for (size_t i = 0; i < n; i++)
        probe_result_free(&res[i]);
    free(res);
}

/* ---- the probe job ---- */

struct probe_work {
    const struct probe_opts *opts;
    size_t n;
    int parallel;
    size_t batch;
};

static int
probe_worker(struct job_ctx *ctx, void *arg)
{
    const struct probe_work *pw = arg;
    struct probe_stats total = {0, 0};
    struct buf b = BUF_INIT;
    size_t batch = pw->batch > 0 ? pw->batch : pw->n;
    int rc = 0;

    for (size_t start = 0; start < pw->n; start += batch) {
        size_t cnt = pw->n - start < batch ? pw->n - start : batch;
        struct probe_result *res = xcalloc(cnt, sizeof(*res));
        struct probe_stats st = {0, 0};
        char *cause = NULL;
        if (cnt == pw->n)
            job_ctx_progress(ctx, "probing %zu upstream%s, %d at a time", pw->n,
                             pw->n == 1 ? "" : "s", pw->parallel);
        else
            job_ctx_progress(ctx, "probing upstreams %zu to %zu of %zu", start + 1, start + cnt,
                             pw->n);
        if (probe_run_many(pw->opts + start, cnt, res, pw->parallel, &st, &cause) != 0) {
            job_ctx_error(ctx, "%s", cause);
            free(cause);
            free(res);
            rc = 1;
            break;
        }
        total.contexts += st.contexts;
        total.handshakes += st.handshakes;
        for (size_t i = 0; i < cnt; i++) {
            buf_reset(&b);
            wire_put_u32(&b, (uint32_t)(start + i));
            probe_wire_put(&b, &res[i]);
            job_ctx_send(ctx, PROBE_WIRE_REC, b.p, b.len);
        }
        probe_wire_free_all(res, cnt);
    }
    if (rc == 0) {
        buf_reset(&b);
        wire_put_u32(&b, total.contexts);
        wire_put_u32(&b, total.handshakes);
        wire_put_u32(&b, (uint32_t)pw->n);
        job_ctx_result(ctx, b.p, b.len);
    }
    buf_free(&b);
    return rc;
}

struct probe_job {
    struct probe_job_cbs cbs;
    struct probe_result *res;
    bool *got;
    size_t n, ngot;
    char *bad; /* a record that did not decode */
};

static void
probe_job_progress(struct job *job, int kind, const void *data, size_t len, void *arg)
{
    struct probe_job *pj = arg;
    struct wire_rd rd;
    struct probe_result r;
    uint32_t i;

    if (kind == JOB_REC_TEXT) {
        if (pj->cbs.progress != NULL)
            pj->cbs.progress(data, pj->cbs.arg);
        return;
    }
    if (kind != PROBE_WIRE_REC || pj->bad != NULL)
        return;
    wire_rd_init(&rd, data, len);
    i = wire_get_u32(&rd);
    if (rd.bad || i >= pj->n || pj->got[i] || probe_wire_get(&rd, &r) != 0)
        goto bad;
    if (!wire_rd_done(&rd)) {
        probe_result_free(&r);
        goto bad;
    }
    pj->res[i] = r;
    pj->got[i] = true;
    pj->ngot++;
    if (pj->cbs.result != NULL)
        pj->cbs.result(i, &pj->res[i], pj->cbs.arg);
    return;
bad:
    pj->bad = xasprintf("%s: a probe result record does not decode", job_name(job));
    job_cancel(job);
}

static void
probe_job_done(struct job *job, const struct job_outcome *o, void *arg)
{
    struct probe_job *pj = arg;
    struct job_outcome out = *o;
    struct probe_stats st = {0, 0};
    char *err = NULL;

    (void)job;
    if (pj->bad != NULL) {
        out.status = JOB_FAILED;
        out.error = pj->bad;
    } else if (o->status == JOB_OK) {
        struct wire_rd rd;
        wire_rd_init(&rd, o->result, o->result_len);
        st.contexts = wire_get_u32(&rd);
        st.handshakes = wire_get_u32(&rd);
        if (wire_get_u32(&rd) != pj->n || !wire_rd_done(&rd) || pj->ngot != pj->n) {
            err = xasprintf("%s: %zu of %zu results arrived", job_name(job), pj->ngot, pj->n);
            out.status = JOB_FAILED;
            out.error = err;
        }
    }
    if (pj->cbs.done != NULL)
        pj->cbs.done(pj->res, pj->n, &st, &out, pj->cbs.arg);
    else
        probe_wire_free_all(pj->res, pj->n);
    free(err);
    free(pj->bad);
    free(pj->got);
    free(pj);
}

struct job *
probe_wire_job_start(struct job_runner *jr, const struct probe_opts *opts, size_t n, int parallel,
                     size_t batch, const struct probe_job_cbs *cbs, char **cause)
{
    struct probe_work pw = {opts, n, parallel, batch};
    struct probe_job *pj = xcalloc(1, sizeof(*pj));
    char *name = xasprintf("probe %zu upstream%s", n, n == 1 ? "" : "s");
    struct job *j;

    pj->cbs = *cbs;
    pj->n = n;
    pj->res = xcalloc(n > 0 ? n : 1, sizeof(*pj->res));
    pj->got = xcalloc(n > 0 ? n : 1, sizeof(*pj->got));
    for (size_t i = 0; i < n; i++)
        pj->res[i].verdict = PROBE_NOT_TRIED;
    j = job_start(jr, name, probe_worker, &pw, probe_job_progress, probe_job_done, pj, cause);
    free(name);
    if (j == NULL) {
        free(pj->res);
        free(pj->got);
        free(pj);
    }
    return j;
}
