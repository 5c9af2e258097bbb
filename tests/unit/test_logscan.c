/* test_logscan.c — the event parser: every kind, both nginx formats, both OpenSSL wordings,
 * hostile lines, and every line of the lab's real nginx fixtures. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logscan.h"

#ifndef TT_FIXTURES
#define TT_FIXTURES "tests/lab/fixtures"
#endif

#define PRE "2026/11/27 03:17:01 [error] 4242#4242: *17 "
#define HS " while SSL handshaking to upstream, client: 127.0.0.1, server: api.example, "
#define TAIL                                                                                       \
    "request: \"GET /v1/items HTTP/1.1\", upstream: \"https://10.0.2.88:8443/v1/items\", "         \
    "host: \"api.example\""
#define STREAM_TAIL                                                                                \
    " while SSL handshaking to upstream, client: 127.0.0.1, server: 127.0.0.1:8443, "              \
    "upstream: \"127.0.0.1:9441\", bytes from/to client:0/0, bytes from/to "                       \
    "upstream:0/0"

static struct ls_event ev;

/* Every line the parser accepts must pass the cheap marker reject the scanners run first. */
static bool
parse(const char *line)
{
    bool ok = logscan_parse_line(line, strlen(line), 7, &ev);

    if (ok && !logscan_may_match(line, strlen(line)))
        fail_msg("accepted but rejected by logscan_may_match: %s", line);
    return ok;
}

static void
assert_span(struct span s, const char *want)
{
    if (want == NULL) {
        assert_null(s.p);
        return;
    }
    assert_non_null(s.p);
    if (s.len != strlen(want) || memcmp(s.p, want, s.len) != 0)
        fail_msg("span is '%.*s', expected '%s'", (int)s.len, s.p, want);
}

static void
verify_error_18_in_openssl3_wording_gives_every_field(void **state)
{
    (void)state;
    assert_true(
        parse(PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS TAIL));
    assert_int_equal(ev.kind, EV_VERIFY_ERROR);
    assert_int_equal(ev.level, LV_ERROR);
    assert_int_equal(ev.line, 7);
    assert_int_equal(ev.pid, 4242);
    assert_int_equal(ev.tid, 4242);
    assert_int_equal(ev.conn, 17);
    assert_int_equal(ev.verify_code, 18);
    assert_span(ev.reason, "self-signed certificate");
    assert_span(ev.time, "2026/11/27 03:17:01");
    assert_true(ev.when != (time_t)-1);
    assert_span(ev.client, "127.0.0.1");
    assert_span(ev.server, "api.example");
    assert_span(ev.request, "GET /v1/items HTTP/1.1");
    assert_span(ev.upstream, "10.0.2.88:8443");
    assert_span(ev.scheme, "https");
    assert_span(ev.uri, "/v1/items");
    assert_span(ev.host, "api.example");
    assert_span(ev.ssl_error, NULL);
    assert_false(ev.stream);
    assert_false(ev.ambiguous);
    assert_string_equal(logscan_kind_name(ev.kind), "verify_error");
}

static void
verify_error_in_openssl11_wording_keeps_its_reason(void **state)
{
    (void)state;
    assert_true(
        parse(PRE "upstream SSL certificate verify error: (18:self signed certificate)" HS TAIL));
    assert_int_equal(ev.verify_code, 18);
    assert_span(ev.reason, "self signed certificate");
}

static void
verify_errors_19_20_21_10_and_2_give_their_codes(void **state)
{
    static const struct {
        int code;
        const char *reason;
    } cases[] = {
        {19, "self-signed certificate in certificate chain"},
        {20, "unable to get local issuer certificate"},
        {21, "unable to verify the first certificate"},
        {10, "certificate has expired"},
        {2, "unable to get issuer certificate"},
        {20, "unable to get local issuer certificate (with parentheses)"},
    };
    char line[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), PRE "upstream SSL certificate verify error: (%d:%s)" HS TAIL,
                 cases[i].code, cases[i].reason);
        assert_true(parse(line));
        assert_int_equal(ev.kind, EV_VERIFY_ERROR);
        assert_int_equal(ev.verify_code, cases[i].code);
        assert_span(ev.reason, cases[i].reason);
        assert_span(ev.upstream, "10.0.2.88:8443");
    }
}

static void
name_mismatch_gives_the_expected_name(void **state)
{
    (void)state;
    assert_true(parse(PRE "upstream SSL certificate does not match \"10.0.2.88\"" HS TAIL));
    assert_int_equal(ev.kind, EV_NAME_MISMATCH);
    assert_span(ev.name, "10.0.2.88");
    assert_int_equal(ev.verify_code, -1);
    assert_span(ev.upstream, "10.0.2.88:8443");
}

static void
seed_form_certificate_verify_failed_is_a_handshake_error(void **state)
{
    (void)state;
    assert_true(
        parse(PRE "SSL_do_handshake() failed (SSL: error:1416F086:SSL "
                  "routines:tls_process_server_certificate:certificate verify failed)" HS TAIL));
    assert_int_equal(ev.kind, EV_HANDSHAKE_ERROR);
    assert_span(ev.ssl_error, "error:1416F086");
    assert_span(ev.reason, "certificate verify failed");
    assert_int_equal(ev.alert, -1);
}

static void
wrong_version_number_in_both_openssl_wordings(void **state)
{
    (void)state;
    assert_true(parse("2026/11/27 03:17:01 [crit] 1#1: *3 SSL_do_handshake() failed (SSL: "
                      "error:0A00010B:SSL routines::wrong version number)" HS TAIL));
    assert_int_equal(ev.kind, EV_HANDSHAKE_ERROR);
    assert_int_equal(ev.level, LV_CRIT);
    assert_span(ev.ssl_error, "error:0A00010B");
    assert_span(ev.reason, "wrong version number");
    assert_true(parse(PRE "SSL_do_handshake() failed (SSL: error:1408F10B:SSL "
                          "routines:ssl3_get_record:wrong version number)" HS TAIL));
    assert_span(ev.ssl_error, "error:1408F10B");
    assert_span(ev.reason, "wrong version number");
}

static void
alerts_give_the_alert_number_in_both_wordings(void **state)
{
    (void)state;
    assert_true(parse(PRE "SSL_do_handshake() failed (SSL: error:0A00042E:SSL routines::tlsv1 "
                          "alert protocol version:SSL alert number 70)" HS TAIL));
    assert_int_equal(ev.kind, EV_HANDSHAKE_ERROR);
    assert_int_equal(ev.alert, 70);
    assert_span(ev.reason, "tlsv1 alert protocol version");
    assert_span(ev.ssl_error, "error:0A00042E");
    assert_true(parse(PRE "SSL_do_handshake() failed (SSL: error:14094410:SSL "
                          "routines:ssl3_read_bytes:sslv3 alert handshake failure:SSL alert "
                          "number 40)" HS TAIL));
    assert_int_equal(ev.alert, 40);
    assert_span(ev.reason, "sslv3 alert handshake failure");
}

