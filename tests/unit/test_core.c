/* test_core.c — the sanitizer, the JSON writer, buffers and nginx -V parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

static struct nginx_version
version(const char *v)
{
    struct nginx_version nv;
    char *text = xasprintf("nginx version: nginx/%s\n", v), *cause = NULL;

    assert_int_equal(nginxbin_parse_version(text, &nv, &cause), 0);
    free(text);
    return nv;
}

static void
default_proxy_ssl_protocols_add_tlsv13_from_nginx_1_23_4(void **state)
{
    static const char *old[] = {"1.22.1", "1.23.3", "1.19.10", "0.99.99"};
    static const char *new[] = {"1.23.4", "1.23.10", "1.24.0", "1.31.0", "2.0.0"};
    (void)state;
    for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
        struct nginx_version v = version(old[i]);
        assert_string_equal(nginxbin_default_protocols(&v), "TLSv1 TLSv1.1 TLSv1.2");
    }
    for (size_t i = 0; i < sizeof(new) / sizeof(new[0]); i++) {
        struct nginx_version v = version(new[i]);
        assert_string_equal(nginxbin_default_protocols(&v), "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3");
    }
    /* the version not known: 1.22's, as the settings table says */
    assert_string_equal(nginxbin_default_protocols(NULL), pss_defs[PSS_PROTOCOLS].default_value);
}

static void
version_defaults_replace_only_what_the_config_leaves_at_the_default(void **state)
{
    struct nginx_version v = version("1.24.0");
    struct proxy_ssl_settings s;
    (void)state;
    memset(&s, 0, sizeof(s));
    s.v[PSS_PROTOCOLS].origin = PSS_DEFAULT;
    s.v[PSS_PROTOCOLS].value = pss_defs[PSS_PROTOCOLS].default_value;
    nginxbin_settings_defaults(&v, &s);
    assert_string_equal(s.v[PSS_PROTOCOLS].value, "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3");
    s.v[PSS_PROTOCOLS].origin = PSS_SET;
    s.v[PSS_PROTOCOLS].value = "TLSv1.2";
    nginxbin_settings_defaults(&v, &s);
    assert_string_equal(s.v[PSS_PROTOCOLS].value, "TLSv1.2");
}

static void
directives_exist_from_the_version_that_brought_them(void **state)
{
    struct nginx_version v1193 = version("1.19.3"), v1194 = version("1.19.4");
    struct nginx_version v1139 = version("1.13.9"), v11310 = version("1.13.10");
    (void)state;
    assert_false(nginxbin_has_directive(&v1193, "proxy_ssl_conf_command"));
    assert_true(nginxbin_has_directive(&v1194, "proxy_ssl_conf_command"));
    assert_false(nginxbin_has_directive(&v1193, "grpc_ssl_conf_command"));
    assert_true(nginxbin_has_directive(&v1194, "uwsgi_ssl_conf_command"));
    assert_false(nginxbin_has_directive(&v1139, "grpc_ssl_verify"));
    assert_true(nginxbin_has_directive(&v11310, "grpc_ssl_verify"));
    assert_string_equal(nginxbin_directive_since("uwsgi_ssl_verify"), "1.5.8");
    assert_string_equal(nginxbin_directive_since("uwsgi_ssl_password_file"), "1.7.8");
    assert_string_equal(nginxbin_directive_since("proxy_ssl_certificate_key"), "1.7.8");
    assert_null(nginxbin_directive_since("proxy_ssl_verify")); /* older than any in use */
    assert_true(nginxbin_has_directive(&v1139, "proxy_ssl_verify"));
    assert_true(nginxbin_has_directive(NULL, "grpc_ssl_verify")); /* version not known */
}

/* The man page's NGINX VERSIONS table lists every version-dependent rule of nginxbin. */
static void
man_page_lists_every_version_rule(void **state)
{
    const char *src = getenv("TT_SRCDIR");
    char *path = xasprintf("%s/share/man/tlstriage.1", src != NULL ? src : ".");
    FILE *fp = fopen(path, "r");
    struct buf b = BUF_INIT;
    char line[1024];
    (void)state;

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL)
        buf_adds(&b, line);
    fclose(fp);
    const char *sec = strstr(buf_str(&b), ".SH NGINX VERSIONS");
    assert_non_null(sec);
    const char *end = strstr(sec + 1, "\n.SH ");
    assert_true(nginxbin_nrules >= 6);
    for (size_t i = 0; i < nginxbin_nrules; i++) {
        char *want = xasprintf("\n%s\t", nginxbin_rules[i].since);
        const char *at = strstr(sec, want);
        if (at == NULL || (end != NULL && at > end))
            fail_msg("NGINX VERSIONS has no row for %s", nginxbin_rules[i].since);
        free(want);
    }
    buf_free(&b);
    free(path);
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
        cmocka_unit_test(default_proxy_ssl_protocols_add_tlsv13_from_nginx_1_23_4),
        cmocka_unit_test(version_defaults_replace_only_what_the_config_leaves_at_the_default),
        cmocka_unit_test(directives_exist_from_the_version_that_brought_them),
        cmocka_unit_test(man_page_lists_every_version_rule),
        cmocka_unit_test(spawn_captures_output_and_status_without_a_shell),
        cmocka_unit_test(spawn_kills_a_program_past_its_deadline),
        cmocka_unit_test(spawn_reports_a_missing_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
