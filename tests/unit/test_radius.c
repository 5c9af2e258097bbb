/* test_radius.c — the blast radius of an edit: hand-made shapes (a nested location, a
 * snippet included by two servers, an upstream group, one-line siblings) and a property
 * test: for a few hundred random small configs (nesting, includes, groups, inherited
 * values, fixed seed), the radius equals the uses whose effective settings differ when the
 * edited config is written to disk, read again and resolved from scratch. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "ngxconf.h"
#include "radius.h"
#include "resolve.h"
#include "xmalloc.h"

/* ---- helpers ---- */

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    free(p);
}

static char *
mkdir_tmp(void)
{
    char *d = xstrdup("/tmp/tt-radius-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void
rm_dir(const char *dir, const char *const *names)
{
    for (; *names != NULL; names++) {
        char *p = xasprintf("%s/%s", dir, *names);
        unlink(p);
        free(p);
    }
    rmdir(dir);
}

static struct ngxconf *
load_dir(const char *dir)
{
    char *p = xasprintf("%s/nginx.conf", dir), *cause = NULL;
    struct ngxconf *c = NULL;
    assert_int_equal(ngxconf_load(p, NULL, &c, &cause), 0);
    free(p);
    return c;
}

/* The first block whose label is label (depth first), or NULL. */
static const struct ngx_node *
block_labelled(const struct ngx_node *b, const char *label, int nth, int *seen)
{
    for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
        if (!k->block)
            continue;
        if (k->label != NULL && strcmp(k->label, label) == 0 && (*seen)++ == nth)
            return k;
        const struct ngx_node *m = block_labelled(k, label, nth, seen);
        if (m != NULL)
            return m;
    }
    return NULL;
}

static const struct ngx_node *
block_by_label(const struct ngxconf *c, const char *label, int nth)
{
    int seen = 0;
    const struct ngx_node *b = block_labelled(c->root, label, nth, &seen);
    assert_non_null(b);
    return b;
}

/* Edits block, computes the radius, returns "context@host:port" lines sorted as found. */
static char *
radius_of(const struct ngxconf *c, const struct ngx_node *block, const char *name,
          const char *value)
{
    const char *args[1] = {value};
    const struct ngx_file *f = NULL;
    char *text = NULL, *cause = NULL;
    size_t len = 0;
    struct radius r;
    struct buf b = BUF_INIT;

    assert_int_equal(ngxconf_edit_set(c, block, name, args, 1, &f, &text, &len, &cause), 0);
    struct radius_text t = {f->path, text, len};
    if (radius_compute(c, &t, 1, &r, &cause) != 0)
        fail_msg("radius_compute: %s", cause);
    for (size_t i = 0; i < r.n; i++) {
        const struct tls_use *u = &r.before[r.items[i].use];
        buf_addf(&b, "%s@%s:%u\n", u->context, u->targets[r.items[i].ti].host,
                 u->targets[r.items[i].ti].port);
    }
    radius_free(&r);
    free(text);
    return b.p != NULL ? buf_detach(&b) : xstrdup("");
}

/* ---- shapes ---- */

static const char shapes_conf[] =
    "http {\n"
    "    proxy_ssl_verify on;\n"
    "    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;\n"
    "    upstream g { server 127.0.0.1:9451; server 127.0.0.1:9452; }\n"
    "    server {\n"
    "        server_name one;\n"
    "        location /a/ { proxy_pass https://127.0.0.1:9441; }\n"
    "        location /b/ { proxy_pass https://127.0.0.1:9442; }\n"
    "        location /n/ {\n"
    "            proxy_pass https://127.0.0.1:9443;\n"
    "            location /n/m/ {\n"
    "                proxy_pass https://127.0.0.1:9444;\n"
    "            }\n"
    "            location /n/k/ {\n"
    "                proxy_ssl_trusted_certificate /own.pem;\n"
    "                proxy_pass https://127.0.0.1:9445;\n"
    "            }\n"
    "        }\n"
    "        location /g/ { proxy_pass https://g; }\n"
    "        include snip.conf;\n"
    "    }\n"
    "    server {\n"
    "        server_name two;\n"
    "        include snip.conf;\n"
    "    }\n"
    "}\n";
static const char shapes_snip[] = "location /s/ {\n    proxy_pass https://127.0.0.1:9446;\n}\n";

struct shapes {
    char *dir;
    struct ngxconf *c;
};

static int
shapes_setup(void **state)
{
    struct shapes *s = xcalloc(1, sizeof(*s));
    s->dir = mkdir_tmp();
    write_file(s->dir, "nginx.conf", shapes_conf, strlen(shapes_conf));
    write_file(s->dir, "snip.conf", shapes_snip, strlen(shapes_snip));
    s->c = load_dir(s->dir);
    assert_int_equal(s->c->nerrors, 0);
    *state = s;
    return 0;
}

static int
shapes_teardown(void **state)
{
    struct shapes *s = *state;
    const char *const names[] = {"nginx.conf", "snip.conf", NULL};
    ngxconf_free(s->c);
    rm_dir(s->dir, names);
    free(s->dir);
    free(s);
    return 0;
}

static void
one_line_sibling_edit_reaches_that_location_only(void **state)
{
    struct shapes *s = *state;
    char *r = radius_of(s->c, block_by_label(s->c, "location /a/", 0),
                        "proxy_ssl_trusted_certificate", "/pin.pem");
    assert_string_equal(r, "location /a/ in server one@127.0.0.1:9441\n");
    free(r);
}

static void
outer_location_edit_reaches_the_child_that_inherits_but_not_the_one_that_overrides(void **state)
{
    struct shapes *s = *state;
    char *r = radius_of(s->c, block_by_label(s->c, "location /n/", 0),
                        "proxy_ssl_trusted_certificate", "/pin.pem");
    assert_string_equal(r, "location /n/ in server one@127.0.0.1:9443\n"
                           "location /n/m/ in location /n/ in server one@127.0.0.1:9444\n");
    free(r);
}

static void
upstream_group_edit_reaches_every_server_of_the_group(void **state)
{
    struct shapes *s = *state;
    char *r = radius_of(s->c, block_by_label(s->c, "location /g/", 0), "proxy_ssl_name", "x.lab");
    assert_string_equal(r, "location /g/ in server one@127.0.0.1:9451\n"
                           "location /g/ in server one@127.0.0.1:9452\n");
    free(r);
}

static void
snippet_edit_reaches_every_server_that_includes_it(void **state)
{
    struct shapes *s = *state;
    char *r =
        radius_of(s->c, block_by_label(s->c, "location /s/", 0), "proxy_ssl_verify_depth", "2");
    assert_string_equal(r, "location /s/ in server one@127.0.0.1:9446\n"
                           "location /s/ in server two@127.0.0.1:9446\n");
    free(r);
}

static void
setting_the_value_already_in_force_reaches_nobody(void **state)
{
    struct shapes *s = *state;
    char *r = radius_of(s->c, block_by_label(s->c, "location /n/", 0), "proxy_ssl_verify", "on");
    assert_string_equal(r, "");
    free(r);
}

/* ---- the property test ---- */

static uint64_t rng_state;

static unsigned
rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static const char *const directives[][3] = {
    {"proxy_ssl_verify", "on", "off"},      {"proxy_ssl_trusted_certificate", "/a.pem", "/b.pem"},
    {"proxy_ssl_name", "x.lab", "y.lab"},   {"proxy_ssl_verify_depth", "1", "2"},
    {"proxy_ssl_server_name", "on", "off"},
};
#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))
static const enum pss directive_keys[NDIRECTIVES] = {PSS_VERIFY, PSS_TRUSTED_CERTIFICATE, PSS_NAME,
                                                     PSS_VERIFY_DEPTH, PSS_SERVER_NAME};

static void
gen_settings(struct buf *b, const char *indent, unsigned chance)
{
    for (size_t d = 0; d < NDIRECTIVES; d++) {
        if (rnd(100) < chance)
            buf_addf(b, "%s%s %s;\n", indent, directives[d][0], directives[d][1 + rnd(2)]);
    }
}

static void
gen_proxy(struct buf *b, const char *indent)
{
    switch (rnd(4)) {
    case 0:
        buf_addf(b, "%sproxy_pass https://g;\n", indent);
        break;
    case 1:
        buf_addf(b, "%sproxy_pass http://127.0.0.1:%u;\n", indent, 9400 + rnd(4));
        break;
    default:
        buf_addf(b, "%sproxy_pass https://127.0.0.1:%u;\n", indent, 9400 + rnd(8));
    }
}

static void
gen_location(struct buf *b, const char *path, int depth, const char *indent)
{
    if (rnd(4) == 0) { /* a one-line block */
        buf_addf(b, "%slocation %s { ", indent, path);
        if (rnd(2))
            buf_addf(b, "proxy_ssl_verify_depth %u; ", 1 + rnd(2));
        buf_addf(b, "proxy_pass https://127.0.0.1:%u; }\n", 9400 + rnd(8));
        return;
    }
    char *in = xasprintf("%s    ", indent);
    buf_addf(b, "%slocation %s {\n", indent, path);
    gen_settings(b, in, 20);
    if (rnd(3) != 0)
        gen_proxy(b, in);
    if (rnd(4) == 0)
        buf_addf(b, "%sif ($arg_x) { proxy_pass https://127.0.0.1:%u; }\n", in, 9400 + rnd(8));
    for (unsigned k = 0, n = depth < 2 ? rnd(3) : 0; k < n; k++) {
        char *sub = xasprintf("%s%u/", path, k);
        gen_location(b, sub, depth + 1, in);
        free(sub);
    }
    buf_addf(b, "%s}\n", indent);
    free(in);
}

/* Writes nginx.conf (and snip.conf) of a random config to dir. */
static void
gen_config(const char *dir, bool *with_snip)
{
    struct buf b = BUF_INIT, s = BUF_INIT;
    unsigned nservers = 1 + rnd(3);

    buf_adds(&b, "events {}\nhttp {\n");
    gen_settings(&b, "    ", 30);
    buf_addf(&b,
             "    upstream g {\n        server 127.0.0.1:%u;\n        server 127.0.0.1:%u;\n"
             "    }\n",
             9410 + rnd(2), 9412 + rnd(2));
    *with_snip = rnd(2) == 0;
    if (*with_snip) {
        gen_settings(&s, "", 30);
        if (rnd(2))
            gen_location(&s, "/snip/", 1, "");
    }
    for (unsigned i = 0; i < nservers; i++) {
        buf_addf(&b, "    server {\n        listen 127.0.0.1:%u;\n        server_name s%u;\n",
                 8000 + i, i);
        gen_settings(&b, "        ", 25);
        if (*with_snip && rnd(3) != 0)
            buf_adds(&b, "        include snip.conf;\n");
        for (unsigned k = 0, n = 1 + rnd(3); k < n; k++) {
            char *path = xasprintf("/l%u/", k);
            gen_location(&b, path, 0, "        ");
            free(path);
        }
        buf_adds(&b, "    }\n");
    }
    buf_adds(&b, "}\n");
    if (rnd(3) == 0) {
        buf_adds(&b, "stream {\n");
        gen_settings(&b, "    ", 30);
        buf_adds(&b, "    upstream sg { server 127.0.0.1:9420; server 127.0.0.1:9421; }\n");
        buf_addf(&b, "    server {\n        listen 127.0.0.1:9000;\n        proxy_ssl on;\n");
        gen_settings(&b, "        ", 30);
        buf_addf(&b, "        proxy_pass %s;\n    }\n", rnd(2) ? "sg" : "127.0.0.1:9422");
        buf_adds(&b, "}\n");
    }
    write_file(dir, "nginx.conf", b.p, b.len);
    write_file(dir, "snip.conf", s.p != NULL ? s.p : "", s.len);
    buf_free(&b);
    buf_free(&s);
}

/* Every block that may hold proxy_ssl_*: http, server, location, stream, stream server. */
static void
collect_blocks(const struct ngx_node *b, const struct ngx_node ***v, size_t *n)
{
    for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
        if (!k->block)
            continue;
        if (strcmp(k->name, "http") == 0 || strcmp(k->name, "server") == 0 ||
            strcmp(k->name, "location") == 0 || strcmp(k->name, "stream") == 0) {
            *v = xreallocarray(*v, *n + 1, sizeof(**v));
            (*v)[(*n)++] = k;
        }
        collect_blocks(k, v, n);
    }
}

