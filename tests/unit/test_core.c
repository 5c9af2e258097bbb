/* test_core.c — the sanitizer, the JSON writer, buffers and nginx -V parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "cli.h"
#include "json.h"
#include "nginxbin.h"
#include "sanitize.h"
#include "spawn.h"
#include "xmalloc.h"

static void
sanitizer_escapes_terminal_escape_sequences(void **state)
{
    char *s = sanitize_str("evil\x1b]0;pwned\x07\x1b[2J done");
    assert_string_equal(s, "evil\\x1b]0;pwned\\x07\\x1b[2J done");
    free(s);
}

static void
sanitizer_escapes_backslash_so_escapes_stay_unambiguous(void **state)
{
    char *s = sanitize_str("a\\x1b");
    assert_string_equal(s, "a\\\\x1b");
    free(s);
}

static void
sanitizer_keeps_utf8_and_escapes_invalid_bytes_and_c1_controls(void **state)
{
    char *s = sanitize_mem("caf\xc3\xa9 \xff\xc2\x9b!", 10);
    assert_string_equal(s, "caf\xc3\xa9 \\xff\\u009b!");
    free(s);
    s = sanitize_str("x\xe2\x80\xaey"); /* U+202E right-to-left override */
    assert_string_equal(s, "x\\u202ey");
    free(s);
}

static void
sanitizer_shows_nul_bytes(void **state)
{
    char *s = sanitize_mem("a\0b", 3);
    assert_string_equal(s, "a\\x00b");
    free(s);
}

static void
sanitizing_an_empty_string_gives_an_empty_string(void **state)
{
    char *s = sanitize_mem("", 0);
    assert_string_equal(s, "");
    free(s);
    s = sanitize_str("");
    assert_string_equal(s, "");
    free(s);
}

static void
buf_addu_writes_decimal(void **state)
{
    struct buf b = BUF_INIT;

    buf_addu(&b, 0);
    buf_addc(&b, ' ');
    buf_addu(&b, 18446744073709551615ULL);
    assert_string_equal(buf_str(&b), "0 18446744073709551615");
    buf_free(&b);
}

static void
json_writer_produces_nested_objects_with_commas(void **state)
{
    struct buf b = BUF_INIT;
    struct jw w;

    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kint(&w, "line", 3);
    jw_kstr(&w, "reason", NULL);
    jw_key(&w, "list");
    jw_arr_open(&w);
    jw_str(&w, "a");
    jw_bool(&w, true);
    jw_obj_open(&w);
    jw_obj_close(&w);
    jw_arr_close(&w);
    jw_obj_close(&w);
    assert_string_equal(buf_str(&b), "{\"line\":3,\"reason\":null,\"list\":[\"a\",true,{}]}");
    buf_free(&b);
}

static void
json_strings_are_valid_for_any_bytes(void **state)
{
    struct buf b = BUF_INIT;

    json_add_string(&b, "q\"\\\n\x01\xff\xc3\xa9", 8);
    assert_string_equal(buf_str(&b), "\"q\\\"\\\\\\n\\u0001\xef\xbf\xbd\xc3\xa9\"");
    buf_free(&b);
}

static void
nginx_version_and_openssl_are_read_from_nginx_V(void **state)
{
    struct nginx_version v;
    char *cause = NULL;

    assert_int_equal(nginxbin_parse_version("nginx version: nginx/1.22.1\n"
                                            "built with OpenSSL 3.0.11 19 Sep 2023\n"
                                            "TLS SNI support enabled\n",
                                            &v, &cause),
                     0);
    assert_string_equal(v.version, "1.22.1");
    assert_string_equal(v.openssl, "OpenSSL 3.0.11 19 Sep 2023");
    assert_false(nginxbin_checks_ip_san(&v));
    assert_int_equal(nginxbin_parse_version("nginx version: nginx/1.31.0\n", &v, &cause), 0);
    assert_true(nginxbin_checks_ip_san(&v));
    assert_int_equal(nginxbin_parse_version("garbage", &v, &cause), -1);
    assert_non_null(cause);
    free(cause);
}

static void
spawn_captures_output_and_status_without_a_shell(void **state)
{
    char *argv[] = {"printf", "%s;", "a b", "$(id)", NULL};
    struct buf out = BUF_INIT;
    struct spawn_result res;
    char *cause = NULL;

    assert_int_equal(spawn_run(argv, &out, 5000, &res, &cause), 0);
    assert_true(res.exited);
    assert_int_equal(res.status, 0);
    assert_string_equal(buf_str(&out), "a b;$(id);");
    buf_free(&out);
}

static void
spawn_kills_a_program_past_its_deadline(void **state)
{
    char *argv[] = {"sleep", "10", NULL};
    struct spawn_result res;
    char *cause = NULL;

    assert_int_equal(spawn_run(argv, NULL, 200, &res, &cause), 0);
    assert_true(res.timed_out);
}

static void
spawn_reports_a_missing_program(void **state)
{
    char *argv[] = {"/nonexistent/nginx", "-t", NULL};
    struct spawn_result res;
    char *cause = NULL;

    assert_int_equal(spawn_run(argv, NULL, 1000, &res, &cause), -1);
    assert_non_null(strstr(cause, "/nonexistent/nginx"));
    free(cause);
}

static void
diff_printer_keeps_tabs_backslashes_and_a_final_cr_but_escapes_the_rest(void **state)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    (void)state;

    assert_non_null(fp);
    cli_put_diff(fp, "", "+\tlocation ~ \\.php$ {\r\n-a\x1b[31mb\r c\n");
    fclose(fp);
    assert_string_equal(out, "+\tlocation ~ \\.php$ {\r\n-a\\x1b[31mb\\x0d c\n");
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diff_printer_keeps_tabs_backslashes_and_a_final_cr_but_escapes_the_rest),
        cmocka_unit_test(sanitizer_escapes_terminal_escape_sequences),
        cmocka_unit_test(sanitizer_escapes_backslash_so_escapes_stay_unambiguous),
        cmocka_unit_test(sanitizer_keeps_utf8_and_escapes_invalid_bytes_and_c1_controls),
        cmocka_unit_test(sanitizer_shows_nul_bytes),
        cmocka_unit_test(sanitizing_an_empty_string_gives_an_empty_string),
        cmocka_unit_test(buf_addu_writes_decimal),
        cmocka_unit_test(json_writer_produces_nested_objects_with_commas),
        cmocka_unit_test(json_strings_are_valid_for_any_bytes),
        cmocka_unit_test(nginx_version_and_openssl_are_read_from_nginx_V),
        cmocka_unit_test(spawn_captures_output_and_status_without_a_shell),
        cmocka_unit_test(spawn_kills_a_program_past_its_deadline),
        cmocka_unit_test(spawn_reports_a_missing_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
