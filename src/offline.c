/*
 * offline.c — the offline fast path (fix --block, check --block): reads a pasted block into
 * the ngxconf tree as its own file inside the context nginx would give it, reads a peer chain
 * from PEM or s_client text, and plans each TLS use's fixes with remedy.c, whose probes run
 * here as probe_verify_chain() against that chain. Runs no nginx, opens no connection,
 * writes no file (candidate files live in memfds). Prints nothing: cli-fix.c and cli-check.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "addr.h"
#include "buf.h"
#include "diff.h"
#include "incident.h"
#include "logscan.h"
#include "offline.h"
#include "probe.h"
#include "tlserr.h"
#include "xmalloc.h"

#define OFFLINE_WRAPPER "tlstriage-offline-wrapper.conf"
#define DUMP_MARK "# configuration file "

int
offline_read_file(const char *path, char **data, size_t *len, char **cause)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    struct buf b = BUF_INIT;
    char tmp[65536];
    size_t n;

    if (fp == NULL) {
        *cause = xasprintf("cannot open \"%s\" (%d: %s)", path, errno, strerror(errno));
        return -1;
    }
    while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
        buf_add(&b, tmp, n);
    if (ferror(fp)) {
        *cause = xasprintf("cannot read \"%s\" (%d: %s)", path, errno, strerror(errno));
        if (fp != stdin)
            fclose(fp);
        buf_free(&b);
        return -1;
    }
    if (fp != stdin)
        fclose(fp);
    buf_add(&b, "", 0);
    *len = b.len;
    *data = buf_detach(&b);
    return 0;
}

/* ---- the peer chain ---- */

static unsigned
line_of(const char *text, const char *p)
{
    unsigned line = 1;

    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

int
offline_read_chain(const char *name, const char *text, size_t len, STACK_OF(X509) * *out,
                   char **cause)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end[] = "-----END CERTIFICATE-----";
    STACK_OF(X509) *sk = sk_X509_new_null();
    const char *p = text, *lim = text + len;
    int rc = -1;

    while (p < lim) {
        const char *b = memmem(p, (size_t)(lim - p), begin, sizeof(begin) - 1);
        if (b == NULL)
            break;
        const char *e = memmem(b, (size_t)(lim - b), end, sizeof(end) - 1);
        if (e == NULL) {
            *cause =
                xasprintf("%s:%u: a PEM certificate without its END line", name, line_of(text, b));
            goto out;
        }
        e += sizeof(end) - 1;
        /* as pasted: CRs and the indentation of each line dropped */
        struct buf pem = BUF_INIT;
        bool bol = true;
        for (const char *q = b; q < e; q++) {
            if (*q == '\r' || (bol && (*q == ' ' || *q == '\t')))
                continue;
            buf_addc(&pem, *q);
            bol = *q == '\n';
        }
        buf_addc(&pem, '\n');
        BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
        X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        buf_free(&pem);
        tlserr_clear();
        if (x == NULL) {
            *cause = xasprintf("%s:%u: a broken PEM certificate (not base64 DER of an X.509 "
                               "certificate)",
                               name, line_of(text, b));
            goto out;
        }
        sk_X509_push(sk, x);
        p = e;
    }
    if (sk_X509_num(sk) == 0) {
        *cause = xasprintf("%s: no certificate in it (want PEM, or the output of `openssl "
                           "s_client -showcerts` as is)",
                           name);
        goto out;
    }
    *out = sk;
    sk = NULL;
    rc = 0;
out:
    sk_X509_pop_free(sk, X509_free);
    return rc;
}

/* ---- the fragment in its context ---- */

static bool
is_stream_server(const struct ngx_node *server)
{
    const struct ngx_node *pp = ngxconf_find(server, "proxy_pass");
    const struct ngx_node *ps = ngxconf_find(server, "proxy_ssl");

    return pp != NULL && pp->nargs > 0 && strstr(pp->args[0], "://") == NULL && ps != NULL &&
           ps->nargs > 0 && strcmp(ps->args[0], "on") == 0;
}

