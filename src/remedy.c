/*
 * remedy.c — fix strategies for one TLS upstream use: reads the probe's evidence, adds one
 * strategy at a time to a candidate (pin, ca, chain, name, depth, sni, mtls; verification
 * always on), probes each candidate for real, and turns the verified ones into edits of the
 * owning block plus certificate files. Owns no terminal I/O and writes no file: the fix
 * verb hands the result to txn.c. Called by cli-diagnose.c, cli-fix.c and remedy-wire.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "addr.h"
#include "atomicfile.h"
#include "buf.h"
#include "certinfo.h"
#include "check.h"
#include "diff.h"
#include "incident.h"
#include "pemload.h"
#include "radius.h"
#include "remedy.h"
#include "tlserr.h"
#include "txn.h"
#include "xmalloc.h"

#define REMEDY_MAX_STEPS 8
#define REMEDY_MAX_DEPTH 10
#define REMEDY_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static const char *const strategy_names[RS__COUNT] = {
    [RS_PIN] = "pin",   [RS_CA] = "ca",         [RS_CHAIN] = "chain",
    [RS_NAME] = "name", [RS_DEPTH] = "depth",   [RS_SNI] = "sni",
    [RS_MTLS] = "mtls", [RS_VERIFY] = "verify", [RS_RELOAD] = "reload",
};

int
remedy_strategy_parse(const char *s, unsigned *mask)
{
    unsigned m = 0;

    while (*s != '\0') {
        size_t len = strcspn(s, "+,");
        bool found = false;
        for (int i = 0; i < RS__COUNT; i++) {
            if (strlen(strategy_names[i]) == len && strncmp(s, strategy_names[i], len) == 0) {
                m |= RS_MASK(i);
                found = true;
            }
        }
        if (!found)
            return -1;
        s += len;
        if (*s != '\0')
            s++;
    }
    if (m == 0)
        return -1;
    *mask = m;
    return 0;
}

const char *
remedy_strategy_name(enum remedy_strategy s)
{
    return strategy_names[s];
}

char *
remedy_mask_name(unsigned mask)
{
    struct buf b = {0};

    for (int i = 0; i < RS__COUNT; i++) {
        if (mask & RS_MASK(i)) {
            if (b.len > 0)
                buf_addc(&b, '+');
            buf_adds(&b, strategy_names[i]);
        }
    }
    if (b.len == 0)
        buf_adds(&b, "none");
    return buf_detach(&b);
}

/* ---- the choice ---- */

static bool
mtls_demanded(const struct probe_result *r)
{
    const char *m = r->nginx_message;

    return r->verdict == PROBE_HANDSHAKE_ERROR && m != NULL &&
           (strstr(m, "alert number 40") != NULL || strstr(m, "alert number 116") != NULL ||
            strstr(m, "certificate required") != NULL);
}

static bool
top_is_root(const struct probe_result *r)
{
    return r->nchain > 1 && r->nchain == r->chain_total && r->chain[r->nchain - 1].self_signed;
}

/* A name from the certificate goes into nginx's config: only a plain DNS name (letters,
 * digits, '-', '.'; no wildcard, no IP literal) may, so a hostile certificate cannot smuggle
 * nginx syntax or $variables into proxy_ssl_name. */
