/* test_drill.c — the YAML loaders of the drill layer, the settings file and the runbooks:
 * what loads, and that every malformed file is refused with FILE:LINE:COLUMN and nothing
 * applied; the precedence of the command line over the file over the defaults; the shipped
 * scenarios and runbooks load; the drill's certificates verify (or not) with real OpenSSL. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "app.h"
#include "drill.h"
#include "runbook.h"
#include "settings.h"
#include "xmalloc.h"

#define OK_SCENARIO                                                                                \
    "name: t\n"                                                                                    \
    "title: T\n"                                                                                   \
    "difficulty: 1\n"                                                                              \
    "briefing: b\n"                                                                                \
    "certificates:\n"                                                                              \
    "  - {name: ca, subject: CA, ca: true}\n"                                                      \
    "  - {name: leaf, subject: a.internal, sans: [DNS:a.internal], issuer: ca}\n"                  \
    "  - {name: old, subject: a.internal, issuer: ca, start_days: -30, days: 10}\n"                \
    "upstreams:\n"                                                                                 \
    "  - {name: a, certificate: leaf}\n"                                                           \
    "front: 'server { listen 127.0.0.1:${front_port}; }'\n"                                        \
    "traffic: {requests: [{uri: /x}]}\n"                                                           \
    "expect: {status: 502, log: x}\n"                                                              \
    "hints: [h]\n"                                                                                 \
    "solution: {front: y}\n"

static void
expect_error(int rc, char **causep, const char *want)
{
    char *cause = *causep;

    *causep = NULL;
    assert_int_equal(rc, -1);
    assert_non_null(cause);
    if (strstr(cause, want) == NULL) {
        print_error("'%s' does not contain '%s'\n", cause, want);
        fail();
    }
    free(cause);
}

static void
settings_load_every_key(void **state)
{
    const char *y = "nginx: /usr/sbin/nginx\nconf: rel/nginx.conf\nlogs: [/a.log, b.log]\n"
                    "reload_command: nginx -s reload\nprobe_timeout: 7\nwatch: 0\n"
                    "expiry_days: 21\n";
    struct settings s;
    char *cause = NULL;

    (void)state;
    assert_int_equal(settings_parse(&s, "/etc/tt/config.yaml", y, strlen(y), &cause), 0);
    assert_string_equal(s.str[SK_NGINX], "/usr/sbin/nginx");
    assert_string_equal(s.str[SK_CONF], "/etc/tt/rel/nginx.conf"); /* against the file's dir */
    assert_int_equal(s.nlogs, 2);
    assert_string_equal(s.logs[1], "/etc/tt/b.log");
    assert_string_equal(s.str[SK_RELOAD_CMD], "nginx -s reload");
    assert_int_equal(s.num[SK_PROBE_TIMEOUT], 7);
    assert_int_equal(s.num[SK_WATCH], 0);
    assert_string_equal(s.where[SK_WATCH], "/etc/tt/config.yaml:6:8");
    settings_free(&s);
}

static void
settings_unknown_key_names_file_line_column(void **state)
{
    const char *y = "nginx: /usr/sbin/nginx\nwatch: 3\ncolour: red\n";
    struct settings s;
    char *cause = NULL;

    (void)state;
    expect_error(settings_parse(&s, "c.yaml", y, strlen(y), &cause), &cause,
                 "c.yaml:3:1: unknown key 'colour' in settings file");
    assert_null(s.str[SK_NGINX]); /* nothing half-applied */
}

static void
settings_wrong_types_name_file_line_column(void **state)
{
    struct settings s;
    char *cause = NULL;

    (void)state;
    expect_error(settings_parse(&s, "c.yaml", "watch: soon\n", 12, &cause), &cause,
                 "c.yaml:1:8: 'watch' must be an integer");
    expect_error(settings_parse(&s, "c.yaml", "watch: 9999\n", 12, &cause), &cause,
                 "c.yaml:1:8: 'watch' must be an integer from 0 to 3600");
    expect_error(settings_parse(&s, "c.yaml", "conf: [a, b]\n", 13, &cause), &cause,
                 "c.yaml:1:7: 'conf' must be a string");
    expect_error(settings_parse(&s, "c.yaml", "- a\n- b\n", 8, &cause), &cause,
                 "c.yaml:1:1: a settings file must be a mapping");
    expect_error(settings_parse(&s, "c.yaml", "conf: a\nconf: b\n", 16, &cause), &cause,
                 "c.yaml:2:1: 'conf' given twice");
    expect_error(settings_parse(&s, "c.yaml", "conf: [a\n", 9, &cause), &cause, "c.yaml:");
}