static void
add_quoted(struct buf *b, const char *s)
{
    buf_addc(b, '"');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            buf_addc(b, '\\');
        buf_addc(b, *p);
    }
    buf_addc(b, '"');
}

int
offline_block_load(const char *name, const char *text, size_t len, struct offline_block *b,
                   char **cause)
{
    struct buf norm = BUF_INIT, main = BUF_INIT, dump = BUF_INIT;
    struct ngxconf *bare = NULL;
    bool loc = false, server = false, stream = false, up = false, whole = false, any = false;
    int rc = -1;

    memset(b, 0, sizeof(*b));
    b->name = xstrdup(name);
    for (size_t i = 0; i < len; i++) { /* CRLF (or a lone CR) read as LF, and put back */
        if (text[i] == '\r') {
            b->crlf = true;
            if (i + 1 < len && text[i + 1] == '\n')
                continue;
            buf_addc(&norm, '\n');
            continue;
        }
        buf_addc(&norm, text[i]);
    }
    buf_add(&norm, "", 0);
    if (strpbrk(name, "*?[") != NULL) {
        *cause = xasprintf("%s: a name with * ? or [ cannot name the block: pipe it into "
                           "--block -",
                           name);
        goto out;
    }
    for (const char *p = norm.p; p != NULL && p < norm.p + norm.len; p = strchr(p, '\n')) {
        p += *p == '\n';
        if (strncmp(p, DUMP_MARK, strlen(DUMP_MARK)) == 0) {
            *cause = xasprintf("%s:%u: a \"# configuration file\" line: that is nginx -T output "
                               "(read it with check --from-nginx-T)",
                               name, line_of(norm.p, p));
            goto out;
        }
    }

    /* what the fragment holds at its top level decides the context */
    bare = ngxconf_parse_mem(name, norm.p != NULL ? norm.p : "", norm.len);
    if (bare->nerrors > 0) {
        *cause = xasprintf("%s:%u: %s", name, bare->errors[0].line, bare->errors[0].message);
        goto out;
    }
    for (const struct ngx_node *k = bare->root->kids; k != NULL; k = k->next) {
        any = true;
        if (strcmp(k->name, "http") == 0 || strcmp(k->name, "stream") == 0 ||
            strcmp(k->name, "events") == 0)
            whole = true;
        else if (strcmp(k->name, "location") == 0 && k->block)
            loc = true;
        else if (strcmp(k->name, "server") == 0 && k->block) {
            server = true;
            stream |= is_stream_server(k);
        } else if (strcmp(k->name, "upstream") == 0 && k->block)
            up = true;
    }
    if (!any) {
        *cause = xasprintf("%s: no directive in it (want a location, server or upstream block, "
                           "or a whole config file)",
                           name);
        goto out;
    }
    if (loc && server && !whole) {
        *cause = xasprintf("%s: both location and server blocks at the top level: paste the "
                           "server with its locations inside",
                           name);
        goto out;
    }
    if (whole) {
        b->kind = "file";
        b->wrapper = "";
        buf_addf(&dump, DUMP_MARK "%s:\n", name);
    } else {
        const char *module = stream ? "stream" : "http";
        buf_addf(&main, "%s {\n", module);
        if (loc) {
            /* upstream blocks pasted with locations go to http level (copied there; the
             * copies inside the server are not looked at) */
            for (const struct ngx_node *k = bare->root->kids; k != NULL; k = k->next) {
                if (strcmp(k->name, "upstream") == 0 && k->block) {
                    buf_add(&main, norm.p + k->start, k->end - k->start);
                    buf_addc(&main, '\n');
                }
            }
            buf_adds(&main, "server {\ninclude ");
            add_quoted(&main, name);
            buf_adds(&main, ";\n}\n}\n");
            b->kind = "location";
            b->wrapper = up ? "http { upstream ...; server { ... } }" : "http { server { ... } }";
        } else {
            buf_adds(&main, "include ");
            add_quoted(&main, name);
            buf_adds(&main, ";\n}\n");
            b->kind = server ? (stream ? "stream server" : "server") : up ? "upstream" : "http";
            b->wrapper = stream ? "stream { ... }" : "http { ... }";
        }
        buf_addf(&dump, DUMP_MARK "%s:\n", OFFLINE_WRAPPER);
        buf_add(&dump, main.p, main.len);
        buf_addf(&dump, "\n" DUMP_MARK "%s:\n", name);
    }
    buf_add(&dump, norm.p != NULL ? norm.p : "", norm.len);
    buf_addc(&dump, '\n');
    if (ngxconf_load_nginx_T(name, dump.p, dump.len, NULL, &b->conf, cause) != 0)
        goto out;
    if (b->conf->nerrors > 0) {
        const struct ngx_error *e = &b->conf->errors[0];
        if (strstr(e->message, "not in the nginx -T output") != NULL)
            *cause = xasprintf("%s:%u: the file this include names is not in the input (paste "
                               "its blocks in place of the include)",
                               e->file != NULL ? e->file : name, e->line);
        else
            *cause = xasprintf("%s:%u: %s", e->file != NULL ? e->file : name, e->line, e->message);
        goto out;
    }
    for (size_t i = 0; i < b->conf->nfiles; i++) {
        if (strcmp(b->conf->files[i]->path, name) == 0)
            b->file = b->conf->files[i];
    }
    if (b->file == NULL) {
        *cause = xasprintf("%s: not read (internal: the wrapper did not include it)", name);
        goto out;
    }
    rc = 0;
out:
    if (bare != NULL)
        ngxconf_free(bare);
    buf_free(&norm);
    buf_free(&main);
    buf_free(&dump);
    if (rc != 0)
        offline_block_free(b);
    return rc;
}