static bool
plain_dns_name(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-' || addr_is_ip(s))
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

static const char *
first_plain_name(const struct probe_result *r)
{
    for (size_t i = 0; i < r->what_if.nnames; i++) {
        if (plain_dns_name(r->what_if.names[i]))
            return r->what_if.names[i];
    }
    return NULL;
}

static bool
has_plain_name(const struct probe_result *r)
{
    return first_plain_name(r) != NULL;
}

int
remedy_next(const struct probe_result *r, const struct remedy_cand *c, unsigned allowed)
{
    const struct probe_whatif *w = &r->what_if;
    unsigned trust = RS_MASK(RS_PIN) | RS_MASK(RS_CA) | RS_MASK(RS_CHAIN);
    bool trusted_done = (c->applied & trust) != 0;

#define CAN(s) ((allowed & RS_MASK(s)) && !(c->applied & RS_MASK(s)))
    if (r->verdict == PROBE_OK)
        return -1;
    if (r->verdict == PROBE_VERIFY_ERROR) {
        long code = r->verify_code;
        bool leaf_self = r->nchain > 0 && r->chain[0].self_signed;
        if (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID ||
            code == X509_V_ERR_CERT_REVOKED)
            return -1; /* only the upstream can fix these: no pin, CA or chain */
        if (code == X509_V_ERR_UNABLE_TO_GET_CRL || code == X509_V_ERR_CRL_HAS_EXPIRED)
            return -1; /* the proxy_ssl_crl file is at fault: trusting differently won't help */
        if (leaf_self && r->chain_total == 1 && CAN(RS_PIN) && !trusted_done)
            return RS_PIN;
        if (w->computed && w->unlimited_depth == PROBE_OK && c->depth < REMEDY_MAX_DEPTH &&
            (allowed & RS_MASK(RS_DEPTH)))
            return RS_DEPTH;
        if (code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE && !top_is_root(r) &&
            CAN(RS_CHAIN) && (c->have_ca || (w->computed && w->add_intermediate == PROBE_OK)) &&
            !trusted_done)
            return RS_CHAIN;
        if (CAN(RS_CA) && !trusted_done &&
            (top_is_root(r) || c->have_ca || (w->computed && w->system_store == PROBE_OK)))
            return RS_CA;
        if (leaf_self && CAN(RS_PIN) && !trusted_done)
            return RS_PIN;
        return -1;
    }
    if (r->verdict == PROBE_NAME_MISMATCH) {
        if (w->computed && w->with_sni == PROBE_OK && CAN(RS_SNI))
            return RS_SNI;
        if (CAN(RS_NAME) && has_plain_name(r))
            return RS_NAME;
        return -1;
    }
    if (mtls_demanded(r) && CAN(RS_MTLS) && c->have_client)
        return RS_MTLS;
    return -1;
#undef CAN
}

/* ---- probing a candidate ---- */

struct cand {
    struct remedy_cand pub;
    struct proxy_ssl_settings ssl; /* values owned by owned[] or the tree */
    char *trusted_data;            /* new trusted file (NULL: unchanged) */
    size_t trusted_len;
    char *trusted_path; /* its final path (or the system bundle) */
    bool trusted_write; /* the file must be written */
    char *tmp_path;     /* the copy the probe reads */
    char *name;
    char *depth;
    char *why[RS__COUNT]; /* one line per strategy for the summary */
};

static void tmp_drop(const char *path);

static void
cand_free(struct cand *c)
{
    free(c->trusted_data);
    free(c->trusted_path);
    tmp_drop(c->tmp_path);
    free(c->tmp_path);
    free(c->name);
    free(c->depth);
    for (int i = 0; i < RS__COUNT; i++)
        free(c->why[i]);
    memset(c, 0, sizeof(*c));
}

static void
hexfp(const char *sha, char out[17])
{
    size_t k = 0;

    for (const char *p = sha; *p != '\0' && k < 16; p++) {
        if (*p == ':')
            continue;
        out[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    }
    out[k] = '\0';
}

static char *
pem_of(X509 *x, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    PEM_write_bio_X509(b, x);
    n = BIO_get_mem_data(b, &p);
    out = xstrndup(p, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

/* The whole file through the one reader (atomicfile_read); a missing file is an error. */
static int
read_all(const char *path, char **data, size_t *len, char **cause)
{
    struct buf b = BUF_INIT;
    bool exists = true;

    if (atomicfile_read(path, &b, &exists, cause) != 0)
        return -1;
    if (!exists) {
        *cause = xasprintf("%s: %s", path, strerror(ENOENT));
        buf_free(&b);
        return -1;
    }
    *len = b.len;
    *data = buf_detach(&b);
    return 0;
}

#define REMEDY_MEMFD_PREFIX "/proc/self/fd/"

/* A candidate file for the probes: in $TMPDIR, or (o->tmp_in_memory) in a memfd that
 * /proc/self/fd/N names, so nothing reaches a disk. tmp_drop removes either. */
static int
write_tmp(const struct remedy_opts *o, const char *data, size_t len, char **path, char **cause)
{
    const char *dir = o->tmp_dir != NULL ? o->tmp_dir : getenv("TMPDIR");
    char *p;
    int fd;

    if (o->tmp_in_memory) {
        p = xstrdup("memfd:tlstriage-cand");
        fd = memfd_create("tlstriage-cand", MFD_CLOEXEC);
    } else {
        p = xasprintf("%s/tlstriage-cand-XXXXXX", dir != NULL && *dir != '\0' ? dir : "/tmp");
        fd = mkstemp(p);
    }
    if (fd == -1 || write(fd, data, len) != (ssize_t)len) {
        *cause = xasprintf("%s: %s", p, strerror(errno));
        if (fd != -1) {
            close(fd);
            if (!o->tmp_in_memory)
                unlink(p);
        }
        free(p);
        return -1;
    }
    if (o->tmp_in_memory) {
        free(p);
        p = xasprintf(REMEDY_MEMFD_PREFIX "%d", fd);
    } else
        close(fd);
    *path = p;
    return 0;
}

static void
tmp_drop(const char *path)
{
    size_t n = strlen(REMEDY_MEMFD_PREFIX);

    if (path == NULL)
        return;
    if (strncmp(path, REMEDY_MEMFD_PREFIX, n) == 0)
        close(atoi(path + n));
    else
        unlink(path);
}

/* The probes of opts, through o->run when set (the offline path judges a given chain). */
static int
run_probes(const struct remedy_opts *o, const struct probe_opts *opts, size_t n,
           struct probe_result *res, char **cause)
{
    if (o->run != NULL)
        return o->run(o->run_arg, opts, n, res, cause);
    return probe_run_many(opts, n, res, 8, NULL, cause);
}

/* Sets the candidate's trusted file to data, named DIR/PREFIX-FP.pem. */
static int
cand_trust(struct cand *c, const struct remedy_opts *o, char *data, size_t len, const char *prefix,
           const char *fp, char **cause)
{
    free(c->trusted_data);
    free(c->trusted_path);
    tmp_drop(c->tmp_path);
    free(c->tmp_path);
    c->tmp_path = NULL;
    c->trusted_data = data;
    c->trusted_len = len;
    c->trusted_path = xasprintf("%s/%s-%s.pem", o->cert_dir, prefix, fp);
    c->trusted_write = true;
    if (write_tmp(o, data, len, &c->tmp_path, cause) != 0)
        return -1;
    c->ssl.v[PSS_TRUSTED_CERTIFICATE].value = c->tmp_path;
    return 0;
}

static char *
sha16(const char *data, size_t len)
{
    char hex[65];

    txn_sha256_hex(data, len, hex);
    hex[16] = '\0';
    return xstrdup(hex);
}

/* Adds strategy s to the candidate; r is the probe of the candidate so far. */
static int
cand_apply(struct cand *c, int s, const struct probe_result *r, const struct remedy_opts *o,
           const struct probe_opts *po, char **cause)
{
    char fp[17];
    size_t len;
    char *data;

    switch (s) {
    case RS_PIN: {
        X509 *leaf = sk_X509_value(r->presented, 0);
        hexfp(r->chain[0].sha256, fp);
        data = pem_of(leaf, &len);
        if (cand_trust(c, o, data, len, "pin", fp, cause) != 0)
            return -1;
        c->why[s] = xasprintf("pin: the upstream presents a self-signed certificate (%s, "
                              "SHA-256 %s); trust exactly that one certificate, exported to %s",
                              r->chain[0].subject, r->chain[0].sha256, c->trusted_path);
        break;
    }
    case RS_CA:
        if (o->ca_file != NULL) {
            STACK_OF(X509) *sk = NULL;
            if (certinfo_load_pem(o->ca_file, &sk, cause) != 0)
                return -1;
            sk_X509_pop_free(sk, X509_free);
            if (read_all(o->ca_file, &data, &len, cause) != 0)
                return -1;
            char *h = sha16(data, len);
            int rc = cand_trust(c, o, data, len, "ca", h, cause);
            free(h);
            if (rc != 0)
                return -1;
            c->why[s] = xasprintf("ca: trust the private CA from %s (copied to %s)", o->ca_file,
                                  c->trusted_path);
        } else if (top_is_root(r)) {
            X509 *root = sk_X509_value(r->presented, (int)r->nchain - 1);
            hexfp(r->chain[r->nchain - 1].sha256, fp);
            data = pem_of(root, &len);
            if (cand_trust(c, o, data, len, "ca", fp, cause) != 0)
                return -1;
            c->why[s] = xasprintf("ca: the chain ends in a private root (%s, SHA-256 %s); "
                                  "trust that root, exported to %s",
                                  r->chain[r->nchain - 1].subject, r->chain[r->nchain - 1].sha256,
                                  c->trusted_path);
        } else {
            free(c->trusted_path);
            c->trusted_path = xstrdup(REMEDY_SYSTEM_BUNDLE);
            c->trusted_write = false;
            c->ssl.v[PSS_TRUSTED_CERTIFICATE].value = c->trusted_path;
            c->why[s] = xasprintf("ca: the upstream's chain is publicly trusted; use the "
                                  "system CA bundle %s",
                                  REMEDY_SYSTEM_BUNDLE);
        }
        break;
    case RS_CHAIN: {
        struct buf b = {0};
        char *old = NULL, *add = NULL;
        size_t oldlen = 0, addlen = 0;
        const char *from = o->ca_file;
        if (o->ca_file != NULL) {
            STACK_OF(X509) *sk = NULL;
            if (certinfo_load_pem(o->ca_file, &sk, cause) != 0)
                return -1;
            sk_X509_pop_free(sk, X509_free);
            if (read_all(o->ca_file, &add, &addlen, cause) != 0)
                return -1;
        } else {
            X509 *issuer =
                certinfo_system_issuer(sk_X509_value(r->presented, (int)r->chain_total - 1));
            if (issuer == NULL) {
                *cause = xstrdup("the missing intermediate is not in the system CA store: "
                                 "give it with --ca FILE");
                return -1;
            }
            add = pem_of(issuer, &addlen);
            X509_free(issuer);
            from = "the system CA store";
        }
        if (po->trusted != NULL && read_all(po->trusted, &old, &oldlen, cause) != 0) {
            free(add);
            return -1;
        }
        buf_add(&b, old != NULL ? old : "", oldlen);
        if (oldlen > 0 && old[oldlen - 1] != '\n')
            buf_addc(&b, '\n');
        buf_add(&b, add, addlen);
        free(old);
        free(add);
        len = b.len;
        data = buf_detach(&b);
        char *h = sha16(data, len);
        int rc = cand_trust(c, o, data, len, "trusted", h, cause);
        free(h);
        if (rc != 0)
            return -1;
        c->why[s] = xasprintf("chain: the upstream does not send its intermediate certificate; "
                              "the right fix is on the upstream (send leaf + intermediate). "
                              "On the nginx side: a trusted file holding the current one plus "
                              "the intermediate from %s, written to %s",
                              from, c->trusted_path);
        break;
    }
    case RS_NAME: {
        const char *pick = first_plain_name(r);
        if (pick == NULL) {
            *cause = xstrdup("no DNS name in the certificate would pass");
            return -1;
        }
        free(c->name);
        c->name = xstrdup(pick);
        c->ssl.v[PSS_NAME].value = c->name;
        c->ssl.v[PSS_SERVER_NAME].value = "on";
        c->pub.name_set = true;
        c->why[s] =
            xasprintf("name: the certificate does not hold the name nginx checks (\"%s\"%s); "
                      "check (and send as SNI) %s, a DNS name the certificate holds",
                      r->name, addr_is_ip(r->name) ? ", an IP literal" : "", c->name);
        break;
    }
    case RS_DEPTH: {
        int want = (int)r->chain_total - (top_is_root(r) ? 2 : 1);
        if (want <= c->pub.depth)
            want = c->pub.depth + 1;
        c->pub.depth = want;
        free(c->depth);
        c->depth = xasprintf("%d", want);
        c->ssl.v[PSS_VERIFY_DEPTH].value = c->depth;
        free(c->why[s]);
        c->why[s] =
            xasprintf("depth: the chain has %zu certificate(s) below the trusted root, "
                      "more than %s allows; set it to %d",
                      r->chain_total, sslconf_directive(c->ssl.family, PSS_VERIFY_DEPTH), want);
        break;
    }
    case RS_SNI:
        c->ssl.v[PSS_SERVER_NAME].value = "on";
        c->why[s] = xasprintf("sni: the upstream picks its certificate by SNI and nginx sends "
                              "none; turn %s on",
                              sslconf_directive(c->ssl.family, PSS_SERVER_NAME));
        break;
    case RS_MTLS:
        c->ssl.v[PSS_CERTIFICATE].value = o->client_cert;
        c->ssl.v[PSS_CERTIFICATE_KEY].value = o->client_key;
        c->why[s] = xasprintf("mtls: the upstream demands a client certificate; present %s "
                              "(its key file is referenced, never copied or shown)",
                              o->client_cert);
        break;
    default:
        *cause = xstrdup("unknown strategy");
        return -1;
    }
    c->pub.applied |= RS_MASK(s);
    return 0;
}

static int
probe_cand(const struct cand *c, const struct tls_use *use, size_t ti, const struct remedy_opts *o,
           struct probe_opts *po, struct probe_result *r, char **cause)
{
    if (probe_opts_from_settings(po, &c->ssl, use->targets[ti].host, (int)use->targets[ti].port,
                                 cause) != 0)
        return -1;
    if (po->name == NULL)
        po->name = use->proxy_host;
    po->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
    po->check_ip_san = o->check_ip_san;
    if (c->ssl.v[PSS_PROTOCOLS].origin == PSS_DEFAULT && o->default_protocols != NULL)
        po->protocols = o->default_protocols; /* the running version's default */
    po->what_if = true;
    char *cc = resolve_conf_commands(use->block); /* proxy_ssl_conf_command, as nginx */
    po->conf_commands = cc;
    int rc = run_probes(o, po, 1, r, cause);
    po->conf_commands = NULL;
    free(cc);
    return rc;
}

/* Checks that the client certificate and key belong together (the key is never shown). */
static int
client_pair_ok(const char *cert, const char *key, const char *password_file, char **cause)
{
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    struct pemload_pass pass = {NULL, NULL, NULL};
    char *why = NULL;
    int rc = -1;

    switch (pemload_cert(cert, &x, NULL, NULL)) {
    case PEMLOAD_OK:
        break;
    case PEMLOAD_ERR_OPEN:
        *cause = xasprintf("%s: %s", cert, strerror(errno));
        goto out;
    default:
        *cause = xasprintf("%s: no PEM certificate", cert);
        goto out;
    }
    /* the block's proxy_ssl_password_file stays in force for the new key, as in nginx */
    if (password_file != NULL && pemload_pass_file(password_file, &pass, &why) != 0) {
        *cause = xasprintf("proxy_ssl_password_file: %s", why);
        free(why);
        goto out;
    }
    switch (pemload_key(key, &pass, &k, password_file != NULL ? &why : NULL)) {
    case PEMLOAD_OK:
        break;
    case PEMLOAD_ERR_OPEN:
        *cause = xasprintf("%s: %s", key, strerror(errno));
        goto out;
    case PEMLOAD_ERR_ENCRYPTED:
        *cause = xasprintf("%s: the key is encrypted with a passphrase, and tlstriage never "
                           "prompts for one (set proxy_ssl_password_file in the block)",
                           key);
        goto out;
    default:
        if (why != NULL) {
            *cause = why;
            why = NULL;
            goto out;
        }
        *cause = xasprintf("%s: no PEM private key (or it is encrypted)", key);
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        *cause = xasprintf("%s does not match the key of %s", key, cert);
        goto out;
    }
    rc = 0;
out:
    pemload_pass_free(&pass);
    free(why);
    tlserr_clear();
    EVP_PKEY_free(k);
    X509_free(x);
    return rc;
}

/* ---- edits ---- */

static const struct ngx_node *
find_block(const struct ngx_node *n, const char *path, unsigned line, const char *name)
{
    for (const struct ngx_node *k = n->kids; k != NULL; k = k->next) {
        if (!k->block)
            continue;
        if (k->line == line && strcmp(k->name, name) == 0 && strcmp(k->file->path, path) == 0)
            return k;
        const struct ngx_node *m = find_block(k, path, line, name);
        if (m != NULL)
            return m;
    }
    return NULL;
}

const struct ngx_node *
remedy_find_block(const struct ngxconf *conf, const char *file, unsigned line, const char *name)
{
    return find_block(conf->root, file, line, name);
}

/* A block's place in its tree that an edit of directives cannot move: the index among its
 * parent's block kids, from the root down. */
#define BPATH_MAX 64
struct bpath {
    size_t idx[BPATH_MAX];
    int depth;
};

static int
bpath_of(const struct ngx_node *b, struct bpath *p)
{
    const struct ngx_node *chain[BPATH_MAX];
    int n = 0;

    for (const struct ngx_node *x = b; x->parent != NULL; x = x->parent) {
        if (n == BPATH_MAX)
            return -1;
        chain[n++] = x;
    }
    p->depth = n;
    for (int i = 0; i < n; i++) {
        const struct ngx_node *node = chain[n - 1 - i];
        size_t k = 0;
        for (const struct ngx_node *s = node->parent->kids; s != node; s = s->next)
            k += s->block;
        p->idx[i] = k;
    }
    return 0;
}

static const struct ngx_node *
bpath_find(const struct ngx_node *root, const struct bpath *p)
{
    const struct ngx_node *b = root;

    for (int i = 0; i < p->depth && b != NULL; i++) {
        size_t k = 0;
        const struct ngx_node *s;
        for (s = b->kids; s != NULL; s = s->next) {
            if (s->block && k++ == p->idx[i])
                break;
        }
        b = s;
    }
    return b;
}

/* One directive to set in one block of the original tree. */
struct pending {
    const struct ngx_node *block;
    enum pss key;
    enum pss_family fam; /* the spelling written */
    const char *value;
};

/* Applies the pending sets in order, each through ngxconf_edit_set on the tree re-read with
 * the edits so far; returns the changed config files (complete texts). */
static int
edits_apply(const struct ngxconf *conf, const struct pending *ed, size_t n,
            struct remedy_file **files, size_t *nfiles, char **cause)
{
    struct ngxconf *cur = NULL;
    struct remedy_file *out = NULL;
    struct radius_text *texts = NULL;
    size_t nout = 0;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        const struct ngx_file *f;
        const struct ngx_node *b = ed[i].block;
        char *text = NULL;
        size_t len = 0;
        const char *args[1] = {ed[i].value};
        struct bpath bp;

        if (ed[i].key == PSS_VERIFY && strcmp(ed[i].value, "on") != 0) {
            *cause = xasprintf("refusing to set %s to anything but on",
                               sslconf_directive(ed[i].fam, PSS_VERIFY));
            goto out;
        }
        if (cur != NULL) {
            if (bpath_of(ed[i].block, &bp) != 0 || (b = bpath_find(cur->root, &bp)) == NULL) {
                *cause = xasprintf("%s:%u: the block is gone after an edit",
                                   ed[i].block->file->path, ed[i].block->line);
                goto out;
            }
        }
        if (ngxconf_edit_set(cur != NULL ? cur : conf, b, sslconf_directive(ed[i].fam, ed[i].key),
                             args, 1, &f, &text, &len, cause) != 0)
            goto out;
        size_t k;
        for (k = 0; k < nout && strcmp(out[k].path, f->path) != 0; k++)
            ;
        if (k == nout) {
            out = xreallocarray(out, nout + 1, sizeof(*out));
            memset(&out[nout], 0, sizeof(*out));
            out[nout].path = xstrdup(f->path);
            out[nout].config = true;
            out[nout].mode = 0644;
            nout++;
        }
        free(out[k].data);
        out[k].data = text;
        out[k].len = len;
        if (i + 1 == n)
            break;
        texts = xreallocarray(texts, nout, sizeof(*texts));
        for (size_t j = 0; j < nout; j++) {
            texts[j].path = out[j].path;
            texts[j].data = out[j].data;
            texts[j].len = out[j].len;
        }
        ngxconf_free(cur);
        if ((cur = radius_reparse(conf, texts, nout, cause)) == NULL)
            goto out;
    }
    rc = 0;
    *files = out;
    *nfiles = nout;
    out = NULL;
    nout = 0;
out:
    for (size_t j = 0; j < nout; j++) {
        free(out[j].path);
        free(out[j].data);
    }
    free(out);
    free(texts);
    ngxconf_free(cur);
    return rc;
}

int
remedy_edit(const struct ngxconf *conf, const struct ngx_node *block, const struct remedy_set *sets,
            size_t nsets, struct remedy_file **files, size_t *nfiles, char **cause)
{
    struct pending *ed = xcalloc(nsets > 0 ? nsets : 1, sizeof(*ed));
    int rc;

    for (size_t i = 0; i < nsets; i++) {
        ed[i].block = block;
        ed[i].key = sets[i].key;
        ed[i].fam = resolve_block_family(block);
        ed[i].value = sets[i].value;
    }
    rc = edits_apply(conf, ed, nsets, files, nfiles, cause);
    free(ed);
    return rc;
}

/* ---- planning ---- */

static void
add_set(struct remedy_fix *f, const struct proxy_ssl_settings *eff, enum pss key, const char *value)
{
    const struct pss_value *v = &eff->v[key];
    const char *d = sslconf_directive(eff->family, key);
    struct remedy_set *s;

    if (v->value != NULL && v->origin != PSS_DEFAULT && strcmp(v->value, value) == 0)
        return; /* already so in the block or inherited: nothing to change */
    f->sets = xreallocarray(f->sets, f->nsets + 1, sizeof(*f->sets));
    s = &f->sets[f->nsets++];
    memset(s, 0, sizeof(*s));
    s->key = key;
    s->value = xstrdup(value);
    if (v->origin == PSS_SET)
        s->note = xasprintf("%s %s; replaces \"%s %s\" at %s:%u", d, value, d, v->value, v->file,
                            v->line);
    else if (v->origin == PSS_INHERITED)
        s->note =
            xasprintf("%s %s; overrides \"%s %s\" inherited from %s (%s:%u) here and in "
                      "what inherits from here (see affects)",
                      d, value, d, v->value, v->block != NULL ? v->block : "?", v->file, v->line);
    else
        s->note = xasprintf("%s %s; (new here; nginx's default is %s)", d, value,
                            v->value != NULL               ? v->value
                            : eff->family == PSS_FAM_GRPC  ? "the grpc_pass host"
                            : eff->family == PSS_FAM_UWSGI ? "the uwsgi_pass host"
                                                           : "the proxy_pass host");
}

static bool
same_bytes(const char *path, const char *data, size_t len)
{
    char *old = NULL, *cause = NULL;
    size_t oldlen = 0;
    bool same = false;

    if (read_all(path, &old, &oldlen, &cause) == 0)
        same = oldlen == len && memcmp(old, data, len) == 0;
    free(old);
    free(cause);
    return same;
}

/* ---- the blast radius: every use the edit reaches, probed as it is and under the fix ---- */

/* A file the fix writes (a certificate), copied to a temporary path for the probes. */
struct tmpmap {
    const char *path;
    char *tmp;
};

struct rprobe {
    struct probe_result before, after;
    bool probed;
};

static void
map_paths(struct proxy_ssl_settings *s, const struct tmpmap *m, size_t nm)
{
    static const enum pss keys[3] = {PSS_TRUSTED_CERTIFICATE, PSS_CERTIFICATE, PSS_CERTIFICATE_KEY};

    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < nm && s->v[keys[k]].value != NULL; i++) {
            if (strcmp(s->v[keys[k]].value, m[i].path) == 0)
                s->v[keys[k]].value = m[i].tmp;
        }
    }
}

/* The probe of target t of use u as nginx runs it with the tree's settings. A value nginx
 * would refuse gives *refused (the probe is then not run). */
static void
radius_opts(const struct ngxconf *conf, const struct tls_use *u, size_t t, const struct tmpmap *m,
            size_t nm, const struct remedy_opts *o, struct probe_opts *po,
            char *own[SSLCONF_NPATHS], char **refused)
{
    struct proxy_ssl_settings s = u->ssl;

    sslconf_full_paths(conf, &s, own);
    map_paths(&s, m, nm);
    if (probe_opts_from_settings(po, &s, u->targets[t].host, (int)u->targets[t].port, refused) != 0)
        return;
    if (po->name == NULL)
        po->name = u->proxy_host;
    po->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
    po->check_ip_san = o->check_ip_san;
    if (s.v[PSS_PROTOCOLS].origin == PSS_DEFAULT && o->default_protocols != NULL)
        po->protocols = o->default_protocols; /* the running version's default */
    po->what_if = false;
}

/* Probes every item of the radius before and after, all at once (probe_run_many). */
static int
radius_probe(const struct ngxconf *conf, const struct radius *rad, const struct remedy_file *files,
             size_t nfiles, const struct remedy_opts *o, struct rprobe **out, char **cause)
{
    struct tmpmap *m = xcalloc(nfiles + 1, sizeof(*m));
    size_t nm = 0, n = 0;
    struct rprobe *rp = xcalloc(rad->n + 1, sizeof(*rp));
    struct probe_opts *po = xcalloc(2 * rad->n + 1, sizeof(*po));
    struct probe_result *res = xcalloc(2 * rad->n + 1, sizeof(*res));
    size_t *slot = xcalloc(2 * rad->n + 1, sizeof(*slot));
    char *(*own)[SSLCONF_NPATHS] = xcalloc(2 * rad->n + 1, sizeof(*own));
    int rc = -1;

    for (size_t i = 0; i < nfiles; i++) {
        if (files[i].config)
            continue;
        m[nm].path = files[i].path;
        if (write_tmp(o, files[i].data, files[i].len, &m[nm].tmp, cause) != 0)
            goto out;
        nm++;
    }
    for (size_t i = 0; i < rad->n; i++) {
        const struct radius_item *it = &rad->items[i];
        if (rad->before[it->use].kind == RESOLVE_VARIABLE)
            continue; /* cannot resolve statically: listed, not probed */
        rp[i].probed = true;
        for (int after = 0; after < 2; after++) {
            char *refused = NULL;
            const struct ngxconf *tree = after ? rad->edited : conf;
            const struct tls_use *u = after ? &rad->after[it->use] : &rad->before[it->use];
            struct probe_result *r = after ? &rp[i].after : &rp[i].before;
            radius_opts(tree, u, it->ti, after ? m : NULL, after ? nm : 0, o, &po[n], own[n],
                        &refused);
            if (refused != NULL) {
                r->verdict = PROBE_CONFIG_ERROR;
                r->nginx_message = refused;
                continue;
            }
            slot[n++] = 2 * i + (size_t)after;
        }
    }
    if (n > 0 && run_probes(o, po, n, res, cause) != 0)
        goto out;
    for (size_t k = 0; k < n; k++) {
        struct rprobe *x = &rp[slot[k] / 2];
        if (slot[k] % 2)
            x->after = res[k];
        else
            x->before = res[k];
    }
    *out = rp;
    rp = NULL;
    rc = 0;
out:
    for (size_t i = 0; i < nm; i++) {
        tmp_drop(m[i].tmp);
        free(m[i].tmp);
    }
    for (size_t k = 0; k < 2 * rad->n; k++) {
        for (int j = 0; j < SSLCONF_NPATHS; j++)
            free(own[k][j]);
    }
    if (rp != NULL) {
        for (size_t i = 0; i < rad->n; i++) {
            probe_result_free(&rp[i].before);
            probe_result_free(&rp[i].after);
        }
        free(rp);
    }
    free(m);
    free(po);
    free(res);
    free(slot);
    free(own);
    return rc;
}

static void
rprobe_free(struct rprobe *rp, size_t n)
{
    for (size_t i = 0; rp != NULL && i < n; i++) {
        probe_result_free(&rp[i].before);
        probe_result_free(&rp[i].after);
    }
    free(rp);
}

static const char *
verdict_text(const struct probe_result *r)
{
    if (r->verdict == PROBE_OK)
        return "ok";
    if (r->nginx_message != NULL)
        return r->nginx_message;
    return probe_verdict_name(r->verdict) != NULL ? probe_verdict_name(r->verdict) : "not tried";
}

/* The block an edit for a use goes in: proxy_ssl_* is not allowed in "if" (nor in
 * limit_except), so the enclosing location. */
static const struct ngx_node *
edit_block(const struct ngx_node *b)
{
    while (b->parent != NULL &&
           (strcmp(b->name, "if") == 0 || strcmp(b->name, "limit_except") == 0))
        b = b->parent;
    return b;
}

/* The fix's own sets and those that keep bystanders as they are, in edit order. */
struct plan_edits {
    struct pending *v;
    char **owned;
    size_t n;
};

static void
plan_add(struct plan_edits *pe, const struct ngx_node *block, enum pss_family fam, enum pss key,
         const char *value)
{
    for (size_t i = 0; i < pe->n; i++) {
        if (pe->v[i].block == block && pe->v[i].key == key && pe->v[i].fam == fam) {
            free(pe->owned[i]);
            pe->owned[i] = xstrdup(value);
            pe->v[i].value = pe->owned[i];
            return;
        }
    }
    pe->v = xreallocarray(pe->v, pe->n + 1, sizeof(*pe->v));
    pe->owned = xreallocarray(pe->owned, pe->n + 1, sizeof(*pe->owned));
    pe->owned[pe->n] = xstrdup(value);
    pe->v[pe->n].block = block;
    pe->v[pe->n].key = key;
    pe->v[pe->n].fam = fam;
    pe->v[pe->n].value = pe->owned[pe->n];
    pe->n++;
}

static void
plan_free(struct plan_edits *pe)
{
    for (size_t i = 0; i < pe->n; i++)
        free(pe->owned[i]);
    free(pe->owned);
    free(pe->v);
    memset(pe, 0, sizeof(*pe));
}

static void
files_free(struct remedy_file *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].data);
    }
    free(v);
}

