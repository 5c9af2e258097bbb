/* test_diff.c — the unified-diff generator: headers, context, hunks, edge cases. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "diff.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
