/*
 * test_triage.c — the triage model without a terminal: collection from configs in
 * tests/unit/conf and the log tests/unit/triage.errlog (no network), the spelling that
 * --upstream takes, the refusal of a bad --log, a variable proxy_pass reported instead of
 * crashing, the fix choice, the preflight with the real nginx -t, the probe plan and the
 * pending-transaction advice.
 */
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

#include "procenv.h"
#include "triage.h"
#include "xmalloc.h"

static char *
src_path(const char *rel)
{
    const char *src = getenv("TT_SRCDIR");
    return xasprintf("%s/tests/unit/%s", src != NULL ? src : ".", rel);
}

/* Collects conf (under tests/unit/conf) with the test log (or logs) and upstream. */
static int
collect(const char *conf, const char *log, const char *upstream, struct triage *t, char **cause)
{
    struct triage_opts o;
    char *c = xasprintf("conf/%s", conf), *cp = src_path(c);
    char *lp = log != NULL ? (log[0] == '/' ? xstrdup(log) : src_path(log)) : NULL;
    const char *logs[1] = {lp};
    int rc;

    memset(&o, 0, sizeof(o));
    o.conf = cp;
    o.logs = logs;
    o.nlogs = lp != NULL ? 1 : 0;
    o.upstream = upstream;
    o.ro.cert_dir = "/nonexistent/certs";
    rc = triage_collect(&o, t, cause);
    free(c);
    free(cp);
    free(lp);
    return rc;
}

static void
variable_proxy_pass_is_reported_with_its_candidates_not_crashed_on(void **state)
{
    struct triage t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(collect("triage-backend.conf", "triage.errlog", NULL, &t, &cause), 0);
    assert_int_equal(t.n, 1);
    assert_false(t.items[0].resolved);
    assert_string_equal(t.items[0].upstream, "127.0.0.1:20992");
    assert_string_equal(t.items[0].spelling, "127.0.0.1:20992@back.lab/v/");
    assert_non_null(strstr(t.items[0].plan_error, "proxy_pass https://$backend: cannot resolve "
                                                  "statically"));
    assert_non_null(strstr(t.items[0].plan_error, "candidates: 127.0.0.1:20992@back.lab/g/"));
    /* planning it is a no-op: nothing to probe, the reason stays */
    triage_plan(&t);
    assert_false(t.items[0].planned);
    triage_free(&t);
}

static void
upstream_used_in_several_places_is_ambiguous_and_lists_every_spelling(void **state)
{
    struct triage t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(collect("triage-snippet.conf", "triage.errlog", "127.0.0.1:20990", &t, &cause),
                     0);
    assert_true(triage_ambiguous(&t));
    assert_int_equal(t.nrefs, 3);
    assert_string_equal(t.refs[0].spelling, "127.0.0.1:20990@front.lab/api/");
    assert_string_equal(t.refs[1].spelling, "127.0.0.1:20990@front.lab=/health");
    assert_string_equal(t.refs[2].spelling, "127.0.0.1:20990@127.0.0.1:20981/api/");
    assert_string_equal(t.refs[2].context, "location /api/ in server (listen 127.0.0.1:20981)");
    /* each use once, no incident for it in the log: one item per use */
    assert_int_equal(t.n, 3);
    triage_free(&t);
}

static void
spelling_with_server_and_location_picks_one_use(void **state)
{
    struct triage t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(collect("triage-snippet.conf", "triage.errlog",
                             "127.0.0.1:20990@127.0.0.1:20981/api/", &t, &cause),
                     0);
    assert_false(triage_ambiguous(&t));
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].use->context,
                        "location /api/ in server (listen 127.0.0.1:20981)");
    assert_string_equal(t.items[0].upstream, "127.0.0.1:20990");
    triage_free(&t);

    assert_int_equal(collect("triage-snippet.conf", "triage.errlog",
                             "127.0.0.1:20991@127.0.0.1:20982", &t, &cause),
                     0);
    assert_int_equal(t.n, 1);
    assert_true(t.items[0].use->stream);
    triage_free(&t);

    assert_int_equal(
        collect("triage-snippet.conf", "triage.errlog", "127.0.0.1:20990@nowhere/x/", &t, &cause),
        0);
    assert_int_equal(t.n, 0);
    assert_int_equal(t.nrefs, 3); /* the listing a front end shows instead */
    triage_free(&t);
}