static void
affected_free(struct remedy_affected *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].context);
        free(v[i].file);
        free(v[i].upstream);
        free(v[i].changed);
        free(v[i].before_message);
        free(v[i].after_message);
    }
    free(v);
}

/* The unified diff of every file, paths relative to their common directory. */
static void
fix_diff(struct remedy_fix *f)
{
    const char **paths = xcalloc(f->nfiles + 1, sizeof(*paths));
    struct buf d = BUF_INIT;

    for (size_t i = 0; i < f->nfiles; i++)
        paths[i] = f->files[i].path;
    f->diff_root = diff_root(paths, f->nfiles);
    for (size_t i = 0; i < f->nfiles; i++) {
        struct buf cur = BUF_INIT;
        bool exists = true;
        char *why = NULL;
        if (atomicfile_read(f->files[i].path, &cur, &exists, &why) != 0) {
            free(why);
            exists = false;
        }
        diff_unified_at(&d, f->diff_root, f->files[i].path, exists ? buf_str(&cur) : NULL, cur.len,
                        f->files[i].data, f->files[i].len);
        buf_free(&cur);
    }
    f->diff = d.p != NULL ? buf_detach(&d) : xstrdup("");
    free(paths);
}

/*
 * Keeps one use of the radius that the edit would break as it is today: in its own block
 * (another location), the old values written explicitly; in the edited block itself, for
 * a change of the trusted file only, a trusted file holding the old trust and the new one.
 * Returns 0, or -1 with *why (nothing nginx can express keeps it whole).
 */