static void
several_openssl_errors_keep_the_first(void **state)
{
    (void)state;
    assert_true(parse(PRE "SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::"
                          "certificate verify failed error:0A000197:SSL routines::shutdown "
                          "while in init)" HS TAIL));
    assert_span(ev.ssl_error, "error:0A000086");
    assert_span(ev.reason, "certificate verify failed");
}

static void
handshake_timeout_is_recognised(void **state)
{
    (void)state;
    assert_true(parse(PRE "upstream timed out (110: Connection timed out)" HS TAIL));
    assert_int_equal(ev.kind, EV_HANDSHAKE_TIMEOUT);
    assert_span(ev.reason, "Connection timed out");
    assert_string_equal(logscan_kind_name(ev.kind), "handshake_timeout");
}

static void
peer_closed_is_recognised_with_and_without_errno(void **state)
{
    (void)state;
    assert_true(parse(PRE "peer closed connection in SSL handshake (104: Connection reset by "
                          "peer)" HS TAIL));
    assert_int_equal(ev.kind, EV_PEER_CLOSED);
    assert_span(ev.reason, "Connection reset by peer");
    assert_true(parse(PRE "peer closed connection in SSL handshake" HS TAIL));
    assert_int_equal(ev.kind, EV_PEER_CLOSED);
    assert_span(ev.reason, "peer closed connection in SSL handshake");
}

static void
connect_refused_is_a_connect_error_in_both_formats(void **state)
{
    (void)state;
    assert_true(parse(PRE "connect() failed (111: Connection refused) while connecting to "
                          "upstream, client: 127.0.0.1, server: api.example, " TAIL));
    assert_int_equal(ev.kind, EV_CONNECT_ERROR);
    assert_span(ev.reason, "Connection refused");
    assert_span(ev.upstream, "10.0.2.88:8443");
    assert_true(parse(PRE "connect() failed (111: Connection refused) while connecting to "
                          "upstream, client: 127.0.0.1, server: 127.0.0.1:8443, upstream: "
                          "\"127.0.0.1:9449\", bytes from/to client:0/0, bytes from/to "
                          "upstream:0/0"));
    assert_int_equal(ev.kind, EV_CONNECT_ERROR);
    assert_true(ev.stream);
    assert_span(ev.upstream, "127.0.0.1:9449");
}

static void
stream_format_has_no_request_or_host(void **state)
{
    (void)state;
    assert_true(parse(
        PRE "upstream SSL certificate verify error: (18:self-signed certificate)" STREAM_TAIL));
    assert_int_equal(ev.kind, EV_VERIFY_ERROR);
    assert_true(ev.stream);
    assert_span(ev.client, "127.0.0.1");
    assert_span(ev.server, "127.0.0.1:8443");
    assert_span(ev.upstream, "127.0.0.1:9441");
    assert_span(ev.request, NULL);
    assert_span(ev.host, NULL);
    assert_span(ev.scheme, NULL);
}

static void
config_errors_are_recognised_from_error_log_and_from_nginx_t(void **state)
{
    (void)state;
    assert_true(parse("2026/11/27 03:00:00 [emerg] 99#99: no proxy_ssl_trusted_certificate for "
                      "proxy_ssl_verify in /etc/nginx/conf.d/api.conf:14"));
    assert_int_equal(ev.kind, EV_CONFIG_ERROR);
    assert_int_equal(ev.level, LV_EMERG);
    assert_span(ev.reason, "no proxy_ssl_trusted_certificate for proxy_ssl_verify");
    assert_true(parse("nginx: [emerg] SSL_CTX_load_verify_locations(\"/etc/nginx/ca.pem\") "
                      "failed (SSL: error:80000002:system library::No such file or "
                      "directory:calling fopen(/etc/nginx/ca.pem, r) error:10000080:BIO "
                      "routines::no such file error:05880002:x509 certificate routines::system "
                      "lib)"));
    assert_int_equal(ev.kind, EV_CONFIG_ERROR);
    assert_span(ev.time, NULL);
    assert_span(ev.ssl_error, "error:80000002");
    assert_span(ev.reason, "SSL_CTX_load_verify_locations(\"/etc/nginx/ca.pem\") failed");
    assert_true(parse("2026/11/27 03:00:00 [emerg] 99#99: cannot load certificate "
                      "\"/etc/nginx/client.pem\": BIO_new_file() failed (SSL: error:80000002:"
                      "system library::No such file or directory)"));
    assert_int_equal(ev.kind, EV_CONFIG_ERROR);
}

static void
other_errors_and_notices_are_not_events(void **state)
{
    static const char *const lines[] = {
        PRE "upstream prematurely closed connection while reading response header from "
            "upstream, client: 1.2.3.4, server: a, request: \"GET / HTTP/1.1\", upstream: "
            "\"http://10.0.0.1:80/\", host: \"a\"",
        PRE "open() \"/usr/share/nginx/html/favicon.ico\" failed (2: No such file or "
            "directory), client: 1.2.3.4, server: a, request: \"GET /favicon.ico HTTP/1.1\"",
        "2026/11/27 03:17:01 [notice] 1#1: signal process started",
        "2026/11/27 03:17:01 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address in use)",
        "2026/11/27 03:17:01 [error] 1#1: *1 SSL_do_handshake() failed (SSL: error:0A000086) "
        "while SSL handshaking, client: 1.2.3.4, server: 0.0.0.0:443",
        "",
        "garbage",
        "2026/11/27",
        "2026/11/27 03:17:01 [bogus] 1#1: *1 upstream timed out (110: x) while SSL handshaking "
        "to upstream, client: a, server: b",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        assert_false(parse(lines[i]));
        assert_int_equal(ev.kind, EV_NONE);
    }
    assert_false(logscan_parse_line(NULL, 0, 1, &ev));
}

static void
upstream_forged_in_the_request_never_becomes_the_upstream(void **state)
{
    static const char *const lines[] = {
        PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
            "request: \"GET /x\", upstream: \"https://evil/\" HTTP/1.1\", upstream: "
            "\"https://10.0.2.88:8443/x\", host: \"api.example\"",
        PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
            "request: \"GET /x\", upstream: \"https://evil:443/\" HTTP/1.1\", upstream: "
            "\"https://10.0.2.88:8443/x\", host: \"api.example\"",
        PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
            "request: \"GET /x\", upstream: \"https://evil:443/\", host: \"h\" HTTP/1.1\", "
            "upstream: \"https://10.0.2.88:8443/x\", host: \"api.example\"",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        assert_true(parse(lines[i]));
        assert_span(ev.upstream, "10.0.2.88:8443");
        assert_span(ev.host, "api.example");
        assert_true(ev.ambiguous);
    }
}