/* An oracle written apart from resolve.c: the value of name in force in block b, from the
 * nearest block (b itself, then its parents) with such a directive among its own kids. */
static const char *
own_value(const struct ngx_node *b, const char *name)
{
    for (; b != NULL; b = b->parent) {
        for (const struct ngx_node *k = b->kids; k != NULL; k = k->next) {
            if (!k->block && strcmp(k->name, name) == 0)
                return k->value;
        }
    }
    return NULL;
}

static bool
value_same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
radius_equals_the_uses_whose_settings_differ_when_read_again_from_scratch(void **state)
{
    char *dir = mkdir_tmp(), *dir2 = mkdir_tmp();
    const char *const names[] = {"nginx.conf", "snip.conf", NULL};
    unsigned nonempty = 0, multi = 0;
    (void)state;

    rng_state = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 300; round++) {
        bool with_snip;
        gen_config(dir, &with_snip);
        struct ngxconf *c = load_dir(dir);
        assert_int_equal(c->nerrors, 0);
        const struct ngx_node **blocks = NULL;
        size_t nb = 0;
        collect_blocks(c->root, &blocks, &nb);
        assert_true(nb > 0);
        const struct ngx_node *blk = blocks[rnd((unsigned)nb)];
        size_t d = rnd(NDIRECTIVES);
        const char *args[1] = {directives[d][1 + rnd(2)]};
        const struct ngx_file *f = NULL;
        char *text = NULL, *cause = NULL;
        size_t len = 0;
        if (ngxconf_edit_set(c, blk, directives[d][0], args, 1, &f, &text, &len, &cause) != 0)
            fail_msg("round %d: edit: %s", round, cause);

        /* the radius, from the model in memory */
        struct radius r;
        struct radius_text t = {f->path, text, len};
        if (radius_compute(c, &t, 1, &r, &cause) != 0)
            fail_msg("round %d: radius: %s", round, cause);

        /* from scratch: the edited files written to another directory and read again */
        for (size_t i = 0; i < c->nfiles; i++) {
            const struct ngx_file *g = c->files[i];
            const char *base = strrchr(g->path, '/') + 1;
            if (g == f)
                write_file(dir2, base, text, len);
            else
                write_file(dir2, base, g->text, g->len);
        }
        if (!with_snip)
            write_file(dir2, "snip.conf", "", 0);
        struct ngxconf *c2 = load_dir(dir2);
        assert_int_equal(c2->nerrors, 0);
        struct tls_use *u1, *u2;
        size_t n1 = resolve_uses(c, &u1), n2 = resolve_uses(c2, &u2);
        assert_int_equal(n1, n2);
        size_t expect = 0, k = 0;
        for (size_t i = 0; i < n1; i++) {
            assert_string_equal(u1[i].context, u2[i].context);
            assert_int_equal(u1[i].ntargets, u2[i].ntargets);
            unsigned m = 0;
            for (int p = 0; p < PSS__COUNT; p++) {
                if (!value_same(u1[i].ssl.v[p].value, u2[i].ssl.v[p].value))
                    m |= 1u << p;
            }
            /* only the edited directive may change, exactly where the oracle says */
            const char *dv = pss_defs[directive_keys[d]].default_value;
            const char *o1 = own_value(u1[i].block, directives[d][0]);
            const char *o2 = own_value(u2[i].block, directives[d][0]);
            bool oracle = !value_same(o1 != NULL ? o1 : dv, o2 != NULL ? o2 : dv);
            unsigned want = oracle ? 1u << directive_keys[d] : 0u;
            if (m != want && getenv("TT_RADIUS_DEBUG") != NULL)
                fprintf(stderr, "%.*s\n---- edited %s:\n%.*s\n", (int)c->files[0]->len,
                        c->files[0]->text, f->path, (int)len, text);
            if (m != want)
                fail_msg("round %d: %s: changes %x, the oracle says %x", round, u1[i].context, m,
                         want);
            if (m == 0)
                continue;
            for (size_t ti = 0; ti < u1[i].ntargets; ti++, expect++, k++) {
                if (k >= r.n)
                    fail_msg("round %d: %s -> %s:%u changes but is not in the radius", round,
                             u1[i].context, u1[i].targets[ti].host, u1[i].targets[ti].port);
                assert_int_equal(r.items[k].use, i);
                assert_int_equal(r.items[k].ti, ti);
                assert_int_equal(r.items[k].changed, m);
            }
        }
        if (r.n != expect)
            fail_msg("round %d: the radius lists %zu uses, %zu change", round, r.n, expect);
        nonempty += r.n > 0;
        multi += r.n > 1;
        resolve_uses_free(u1, n1);
        resolve_uses_free(u2, n2);
        ngxconf_free(c2);
        radius_free(&r);
        free(text);
        free(blocks);
        ngxconf_free(c);
    }
    /* the generator reaches the interesting cases: some edits reach nobody, many several */
    assert_true(nonempty > 60);
    assert_true(multi > 30);
    rm_dir(dir, names);
    rm_dir(dir2, names);
    free(dir);
    free(dir2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_line_sibling_edit_reaches_that_location_only,
                                        shapes_setup, shapes_teardown),
        cmocka_unit_test_setup_teardown(
            outer_location_edit_reaches_the_child_that_inherits_but_not_the_one_that_overrides,
            shapes_setup, shapes_teardown),
        cmocka_unit_test_setup_teardown(upstream_group_edit_reaches_every_server_of_the_group,
                                        shapes_setup, shapes_teardown),
        cmocka_unit_test_setup_teardown(snippet_edit_reaches_every_server_that_includes_it,
                                        shapes_setup, shapes_teardown),
        cmocka_unit_test_setup_teardown(setting_the_value_already_in_force_reaches_nobody,
                                        shapes_setup, shapes_teardown),
        cmocka_unit_test(radius_equals_the_uses_whose_settings_differ_when_read_again_from_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