void
offline_block_free(struct offline_block *b)
{
    if (b->conf != NULL)
        ngxconf_free(b->conf);
    free(b->name);
    memset(b, 0, sizeof(*b));
}

/* ---- judging a chain instead of probing ---- */

struct runner {
    STACK_OF(X509) * chain;
    const char *host; /* the upstream the chain comes from */
    unsigned port;
};

/* A path of the block that is not on this machine is left out of the judgement (a trusted
 * file then trusts nothing; the report says so). memfd candidates are here. */
static const char *
here_or_null(const char *path)
{
    return path != NULL && access(path, F_OK) != 0 ? NULL : path;
}

static int
runner_run(void *arg, const struct probe_opts *opts, size_t n, struct probe_result *res,
           char **cause)
{
    const struct runner *rn = arg;

    for (size_t i = 0; i < n; i++) {
        struct probe_opts o = opts[i];
        if (strcmp(o.host, rn->host) != 0 || (unsigned)o.port != rn->port) {
            /* another upstream: the chain says nothing of it */
            memset(&res[i], 0, sizeof(res[i]));
            res[i].verdict = PROBE_NOT_TRIED;
            res[i].verify_code = -1;
            res[i].upstream = xasprintf("%s:%d", o.host, o.port);
            res[i].name = probe_ssl_name(o.name != NULL ? o.name : o.host);
            continue;
        }
        o.trusted = here_or_null(o.trusted);
        o.crl = here_or_null(o.crl);
        o.password_file = here_or_null(o.password_file);
        if (here_or_null(o.cert) == NULL || here_or_null(o.key) == NULL)
            o.cert = o.key = NULL;
        if (probe_verify_chain(&o, rn->chain, &res[i], cause) != 0)
            return -1;
    }
    return 0;
}

/* ---- planning ---- */

static void
item_note(struct offline_item *it, char *note)
{
    it->notes = xreallocarray(it->notes, it->nnotes + 1, sizeof(*it->notes));
    it->notes[it->nnotes++] = note;
}