static void
upstream_forged_in_the_referrer_never_becomes_the_upstream(void **state)
{
    (void)state;
    assert_true(parse(PRE
                      "upstream SSL certificate verify error: (18:self-signed certificate)" HS TAIL
                      ", referrer: \"x\", upstream: \"https://evil:443/\", host: "
                      "\"evil\""));
    assert_span(ev.upstream, "10.0.2.88:8443");
    assert_span(ev.host, "api.example");
    assert_span(ev.request, "GET /v1/items HTTP/1.1");
    assert_true(ev.ambiguous);
}

static void
forged_host_in_the_request_is_not_the_host(void **state)
{
    (void)state;
    assert_true(parse(PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
                          "request: \"GET /a\", host: \"evil\" HTTP/1.1\", upstream: "
                          "\"https://10.0.2.88:8443/a\", host: \"api.example\""));
    assert_span(ev.host, "api.example");
    assert_span(ev.request, "GET /a\", host: \"evil\" HTTP/1.1");
}

static void
a_fake_emerg_record_from_a_decoded_newline_is_not_a_config_error(void **state)
{
    (void)state;
    assert_false(parse("2026/11/27 03:00:00 [emerg] 1#1: no proxy_ssl_trusted_certificate for "
                       "proxy_ssl_verify HTTP/1.1\", upstream: \"https://10.0.2.88:8443/a\", "
                       "host: \"api.example\""));
    assert_false(parse("2026/11/27 03:00:00 [emerg] 1#1: *5 no proxy_ssl_trusted_certificate "
                       "for proxy_ssl_verify"));
}

/* The parser maps the quotes and commas of a line's first kilobyte and searches past it with
 * memchr: fields and forged markers must come out the same on either side of that edge. */
static void
fields_past_the_first_kilobyte_parse_as_within_it(void **state)
{
    static char line[8192], pad[2048], name[1600];
    (void)state;

    for (size_t n = 880; n < 1100; n++) { /* every marker crosses the edge at some n */
        memset(pad, 'a', n);
        pad[n] = '\0';
        snprintf(line, sizeof(line),
                 PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
                     "request: \"GET /%s\", upstream: \"https://evil:1/\" HTTP/1.1\", upstream: "
                     "\"https://10.0.2.88:8443/x\", host: \"api.example\", referrer: \"r\", "
                     "upstream: \"https://evil:2/\"",
                 pad);
        assert_true(parse(line));
        assert_span(ev.upstream, "10.0.2.88:8443");
        assert_span(ev.host, "api.example");
        assert_int_equal(ev.request.len,
                         strlen("GET /\", upstream: \"https://evil:1/\" HTTP/1.1") + n);
        assert_true(ev.ambiguous);
    }
    /* the action itself past the edge: a long expected name */
    memset(name, 'n', sizeof(name) - 1);
    snprintf(line, sizeof(line), PRE "upstream SSL certificate does not match \"%s\"" HS TAIL,
             name);
    assert_true(parse(line));
    assert_int_equal(ev.kind, EV_NAME_MISMATCH);
    assert_int_equal(ev.name.len, sizeof(name) - 1);
    assert_span(ev.upstream, "10.0.2.88:8443");
    assert_span(ev.host, "api.example");
    assert_false(ev.ambiguous);
}

static void
a_line_without_upstream_field_keeps_request_and_host(void **state)
{
    (void)state;
    assert_true(parse(PRE "upstream timed out (110: Connection timed out)" HS
                          "request: \"GET / HTTP/1.1\", host: \"a.example\""));
    assert_span(ev.request, "GET / HTTP/1.1");
    assert_span(ev.host, "a.example");
    assert_span(ev.upstream, NULL);
}

static void
a_line_cut_at_nginx_limit_keeps_the_fields_it_has(void **state)
{
    (void)state;
    assert_true(parse(PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
                          "request: \"GET /a HTTP/1.1\", upstream: \"https://10.0.2.88:8443/a"
                          "aaaaaaaa"));
    assert_span(ev.upstream, "10.0.2.88:8443");
    assert_span(ev.host, NULL);
}

static void
nul_bytes_and_invalid_utf8_do_not_break_parsing(void **state)
{
    char line[512];
    int n;

    (void)state;
    n = snprintf(line, sizeof(line),
                 PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS
                     "request: \"GET /\xff\xfeQ HTTP/1.1\", upstream: \"https://10.0.2.88:8443/"
                     "\", host: \"api.example\"");
    line[strstr(line, "Q HTTP") - line] = '\0'; /* a NUL inside the request */
    assert_true(logscan_parse_line(line, (size_t)n, 1, &ev));
    assert_int_equal(ev.request.len, strlen("GET /\xff\xfeQ HTTP/1.1"));
    assert_span(ev.upstream, "10.0.2.88:8443");
    line[5] = '\0'; /* a NUL in the timestamp: no longer an nginx line */
    assert_false(logscan_parse_line(line, (size_t)n, 1, &ev));
}

static void
lines_over_64_kib_are_skipped(void **state)
{
    size_t n = LOGSCAN_MAX_LINE + 100;
    char *line = malloc(n);
    const char *head =
        PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS TAIL;

    (void)state;
    assert_non_null(line);
    memset(line, 'a', n);
    memcpy(line, head, strlen(head));
    assert_false(logscan_parse_line(line, n, 1, &ev));
    assert_true(logscan_parse_line(line, strlen(head), 1, &ev));
    free(line);
}

static void
every_prefix_of_a_line_parses_without_reading_past_it(void **state)
{
    const char *full =
        PRE "SSL_do_handshake() failed (SSL: error:0A00042E:SSL routines::tlsv1 "
            "alert protocol version:SSL alert number 70)" HS TAIL ", referrer: \"http://r/\"";
    size_t n = strlen(full);

    (void)state;
    for (size_t i = 0; i <= n; i++) {
        char *copy = malloc(i + 1); /* exact size: ASan catches any over-read */
        assert_non_null(copy);
        memcpy(copy, full, i);
        (void)logscan_parse_line(copy, i, 1, &ev);
        free(copy);
    }
}