static void
settings_command_line_wins_over_file_over_defaults(void **state)
{
    char path[] = "/tmp/test_drill_settings_XXXXXX";
    int fd = mkstemp(path);
    const char *y = "prefix: /srv/p/\nconf: /srv/nginx.conf\nwatch: 4\n";
    struct app app;
    struct settings s;
    char *cause = NULL;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, y, strlen(y)), (int)strlen(y));
    close(fd);
    memset(&app, 0, sizeof(app));
    app.conf = "/etc/nginx/nginx.conf";
    app.logs = xcalloc(1, sizeof(*app.logs));
    app.prefix = "/cli/prefix/"; /* as --prefix */
    app.config_file = path;
    assert_int_equal(settings_setup(&app, &s, &cause), 0);
    assert_string_equal(app.prefix, "/cli/prefix/");
    assert_string_equal(s.origin[SK_PREFIX], "command line");
    assert_string_equal(app.conf, "/srv/nginx.conf");
    assert_true(strstr(s.origin[SK_CONF], ":2:7") != NULL);
    assert_true(app.watch_set);
    assert_int_equal(app.watch_seconds, 4);
    assert_false(app.expiry_set);
    assert_string_equal(app.nginx, DEFAULT_NGINX);
    assert_string_equal(s.origin[SK_NGINX], "default");
    char *text = settings_show(&app, &s);
    assert_non_null(strstr(text, "prefix          /cli/prefix/  (command line)"));
    free(text);
    settings_free(&s);
    free(app.logs);

    /* a bad file: an error, and app untouched */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "conf: /x\nbogus: 1\n", 18), 18);
    close(fd);
    memset(&app, 0, sizeof(app));
    app.conf = "/etc/nginx/nginx.conf";
    app.config_file = path;
    assert_int_equal(settings_setup(&app, &s, &cause), -1);
    assert_non_null(strstr(cause, ":2:1: unknown key 'bogus'"));
    free(cause);
    assert_string_equal(app.conf, "/etc/nginx/nginx.conf");
    assert_false(app.conf_given);
    unlink(path);
}

static void
scenario_loads(void **state)
{
    struct drill_scenario sc;
    char *cause = NULL;

    (void)state;
    assert_int_equal(drill_scenario_parse(&sc, "t.yaml", OK_SCENARIO, strlen(OK_SCENARIO), &cause),
                     0);
    assert_string_equal(sc.name, "t");
    assert_int_equal(sc.ncerts, 3);
    assert_null(sc.certs[0].issuer);
    assert_string_equal(sc.certs[1].issuer, "ca");
    assert_int_equal(sc.certs[2].start_days, -30);
    assert_int_equal(sc.rate, 3);
    assert_int_equal(sc.expect_status, 502);
    drill_scenario_free(&sc);
}

/* OK_SCENARIO with one line replaced. */
static int
parse_with(const char *from, const char *to, char **cause)
{
    char *y = xstrdup(OK_SCENARIO), *p = strstr(y, from), *z;
    struct drill_scenario sc;
    int rc;

    assert_non_null(p);
    *p = '\0';
    z = xasprintf("%s%s%s", y, to, p + strlen(from));
    rc = drill_scenario_parse(&sc, "t.yaml", z, strlen(z), cause);
    if (rc == 0)
        drill_scenario_free(&sc);
    free(y);
    free(z);
    return rc;
}

static void
malformed_scenarios_name_file_line_column(void **state)
{
    char *cause = NULL;

    (void)state;
    expect_error(parse_with("title: T\n", "titel: T\n", &cause), &cause,
                 "t.yaml:2:1: unknown key 'titel' in drill scenario");
    expect_error(parse_with("difficulty: 1\n", "difficulty: hard\n", &cause), &cause,
                 "t.yaml:3:13: 'difficulty' must be an integer");
    expect_error(parse_with("issuer: ca}", "issuer: nope}", &cause), &cause,
                 "t.yaml:7:71: the issuer must be 'self' or a certificate listed before");
    expect_error(parse_with("certificate: leaf}", "certificate: gone}", &cause), &cause,
                 "t.yaml:10:28: no certificate named 'gone'");
    expect_error(parse_with("hints: [h]\n", "", &cause), &cause,
                 "t.yaml:1:1: drill scenario lacks the key 'hints'");
    expect_error(parse_with("sans: [DNS:a.internal]", "sans: [a.internal]", &cause), &cause,
                 "t.yaml:7:");
    expect_error(parse_with("uri: /x", "uri: x", &cause), &cause, "t.yaml:12:");
    expect_error(parse_with("solution: {front: y}", "solution: {}", &cause), &cause,
                 "t.yaml:15:11: the solution changes neither");
    expect_error(parse_with("briefing: b\n", "briefing: [b\n", &cause), &cause, "t.yaml:");
}