static int
keep_whole(struct remedy_fix *f, struct plan_edits *pe, const struct ngx_node *eb,
           const struct tls_use *bu, const struct radius_item *it, const struct ngxconf *conf,
           const struct remedy_opts *o, const struct cand *c, char **tdata, size_t *tlen,
           char **tpath, bool *unioned, char **why)
{
    const struct ngx_node *ub = edit_block(bu->block);
    unsigned trust = 1u << PSS_TRUSTED_CERTIFICATE;

    if (ub == eb) {
        const struct pss_value *old = &bu->ssl.v[PSS_TRUSTED_CERTIFICATE];
        char *own[SSLCONF_NPATHS] = {NULL, NULL, NULL}, *odata = NULL, *rcause = NULL;
        size_t olen = 0;
        if ((it->changed & ~trust) != 0 || c->trusted_data == NULL || *unioned ||
            old->origin == PSS_DEFAULT || old->value == NULL) {
            *why = xstrdup("it shares the edited block, and no single setting there keeps it");
            return -1;
        }
        struct proxy_ssl_settings s = bu->ssl;
        sslconf_full_paths(conf, &s, own);
        int rr = read_all(s.v[PSS_TRUSTED_CERTIFICATE].value, &odata, &olen, &rcause);
        for (int k = 0; k < SSLCONF_NPATHS; k++)
            free(own[k]);
        if (rr != 0) {
            *why = xasprintf("its trusted file cannot be read to keep it: %s", rcause);
            free(rcause);
            return -1;
        }
        struct buf u = BUF_INIT;
        buf_add(&u, odata, olen);
        if (olen > 0 && odata[olen - 1] != '\n')
            buf_addc(&u, '\n');
        buf_add(&u, c->trusted_data, c->trusted_len);
        free(odata);
        free(*tdata);
        *tlen = u.len;
        *tdata = buf_detach(&u);
        char *h = sha16(*tdata, *tlen);
        free(*tpath);
        *tpath = xasprintf("%s/trusted-%s.pem", o->cert_dir, h);
        free(h);
        *unioned = true;
        plan_add(pe, eb, bu->ssl.family, PSS_TRUSTED_CERTIFICATE, *tpath);
        for (size_t i = 0; i < f->nsets; i++) {
            if (f->sets[i].key == PSS_TRUSTED_CERTIFICATE && f->sets[i].block_label == NULL) {
                free(f->sets[i].value);
                f->sets[i].value = xstrdup(*tpath);
                free(f->sets[i].note);
                f->sets[i].note = xasprintf(
                    "%s %s; holds the trust of \"%s\" (kept for %s) plus the new certificate",
                    sslconf_directive(bu->ssl.family, PSS_TRUSTED_CERTIFICATE), *tpath, old->value,
                    bu->context);
            }
        }
        return 0;
    }
    if (ub->file == eb->file && ub->start == eb->start) {
        *why = xasprintf("the edited block is in %s, included in several places; the edit "
                         "there reaches %s too. The per-server alternative: copy the block into "
                         "each server and fix the copy (by hand)",
                         eb->file->path, bu->context);
        return -1;
    }
    for (int k = 0; k < PSS__COUNT; k++) {
        if (!(it->changed & (1u << k)))
            continue;
        const struct pss_value *old = &bu->ssl.v[k];
        const char *value = old->value;
        if (k == PSS_NAME && old->origin == PSS_DEFAULT)
            value = bu->proxy_host;
        if (value == NULL || (k == PSS_VERIFY && strcmp(value, "on") != 0)) {
            *why = xasprintf("%s cannot be kept %s there",
                             sslconf_directive(bu->ssl.family, (enum pss)k),
                             value == NULL ? "unset" : "off");
            return -1;
        }
        plan_add(pe, ub, bu->ssl.family, (enum pss)k, value);
        bool listed = false;
        for (size_t i = 0; i < f->nsets; i++) {
            listed |= f->sets[i].block_label != NULL && f->sets[i].key == (enum pss)k &&
                      strcmp(f->sets[i].value, value) == 0 &&
                      strstr(f->sets[i].block_label, bu->context) != NULL;
        }
        if (listed)
            continue;
        f->sets = xreallocarray(f->sets, f->nsets + 1, sizeof(*f->sets));
        struct remedy_set *rs = &f->sets[f->nsets++];
        rs->key = (enum pss)k;
        rs->value = xstrdup(value);
        rs->block_label = xasprintf("%s (%s:%u)", bu->context, ub->file->path, ub->line);
        rs->note = xasprintf("%s %s; keeps the value it has today (%s), so the fix does not "
                             "change it",
                             sslconf_directive(bu->ssl.family, (enum pss)k), value,
                             old->origin == PSS_DEFAULT ? "nginx's default" : "inherited");
    }
    return 0;
}