/* Lines written by a real nginx 1.22.1 (OpenSSL 3.0) while this parser was written. */
static void
real_nginx_lines_with_forged_referrer_and_quoted_host_parse_by_layout(void **state)
{
    (void)state;
    assert_true(parse("2026/11/27 08:49:53 [error] 5967#5967: *1 upstream SSL certificate "
                      "verify error: (18:self-signed certificate) while SSL handshaking to "
                      "upstream, client: 127.0.0.1, server: front.test, request: \"GET /ss "
                      "HTTP/1.1\", upstream: \"https://127.0.0.1:20011/ss\", host: "
                      "\"127.0.0.1:20001\", referrer: \"x\", upstream: \"https://evil:9/\", "
                      "host: \"e\""));
    assert_span(ev.upstream, "127.0.0.1:20011");
    assert_span(ev.uri, "/ss");
    assert_span(ev.host, "127.0.0.1:20001");
    assert_true(ev.ambiguous);
    assert_true(parse("2026/11/27 08:49:53 [error] 5967#5967: *18 upstream SSL certificate "
                      "verify error: (18:self-signed certificate) while SSL handshaking to "
                      "upstream, client: 127.0.0.1, server: front.test, request: \"GET /ss "
                      "HTTP/1.1\", upstream: \"https://127.0.0.1:20011/ss\", host: \"a\"b\""));
    assert_span(ev.upstream, "127.0.0.1:20011");
    assert_span(ev.host, "a\"b");
    assert_span(ev.request, "GET /ss HTTP/1.1");
    assert_true(parse("2026/11/27 08:49:53 [error] 5967#5967: *12 SSL_do_handshake() failed "
                      "(SSL: error:0A000438:SSL routines::tlsv1 alert internal error:SSL alert "
                      "number 80) while SSL handshaking to upstream, client: 127.0.0.1, server: "
                      "front.test, request: \"GET /proto HTTP/1.1\", upstream: "
                      "\"https://127.0.0.1:20011/proto\", host: \"127.0.0.1:20001\""));
    assert_span(ev.reason, "tlsv1 alert internal error");
    assert_int_equal(ev.alert, 80);
    assert_false(parse("2026/11/27 08:49:53 [info] 5967#5967: *14 SSL_do_handshake() failed "
                       "(SSL: error:0A000076:SSL routines::no suitable signature algorithm) "
                       "while SSL handshaking, client: 127.0.0.1, server: 127.0.0.1:20011"));
}

/* The lab's real nginx 1.22.1 lines (tests/lab/fixtures, captured by
 * tests/lab/capture-fixtures.sh): every line is read; every [emerg] line is a config error,
 * comments and "test failed" lines are not events; every runtime event names its
 * 127.0.0.1 upstream unless nginx cut the line; no forged value ever becomes a field. */
/* TLS 1.3 upstream demanding a client certificate: the handshake completes, and nginx meets
 * alert 116 when it reads the response (real nginx 1.22.1 line from the lab). */
static void
ssl_read_alert_after_a_tls13_handshake_is_a_handshake_error(void **state)
{
    const char *l = "2026/11/27 09:13:33 [crit] 32328#32328: *37 SSL_read() failed (SSL: "
                    "error:0A00045C:SSL routines::tlsv13 alert certificate required:SSL alert "
                    "number 116) while reading response header from upstream, client: 127.0.0.1, "
                    "server: front.lab, request: \"GET /s/mtls13 HTTP/1.1\", upstream: "
                    "\"https://127.0.0.1:20687/s/mtls13\", host: \"127.0.0.1:20660\"";

    (void)state;
    assert_true(parse(l));
    assert_int_equal(ev.kind, EV_HANDSHAKE_ERROR);
    assert_int_equal(ev.level, LV_CRIT);
    assert_int_equal(ev.alert, 116);
    assert_span(ev.reason, "tlsv13 alert certificate required");
    assert_span(ev.ssl_error, "error:0A00045C");
    assert_span(ev.upstream, "127.0.0.1:20687");
    assert_span(ev.host, "127.0.0.1:20660");
}

static void
an_ssl_read_failure_at_any_level_passes_the_marker_reject(void **state)
{
    const char *l = "2026/11/27 09:13:33 [error] 1#1: *37 SSL_read() failed (SSL: "
                    "error:0A00045C:SSL routines::tlsv13 alert certificate required:SSL alert "
                    "number 116) while reading response header from upstream, client: 127.0.0.1, "
                    "server: front.lab, request: \"GET / HTTP/1.1\", upstream: "
                    "\"https://127.0.0.1:20687/\", host: \"front.lab\"";
    const char *warn = "2026/11/27 09:13:33 [warn] 1#1: *3 an upstream response is buffered to a "
                       "temporary file while reading upstream, client: 10.1.0.1, server: a";

    (void)state;
    assert_true(parse(l));
    assert_int_equal(ev.level, LV_ERROR);
    assert_false(logscan_may_match(warn, strlen(warn)));
    assert_false(parse(warn));
    assert_false(logscan_may_match(NULL, 0));
}

/* The vector search sees a marker at every offset of a 16- or 32-byte block, also next to
 * the end, and counts only the newlines before it. */
static void
marker_search_finds_each_marker_at_every_offset_with_its_newline_count(void **state)
{
    static const char *const markers[] = {"to upstream, client: ", "[emerg] ",
                                          "SSL_read() failed ("};
    char buf[256];

    (void)state;
    for (size_t m = 0; m < sizeof(markers) / sizeof(markers[0]); m++) {
        size_t ml = strlen(markers[m]);
        for (size_t off = 0; off < 80; off++) {
            for (size_t after = 0; after < 40; after += 13) {
                size_t n = off + ml + after, nl = 0, want_nl = 0;
                const char *hit;

                for (size_t i = 0; i < off; i++) {
                    buf[i] = i % 7 == 6 ? '\n' : "xto upstream,[emerg SSL_read("[i % 24];
                    want_nl += buf[i] == '\n';
                }
                memcpy(buf + off, markers[m], ml);
                memset(buf + off + ml, 'z', after);
                hit = logscan_find_marker(buf, buf + n, &nl);
                assert_ptr_equal(hit, buf + off);
                assert_int_equal(nl, want_nl);
                assert_true(logscan_may_match(buf, n));
                assert_false(logscan_may_match(buf, off + ml - 1)); /* cut marker: no match */
            }
        }
    }
}

/* --since in the follower uses the time of any line, event or not. */
static void
line_time_reads_the_prefix_of_any_line_and_agrees_with_the_event(void **state)
{
    const char *info = "2026/11/27 03:17:01 [info] 1#1: *5 client closed connection";
    const char *l =
        PRE "upstream SSL certificate verify error: (18:self-signed certificate)" HS TAIL;

    (void)state;
    assert_true(parse(l));
    assert_true(ev.when != (time_t)-1);
    assert_int_equal(logscan_line_time(info, strlen(info)), ev.when);
    assert_int_equal(logscan_line_time(l, strlen(l)), ev.when);
    assert_int_equal(logscan_line_time("2026/11/27 03:17:0", 18), (time_t)-1);
    assert_int_equal(logscan_line_time("2026/11/27 03:1x:01 [info]", 26), (time_t)-1);
    assert_int_equal(logscan_line_time("garbage garbage garbage", 23), (time_t)-1);
}