static void
note_missing(const struct offline_block *b, struct offline_item *it)
{
    static const struct {
        enum pss key;
        const char *means;
    } files[] = {
        {PSS_TRUSTED_CERTIFICATE, "judged as trusting nothing; a fix that trusts the chain "
                                  "writes a new file"},
        {PSS_CERTIFICATE, "the client certificate is not judged"},
        {PSS_CERTIFICATE_KEY, "the client key is not judged"},
        {PSS_CRL, "revocation is not checked"},
        {PSS_PASSWORD_FILE, "the key's passphrase is not judged"},
    };

    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        const struct pss_value *v = &it->use->ssl.v[files[k].key];
        if (v->value == NULL || v->origin == PSS_DEFAULT)
            continue;
        char *full = ngxconf_full_path(b->conf, v->value);
        if (access(full, R_OK) == 0)
            item_note(it, xasprintf("%s %s (%s:%u): read here", pss_defs[files[k].key].directive,
                                    full, v->file, v->line));
        else
            item_note(it, xasprintf("%s %s (%s:%u): the file is not here (%s); %s",
                                    pss_defs[files[k].key].directive, full, v->file, v->line,
                                    strerror(errno), files[k].means));
        free(full);
    }
}

/* The corrected input and its diff for each fix that changes it. */
static void
item_views(const struct offline_block *b, struct offline_item *it)
{
    it->fixes = xcalloc(it->rc.nfixes + 1, sizeof(*it->fixes));
    for (size_t i = 0; i < it->rc.nfixes; i++) {
        struct remedy_fix *f = &it->rc.fixes[i];
        for (size_t k = 0; k < f->nfiles; k++) {
            const struct remedy_file *rf = &f->files[k];
            if (!rf->config || strcmp(rf->path, b->file->path) != 0)
                continue;
            struct buf d = BUF_INIT, out = BUF_INIT;
            diff_unified(&d, b->name, b->file->text, b->file->len, rf->data, rf->len);
            for (size_t j = 0; j < rf->len; j++) {
                if (rf->data[j] == '\n' && b->crlf)
                    buf_addc(&out, '\r');
                buf_addc(&out, rf->data[j]);
            }
            if (rf->len > 0 && rf->data[rf->len - 1] != '\n') {
                buf_adds(&out, b->crlf ? "\r\n" : "\n");
            }
            it->fixes[i].diff = d.p != NULL ? buf_detach(&d) : xstrdup("");
            it->fixes[i].block = out.p != NULL ? buf_detach(&out) : xstrdup("");
        }
        /* remedy's diff read the files by their paths on this machine: the input's diff
         * and the new files' instead */
        struct buf all = BUF_INIT;
        buf_adds(&all, it->fixes[i].diff != NULL ? it->fixes[i].diff : "");
        for (size_t k = 0; k < f->nfiles; k++) {
            if (!f->files[k].config)
                diff_unified(&all, f->files[k].path, NULL, 0, f->files[k].data, f->files[k].len);
        }
        free(f->diff);
        free(f->diff_root);
        f->diff = all.p != NULL ? buf_detach(&all) : xstrdup("");
        f->diff_root = NULL;
    }
}

/* Without a chain: what the log line says, and the fixes that need no certificate (sni,
 * depth), planned through remedy's edit and never verified. */