/* How many include directives bring file f into the tree (0: f is the main file). */
static size_t
include_count(const struct ngx_node *b, const struct ngx_file *f, const struct ngx_node **last)
{
    size_t n = 0;

    for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
        if (k->file == f && k->included_by != NULL && k->included_by != *last) {
            *last = k->included_by;
            n++;
        }
        if (k->block)
            n += include_count(k, f, last);
    }
    return n;
}

/*
 * Builds the fix: the sets in the owning block, the edit, the blast radius, and the radius
 * probed as it is and under the fix. Up to two rounds keep broken bystanders whole
 * (keep_whole); *whole says whether that worked, else *broken names what it would break.
 */
static int
fix_build(struct remedy_fix *f, const struct ngxconf *conf, const struct tls_use *use, size_t ti,
          const struct cand *c, bool verification_disabled, const struct remedy_opts *o,
          char **broken, char **cause)
{
    const struct proxy_ssl_settings *eff = &use->ssl;
    struct buf sum = {0}, bnote = {0};
    struct remedy_file *cfg = NULL;
    size_t ncfg = 0;
    struct txn_change *ch = NULL;
    struct plan_edits pe = {0};
    struct radius rad = {0};
    struct rprobe *rp = NULL;
    char *tdata = NULL, *tpath = NULL;
    size_t tlen = 0;
    bool unioned = false;
    int rc = -1;

    f->strategies = c->pub.applied;
    f->family = use->ssl.family;
    f->id = remedy_mask_name(c->pub.applied);
    if (verification_disabled)
        add_set(f, eff, PSS_VERIFY, "on");
    if (c->trusted_path != NULL)
        add_set(f, eff, PSS_TRUSTED_CERTIFICATE, c->trusted_path);
    if (c->depth != NULL)
        add_set(f, eff, PSS_VERIFY_DEPTH, c->depth);
    if (c->name != NULL)
        add_set(f, eff, PSS_NAME, c->name);
    if (c->pub.applied & (RS_MASK(RS_NAME) | RS_MASK(RS_SNI)))
        add_set(f, eff, PSS_SERVER_NAME, "on");
    if (c->pub.applied & RS_MASK(RS_MTLS)) {
        add_set(f, eff, PSS_CERTIFICATE, c->ssl.v[PSS_CERTIFICATE].value);
        add_set(f, eff, PSS_CERTIFICATE_KEY, c->ssl.v[PSS_CERTIFICATE_KEY].value);
    }
    if (f->nsets == 0) {
        *cause = xstrdup("the candidate changes nothing");
        goto out;
    }
    const struct ngx_node *eb = edit_block(use->block);
    for (size_t i = 0; i < f->nsets; i++)
        plan_add(&pe, eb, use->ssl.family, f->sets[i].key, f->sets[i].value);
    if (c->trusted_write && c->trusted_data != NULL) {
        tdata = xstrndup(c->trusted_data, c->trusted_len);
        tlen = c->trusted_len;
        tpath = xstrdup(c->trusted_path);
    }

    f->radius_whole = false;
    for (int round = 0;; round++) {
        files_free(cfg, ncfg);
        cfg = NULL;
        ncfg = 0;
        rprobe_free(rp, rad.n);
        rp = NULL;
        radius_free(&rad);
        buf_reset(&bnote);
        if (edits_apply(conf, pe.v, pe.n, &cfg, &ncfg, cause) != 0)
            goto out;
        struct radius_text *texts = xcalloc(ncfg + 1, sizeof(*texts));
        for (size_t i = 0; i < ncfg; i++) {
            texts[i].path = cfg[i].path;
            texts[i].data = cfg[i].data;
            texts[i].len = cfg[i].len;
        }
        int crc = radius_compute(conf, texts, ncfg, &rad, cause);
        free(texts);
        if (crc != 0)
            goto out;
        if (tdata != NULL && !same_bytes(tpath, tdata, tlen)) {
            cfg = xreallocarray(cfg, ncfg + 1, sizeof(*cfg));
            memset(&cfg[ncfg], 0, sizeof(*cfg));
            cfg[ncfg].path = xstrdup(tpath);
            cfg[ncfg].data = xstrndup(tdata, tlen);
            cfg[ncfg].len = tlen;
            cfg[ncfg].mode = 0644;
            ncfg++;
        }
        if (radius_probe(conf, &rad, cfg, ncfg, o, &rp, cause) != 0)
            goto out;
        size_t tu = radius_find_use(rad.before, rad.nuses, use);
        bool target_ok = true, fixable = true;
        size_t nbroken = 0;
        for (size_t i = 0; i < rad.n; i++) {
            const struct radius_item *it = &rad.items[i];
            if (!rp[i].probed)
                continue;
            if (it->use == tu && it->ti == ti) {
                target_ok = rp[i].after.verdict == PROBE_OK;
                if (!target_ok)
                    buf_addf(&bnote,
                             "the edit as written does not pass for the target itself: "
                             "%s; ",
                             verdict_text(&rp[i].after));
                continue;
            }
            if (rp[i].before.verdict != PROBE_OK || rp[i].after.verdict == PROBE_OK)
                continue;
            nbroken++;
            const struct tls_use *bu = &rad.before[it->use];
            buf_addf(&bnote, "it would break %s -> %s:%u (ok today; under the fix: %s)",
                     bu->context, bu->targets[it->ti].host, bu->targets[it->ti].port,
                     verdict_text(&rp[i].after));
            char *why = NULL;
            if (fixable && round < 2 &&
                keep_whole(f, &pe, eb, bu, it, conf, o, c, &tdata, &tlen, &tpath, &unioned, &why) !=
                    0)
                fixable = false;
            if (why != NULL) {
                buf_addf(&bnote, ": %s", why);
                free(why);
            }
            buf_adds(&bnote, "; ");
        }
        if (nbroken == 0 && target_ok) {
            f->radius_whole = true;
            break;
        }
        if (!target_ok || !fixable || round == 2)
            break;
    }
    if (!f->radius_whole) {
        while (bnote.len > 0 && (bnote.p[bnote.len - 1] == ' ' || bnote.p[bnote.len - 1] == ';'))
            bnote.p[--bnote.len] = '\0';
        *broken = buf_detach(&bnote);
    }
    f->affected = xcalloc(rad.n + 1, sizeof(*f->affected));
    size_t tu = radius_find_use(rad.before, rad.nuses, use);
    for (size_t i = 0; i < rad.n; i++) {
        const struct radius_item *it = &rad.items[i];
        const struct tls_use *bu = &rad.before[it->use];
        struct remedy_affected *a = &f->affected[f->naffected++];
        a->context = xstrdup(bu->context);
        a->file = xstrdup(bu->block->file->path);
        a->line = bu->block->line;
        a->upstream = xasprintf("%s:%u", bu->targets[it->ti].host, bu->targets[it->ti].port);
        a->changed = radius_mask_names_family(it->changed, bu->ssl.family);
        a->target = it->use == tu && it->ti == ti;
        a->probed = rp[i].probed;
        a->before = rp[i].before.verdict;
        a->after = rp[i].after.verdict;
        if (rp[i].before.nginx_message != NULL)
            a->before_message = xstrdup(rp[i].before.nginx_message);
        if (rp[i].after.nginx_message != NULL)
            a->after_message = xstrdup(rp[i].after.nginx_message);
    }
    f->files = cfg;
    f->nfiles = ncfg;
    cfg = NULL;
    ncfg = 0;
    ch = xcalloc(f->nfiles + 1, sizeof(*ch));
    for (size_t i = 0; i < f->nfiles; i++) {
        ch[i].path = f->files[i].path;
        ch[i].data = f->files[i].data;
        ch[i].len = f->files[i].len;
        ch[i].mode = f->files[i].mode;
    }
    f->sha256 = xcalloc(f->nfiles + 1, sizeof(*f->sha256));
    if (txn_plan(ch, f->nfiles, NULL, f->sha256, cause) != 0)
        goto out;
    fix_diff(f);

    for (int s = 0; s < RS__COUNT; s++) {
        if (c->why[s] != NULL)
            buf_addf(&sum, "%s\n", c->why[s]);
    }
    if (verification_disabled)
        buf_addf(&sum,
                 "verify: %s off (unsafe) hands every request to whoever answers on "
                 "that address; turn verification on\n",
                 sslconf_directive(use->ssl.family, PSS_VERIFY));
    if (unioned)
        buf_addf(&sum,
                 "keep: the new certificate alone would break what shares this block; the "
                 "trusted file written instead (%s) holds the old trust plus it\n",
                 tpath);
    for (size_t i = 0; i < f->nfiles; i++) {
        const struct ngx_node *last = NULL;
        for (size_t k = 0; k < conf->nfiles; k++) {
            size_t n;
            if (!f->files[i].config || strcmp(conf->files[k]->path, f->files[i].path) != 0 ||
                (n = include_count(conf->root, conf->files[k], &last)) < 2)
                continue;
            buf_addf(&sum,
                     "shared: %s is included in %zu places; the edit there reaches every "
                     "one of them (all listed under affects and probed)\n",
                     f->files[i].path, n);
        }
    }
    if (eb != use->block)
        buf_addf(&sum,
                 "in the location enclosing %s (%s:%u; %s_ssl_* is not allowed in "
                 "\"if\"):\n",
                 use->context, eb->file->path, eb->line, sslconf_family_name(use->ssl.family));
    else
        buf_addf(&sum, "in %s (%s:%u):\n", use->context, eb->file->path, eb->line);
    for (size_t i = 0; i < f->nsets; i++) {
        if (f->sets[i].block_label == NULL)
            buf_addf(&sum, "  %s\n", f->sets[i].note);
    }
    const char *prev = NULL; /* the keeps, under one heading per block */
    for (size_t i = 0; i < f->nsets; i++) {
        if (f->sets[i].block_label == NULL)
            continue;
        if (prev == NULL || strcmp(prev, f->sets[i].block_label) != 0)
            buf_addf(&sum, "in %s:\n", f->sets[i].block_label);
        buf_addf(&sum, "  %s\n", f->sets[i].note);
        prev = f->sets[i].block_label;
    }
    f->summary = buf_detach(&sum);
    rc = 0;
out:
    files_free(cfg, ncfg);
    rprobe_free(rp, rad.n);
    radius_free(&rad);
    plan_free(&pe);
    free(tdata);
    free(tpath);
    free(ch);
    buf_free(&sum);
    buf_free(&bnote);
    return rc;
}

