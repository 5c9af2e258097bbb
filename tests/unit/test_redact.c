/* test_redact.c — the report's redactor: each kind of secret is replaced and counted,
 * what must stay (paths, upstreams, times, error codes, variables) stays, names and
 * addresses get stable placeholders, the --redact-map names win, diffs lose key blocks and
 * password files, and a disabled redactor changes nothing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "redact.h"

static char *
red(struct redact *r, const char *s)
{
    return redact_text(r, s, strlen(s));
}

static void
check(struct redact *r, const char *in, const char *want)
{
    char *got = red(r, in);
    assert_string_equal(got, want);
    free(got);
}

static void
credential_headers_lose_their_values_in_config_and_http_form(void **state)
{
    struct redact *r = redact_new(true);
    (void)state;

    check(r, "proxy_set_header Authorization \"Bearer abc.def.ghi-123\";",
          "proxy_set_header Authorization \"[redacted]\";");
    check(r, "proxy_set_header Cookie sid=77;", "proxy_set_header Cookie [redacted];");
    check(r, "Proxy-Authorization: Basic YWxpY2U6cGFzc3dvcmQ=", "Proxy-Authorization: [redacted]");
    check(r, "Set-Cookie: a=1; Path=/; HttpOnly", "Set-Cookie: [redacted]");
    assert_int_equal(redact_count(r, RK_HEADER), 4);
    /* a variable names no secret */
    check(r, "proxy_set_header Authorization $http_authorization;",
          "proxy_set_header Authorization $http_authorization;");
    redact_free(r);
}

static void
tokens_jwts_long_hex_and_key_values_are_replaced(void **state)
{
    struct redact *r = redact_new(true);
    (void)state;

    check(r, "got Bearer sk_live_0123456789abcdef from x", "got Bearer [redacted] from x");
    check(r, "t eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig_ABC end", "t [redacted] end");
    check(r, "sig 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a;", "sig [redacted];");
    check(r, "x api_key=9f2b7c&y=1", "x api_key=[redacted]&y=1");
    check(r, "X-Custom=dGhpcyBpcyBhIHZlcnkgc2VjcmV0IHRva2VuMTIz ok", "X-Custom=[redacted] ok");
    check(r, "password: hunter2 ok", "password: [redacted] ok");
    assert_int_equal(redact_count(r, RK_PASSWORD), 1);
    assert_true(redact_count(r, RK_TOKEN) >= 4);
    redact_free(r);
}

static void
paths_times_codes_and_directives_stay(void **state)
{
    struct redact *r = redact_new(true);
    (void)state;

    check(r, "2026/11/27 03:17:01 [error] 811#811: *1 error:0A000086:SSL routines",
          "2026/11/27 03:17:01 [error] 811#811: *1 error:0A000086:SSL routines");
    check(r, "ssl_password_file /etc/nginx/keys.pass;", "ssl_password_file /etc/nginx/keys.pass;");
    check(r, "/var/lib/tlstriage/backups/20261127-031900/0.orig",
          "/var/lib/tlstriage/backups/20261127-031900/0.orig");
    check(r, "nginx 1.22.1, OpenSSL 3.0.11", "nginx 1.22.1, OpenSSL 3.0.11");
    assert_int_equal(redact_total(r), 0);
    redact_free(r);
}

static void
queries_and_userinfo_go_paths_stay(void **state)
{
    struct redact *r = redact_new(true);
    (void)state;

    check(r, "GET /api/v1/orders?customer=4711&x=2 HTTP/1.1",
          "GET /api/v1/orders?[redacted] HTTP/1.1");
    check(r, "GET https://alice:pw@api.lab/x HTTP/1.1",
          "GET https://[redacted]@api.lab/x HTTP/1.1");
    assert_int_equal(redact_count(r, RK_QUERY), 1);
    assert_int_equal(redact_count(r, RK_USERINFO), 1);
    redact_free(r);
}

static void
addresses_get_stable_placeholders_and_upstreams_stay(void **state)
{
    struct redact *r = redact_new(true);
    (void)state;

    redact_keep(r, "10.0.2.88:8443");
    check(r, "client: 203.0.113.7, upstream: \"https://10.0.2.88:8443/x\"",
          "client: ip-1, upstream: \"https://10.0.2.88:8443/x\"");
    check(r, "from 2001:db8::42 and 203.0.113.7 and [2001:db8::42]:443",
          "from ip-2 and ip-1 and [ip-2]:443");
    assert_string_equal(redact_address(r, "203.0.113.7"), "ip-1");
    assert_string_equal(redact_address(r, "198.51.100.1"), "ip-3");
    redact_free(r);
}