static void
malformed_upstream_is_an_error(void **state)
{
    struct triage t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(
        collect("triage-snippet.conf", "triage.errlog", "127.0.0.1:20990@", &t, &cause), -1);
    assert_non_null(strstr(cause, "is not HOST:PORT"));
    free(cause);
    triage_free(&t);
}

static void
log_that_is_missing_a_directory_or_a_fifo_is_refused_without_blocking(void **state)
{
    struct triage t;
    char *cause = NULL, dir[] = "/tmp/tt-triage-XXXXXX";

    (void)state;
    assert_non_null(mkdtemp(dir));
    char *missing = xasprintf("%s/missing.log", dir), *fifo = xasprintf("%s/fifo.log", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    assert_int_equal(collect("triage-snippet.conf", missing, NULL, &t, &cause), -1);
    assert_non_null(strstr(cause, "missing.log: No such file or directory"));
    free(cause);
    triage_free(&t);
    assert_int_equal(collect("triage-snippet.conf", dir, NULL, &t, &cause), -1);
    assert_non_null(strstr(cause, ": is a directory"));
    free(cause);
    triage_free(&t);
    assert_int_equal(collect("triage-snippet.conf", fifo, NULL, &t, &cause), -1);
    assert_non_null(strstr(cause, "fifo.log: not a regular file (a FIFO)"));
    free(cause);
    triage_free(&t);

    unlink(fifo);
    rmdir(dir);
    free(missing);
    free(fifo);
}

static void
unplaced_incident_is_a_finding_with_its_reason_not_a_warning(void **state)
{
    struct triage t;
    char *cause = NULL;

    (void)state;
    /* the log's incidents name back.lab, which this config does not have; the upstream is
     * not in it either */
    assert_int_equal(collect("triage-snippet.conf", "triage.errlog", NULL, &t, &cause), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(t.warnings.n, 0);
    assert_int_equal(t.nunplaced, 1);
    assert_string_equal(t.unplaced[0].inc->upstream, "127.0.0.1:20992");
    assert_int_equal(t.unplaced[0].inc->kind, EV_VERIFY_ERROR);
    /* the reason names what did not match: the server the line names */
    assert_non_null(strstr(t.unplaced[0].reason, "no server or location matches back.lab /v/x"));
    triage_free(&t);
}

static void
choice_counts_failing_items_and_wants_the_strategies(void **state)
{
    struct triage t;
    struct triage_item items[2];
    struct remedy_fix fixes[2];
    const struct triage_item *it;
    const struct remedy_fix *f;
    size_t nf;

    (void)state;
    memset(&t, 0, sizeof(t));
    memset(items, 0, sizeof(items));
    memset(fixes, 0, sizeof(fixes));
    assert_int_equal(triage_choose(&t, 0, &nf, &it, &f), TC_NOTHING);
    t.items = items;
    t.n = 2;
    items[0].planned = items[1].planned = true;
    items[0].rc.probe.verdict = items[1].rc.probe.verdict = PROBE_VERIFY_ERROR;
    assert_int_equal(triage_choose(&t, 0, &nf, &it, &f), TC_SEVERAL);
    assert_int_equal(nf, 2);
    items[1].rc.probe.verdict = PROBE_OK; /* passes now */
    assert_int_equal(triage_choose(&t, 0, &nf, &it, &f), TC_NO_FIX);
    assert_ptr_equal(it, &items[0]);
    fixes[0].strategies = RS_MASK(RS_PIN) | RS_MASK(RS_NAME);
    fixes[1].strategies = RS_MASK(RS_CA);
    fixes[1].verified = true;
    items[0].rc.fixes = fixes;
    items[0].rc.nfixes = 2;
    assert_int_equal(triage_choose(&t, 0, &nf, &it, &f), TC_UNVERIFIED);
    assert_ptr_equal(f, &fixes[0]);
    assert_int_equal(triage_choose(&t, RS_MASK(RS_CA), &nf, &it, &f), TC_READY);
    assert_ptr_equal(f, &fixes[1]);
    items[0].planned = false;
    assert_int_equal(triage_choose(&t, 0, &nf, &it, &f), TC_NOT_PLANNED);
    /* verification off passes the probe and still counts as failing */
    items[0].planned = true;
    items[0].rc.probe.verdict = PROBE_OK;
    items[0].rc.verification_disabled = true;
    assert_true(triage_item_failing(&items[0]));
}

static void
changes_borrow_the_fix_files_and_name_the_use(void **state)
{
    struct triage_item it;
    struct remedy_fix f;
    struct remedy_file files[2];
    char sha[2][65] = {"aa", "bb"};
    struct tls_use use;
    struct txn_change *ch;
    const char **s;
    char *summary;

    (void)state;
    memset(&it, 0, sizeof(it));
    memset(&f, 0, sizeof(f));
    memset(files, 0, sizeof(files));
    memset(&use, 0, sizeof(use));
    use.context = (char *)"location /a/ in server x";
    it.use = &use;
    it.rc.upstream = (char *)"127.0.0.1:1";
    f.id = (char *)"pin";
    f.files = files;
    f.nfiles = 2;
    f.sha256 = sha;
    files[0].path = (char *)"/c/nginx.conf";
    files[0].config = true;
    files[1].path = (char *)"/c/certs/pin.pem";
    files[1].mode = 0644;
    triage_changes(&it, &f, &ch, &s, &summary);
    assert_string_equal(ch[0].path, "/c/nginx.conf");
    assert_string_equal(ch[0].summary, "pin");
    assert_string_equal(ch[1].summary, "certificate");
    assert_int_equal(ch[1].mode, 0644);
    assert_string_equal(s[1], "bb");
    assert_string_equal(summary, "fix 127.0.0.1:1: pin in location /a/ in server x");
    free(ch);
    free(s);
    free(summary);
}

/* A config in a temporary prefix that nginx -t reads without root. */
static char *
write_conf(const char *dir, const char *body)
{
    char *path = xasprintf("%s/nginx.conf", dir);
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fprintf(fp, "error_log %s/error.log;\npid %s/nginx.pid;\nevents {}\nhttp {\n%s}\n", dir, dir,
            body);
    fclose(fp);
    return path;
}

static void
preflight_passes_what_nginx_accepts_and_quotes_nginx_when_it_refuses(void **state)
{
    char dir[] = "/tmp/tt-triage-XXXXXX", *cause = NULL;
    struct ngxconf *conf = NULL;
    const char *nginx = getenv("TT_NGINX") != NULL && getenv("TT_NGINX")[0] != '\0'
                            ? getenv("TT_NGINX")
                            : DEFAULT_NGINX;

    (void)state;
    if (access(nginx, X_OK) != 0)
        skip();
    assert_non_null(mkdtemp(dir));
    char *p = write_conf(dir, "access_log off;\nserver { listen 127.0.0.1:20984; }\n");
    assert_int_equal(ngxconf_load(p, NULL, &conf, &cause), 0);
    assert_int_equal(triage_preflight(conf, nginx, p, true, dir, &cause), 0);
    ngxconf_free(conf);
    free(p);

    p = write_conf(dir,
                   "access_log off;\nserver { listen 127.0.0.1:20984;\n bogus_directive 1; }\n");
    assert_int_equal(ngxconf_load(p, NULL, &conf, &cause), 0);
    assert_int_equal(triage_preflight(conf, nginx, p, true, dir, &cause), -1);
    char *want = xasprintf("nginx -t refuses the config before any change: [emerg] unknown "
                           "directive \"bogus_directive\" in %s:7",
                           p);
    assert_string_equal(cause, want);
    free(want);
    free(cause);
    cause = NULL;
    ngxconf_free(conf);

    /* one that does not even parse: ngxconf's own file:line, nginx not run */
    free(p);
    p = write_conf(dir, "server { listen 127.0.0.1:20984; \n");
    assert_int_equal(ngxconf_load(p, NULL, &conf, &cause), 0);
    assert_int_equal(triage_preflight(conf, "/nonexistent/nginx", p, true, dir, &cause), -1);
    assert_non_null(strstr(cause, "the config does not parse: "));
    assert_non_null(strstr(cause, "nginx.conf:"));
    free(cause);
    ngxconf_free(conf);
    unlink(p);
    free(p);
    p = xasprintf("%s/error.log", dir);
    unlink(p);
    free(p);
    rmdir(dir);
}

static void
probe_plan_of_all_uses_skips_the_variable_one(void **state)
{
    struct triage_probe_plan p;
    struct triage_probe_query q;
    struct probe_opts base;
    char *cause = NULL, *conf = src_path("conf/triage-backend.conf");

    (void)state;
    memset(&q, 0, sizeof(q));
    probe_opts_init(&base);
    q.all = true;
    assert_int_equal(triage_probe_plan(conf, NULL, &q, &base, &p, &cause), 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.opts[0].host, "127.0.0.1");
    assert_int_equal(p.opts[0].port, 20992);
    assert_non_null(strstr(p.labels[0], "location /g/ in server back.lab ("));
    triage_probe_plan_free(&p);

    memset(&q, 0, sizeof(q));
    q.server = "back.lab";
    q.uri = "/v/x";
    assert_int_equal(triage_probe_plan(conf, NULL, &q, &base, &p, &cause), -1);
    assert_string_equal(cause, "proxy_pass uses a variable: give HOST:PORT");
    free(cause);
    triage_probe_plan_free(&p);
    free(conf);
}

static void
pending_of_an_empty_state_dir_is_none(void **state)
{
    struct triage_pending p;
    char dir[] = "/tmp/tt-triage-XXXXXX", *cause = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(triage_pending(dir, &p, &cause), 0);
    assert_int_equal(p.n, 0);
    triage_pending_free(&p);
    rmdir(dir);
}

static void
use_spelling_of_a_stream_server_is_its_listen(void **state)
{
    struct triage t;
    char *cause = NULL;

    (void)state;
    assert_int_equal(collect("triage-snippet.conf", "triage.errlog", "127.0.0.1:20991", &t, &cause),
                     0);
    assert_int_equal(t.n, 1);
    char *s = triage_use_spelling(t.items[0].use, t.items[0].ti);
    assert_string_equal(s, "127.0.0.1:20991@127.0.0.1:20982");
    free(s);
    assert_false(triage_ambiguous(&t));
    triage_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(variable_proxy_pass_is_reported_with_its_candidates_not_crashed_on),
        cmocka_unit_test(upstream_used_in_several_places_is_ambiguous_and_lists_every_spelling),
        cmocka_unit_test(spelling_with_server_and_location_picks_one_use),
        cmocka_unit_test(malformed_upstream_is_an_error),
        cmocka_unit_test(log_that_is_missing_a_directory_or_a_fifo_is_refused_without_blocking),
        cmocka_unit_test(unplaced_incident_is_a_finding_with_its_reason_not_a_warning),
        cmocka_unit_test(choice_counts_failing_items_and_wants_the_strategies),
        cmocka_unit_test(changes_borrow_the_fix_files_and_name_the_use),
        cmocka_unit_test(preflight_passes_what_nginx_accepts_and_quotes_nginx_when_it_refuses),
        cmocka_unit_test(probe_plan_of_all_uses_skips_the_variable_one),
        cmocka_unit_test(pending_of_an_empty_state_dir_is_none),
        cmocka_unit_test(use_spelling_of_a_stream_server_is_its_listen),
    };

    procenv_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