static enum ev_kind
verdict_kind(enum probe_verdict v)
{
    switch (v) {
    case PROBE_VERIFY_ERROR:
        return EV_VERIFY_ERROR;
    case PROBE_NAME_MISMATCH:
        return EV_NAME_MISMATCH;
    case PROBE_HANDSHAKE_ERROR:
        return EV_HANDSHAKE_ERROR;
    case PROBE_TIMEOUT:
        return EV_HANDSHAKE_TIMEOUT;
    case PROBE_CONNECT_ERROR:
        return EV_CONNECT_ERROR;
    case PROBE_CONFIG_ERROR:
        return EV_CONFIG_ERROR;
    default:
        return EV_NONE;
    }
}

/* Whether code is about a certificate's issuer that could not be found: the only codes the
 * note about the missing intermediate explains (not a revoked, expired or mis-named one). */
static bool
issuer_missing(long code)
{
    return code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
           code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
           code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

char *
remedy_cause(const struct probe_result *r, bool verification_disabled, enum pss_family fam,
             const struct pss_value *vv)
{
    struct buf b = {0};
    const char *d_verify = sslconf_directive(fam, PSS_VERIFY);

    if (verification_disabled) {
        if (vv->origin == PSS_DEFAULT)
            buf_addf(&b, "%s is off (nginx's default): ", d_verify);
        else
            buf_addf(&b, "%s is off (%s:%u): ", d_verify, vv->file, vv->line);
        buf_adds(&b, "nginx does not check who answers on that address (the vulnerability). ");
        if (r->verdict == PROBE_OK) {
            buf_adds(&b, "With verification on the handshake would pass as configured.");
            return buf_detach(&b);
        }
        buf_adds(&b, "With verification on: ");
    }
    if (r->verdict == PROBE_OK) {
        buf_adds(&b, "the handshake passes with the current settings");
        return buf_detach(&b);
    }
    const struct incident_explanation *e =
        incident_explain(verdict_kind(r->verdict), (int)r->verify_code, r->nginx_message);
    char *plain = sslconf_respell(fam, e->plain), *means = sslconf_respell(fam, e->means);
    buf_addf(&b, "nginx says \"%s\": %s", r->nginx_message != NULL ? r->nginx_message : "?",
             plain != NULL ? plain : "");
    if (means != NULL)
        buf_addf(&b, " (%s)", means);
    free(plain);
    free(means);
    buf_addc(&b, '.');
    if (r->what_if.intermediate_note != NULL && r->verdict == PROBE_VERIFY_ERROR &&
        issuer_missing(r->verify_code))
        buf_addf(&b, " About the intermediate: %s.", r->what_if.intermediate_note);
    if (r->verify_code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
        buf_adds(&b, " The right fix is on the upstream: send the leaf followed by its "
                     "intermediate; on the nginx side, give the intermediate with --ca FILE "
                     "(strategy chain).");
    if (mtls_demanded(r))
        buf_adds(&b, " The upstream asked for a client certificate and nginx sent none "
                     "(give --client-cert and --client-key).");
    return buf_detach(&b);
}

/* TT009 in the cause: a trust failure (2, 18, 19, 20, 21) or a chain too long (22; OpenSSL 3
 * reports a chain deeper than the depth allows as 20, measured with nginx 1.22.1) where the
 * use's scope sets the ssl_* twin (nginx's own TLS server's) of the proxy_ssl_* directive
 * that would have helped, and not the directive itself. Appends to *cause. */
static void
twin_cause(char **cause, const struct probe_result *r, const struct tls_use *use)
{
    static const enum pss ks[] = {PSS_TRUSTED_CERTIFICATE, PSS_VERIFY_DEPTH};
    long c = r->verify_code;
    bool trust = c == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                 c == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                 c == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                 c == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                 c == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
    bool depth = c == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                 c == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
                 c == X509_V_ERR_CERT_CHAIN_TOO_LONG;

    if (r->verdict != PROBE_VERIFY_ERROR)
        return;
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        const struct ngx_node *d;
        char *s;
        if (!(ks[i] == PSS_TRUSTED_CERTIFICATE ? trust : depth) ||
            (d = check_server_twin(use, ks[i])) == NULL)
            continue;
        s = xasprintf("%s The %s %s at %s:%u is for nginx's own TLS server (its clients), not "
                      "for the upstream: nginx checks the upstream with %s, which is not set "
                      "here; write \"%s %s;\" instead (check rule TT009).",
                      *cause, d->name, d->value, d->file->path, d->line,
                      sslconf_directive(use->ssl.family, ks[i]),
                      sslconf_directive(use->ssl.family, ks[i]), d->value);
        free(*cause);
        *cause = s;
    }
}

static void
fix_free(struct remedy_fix *f)
{
    free(f->id);
    free(f->summary);
    free(f->verdict_note);
    for (size_t i = 0; i < f->nsets; i++) {
        free(f->sets[i].value);
        free(f->sets[i].note);
        free(f->sets[i].block_label);
    }
    free(f->sets);
    for (size_t i = 0; i < f->nfiles; i++) {
        free(f->files[i].path);
        free(f->files[i].data);
    }
    free(f->files);
    free(f->diff);
    free(f->diff_root);
    free(f->sha256);
    affected_free(f->affected, f->naffected);
}

void
remedy_case_free(struct remedy_case *c)
{
    free(c->upstream);
    free(c->host);
    free(c->context);
    probe_result_free(&c->probe);
    free(c->cause);
    for (size_t i = 0; i < c->nfixes; i++)
        fix_free(&c->fixes[i]);
    free(c->fixes);
    memset(c, 0, sizeof(*c));
}

void
remedy_add_reload(struct remedy_case *c, const char *why, const char *diff_root)
{
    struct remedy_fix *f;

    c->fixes = xreallocarray(c->fixes, c->nfixes + 1, sizeof(*c->fixes));
    f = &c->fixes[c->nfixes++];
    memset(f, 0, sizeof(*f));
    f->id = xstrdup("reload");
    f->strategies = RS_MASK(RS_RELOAD);
    f->summary = xasprintf("reload: no file changes; nginx -t, reload, confirm the new workers, "
                           "re-probe and watch the log.\n%s\n",
                           why);
    f->verified = c->probe.verdict == PROBE_OK;
    f->diff = xstrdup("");
    f->diff_root = xstrdup(diff_root != NULL ? diff_root : "/");
    f->radius_whole = true;
}

/* Reports progress through o->progress, if set. */
static void
progress(const struct remedy_opts *o, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (o->progress == NULL)
        return;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    o->progress(o->progress_arg, msg);
    free(msg);
}

int
remedy_plan(const struct ngxconf *conf, const struct tls_use *use, size_t ti,
            const struct remedy_opts *o, struct remedy_case *out, char **cause)
{
    struct cand base, c;
    struct probe_opts po;
    struct probe_result r0, r;
    char *owned[SSLCONF_NPATHS];
    unsigned allowed = o->allowed != 0 ? o->allowed : RS_ALL, excluded = 0;
    bool have_r0 = false;
    int rc = -1, ncand = 0;
    const int maxcand = 3 * REMEDY_MAX_STEPS; /* 3 alternatives below, each this many steps */

    memset(out, 0, sizeof(*out));
    memset(&base, 0, sizeof(base));
    memset(&r0, 0, sizeof(r0));
    if (ti >= use->ntargets) {
        *cause = xasprintf("%s: no upstream target to probe", use->context);
        return -1;
    }
    out->host = xstrdup(use->targets[ti].host);
    out->port = (int)use->targets[ti].port;
    out->upstream = xasprintf("%s:%u", use->targets[ti].host, use->targets[ti].port);
    out->context = xstrdup(use->context);
    out->file = use->block->file->path;
    out->line = use->block->line;
    out->block_name = use->block->name;
    out->effective = use->ssl;
    base.ssl = use->ssl;
    sslconf_full_paths(conf, &base.ssl, owned);
    base.pub.depth = 1;
    if (base.ssl.v[PSS_VERIFY_DEPTH].value != NULL)
        base.pub.depth = atoi(base.ssl.v[PSS_VERIFY_DEPTH].value);
    base.pub.have_ca = o->ca_file != NULL;
    if (o->client_cert != NULL || o->client_key != NULL) {
        if (o->client_cert == NULL || o->client_key == NULL) {
            *cause = xstrdup("--client-cert and --client-key go together");
            goto out;
        }
        const struct pss_value *pwf = &base.ssl.v[PSS_PASSWORD_FILE];
        if (client_pair_ok(o->client_cert, o->client_key,
                           pwf->origin != PSS_DEFAULT ? pwf->value : NULL, cause) != 0)
            goto out;
        base.pub.have_client = true;
    }
    progress(o, "probing %s under the current settings", out->upstream);
    if (probe_cand(&base, use, ti, o, &po, &out->probe, cause) != 0)
        goto out;
    out->verification_disabled = !po.verify;
    if (out->verification_disabled) {
        base.ssl.v[PSS_VERIFY].value = "on";
        base.pub.applied |= RS_MASK(RS_VERIFY);
        progress(o, "probing %s with verification on", out->upstream);
        if (probe_cand(&base, use, ti, o, &po, &r0, cause) != 0)
            goto out;
        have_r0 = true;
    }
    const struct probe_result *ev = have_r0 ? &r0 : &out->probe;
    out->cause =
        remedy_cause(ev, out->verification_disabled, use->ssl.family, &use->ssl.v[PSS_VERIFY]);
    twin_cause(&out->cause, ev, use);

    for (int alt = 0; alt < 3; alt++) {
        unsigned a = allowed & ~excluded;
        const struct probe_result *cur = ev;
        bool have_r = false, ok = ev->verdict == PROBE_OK;
        char *note = NULL;

        c = base;
        c.pub.applied = base.pub.applied;
        for (int step = 0; step < REMEDY_MAX_STEPS && !ok; step++) {
            int s = remedy_next(cur, &c.pub, a);
            if (s < 0)
                break;
            struct probe_opts cpo;
            if (cand_apply(&c, s, cur, o, &po, cause) != 0) {
                if (have_r)
                    probe_result_free(&r);
                cand_free(&c);
                goto out;
            }
            if (have_r)
                probe_result_free(&r);
            memset(&r, 0, sizeof(r));
            if (o->progress != NULL) {
                char *id = remedy_mask_name(c.pub.applied);
                progress(o, "probing candidate %d of at most %d: %s", ++ncand, maxcand, id);
                free(id);
            }
            if (probe_cand(&c, use, ti, o, &cpo, &r, cause) != 0) {
                cand_free(&c);
                goto out;
            }
            have_r = true;
            cur = &r;
            ok = r.verdict == PROBE_OK;
        }
        if (!ok && cur->nginx_message != NULL)
            note = xasprintf("with this change nginx would still fail: %s", cur->nginx_message);
        if (have_r)
            probe_result_free(&r);
        unsigned used = c.pub.applied;
        bool dup = false;
        for (size_t i = 0; i < out->nfixes; i++)
            dup |= out->fixes[i].strategies == used;
        bool useful = used != 0 && !dup && (ok || out->nfixes == 0);
        if (useful) {
            struct remedy_fix f;
            memset(&f, 0, sizeof(f));
            char *why = NULL;
            char *broken = NULL;
            if (fix_build(&f, conf, use, ti, &c, out->verification_disabled, o, &broken, &why) !=
                0) {
                /* proven by the probe but not editable here: shown, never applied */
                f.verified = false;
                f.verdict_note = xasprintf("the edit cannot be made automatically: %s", why);
                free(why);
                if (f.id == NULL)
                    f.id = remedy_mask_name(c.pub.applied);
                if (f.summary == NULL) {
                    struct buf sb = {0};
                    for (int s = 0; s < RS__COUNT; s++) {
                        if (c.why[s] != NULL)
                            buf_addf(&sb, "%s\n", c.why[s]);
                    }
                    f.summary = buf_detach(&sb);
                }
                for (size_t k = 0; k < f.nfiles; k++) { /* nothing to write */
                    free(f.files[k].path);
                    free(f.files[k].data);
                }
                f.nfiles = 0;
            } else if (ok && !f.radius_whole) {
                f.verified = false;
                f.verdict_note =
                    xasprintf("the handshake passes for %s, but %s", out->upstream, broken);
            } else {
                f.verified = ok;
                f.verdict_note = note;
                note = NULL;
            }
            free(broken);
            out->fixes = xreallocarray(out->fixes, out->nfixes + 1, sizeof(*out->fixes));
            out->fixes[out->nfixes++] = f;
        }
        free(note);
        unsigned trust = used & (RS_MASK(RS_PIN) | RS_MASK(RS_CA) | RS_MASK(RS_CHAIN));
        cand_free(&c);
        if (trust == 0 || !useful)
            break;
        excluded |= trust;
    }
    /* an unverified candidate is kept only when nothing passes */
    size_t k = 0;
    bool any_ok = false;
    for (size_t i = 0; i < out->nfixes; i++)
        any_ok |= out->fixes[i].verified;
    for (size_t i = 0; i < out->nfixes; i++) {
        if (any_ok && !out->fixes[i].verified)
            fix_free(&out->fixes[i]);
        else
            out->fixes[k++] = out->fixes[i];
    }
    out->nfixes = k;
    rc = 0;
out:
    if (have_r0)
        probe_result_free(&r0);
    for (int i = 0; i < SSLCONF_NPATHS; i++)
        free(owned[i]);
    if (rc != 0)
        remedy_case_free(out);
    return rc;
}

int
remedy_recheck(const char *conf_path, const char *prefix, const struct remedy_case *c,
               const struct remedy_opts *o, char **cause)
{
    struct ngxconf *conf = NULL;
    struct proxy_ssl_settings s;
    struct probe_opts po;
    struct probe_result r;
    char *owned[SSLCONF_NPATHS] = {NULL, NULL, NULL};
    int rc = -1;

    memset(&r, 0, sizeof(r));
    if (ngxconf_load(conf_path, prefix, &conf, cause) != 0)
        return -1;
    const struct ngx_node *b = find_block(conf->root, c->file, c->line, c->block_name);
    if (b == NULL) {
        *cause =
            xasprintf("%s:%u: the %s block is no longer there", c->file, c->line, c->block_name);
        goto out;
    }
    resolve_settings(b, &s);
    sslconf_full_paths(conf, &s, owned);
    if (probe_opts_from_settings(&po, &s, c->host, c->port, cause) != 0)
        goto out;
    if (po.name == NULL) {
        const struct ngx_node *pp = ngxconf_find(b, sslconf_pass_directive(s.family));
        if (pp == NULL || pp->nargs < 1)
            po.name = c->host;
        else {
            /* the proxy_pass host is nginx's default name: reuse the original probe's */
            po.name = c->probe.name != NULL ? c->probe.name : c->host;
        }
    }
    po.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : PROBE_DEFAULT_TIMEOUT_MS;
    po.check_ip_san = o->check_ip_san;
    if (s.v[PSS_PROTOCOLS].origin == PSS_DEFAULT && o->default_protocols != NULL)
        po.protocols = o->default_protocols; /* the running version's default */
    if (probe_run(&po, &r, cause) != 0)
        goto out;
    if (!po.verify) {
        *cause = xasprintf("%s is still off", sslconf_directive(s.family, PSS_VERIFY));
        goto out;
    }
    if (r.verdict != PROBE_OK) {
        *cause =
            xasprintf("%s: the re-probe still fails: %s", c->upstream,
                      r.nginx_message != NULL ? r.nginx_message : probe_verdict_name(r.verdict));
        goto out;
    }
    rc = 0;
out:
    probe_result_free(&r);
    for (int i = 0; i < SSLCONF_NPATHS; i++)
        free(owned[i]);
    ngxconf_free(conf);
    return rc;
}

int
remedy_recheck_radius(const char *conf_path, const char *prefix, const struct remedy_fix *f,
                      const struct remedy_opts *o, char **cause)
{
    struct ngxconf *conf = NULL;
    struct tls_use *uses = NULL;
    size_t nuses = 0, n = 0;
    struct probe_opts *po = xcalloc(f->naffected + 1, sizeof(*po));
    struct probe_result *res = xcalloc(f->naffected + 1, sizeof(*res));
    size_t *which = xcalloc(f->naffected + 1, sizeof(*which));
    char *(*own)[SSLCONF_NPATHS] = xcalloc(f->naffected + 1, sizeof(*own));
    struct buf bad = BUF_INIT;
    int rc = -1;

    if (ngxconf_load(conf_path, prefix, &conf, cause) != 0)
        goto out;
    nuses = resolve_uses(conf, &uses);
    for (size_t k = 0; k < f->naffected; k++) {
        const struct remedy_affected *a = &f->affected[k];
        if (a->target || !a->probed || a->before != PROBE_OK)
            continue;
        bool found = false;
        for (size_t i = 0; i < nuses && !found; i++) {
            if (strcmp(uses[i].context, a->context) != 0 ||
                strcmp(uses[i].block->file->path, a->file) != 0)
                continue;
            for (size_t t = 0; t < uses[i].ntargets; t++) {
                char *hp = xasprintf("%s:%u", uses[i].targets[t].host, uses[i].targets[t].port);
                bool same = strcmp(hp, a->upstream) == 0;
                free(hp);
                if (!same || found)
                    continue;
                found = true;
                char *refused = NULL;
                radius_opts(conf, &uses[i], t, NULL, 0, o, &po[n], own[n], &refused);
                if (refused != NULL) {
                    buf_addf(&bad, "%s -> %s: %s; ", a->context, a->upstream, refused);
                    free(refused);
                    continue;
                }
                which[n++] = k;
            }
        }
    }
    if (n > 0 && probe_run_many(po, n, res, 8, NULL, cause) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct remedy_affected *a = &f->affected[which[i]];
        if (res[i].verdict != PROBE_OK)
            buf_addf(&bad, "%s -> %s passed before the fix and fails now: %s; ", a->context,
                     a->upstream, verdict_text(&res[i]));
    }
    if (bad.len > 0) {
        bad.p[bad.len - 2] = '\0';
        *cause = xstrdup(bad.p);
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        probe_result_free(&res[i]);
    for (size_t i = 0; i <= f->naffected; i++) {
        for (int j = 0; j < SSLCONF_NPATHS; j++)
            free(own[i][j]);
    }
    free(po);
    free(res);
    free(which);
    free(own);
    buf_free(&bad);
    if (uses != NULL)
        resolve_uses_free(uses, nuses);
    ngxconf_free(conf);
    return rc;
}