static void
malformed_runbooks_name_file_line_column(void **state)
{
    const char *ok = "id: x\ntitle: X\nmatches: [x]\nmeaning: m\nwhy_not_verify_off: w\n"
                     "steps: [a, b]\nlonger_term: l\n";
    const char *bad = "id: x\ntitle: X\nmatches: [x]\nmeaning: m\nwhy_not_verify_off: w\n"
                      "steps: [a, [b]]\nlonger_term: l\n";
    struct runbook rb;
    char *cause = NULL;

    (void)state;
    assert_int_equal(runbook_parse(&rb, "r.yaml", ok, strlen(ok), &cause), 0);
    assert_int_equal(rb.nsteps, 2);
    runbook_free(&rb);
    expect_error(runbook_parse(&rb, "r.yaml", bad, strlen(bad), &cause), &cause,
                 "r.yaml:6:12: a step must be a string");
    expect_error(runbook_parse(&rb, "r.yaml", "id: x\n", 6, &cause), &cause,
                 "r.yaml:1:1: runbook lacks the key 'title'");
}

static void
shipped_scenarios_and_runbooks_load(void **state)
{
    const char *src = getenv("TT_SRCDIR");
    struct app app;
    char *dirs[2], *errors = NULL, *cause = NULL;
    struct drill_scenario *sc;
    struct runbook *rb;
    size_t n;

    (void)state;
    if (src == NULL)
        skip();
    dirs[0] = xasprintf("%s/share/tlstriage/drills", src);
    dirs[1] = NULL;
    n = drill_scenario_list(dirs, &sc, &errors);
    assert_null(errors);
    assert_true(n >= 9);
    for (size_t i = 0; i < n; i++)
        drill_scenario_free(&sc[i]);
    free(sc);
    free(dirs[0]);
    dirs[0] = xasprintf("%s/share/tlstriage/runbooks", src);
    n = runbook_list(dirs, &rb, &cause);
    assert_true(n != (size_t)-1 && n >= 15);
    for (size_t i = 0; i < n; i++)
        runbook_free(&rb[i]);
    free(rb);
    memset(&app, 0, sizeof(app));
    app.runbooks_dir = dirs[0];
    char **rdirs = runbook_dirs(&app);
    struct runbook one;
    assert_int_equal(runbook_find(rdirs, "18", &one, &cause), 0);
    assert_string_equal(one.id, "verify-18");
    runbook_free(&one);
    assert_int_equal(runbook_find(rdirs, "NAME-MISMATCH", &one, &cause), 0);
    runbook_free(&one);
    assert_int_equal(runbook_find(rdirs, "no-such-cause", &one, &cause), 1);
    runbook_dirs_free(rdirs);
    free(dirs[0]);
}

static X509 *
read_cert(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s.pem", dir, name);
    FILE *fp = fopen(p, "r");
    X509 *x;

    assert_non_null(fp);
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    free(p);
    assert_non_null(x);
    return x;
}

static int
verify(X509 *ca, X509 *leaf)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int err;

    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_verify_cert(ctx);
    err = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return err;
}

static void
pki_makes_certificates_that_openssl_verifies(void **state)
{
    char dir[] = "/tmp/test_drill_pki_XXXXXX", *cause = NULL;
    struct drill_scenario sc;
    X509 *ca, *leaf, *old;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(drill_scenario_parse(&sc, "t.yaml", OK_SCENARIO, strlen(OK_SCENARIO), &cause),
                     0);
    assert_int_equal(drill_pki_make(&sc, dir, &cause), 0);
    ca = read_cert(dir, "ca");
    leaf = read_cert(dir, "leaf");
    old = read_cert(dir, "old");
    assert_int_equal(verify(ca, leaf), X509_V_OK);
    assert_int_equal(verify(ca, old), X509_V_ERR_CERT_HAS_EXPIRED);
    assert_int_equal(X509_check_host(leaf, "a.internal", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(leaf, "b.internal", 0, 0, NULL), 0);
    X509_free(ca);
    X509_free(leaf);
    X509_free(old);
    for (size_t i = 0; i < sc.ncerts; i++) {
        char *p = xasprintf("%s/%s.pem", dir, sc.certs[i].name);
        unlink(p);
        free(p);
        p = xasprintf("%s/%s.key", dir, sc.certs[i].name);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    drill_scenario_free(&sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(settings_load_every_key),
        cmocka_unit_test(settings_unknown_key_names_file_line_column),
        cmocka_unit_test(settings_wrong_types_name_file_line_column),
        cmocka_unit_test(settings_command_line_wins_over_file_over_defaults),
        cmocka_unit_test(scenario_loads),
        cmocka_unit_test(malformed_scenarios_name_file_line_column),
        cmocka_unit_test(malformed_runbooks_name_file_line_column),
        cmocka_unit_test(shipped_scenarios_and_runbooks_load),
        cmocka_unit_test(pki_makes_certificates_that_openssl_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