static void
every_line_of_the_lab_fixtures_parses_to_its_kind(void **state)
{
    static const char *const files[] = {"nginx-1.22.1-error.log", "nginx-1.22.1-emerg.log"};
    unsigned seen[EV__COUNT] = {0}, emerg_lines = 0, events = 0;
    bool any = false, forged_request = false, forged_host = false;

    (void)state;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[4096], *line = NULL;
        size_t cap = 0;
        ssize_t n;
        unsigned long lineno = 0;
        FILE *fp;

        snprintf(path, sizeof(path), "%s/%s", TT_FIXTURES, files[f]);
        if ((fp = fopen(path, "r")) == NULL)
            continue;
        any = true;
        while ((n = getline(&line, &cap, fp)) >= 0) {
            bool is_emerg = strstr(line, "[emerg] ") != NULL;
            bool has_upstream = memmem(line, (size_t)n, "\", upstream: \"", 14) != NULL ||
                                strstr(line, ", upstream: \"") != NULL;

            lineno++;
            if (f == 1 && is_emerg)
                emerg_lines++;
            if (!logscan_parse_line(line, (size_t)n, lineno, &ev)) {
                if (f == 1 && is_emerg)
                    fail_msg("%s:%lu: [emerg] line not recognised", files[f], lineno);
                continue;
            }
            events++;
            seen[ev.kind]++;
            assert_true(logscan_may_match(line, (size_t)n));
            assert_int_equal(ev.line, lineno);
            assert_true(ev.level != LV_UNKNOWN);
            assert_true(line[0] != '#');
            if (ev.kind == EV_CONFIG_ERROR) {
                assert_int_equal(ev.level, LV_EMERG);
                assert_non_null(ev.reason.p);
                continue;
            }
            assert_non_null(ev.client.p);
            assert_non_null(ev.server.p);
            assert_true(ev.when != (time_t)-1);
            if (has_upstream) {
                assert_non_null(ev.upstream.p);
                assert_true(ev.upstream.len > 10 && memcmp(ev.upstream.p, "127.0.0.1:", 10) == 0);
                assert_false(ev.ambiguous);
            }
            if (ev.request.p != NULL && memmem(ev.request.p, ev.request.len, "evil", 4) != NULL)
                forged_request = true;
            if (ev.host.p != NULL && memmem(ev.host.p, ev.host.len, "evil", 4) != NULL)
                forged_host = true;
            if (ev.kind == EV_VERIFY_ERROR)
                assert_true(ev.verify_code > 0 && ev.reason.p != NULL);
            if (ev.kind == EV_NAME_MISMATCH)
                assert_non_null(ev.name.p);
            if (ev.kind == EV_HANDSHAKE_ERROR)
                assert_true(ev.ssl_error.p != NULL && ev.reason.p != NULL);
        }
        free(line);
        fclose(fp);
    }
    if (!any)
        fail_msg("no fixtures in %s", TT_FIXTURES);
    for (int k = EV_VERIFY_ERROR; k < EV__COUNT; k++) {
        if (seen[k] == 0)
            fail_msg("no %s event in the fixtures", logscan_kind_name((enum ev_kind)k));
    }
    assert_true(emerg_lines > 0);
    assert_int_equal(seen[EV_CONFIG_ERROR] >= emerg_lines, 1);
    assert_true(forged_request); /* the forged request stayed in the request field */
    assert_true(forged_host);    /* and the forged Host header in the host field */
    assert_true(events > 20);
}

/* The message memo: a line that shares its message's first bytes, or the whole message but
 * not the action, with one seen before gets its own answer; the same message again gets the
 * same answer and the same msg_key, and its spans point into its own line. */
static void
a_repeated_message_is_remembered_only_while_its_bytes_match(void **state)
{
    static const char *const heads[] = {
        "upstream SSL certificate verify error: (18:self-signed certificate)" HS TAIL,
        "upstream SSL certificate verify error: (19:self-signed certificate in certificate "
        "chain)" HS TAIL,
        "upstream SSL certificate verify error: (18:self-signed certificate) while connecting "
        "to upstream, client: 127.0.0.1, server: api.example, " TAIL,
        "upstream timed out (110: Connection timed out)" HS TAIL,
        "upstream timed out (110: Connection timed out) while connecting to upstream, client: "
        "127.0.0.1, server: api.example, " TAIL,
        "upstream SSL certificate does not match \"api.internal\"" HS TAIL,
        "upstream SSL certificate does not match \"api.internal.example\"" HS TAIL,
        "upstream SSL certificate does not match \"api\"" HS TAIL,
    };
    static const enum ev_kind kinds[] = {
        EV_VERIFY_ERROR,  EV_VERIFY_ERROR,  EV_NONE,          EV_HANDSHAKE_TIMEOUT,
        EV_CONNECT_ERROR, EV_NAME_MISMATCH, EV_NAME_MISMATCH, EV_NAME_MISMATCH,
    };
    static const char *const why[] = {
        "self-signed certificate",
        "self-signed certificate in certificate chain",
        NULL,
        "Connection timed out",
        "Connection timed out",
        NULL,
        NULL,
        NULL,
    };
    static const char *const names[] = {
        NULL, NULL, NULL, NULL, NULL, "api.internal", "api.internal.example", "api",
    };
    struct {
        unsigned long key;
        size_t msg;
    } seen[64];
    size_t nseen = 0;
    char line[1024];

    (void)state;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
            unsigned long first = 0;
            for (int again = 0; again < 2; again++) {
                /* a new copy each time: the spans must point into this line, not a kept one */
                memset(line, 'x', sizeof(line));
                snprintf(line, sizeof(line), "%s%s", PRE, heads[i]);
                bool ok = parse(line);
                assert_int_equal(ok, kinds[i] != EV_NONE);
                assert_int_equal(ev.kind, kinds[i]);
                if (!ok)
                    continue;
                assert_int_equal(ev.verify_code, i == 0 ? 18 : i == 1 ? 19 : -1);
                assert_span(ev.reason, why[i]);
                assert_span(ev.name, names[i]);
                assert_span(ev.upstream, "10.0.2.88:8443");
                assert_true(ev.reason.p == NULL ||
                            (ev.reason.p > line && ev.reason.p < line + strlen(line)));
                assert_true(ev.message.p == line + strlen(PRE));
                assert_true(ev.msg_key != 0);
                if (again == 0)
                    first = ev.msg_key;
                else
                    assert_true(ev.msg_key == first); /* just seen: remembered */
                /* a key is never shared by two messages */
                size_t k;
                for (k = 0; k < nseen && seen[k].key != ev.msg_key; k++)
                    ;
                if (k < nseen)
                    assert_int_equal(seen[k].msg, i);
                else if (nseen < sizeof(seen) / sizeof(seen[0]))
                    seen[nseen++].key = ev.msg_key, seen[k].msg = i;
            }
        }
    }
    assert_true(nseen >= 7);
}

/* Parses `len` bytes copied to a buffer of exactly that size: ASan catches any over-read. */
static bool
parse_exact(const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    bool ok;

    assert_non_null(copy);
    memcpy(copy, text, len);
    ok = logscan_parse_line(copy, len, 7, &ev);
    /* the spans point into the copy: check them before it goes */
    if (ok && ev.upstream.p != NULL)
        assert_true(ev.upstream.p >= copy && ev.upstream.p + ev.upstream.len <= copy + len);
    free(copy);
    return ok;
}