static void
plan_blind(const struct offline_block *b, struct offline_item *it, const struct ls_event *ev)
{
    struct remedy_case *rc = &it->rc;
    const struct tls_use *u = it->use;
    struct remedy_set set;
    unsigned strategy = 0;
    char *why = NULL;

    memset(&set, 0, sizeof(set));
    rc->cause = NULL;
    if (ev == NULL) {
        it->judgement = xstrdup("not judged: no chain given and no log line (give --peer-chain "
                                "FILE, the output of openssl s_client -showcerts)");
        return;
    }
    const struct incident_explanation *e = incident_explain(ev->kind, ev->verify_code, NULL);
    it->judgement = xasprintf("the log line says \"%.*s\": %s", (int)ev->message.len, ev->message.p,
                              e != NULL && e->plain != NULL ? e->plain : "");
    if (ev->kind == EV_NAME_MISMATCH) {
        const struct pss_value *sn = &u->ssl.v[PSS_SERVER_NAME];
        char *name = probe_ssl_name(resolve_target_ssl_name(u, it->ti));
        bool ip = addr_is_ip(name); /* nginx sends no SNI for an IP literal */
        free(name);
        if (!ip && (sn->value == NULL || strcmp(sn->value, "on") != 0)) {
            set.key = PSS_SERVER_NAME;
            set.value = xstrdup("on");
            strategy = RS_SNI;
            why = xstrdup("sni: the upstream may pick its certificate by SNI and nginx sends "
                          "none; turn proxy_ssl_server_name on (the name itself can only be "
                          "chosen from the certificate: give --peer-chain)");
        }
    } else if (ev->kind == EV_VERIFY_ERROR && ev->verify_code == 22) {
        const struct pss_value *d = &u->ssl.v[PSS_VERIFY_DEPTH];
        int depth = d->value != NULL ? atoi(d->value) : 1;
        set.key = PSS_VERIFY_DEPTH;
        set.value = xasprintf("%d", depth + 1);
        strategy = RS_DEPTH;
        why = xasprintf("depth: the chain is longer than proxy_ssl_verify_depth %d allows; "
                        "one more (the chain's real length is in the chain: give --peer-chain)",
                        depth);
    }
    if (strategy == 0) {
        item_note(it, xstrdup("no fix can be written without the upstream's certificates: give "
                              "--peer-chain FILE (openssl s_client -showcerts -connect HOST:PORT "
                              "-servername NAME </dev/null)"));
        return;
    }
    struct remedy_fix f;
    char *cause = NULL;
    memset(&f, 0, sizeof(f));
    f.strategies = RS_MASK(strategy);
    f.id = remedy_mask_name(f.strategies);
    f.summary = why;
    f.verified = false;
    f.verdict_note = xstrdup("not verified: no chain given");
    f.sets = xcalloc(1, sizeof(*f.sets));
    f.sets[0] = set;
    f.sets[0].note = xasprintf("%s %s", pss_defs[set.key].directive, set.value);
    f.nsets = 1;
    const struct ngx_node *eb = u->block;
    while (eb->parent != NULL &&
           (strcmp(eb->name, "if") == 0 || strcmp(eb->name, "limit_except") == 0))
        eb = eb->parent;
    if (remedy_edit(b->conf, eb, f.sets, 1, &f.files, &f.nfiles, &cause) != 0) {
        free(f.verdict_note);
        f.verdict_note =
            xasprintf("not verified: no chain given; the edit cannot be made: %s", cause);
        free(cause);
    }
    rc->fixes = xcalloc(1, sizeof(*rc->fixes));
    rc->fixes[0] = f;
    rc->nfixes = 1;
}

static void
item_fill(struct offline_item *it, const struct tls_use *u, size_t ti)
{
    it->use = u;
    it->ti = ti;
    it->upstream = xasprintf("%s:%u", u->targets[ti].host, u->targets[ti].port);
    it->rc.upstream = xstrdup(it->upstream);
    it->rc.host = xstrdup(u->targets[ti].host);
    it->rc.port = (int)u->targets[ti].port;
    it->rc.context = xstrdup(u->context);
    it->rc.file = u->block->file->path;
    it->rc.line = u->block->line;
    it->rc.block_name = u->block->name;
    it->rc.effective = u->ssl;
    it->rc.probe.verdict = PROBE_NOT_TRIED;
    it->rc.probe.verify_code = -1;
}