static void
learned_and_internal_names_are_hidden_the_upstream_kept(void **state)
{
    struct redact *r = redact_new(true);
    (void)state;

    redact_keep(r, "api.lab:443");
    redact_learn_host(r, "billing.example.org");
    redact_learn_host(r, "api.lab"); /* kept wins */
    redact_learn_host(r, "_");
    check(r, "server billing.example.org, upstream api.lab:443, via db.corp.internal",
          "server host-1, upstream api.lab:443, via host-2");
    check(r, "again BILLING.example.org.", "again host-1.");
    assert_string_equal(redact_host(r, "billing.example.org"), "host-1");
    assert_string_equal(redact_host(r, "api.lab"), "api.lab");
    check(r, "server_name _;", "server_name _;");
    redact_free(r);
}

static void
the_map_names_win_and_keep_keeps(void **state)
{
    struct redact *r = redact_new(true);
    char path[] = "/tmp/test_redact_XXXXXX";
    int fd = mkstemp(path);
    const char map[] = "names:\n  billing.example.org: billing\n  203.0.113.7: office\n"
                       "  shop.example.org: keep\nkeep:\n  - www.example.org\n";
    char *cause = NULL;
    (void)state;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, map, sizeof(map) - 1), (int)sizeof(map) - 1);
    close(fd);
    assert_int_equal(redact_load_map(r, path, &cause), 0);
    check(r, "billing.example.org shop.example.org www.example.org 203.0.113.7 x.corp",
          "billing shop.example.org www.example.org office host-1");
    assert_string_equal(redact_host(r, "billing.example.org"), "billing");
    unlink(path);
    redact_free(r);

    r = redact_new(true);
    strcpy(path, "/tmp/test_redact_XXXXXX");
    fd = mkstemp(path);
    assert_int_equal(write(fd, "names: [a]\n", 11), 11);
    close(fd);
    assert_int_equal(redact_load_map(r, path, &cause), -1);
    assert_non_null(strstr(cause, ":1:"));
    free(cause);
    unlink(path);
    redact_free(r);
}

static void
diffs_lose_key_blocks_and_secret_files(void **state)
{
    struct redact *r = redact_new(true);
    char *got;
    (void)state;

    redact_learn_secret_file(r, "/etc/nginx/pw.txt");
    got = redact_diff(r, "--- a/etc/nginx/x.conf\n+++ b/etc/nginx/x.conf\n@@ -1 +1,4 @@\n"
                         "+-----BEGIN PRIVATE KEY-----\n+MIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n"
                         "+-----END PRIVATE KEY-----\n proxy_pass https://a;\n"
                         "--- a/etc/nginx/pw.txt\n+++ b/etc/nginx/pw.txt\n@@ -0,0 +1,2 @@\n"
                         "+hunter2\n+hunter3\n");
    assert_null(strstr(got, "MIGHAgEA"));
    assert_null(strstr(got, "hunter"));
    assert_non_null(strstr(got, "+[redacted private key]\n proxy_pass https://a;\n"));
    assert_non_null(strstr(got, "+++ b/etc/nginx/pw.txt\n@@ -0,0 +1,2 @@\n [redacted: 2 line"));
    assert_int_equal(redact_count(r, RK_PRIVATE_KEY), 1);
    assert_int_equal(redact_count(r, RK_SECRET_FILE), 1);
    free(got);
    /* a key block in free text, even without its END line */
    got = red(r, "x -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY----- y");
    assert_string_equal(got, "x [redacted private key] y");
    free(got);
    got = red(r, "-----BEGIN RSA PRIVATE KEY-----\nMIIEow");
    assert_string_equal(got, "[redacted private key]");
    free(got);
    redact_free(r);
}

static void
a_disabled_redactor_changes_nothing(void **state)
{
    struct redact *r = redact_new(false);
    const char *in = "client: 203.0.113.7 Authorization: Bearer abcdefghijkl ?q=1";
    char *got;
    (void)state;

    redact_learn_host(r, "x.corp");
    check(r, in, in);
    got = redact_diff(r, "+-----BEGIN PRIVATE KEY-----\n");
    assert_string_equal(got, "+-----BEGIN PRIVATE KEY-----\n");
    free(got);
    assert_string_equal(redact_host(r, "x.corp"), "x.corp");
    assert_int_equal(redact_total(r), 0);
    redact_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credential_headers_lose_their_values_in_config_and_http_form),
        cmocka_unit_test(tokens_jwts_long_hex_and_key_values_are_replaced),
        cmocka_unit_test(paths_times_codes_and_directives_stay),
        cmocka_unit_test(queries_and_userinfo_go_paths_stay),
        cmocka_unit_test(addresses_get_stable_placeholders_and_upstreams_stay),
        cmocka_unit_test(learned_and_internal_names_are_hidden_the_upstream_kept),
        cmocka_unit_test(the_map_names_win_and_keep_keeps),
        cmocka_unit_test(diffs_lose_key_blocks_and_secret_files),
        cmocka_unit_test(a_disabled_redactor_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