/* pid, tid and connection number: 1 to 19 digits each (18 at most are read), the 16-byte fast
 * path and the digit loop both, and every cut of such a header at the end of a buffer. */
static void
header_numbers_of_1_to_19_digits_read_as_the_digit_loop_reads_them(void **state)
{
    static const char digits[] = "9876543210123456789";
    char line[512];

    (void)state;
    for (int which = 0; which < 3; which++) {
        for (int n = 1; n <= 19; n++) {
            char num[20];
            long long want = 0;
            snprintf(num, sizeof(num), "%.*s", n, digits);
            for (int i = 0; i < n && i < 18; i++)
                want = want * 10 + (digits[i] - '0');
            int len = snprintf(line, sizeof(line),
                               "2026/11/27 03:17:01 [error] %s#%s: *%s upstream SSL certificate "
                               "verify error: (18:self-signed certificate)" HS TAIL,
                               which == 0 ? num : "4242", which == 1 ? num : "17",
                               which == 2 ? num : "5");
            bool ok = parse_exact(line, (size_t)len);
            if (n == 19) { /* a 19th digit ends no number: no header (or no "*conn ") */
                assert_false(ok);
                continue;
            }
            assert_true(ok);
            assert_int_equal(ev.pid, which == 0 ? want : 4242);
            assert_int_equal(ev.tid, which == 1 ? want : 17);
            assert_int_equal(ev.conn, which == 2 ? want : 5);
            for (int cut = 20; cut < len && cut < 90; cut++)
                assert_false(parse_exact(line, (size_t)cut));
        }
    }
    /* both numbers at once: every pair of lengths up to 9 (the fast path takes up to 8 + 7) */
    for (int a = 1; a <= 9; a++) {
        for (int b = 1; b <= 9; b++) {
            int len = snprintf(line, sizeof(line),
                               "2026/11/27 03:17:01 [warn] %.*s#%.*s: *%.*s upstream SSL "
                               "certificate verify error: (18:self-signed certificate)" HS TAIL,
                               a, digits, b, digits + 3, a + b, digits + 1);
            assert_true(parse_exact(line, (size_t)len));
            assert_int_equal(ev.level, LV_WARN);
            assert_int_equal(ev.pid, strtoll(line + 27, NULL, 10));
            assert_int_equal(ev.tid, strtoll(line + 28 + a, NULL, 10));
            assert_int_equal(ev.conn, strtoll(line + 28 + a + b + 3, NULL, 10));
        }
    }
    /* not numbers: no digit, a sign, no '#', no ": " */
    static const char *const bad[] = {"#1: *5 ",   "x#1: *5 ", "-1#1: *5 ", "12#: *5 ",
                                      "12 1: *5 ", "12#1 *5 ", "12#1:*5 ",  "12#1/ *5 "};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int len = snprintf(line, sizeof(line),
                           "2026/11/27 03:17:01 [error] %supstream SSL certificate verify error: "
                           "(18:self-signed certificate)" HS TAIL,
                           bad[i]);
        assert_false(parse_exact(line, (size_t)len));
    }
}

/* Every level name, and names cut, lengthened or misspelt, also at the end of a buffer. */
static void
levels_are_read_whole_and_nothing_like_them_is(void **state)
{
    static const struct {
        const char *text;
        enum ev_level level;
    } levels[] = {
        {"[debug] ", LV_DEBUG}, {"[info] ", LV_INFO},   {"[notice] ", LV_NOTICE},
        {"[warn] ", LV_WARN},   {"[error] ", LV_ERROR}, {"[crit] ", LV_CRIT},
        {"[alert] ", LV_ALERT}, {"[emerg] ", LV_EMERG},
    };
    static const char *const bad[] = {
        "[erro] ",  "[errorr] ", "[error]x",  "[Error] ",        "(error) ", "[error]  ",
        "[emer] ",  "[emergx] ", "[notic] ",  "[notice]",        "[noticex", "[inf] ",
        "[infox] ", "[info]x",   "[warn]]",   "[wa] ",           "[] ",      "[e] ",
        "[debug]",  "[crit]x",   "[alert]\t", "[\xff\xff\xff] ", "[warn ] ", "error] ",
    };
    char line[512];

    (void)state;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        int len = snprintf(line, sizeof(line),
                           "2026/11/27 03:17:01 %s4242#17: *5 upstream SSL certificate verify "
                           "error: (18:self-signed certificate)" HS TAIL,
                           levels[i].text);
        assert_true(parse_exact(line, (size_t)len));
        assert_int_equal(ev.level, levels[i].level);
        assert_int_equal(ev.pid, 4242);
        for (int cut = 19; cut < 40 && cut < len; cut++)
            assert_false(parse_exact(line, (size_t)cut));
        /* nginx -t's "nginx: [level] " and its cuts */
        len = snprintf(line, sizeof(line),
                       "nginx: %scannot load certificate \"/x.pem\": BIO_new_file() failed",
                       levels[i].text);
        assert_int_equal(parse_exact(line, (size_t)len), levels[i].level == LV_EMERG);
        for (int cut = 0; cut < 20; cut++)
            assert_false(parse_exact(line, (size_t)cut));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int len = snprintf(line, sizeof(line),
                           "2026/11/27 03:17:01 %s4242#17: *5 upstream SSL certificate verify "
                           "error: (18:self-signed certificate)" HS TAIL,
                           bad[i]);
        if (parse_exact(line, (size_t)len))
            fail_msg("level '%s' accepted", bad[i]);
    }
}

/* The timestamp: each of its 19 bytes and the space after it, as any byte it must not be,
 * makes the line no header. */
static void
a_timestamp_with_any_byte_wrong_is_no_header(void **state)
{
    static const char good[] = "2026/11/27 03:17:01 [error] 4242#17: *5 upstream SSL certificate "
                               "verify error: (18:self-signed certificate)" HS TAIL;
    char line[sizeof(good)];

    (void)state;
    assert_true(parse_exact(good, sizeof(good) - 1));
    for (int i = 0; i < 20; i++) {
        bool digit_at = good[i] >= '0' && good[i] <= '9';
        for (int c = 0; c < 256; c++) {
            if (digit_at ? (c >= '0' && c <= '9') : c == (unsigned char)good[i])
                continue; /* not wrong there */
            memcpy(line, good, sizeof(good));
            line[i] = (char)c;
            if (parse_exact(line, sizeof(good) - 1))
                fail_msg("byte %d as 0x%02x accepted", i, (unsigned)c);
        }
    }
}

/* The line map's last block is read as the 64 bytes ending at the line's end: fields in it
 * parse the same whatever its length (1 to 64 bytes), on a first sight of the message and on
 * a remembered one (mapped from the fields), and bytes after the line are never looked at. */