int
offline_plan(const struct offline_block *b, const struct offline_opts *o,
             struct offline_result *res, char **cause)
{
    struct ls_event ev;
    bool have_ev = false;

    memset(res, 0, sizeof(*res));
    if (o->log_line != NULL) {
        size_t len = strcspn(o->log_line, "\r\n");
        memset(&ev, 0, sizeof(ev));
        if (!logscan_parse_line(o->log_line, len, 1, &ev) || ev.upstream.len == 0) {
            *cause = xstrdup("--log-line: not an nginx error-log line about an upstream TLS "
                             "failure that names its upstream");
            return -1;
        }
        have_ev = true;
        res->log_upstream = xstrndup(ev.upstream.p, ev.upstream.len);
    }
    res->nuses = resolve_uses(b->conf, &res->uses);
    for (size_t i = 0; i < res->nuses; i++) {
        const struct tls_use *u = &res->uses[i];
        for (size_t ti = 0; ti < u->ntargets; ti++) {
            char *hp = xasprintf("%s:%u", u->targets[ti].host, u->targets[ti].port);
            bool pick = have_ev ? strcmp(hp, res->log_upstream) == 0 : ti == 0;
            free(hp);
            if (!pick)
                continue;
            res->items = xreallocarray(res->items, res->n + 1, sizeof(*res->items));
            struct offline_item *it = &res->items[res->n++];
            memset(it, 0, sizeof(*it));
            item_fill(it, u, ti);
        }
    }
    if (have_ev && res->n == 0) {
        *cause = xasprintf("--log-line names upstream %s, which no proxy_pass of %s reaches",
                           res->log_upstream, b->name);
        return -1;
    }
    for (size_t i = 0; i < res->n; i++) {
        struct offline_item *it = &res->items[i];
        note_missing(b, it);
        if (o->chain == NULL) {
            plan_blind(b, it, have_ev ? &ev : NULL);
            it->planned = true;
            item_views(b, it);
            continue;
        }
        struct runner rn = {o->chain, it->use->targets[it->ti].host, it->use->targets[it->ti].port};
        struct remedy_opts ro = o->ro;
        struct remedy_case tmp;
        char *why = NULL;
        ro.run = runner_run;
        ro.run_arg = &rn;
        ro.tmp_in_memory = true;
        if (remedy_plan(b->conf, it->use, it->ti, &ro, &tmp, &why) != 0) {
            it->plan_error = why;
            continue;
        }
        remedy_case_free(&it->rc);
        it->rc = tmp;
        it->planned = true;
        it->judged = true;
        item_note(it, xstrdup("judged offline: the chain against the trusted file, depth, CRL "
                              "and name rule; not judged: protocols, ciphers, a certificate the "
                              "upstream picks by SNI, a client certificate it demands"));
        if (have_ev && ev.kind == EV_VERIFY_ERROR && it->rc.probe.verdict == PROBE_OK)
            item_note(it, xasprintf("the log line says verify error %d, yet the chain passes "
                                    "under these settings: the chain may not be what the "
                                    "upstream sends, or nginx still runs on files it read "
                                    "before they changed (a reload)",
                                    ev.verify_code));
        item_views(b, it);
    }
    return 0;
}

void
offline_result_free(struct offline_result *res)
{
    for (size_t i = 0; i < res->n; i++) {
        struct offline_item *it = &res->items[i];
        for (size_t k = 0; it->fixes != NULL && k < it->rc.nfixes; k++) {
            free(it->fixes[k].block);
            free(it->fixes[k].diff);
        }
        free(it->fixes);
        remedy_case_free(&it->rc);
        free(it->upstream);
        free(it->judgement);
        free(it->plan_error);
        for (size_t k = 0; k < it->nnotes; k++)
            free(it->notes[k]);
        free(it->notes);
    }
    free(res->items);
    resolve_uses_free(res->uses, res->nuses);
    free(res->log_upstream);
    memset(res, 0, sizeof(*res));
}
