/* test_diff.c — the unified-diff generator: headers, context, hunks, edge cases. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "diff.h"
#include "xmalloc.h"

static char *
diff_of(const char *path, const char *a, const char *b, int *hunks)
{
    struct buf out = BUF_INIT;

    buf_add(&out, "", 0);
    *hunks = diff_unified(&out, path, a, a != NULL ? strlen(a) : 0, b, strlen(b));
    return buf_detach(&out);
}

static void
identical_files_give_no_diff(void **state)
{
    int h;
    char *d = diff_of("/etc/nginx/nginx.conf", "a\nb\n", "a\nb\n", &h);
    assert_int_equal(h, 0);
    assert_string_equal(d, "");
    free(d);
}

static void
one_changed_line_has_three_lines_of_context_and_a_b_headers(void **state)
{
    int h;
    char *d = diff_of("/etc/nginx/x.conf", "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
                      "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n", &h);
    assert_int_equal(h, 1);
    assert_string_equal(d, "--- a/etc/nginx/x.conf\n+++ b/etc/nginx/x.conf\n"
                           "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n");
    free(d);
}

static void
a_new_file_diffs_from_dev_null(void **state)
{
    int h;
    char *d = diff_of("certs/pin.pem", NULL, "x\ny\n", &h);
    assert_int_equal(h, 1);
    assert_string_equal(d, "--- /dev/null\n+++ b/certs/pin.pem\n@@ -0,0 +1,2 @@\n+x\n+y\n");
    free(d);
}

static void
an_insertion_names_the_line_before_it_like_gnu_diff(void **state)
{
    int h;
    char *d = diff_of("f", "a\n", "a\nb\n", &h);
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n a\n+b\n");
    free(d);
}

static void
a_missing_final_newline_is_marked(void **state)
{
    int h;
    char *d = diff_of("f", "a\nb", "a\nc", &h);
    assert_string_equal(d, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of "
                           "file\n+c\n\\ No newline at end of file\n");
    free(d);
}

static void
distant_changes_make_two_hunks_and_near_ones_one(void **state)
{
    const char *base = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
    int h;
    char *d = diff_of("f", base,
                      "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\nY\n", &h);
    assert_int_equal(h, 2);
    assert_non_null(strstr(d, "@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"));
    assert_non_null(strstr(d, "@@ -17,4 +17,4 @@\n 17\n 18\n 19\n-20\n+Y\n"));
    free(d);
    d = diff_of("f", base, "1\n2\nA\n4\n5\n6\n7\n8\n9\nB\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
                &h);
    assert_int_equal(h, 1);
    assert_non_null(strstr(d, "@@ -1,13 +1,13 @@\n"));
    free(d);
}

static void
an_added_directive_inside_a_block_is_one_plus_line(void **state)
{
    int h;
    char *d = diff_of("site",
                      "server {\n    location / {\n        proxy_pass https://10.0.2.88:8443;\n"
                      "    }\n}\n",
                      "server {\n    location / {\n        proxy_pass https://10.0.2.88:8443;\n"
                      "        proxy_ssl_name api.internal;\n    }\n}\n",
                      &h);
    assert_int_equal(h, 1);
    assert_non_null(strstr(d, "@@ -1,5 +1,6 @@\n"));
    assert_non_null(strstr(d, "\n+        proxy_ssl_name api.internal;\n"));
    assert_null(strstr(d, "\n-"));
    free(d);
}

static void
diff_root_is_the_deepest_common_directory(void **state)
{
    const char *const two[] = {"/etc/nginx/nginx.conf", "/etc/nginx/certs/pin-00.pem"};
    const char *const apart[] = {"/etc/nginx/nginx.conf", "/var/lib/x.pem"};
    const char *const prefix[] = {"/etc/nginx/a.conf", "/etc/nginxx/b.conf"};
    char *r;
    (void)state;

    assert_string_equal((r = diff_root(two, 2)), "/etc/nginx/");
    free(r);
    assert_string_equal((r = diff_root(apart, 2)), "/");
    free(r);
    assert_string_equal((r = diff_root(prefix, 2)), "/etc/");
    free(r);
}

static void
write_bytes(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *
read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = xmalloc(65536);
    assert_non_null(f);
    *len = fread(p, 1, 65536, f);
    fclose(f);
    return p;
}

/* GNU patch -p1 in dir, the diff on stdin; returns its exit status (-1: no patch). */
static int
run_patch(const char *dir, const char *diff_path)
{
    pid_t pid = fork();
    int st;

    if (pid == 0) {
        if (chdir(dir) != 0 || freopen(diff_path, "r", stdin) == NULL ||
            freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execlp("patch", "patch", "-p1", "--quiet", (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? (WEXITSTATUS(st) == 127 ? -1 : WEXITSTATUS(st)) : 99;
}

static void
patch_p1_applies_the_diff_to_crlf_tabs_and_no_final_newline(void **state)
{
    const char *old = "http {\r\n\tserver {\r\n\t\tlocation /a/ { proxy_pass https://h; }\r\n"
                      "\t}\r\n}";
    const char *new = "http {\r\n\tserver {\r\n\t\tlocation /a/ { proxy_pass https://h; "
                      "proxy_ssl_verify on; }\r\n\t}\r\n}";
    const char *pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    char dir[] = "/tmp/tt-diff-XXXXXX";
    struct buf d = BUF_INIT;
    (void)state;

    assert_non_null(mkdtemp(dir));
    char *conf = xasprintf("%s/nginx.conf", dir), *certs = xasprintf("%s/certs", dir);
    char *cert = xasprintf("%s/certs/pin.pem", dir), *dpath = xasprintf("%s.diff", dir);
    char *root = xasprintf("%s/", dir);
    write_bytes(conf, old, strlen(old));
    assert_int_equal(mkdir(certs, 0755), 0);
    assert_int_equal(diff_unified_at(&d, root, conf, old, strlen(old), new, strlen(new)), 1);
    assert_int_equal(diff_unified_at(&d, root, cert, NULL, 0, pem, strlen(pem)), 1);
    assert_non_null(strstr(buf_str(&d), "--- a/nginx.conf\n+++ b/nginx.conf\n"));
    assert_non_null(strstr(buf_str(&d), "+++ b/certs/pin.pem\n"));
    write_bytes(dpath, d.p, d.len);
    int rc = run_patch(dir, dpath);
    if (rc == -1) {
        skip();
    }
    assert_int_equal(rc, 0);
    size_t len;
    char *got = read_bytes(conf, &len);
    assert_int_equal(len, strlen(new));
    assert_memory_equal(got, new, len);
    free(got);
    got = read_bytes(cert, &len);
    assert_int_equal(len, strlen(pem));
    assert_memory_equal(got, pem, len);
    free(got);
    unlink(conf);
    unlink(cert);
    rmdir(certs);
    rmdir(dir);
    unlink(dpath);
    free(conf);
    free(certs);
    free(cert);
    free(dpath);
    free(root);
    buf_free(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_files_give_no_diff),
        cmocka_unit_test(one_changed_line_has_three_lines_of_context_and_a_b_headers),
        cmocka_unit_test(a_new_file_diffs_from_dev_null),
        cmocka_unit_test(an_insertion_names_the_line_before_it_like_gnu_diff),
        cmocka_unit_test(a_missing_final_newline_is_marked),
        cmocka_unit_test(distant_changes_make_two_hunks_and_near_ones_one),
        cmocka_unit_test(an_added_directive_inside_a_block_is_one_plus_line),
        cmocka_unit_test(diff_root_is_the_deepest_common_directory),
        cmocka_unit_test(patch_p1_applies_the_diff_to_crlf_tabs_and_no_final_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