static void
fields_in_a_last_block_of_every_length_parse_the_same(void **state)
{
    char host[200], line[1024], padded[1100];

    (void)state;
    for (int hl = 1; hl <= 140; hl++) {
        memset(host, 'h', (size_t)hl);
        host[hl] = '\0';
        host[0] = 'a';
        for (int again = 0; again < 2; again++) {
            int len = snprintf(line, sizeof(line),
                               "%supstream SSL certificate verify error: (18:self-signed "
                               "certificate) while SSL handshaking to upstream, client: 10.0.0.1, "
                               "server: s, request: \"GET / HTTP/1.1\", upstream: "
                               "\"https://10.0.2.88:8443/\", host: \"%s\"",
                               PRE, host);
            assert_true(parse_exact(line, (size_t)len));
            assert_int_equal(ev.kind, EV_VERIFY_ERROR);
            /* the same bytes with quotes and commas after them in the buffer */
            memcpy(padded, line, (size_t)len);
            memset(padded + len, '"', 64);
            memcpy(padded + len + 3, ", referrer: \"", 13);
            assert_true(logscan_parse_line(padded, (size_t)len, 7, &ev));
            assert_span(ev.host, host);
            assert_span(ev.upstream, "10.0.2.88:8443");
            assert_span(ev.uri, "/");
            assert_span(ev.server, "s");
            assert_span(ev.request, "GET / HTTP/1.1");
            assert_false(ev.ambiguous);
        }
    }
}

/* Remembered messages are told apart by every byte: kept texts that differ in one byte only,
 * at any place (the first or last 32 bytes, the middle), never share a key. */
static void
messages_differing_in_one_byte_anywhere_are_not_confused(void **state)
{
    static const char base[] = "upstream SSL certificate does not match \"api-internal-example-"
                               "with-a-long-name-for-several-blocks.example\"";
    char msg[sizeof(base)], line[1024];
    unsigned long key[2];

    (void)state;
    for (size_t at = 41; at < sizeof(base) - 2; at++) {
        for (int v = 0; v < 3; v++) {
            memcpy(msg, base, sizeof(base));
            if (v == 1)
                msg[at] = 'Z';
            int len = snprintf(line, sizeof(line), "%s%s" HS TAIL, PRE, msg);
            assert_true(parse_exact(line, (size_t)len));
            assert_int_equal(ev.kind, EV_NAME_MISMATCH);
            assert_int_equal(ev.name.len, sizeof(base) - 43);
            if (v < 2)
                key[v] = ev.msg_key;
        }
        assert_true(key[0] != key[1]);
        assert_true(ev.msg_key == key[0]); /* the first again: still kept, same key */
    }
}

/* The memo's answer is the parser's answer: each message parsed once (unseen: the memo
 * misses) and again from another address (a hit) gives the same event byte for byte, every
 * span at the same place of its own line. The spans are listed here as in logscan.h; the
 * struct's other bytes are compared whole, so a field the memo forgot shows up. */
static const size_t all_spans[] = {
    offsetof(struct ls_event, reason),   offsetof(struct ls_event, ssl_error),
    offsetof(struct ls_event, name),     offsetof(struct ls_event, message),
    offsetof(struct ls_event, time),     offsetof(struct ls_event, client),
    offsetof(struct ls_event, server),   offsetof(struct ls_event, request),
    offsetof(struct ls_event, upstream), offsetof(struct ls_event, scheme),
    offsetof(struct ls_event, uri),      offsetof(struct ls_event, host),
};

/* ev with each span's pointer replaced by its offset into base (+1; 0 when absent). */
static struct ls_event
spans_as_offsets(const struct ls_event *e, const char *base)
{
    struct ls_event r = *e;

    for (size_t i = 0; i < sizeof(all_spans) / sizeof(all_spans[0]); i++) {
        struct span *sp = (struct span *)((char *)&r + all_spans[i]);
        sp->p = sp->p != NULL ? (const char *)NULL + (sp->p - base) + 1 : NULL;
    }
    return r;
}

static void
a_remembered_message_gives_the_same_event_as_a_fresh_parse(void **state)
{
    static const char *const fmts[] = {
        "upstream SSL certificate verify error: (@:unusual reason @)" HS TAIL,
        "upstream SSL certificate does not match \"n@.example@\"" HS TAIL,
        "SSL_do_handshake() failed (SSL: error:0A@:SSL routines::tlsv1 alert @:SSL alert "
        "number 70)" HS TAIL,
        "upstream timed out (110: Connection timed out @ @)" HS TAIL,
        "peer closed connection in SSL handshake (104: Connection reset by peer @ @)" HS TAIL,
        "connect() failed (111: Connection refused @ @) while connecting to upstream, client: "
        "127.0.0.1, server: api.example, " TAIL,
        "upstream SSL certificate verify error: (@:stream @)" STREAM_TAIL,
    };
    static int uniq = 7000;
    char *a = malloc(2048), *b = malloc(2048);

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
        struct ls_event ea, eb, oa, ob;
        char msg[1024];
        int n;

        uniq++;
        size_t k = 0;
        for (const char *c = fmts[f]; *c != '\0' && k + 8 < sizeof(msg); c++) {
            if (*c == '@') /* a number no earlier test wrote: the first parse misses */
                k += (size_t)snprintf(msg + k, sizeof(msg) - k, "%d", uniq);
            else
                msg[k++] = *c;
        }
        msg[k] = '\0';
        n = snprintf(a, 2048, "%s%s", PRE, msg);
        memcpy(b + 7, a, (size_t)n + 1);
        assert_true(logscan_parse_line(a, (size_t)n, 3, &ea));
        assert_true(logscan_parse_line(b + 7, (size_t)n, 3, &eb));
        assert_true(ea.msg_key != 0);
        oa = spans_as_offsets(&ea, a);
        ob = spans_as_offsets(&eb, b + 7);
        if (memcmp(&oa, &ob, sizeof(oa)) != 0)
            fail_msg("the memo's event differs from the parser's for: %s", msg);
    }
    free(a);
    free(b);
}

/* Fields past the line map's reach take the general path; within it, a line nginx wrote
 * without forgery takes a short one. Both must agree on every line: each variant of a
 * canonical line (a quote, space, '/', comma or marker put at every place of its fields) is
 * parsed twice, once as is and once with a client padded past the map, and every field but
 * the client must come out the same. */
static bool
same_span(struct span a, const char *abase, struct span b, const char *bbase)
{
    if ((a.p == NULL) != (b.p == NULL))
        return false;
    return a.p == NULL || (a.len == b.len && memcmp(a.p, b.p, a.len) == 0 && (a.p - abase) >= 0 &&
                           (b.p - bbase) >= 0);
}

