/*
 * test_staleness.c — nginx's load time from the error log's notices (lines as nginx 1.22.1
 * writes them at level notice, and the lone "signal process started" of level error), the
 * files changed after a load (and not those before, nor within its second), relative paths
 * taken as nginx takes them, and the sentence diagnose prints.
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ngxconf.h"
#include "staleness.h"
#include "xmalloc.h"

static char *
tmpdir(void)
{
    char t[] = "/tmp/tt-stale.XXXXXX";
    assert_non_null(mkdtemp(t));
    return xstrdup(t);
}

static void
write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static double
local_epoch(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s,
                    .tm_isdst = -1};
    return (double)mktime(&tm);
}

static void
load_time_is_the_last_reconfiguring_notice(void **state)
{
    (void)state;
    char *d = tmpdir(), *log = xasprintf("%s/error.log", d);
    struct stale_load l;

    write_file(log, "2026/12/04 21:02:44 [notice] 28832#28832: start worker processes\n"
                    "2026/12/04 21:02:44 [notice] 28832#28832: start worker process 28833\n"
                    "2026/12/04 21:02:45 [notice] 28835#28835: signal process started\n"
                    "2026/12/04 21:02:45 [notice] 28832#28832: signal 1 (SIGHUP) received from "
                    "28835, reconfiguring\n"
                    "2026/12/04 21:02:46 [notice] 28832#28832: reconfiguring\n"
                    "2026/12/04 21:02:47 [error] 28837#28837: *3 upstream SSL certificate verify "
                    "error: (18:self-signed certificate) while SSL handshaking to upstream\n");
    memset(&l, 0, sizeof(l));
    assert_true(staleness_load_log(log, &l));
    assert_true(l.when == local_epoch(2026, 12, 4, 21, 2, 46));
    assert_non_null(strstr(l.how, "\"reconfiguring\""));
    stale_load_free(&l);
    unlink(log);
    rmdir(d);
    free(log);
    free(d);
}

static void
level_error_log_has_only_the_signal_process_notice(void **state)
{
    (void)state;
    char *d = tmpdir(), *log = xasprintf("%s/error.log", d);
    struct stale_load l;

    write_file(log, "2026/12/04 21:02:48 [notice] 28898#28898: signal process started\n");
    memset(&l, 0, sizeof(l));
    assert_true(staleness_load_log(log, &l));
    assert_true(l.when == local_epoch(2026, 12, 4, 21, 2, 48));
    stale_load_free(&l);
    write_file(log, "2026/12/04 21:02:48 [error] 1#1: *1 connect() failed (111: Connection "
                    "refused) while connecting to upstream\n");
    memset(&l, 0, sizeof(l));
    assert_false(staleness_load_log(log, &l));
    stale_load_free(&l);
    unlink(log);
    rmdir(d);
    free(log);
    free(d);
}

static void
files_changed_after_the_load_are_named_and_older_ones_are_not(void **state)
{
    (void)state;
    char *d = tmpdir(), *conf = xasprintf("%s/nginx.conf", d), *old = xasprintf("%s/old.pem", d),
         *nw = xasprintf("%s/new.pem", d), *cause = NULL;
    struct ngxconf *c = NULL;
    struct proxy_ssl_settings s;
    struct stale_load l = {.known = true};
    struct stale_file *v = NULL;
    size_t n = 0;
    struct timeval tv[2];

    write_file(conf, "events {}\n");
    write_file(old, "x\n");
    write_file(nw, "y\n");
    /* the config and old.pem predate the load by an hour; new.pem is newer */
    double now = (double)time(NULL);
    tv[0].tv_sec = tv[1].tv_sec = (time_t)now - 3600;
    tv[0].tv_usec = tv[1].tv_usec = 0;
    assert_int_equal(utimes(conf, tv), 0);
    assert_int_equal(utimes(old, tv), 0);
    assert_int_equal(ngxconf_load(conf, NULL, &c, &cause), 0);
    memset(&s, 0, sizeof(s));
    s.v[PSS_TRUSTED_CERTIFICATE].value = "old.pem"; /* relative: the config's directory */
    s.v[PSS_TRUSTED_CERTIFICATE].origin = PSS_SET;
    s.v[PSS_CRL].value = nw;
    s.v[PSS_CRL].origin = PSS_INHERITED;
    l.when = now - 60;
    staleness_files(c, &s, &l, &v, &n);
    /* old.pem and the config have only ctime newer (utimes changes it): ctime counts */
    assert_true(n >= 1);
    bool saw_new = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].path, nw) == 0 && strcmp(v[i].what, "proxy_ssl_crl") == 0)
            saw_new = true;
    assert_true(saw_new);
    char *text = staleness_sentence(&l, v, n);
    assert_non_null(strstr(text, "nginx is running on files it loaded at "));
    assert_non_null(strstr(text, " — a reload loads "));
    free(text);
    stale_files_free(v, n);
    /* a load after every change (or within a second of it): nothing */
    l.when = now + 5; /* now is whole seconds: +5 is past every change */
    staleness_files(c, &s, &l, &v, &n);
    assert_int_equal(n, 0);
    stale_files_free(v, n);
    /* within a second after the newest change time of the three: still nothing */
    struct stat st;
    double newest = 0;
    const char *all[] = {conf, old, nw};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(stat(all[i], &st), 0);
        double m = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
        double ct = (double)st.st_ctim.tv_sec + (double)st.st_ctim.tv_nsec / 1e9;
        newest = m > newest ? m : newest;
        newest = ct > newest ? ct : newest;
    }
    l.when = newest - 0.5;
    staleness_files(c, &s, &l, &v, &n);
    assert_int_equal(n, 0);
    stale_files_free(v, n);
    /* an unknown load names nothing */
    l.known = false;
    staleness_files(c, &s, &l, &v, &n);
    assert_int_equal(n, 0);
    stale_files_free(v, n);
    ngxconf_free(c);
    unlink(conf);
    unlink(old);
    unlink(nw);
    rmdir(d);
    free(conf);
    free(old);
    free(nw);
    free(d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_time_is_the_last_reconfiguring_notice),
        cmocka_unit_test(level_error_log_has_only_the_signal_process_notice),
        cmocka_unit_test(files_changed_after_the_load_are_named_and_older_ones_are_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