static void
the_short_path_for_plain_lines_agrees_with_the_general_one(void **state)
{
    static const char *const inserts[] = {
        "\"",
        " ",
        "/",
        ",",
        "\", upstream: \"",
        "\", host: \"",
        "\", referrer: \"",
        ", upstream: \"",
        "\", subrequest: \"",
        ", request: \"",
        "\"\"",
        ":",
        "[",
    };
    static const char *const tails[] = {
        "server: api.example, request: \"GET /v1/items HTTP/1.1\", upstream: "
        "\"https://10.0.2.88:8443/v1/items\", host: \"api.example\"",
        "server: api.example, request: \"GET / HTTP/1.1\", upstream: \"https://10.0.2.88:8443/\", "
        "host: \"h\"",
        "server: , request: \"GET /x HTTP/1.1\", upstream: \"https://backend.internal.example."
        "org:8443\", host: \"a.b\"",
        "server: s, request: \"POST /a HTTP/2.0\", upstream: \"grpcs://[::1]:9443/a\", host: "
        "\"abcdefghijkl\"",
        "server: s, request: \"GET /a HTTP/1.1\", upstream: \"https://unix:/run/b.sock:/a\", "
        "host: \"x\"",
        "server: s, request: \"GET /a HTTP/1.1\", upstream: \"https://b:1/a\", host: \", "
        "upstream: \"",
    };
    const char *client_short = "127.0.0.1";
    char *client_long = malloc(1200);
    char *a = malloc(4096), *b = malloc(4096), tail[1024];
    struct ls_event ea, eb;
    size_t tried = 0, accepted = 0;

    (void)state;
    assert_non_null(client_long);
    assert_non_null(a);
    assert_non_null(b);
    memset(client_long, '9', 1199);
    client_long[1199] = '\0';
    for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
        size_t tl = strlen(tails[t]);
        for (size_t i = 0; i < sizeof(inserts) / sizeof(inserts[0]); i++) {
            for (size_t at = 0; at <= tl; at++) {
                for (int mode = 0; mode < 3; mode++) { /* insert, replace one byte, cut here */
                    if (mode == 1 && at == tl)
                        continue;
                    if (mode == 2 && i > 0)
                        continue;
                    snprintf(tail, sizeof(tail), "%.*s%s%s", (int)at, tails[t],
                             mode == 2 ? "" : inserts[i],
                             mode == 2 ? "" : tails[t] + at + (mode == 1));
                    snprintf(a, 4096,
                             PRE "upstream SSL certificate verify error: (18:self-signed "
                                 "certificate) while SSL handshaking to upstream, client: "
                                 "%s, %s",
                             client_short, tail);
                    snprintf(b, 4096,
                             PRE "upstream SSL certificate verify error: (18:self-signed "
                                 "certificate) while SSL handshaking to upstream, client: "
                                 "%s, %s",
                             client_long, tail);
                    bool ra = logscan_parse_line(a, strlen(a), 1, &ea);
                    bool rb = logscan_parse_line(b, strlen(b), 1, &eb);
                    tried++;
                    if (ra != rb || ea.kind != eb.kind || ea.ambiguous != eb.ambiguous ||
                        ea.stream != eb.stream || !same_span(ea.server, a, eb.server, b) ||
                        !same_span(ea.request, a, eb.request, b) ||
                        !same_span(ea.upstream, a, eb.upstream, b) ||
                        !same_span(ea.scheme, a, eb.scheme, b) ||
                        !same_span(ea.uri, a, eb.uri, b) || !same_span(ea.host, a, eb.host, b))
                        fail_msg("the two paths differ on: %s", a);
                    if (ra && ea.client.len == strlen(client_short) &&
                        eb.client.len == strlen(client_long))
                        accepted++; /* an event on both paths, not a refusal on both */
                }
            }
        }
    }
    assert_true(tried > 5000);
    assert_true(accepted > 5000);
    free(client_long);
    free(a);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_error_18_in_openssl3_wording_gives_every_field),
        cmocka_unit_test(verify_error_in_openssl11_wording_keeps_its_reason),
        cmocka_unit_test(verify_errors_19_20_21_10_and_2_give_their_codes),
        cmocka_unit_test(name_mismatch_gives_the_expected_name),
        cmocka_unit_test(seed_form_certificate_verify_failed_is_a_handshake_error),
        cmocka_unit_test(wrong_version_number_in_both_openssl_wordings),
        cmocka_unit_test(alerts_give_the_alert_number_in_both_wordings),
        cmocka_unit_test(several_openssl_errors_keep_the_first),
        cmocka_unit_test(handshake_timeout_is_recognised),
        cmocka_unit_test(peer_closed_is_recognised_with_and_without_errno),
        cmocka_unit_test(connect_refused_is_a_connect_error_in_both_formats),
        cmocka_unit_test(stream_format_has_no_request_or_host),
        cmocka_unit_test(config_errors_are_recognised_from_error_log_and_from_nginx_t),
        cmocka_unit_test(other_errors_and_notices_are_not_events),
        cmocka_unit_test(upstream_forged_in_the_request_never_becomes_the_upstream),
        cmocka_unit_test(upstream_forged_in_the_referrer_never_becomes_the_upstream),
        cmocka_unit_test(forged_host_in_the_request_is_not_the_host),
        cmocka_unit_test(a_fake_emerg_record_from_a_decoded_newline_is_not_a_config_error),
        cmocka_unit_test(fields_past_the_first_kilobyte_parse_as_within_it),
        cmocka_unit_test(a_line_without_upstream_field_keeps_request_and_host),
        cmocka_unit_test(a_line_cut_at_nginx_limit_keeps_the_fields_it_has),
        cmocka_unit_test(nul_bytes_and_invalid_utf8_do_not_break_parsing),
        cmocka_unit_test(lines_over_64_kib_are_skipped),
        cmocka_unit_test(every_prefix_of_a_line_parses_without_reading_past_it),
        cmocka_unit_test(real_nginx_lines_with_forged_referrer_and_quoted_host_parse_by_layout),
        cmocka_unit_test(ssl_read_alert_after_a_tls13_handshake_is_a_handshake_error),
        cmocka_unit_test(an_ssl_read_failure_at_any_level_passes_the_marker_reject),
        cmocka_unit_test(marker_search_finds_each_marker_at_every_offset_with_its_newline_count),
        cmocka_unit_test(line_time_reads_the_prefix_of_any_line_and_agrees_with_the_event),
        cmocka_unit_test(every_line_of_the_lab_fixtures_parses_to_its_kind),
        cmocka_unit_test(a_repeated_message_is_remembered_only_while_its_bytes_match),
        cmocka_unit_test(the_short_path_for_plain_lines_agrees_with_the_general_one),
        cmocka_unit_test(header_numbers_of_1_to_19_digits_read_as_the_digit_loop_reads_them),
        cmocka_unit_test(levels_are_read_whole_and_nothing_like_them_is),
        cmocka_unit_test(a_timestamp_with_any_byte_wrong_is_no_header),
        cmocka_unit_test(fields_in_a_last_block_of_every_length_parse_the_same),
        cmocka_unit_test(messages_differing_in_one_byte_anywhere_are_not_confused),
        cmocka_unit_test(a_remembered_message_gives_the_same_event_as_a_fresh_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
