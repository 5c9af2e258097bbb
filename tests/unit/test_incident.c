/* test_incident.c — incident grouping, per-minute rates, bounds, forged lines, the
 * plain-words table and the renderers built on the store. */
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
#include "incident.h"
#include "json.h"
#include "logscan.h"
#include "scan.h"
#include "scanout.h"

static char linebuf[4096];

/* Builds and parses an http verify-error line; rest is everything after "server: S, ". */
static struct ls_event
event_at(const char *time, int code, const char *client, const char *server, const char *rest)
{
    struct ls_event ev;

    snprintf(linebuf, sizeof(linebuf),
             "%s [error] 10#10: *1 upstream SSL certificate verify error: (%d:reason %d) while "
             "SSL handshaking to upstream, client: %s, server: %s, %s",
             time, code, code, client, server, rest);
    assert_true(logscan_parse_line(linebuf, strlen(linebuf), 1, &ev));
    return ev;
}

#define REST_A "request: \"GET /a HTTP/1.1\", upstream: \"https://10.0.0.1:443/a\", host: \"h\""
#define REST_B "request: \"GET /b HTTP/1.1\", upstream: \"https://10.0.0.2:443/b\", host: \"h\""

static void
events_of_one_upstream_and_cause_form_one_incident(void **state)
{
    struct incident_store st;
    struct ls_event ev;

    (void)state;
    incident_store_init(&st, 0);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    incident_store_add(&st, &ev, "/var/log/nginx/error.log");
    ev = event_at("2026/11/27 03:05:00", 18, "1.1.1.2", "api", REST_A);
    ev.line = 42;
    incident_store_add(&st, &ev, "/var/log/nginx/error.log");
    ev = event_at("2026/11/27 03:01:00", 18, "1.1.1.1", "api", REST_A);
    incident_store_add(&st, &ev, "/var/log/nginx/error.log");
    assert_int_equal(st.n, 1);
    assert_int_equal(st.items[0]->count, 3);
    assert_int_equal(st.items[0]->nclients, 2);
    assert_string_equal(st.items[0]->first_time, "2026/11/27 03:00:00");
    assert_string_equal(st.items[0]->last_time, "2026/11/27 03:05:00");
    assert_string_equal(st.items[0]->upstream, "10.0.0.1:443");
    assert_string_equal(st.items[0]->server, "api");
    assert_int_equal(st.items[0]->nsamples, 1);
    assert_string_equal(st.items[0]->samples[0], "GET /a HTTP/1.1");
    assert_non_null(incident_store_find(&st, "10.0.0.1:443", EV_VERIFY_ERROR, 18, NULL, "api"));
    incident_store_free(&st);
}

static void
different_upstream_code_or_server_split_incidents(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    struct incident **v;

    (void)state;
    incident_store_init(&st, 0);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    incident_store_add(&st, &ev, NULL);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_B);
    incident_store_add(&st, &ev, NULL);
    incident_store_add(&st, &ev, NULL);
    ev = event_at("2026/11/27 03:00:00", 20, "1.1.1.1", "api", REST_A);
    incident_store_add(&st, &ev, NULL);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "www", REST_A);
    incident_store_add(&st, &ev, NULL);
    assert_int_equal(st.n, 4);
    assert_int_equal(st.events, 5);
    v = incident_store_sorted(&st);
    assert_string_equal(v[0]->upstream, "10.0.0.2:443"); /* most events first */
    assert_int_equal(v[0]->count, 2);
    free(v);
    incident_store_free(&st);
}

static void
handshake_errors_are_grouped_by_reason(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    const char *l1 = "2026/11/27 03:00:00 [crit] 1#1: *1 SSL_do_handshake() failed (SSL: "
                     "error:0A00010B:SSL routines::wrong version number) while SSL handshaking "
                     "to upstream, client: 1.1.1.1, server: api, " REST_A;
    const char *l2 = "2026/11/27 03:00:00 [crit] 1#1: *1 SSL_do_handshake() failed (SSL: "
                     "error:0A00042E:SSL routines::tlsv1 alert protocol version:SSL alert number "
                     "70) while SSL handshaking to upstream, client: 1.1.1.1, server: api, " REST_A;

    (void)state;
    incident_store_init(&st, 0);
    assert_true(logscan_parse_line(l1, strlen(l1), 1, &ev));
    incident_store_add(&st, &ev, NULL);
    assert_true(logscan_parse_line(l2, strlen(l2), 2, &ev));
    incident_store_add(&st, &ev, NULL);
    assert_true(logscan_parse_line(l1, strlen(l1), 3, &ev));
    incident_store_add(&st, &ev, NULL);
    assert_int_equal(st.n, 2);
    assert_non_null(incident_store_find(&st, "10.0.0.1:443", EV_HANDSHAKE_ERROR, -1,
                                        "wrong version number", "api"));
    incident_store_free(&st);
}

static void
per_minute_counts_cover_the_last_hour_and_forget_older_minutes(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    uint32_t m[INCIDENT_MINUTES];
    struct incident *inc;

    (void)state;
    incident_store_init(&st, 0);
    ev = event_at("2026/11/27 01:00:30", 18, "1.1.1.1", "api", REST_A); /* 2 h earlier */
    incident_store_add(&st, &ev, NULL);
    for (int i = 0; i < 3; i++) {
        ev = event_at("2026/11/27 03:00:10", 18, "1.1.1.1", "api", REST_A);
        incident_store_add(&st, &ev, NULL);
    }
    ev = event_at("2026/11/27 03:10:59", 18, "1.1.1.1", "api", REST_A);
    inc = incident_store_add(&st, &ev, NULL);
    incident_minutes(inc, st.newest, m);
    assert_int_equal(m[INCIDENT_MINUTES - 1], 1);  /* 03:10 */
    assert_int_equal(m[INCIDENT_MINUTES - 11], 3); /* 03:00 */
    assert_int_equal(incident_recent(inc, st.newest, 60), 4);
    assert_int_equal(incident_recent(inc, st.newest, 5), 1);
    assert_int_equal(inc->count, 5);
    incident_minutes(inc, st.newest + 3600, m); /* an hour later everything is old */
    for (int i = 0; i < INCIDENT_MINUTES; i++)
        assert_int_equal(m[i], 0);
    incident_store_free(&st);
}

static void
the_cap_sends_new_incidents_to_other_and_keeps_counting_known_ones(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    char rest[256];

    (void)state;
    incident_store_init(&st, 4);
    for (int i = 0; i < 10; i++) {
        snprintf(rest, sizeof(rest),
                 "request: \"GET / HTTP/1.1\", upstream: \"https://10.0.1.%d:443/\", host: \"h\"",
                 i);
        ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", rest);
        (void)incident_store_add(&st, &ev, NULL);
    }
    assert_int_equal(st.n, 4);
    assert_int_equal(st.other, 6);
    assert_int_equal(st.events, 10);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api",
                  "request: \"GET / HTTP/1.1\", upstream: \"https://10.0.1.0:443/\", host: \"h\"");
    assert_non_null(incident_store_add(&st, &ev, NULL));
    assert_int_equal(st.other, 6);
    incident_store_free(&st);
}

static void
clients_and_samples_are_bounded(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    struct incident *inc = NULL;
    char client[32], rest[256];

    (void)state;
    incident_store_init(&st, 0);
    for (int i = 0; i < INCIDENT_MAX_CLIENTS + 20; i++) {
        snprintf(client, sizeof(client), "10.9.%d.%d", i / 256, i % 256);
        snprintf(rest, sizeof(rest),
                 "request: \"GET /%d HTTP/1.1\", upstream: \"https://10.0.0.1:443/\", host: \"h\"",
                 i);
        ev = event_at("2026/11/27 03:00:00", 18, client, "api", rest);
        inc = incident_store_add(&st, &ev, NULL);
    }
    assert_int_equal(inc->nclients, INCIDENT_MAX_CLIENTS);
    assert_true(inc->clients_overflow);
    assert_int_equal(inc->nsamples, INCIDENT_MAX_SAMPLES);
    assert_string_equal(inc->samples[0], "GET /0 HTTP/1.1");
    incident_store_free(&st);
}

static void
a_forged_upstream_in_the_request_neither_splits_nor_merges_incidents(void **state)
{
    struct incident_store st;
    struct ls_event ev;

    (void)state;
    incident_store_init(&st, 0);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    incident_store_add(&st, &ev, NULL);
    ev = event_at("2026/11/27 03:00:01", 18, "6.6.6.6", "api",
                  "request: \"GET /x\", upstream: \"https://10.0.0.2:443/\" HTTP/1.1\", upstream: "
                  "\"https://10.0.0.1:443/x\", host: \"h\"");
    incident_store_add(&st, &ev, NULL);
    ev = event_at("2026/11/27 03:00:02", 18, "6.6.6.6", "api",
                  REST_A ", referrer: \"x\", upstream: \"https://10.0.0.2:443/\", host: \"e\"");
    incident_store_add(&st, &ev, NULL);
    assert_int_equal(st.n, 1);
    assert_int_equal(st.items[0]->count, 3);
    assert_true(st.items[0]->ambiguous);
    assert_int_equal(st.items[0]->ambiguous_count, 2);
    assert_null(incident_store_find(&st, "10.0.0.2:443", EV_VERIFY_ERROR, 18, NULL, "api"));
    incident_store_free(&st);
}

static void
verify_error_18_maps_to_self_signed(void **state)
{
    const struct incident_explanation *e;

    (void)state;
    e = incident_explain(EV_VERIFY_ERROR, 18, "self-signed certificate");
    assert_string_equal(e->plain, "the upstream presents a self-signed certificate that the "
                                  "trusted file does not contain");
    assert_non_null(strstr(incident_explain(EV_VERIFY_ERROR, 19, NULL)->plain, "root"));
    assert_non_null(strstr(incident_explain(EV_VERIFY_ERROR, 20, NULL)->plain, "issuer"));
    assert_non_null(strstr(incident_explain(EV_VERIFY_ERROR, 21, NULL)->plain, "leaf"));
    assert_non_null(strstr(incident_explain(EV_VERIFY_ERROR, 10, NULL)->plain, "expired"));
    assert_non_null(strstr(incident_explain(EV_VERIFY_ERROR, 2, NULL)->plain, "issuer"));
    assert_non_null(strstr(incident_explain(EV_VERIFY_ERROR, 77, NULL)->plain, "rejected"));
}

static void
handshake_and_connect_reasons_get_plain_words(void **state)
{
    (void)state;
    assert_string_equal(incident_explain(EV_HANDSHAKE_ERROR, -1, "wrong version number")->plain,
                        "the upstream port speaks plain HTTP, not TLS");
    assert_non_null(strstr(
        incident_explain(EV_HANDSHAKE_ERROR, -1, "tlsv1 alert protocol version")->plain,
        "protocol version"));
    assert_string_equal(incident_explain(EV_CONNECT_ERROR, -1, "Connection refused")->plain,
                        "the upstream is down, not a TLS fault");
    assert_non_null(strstr(incident_explain(EV_HANDSHAKE_TIMEOUT, -1, NULL)->plain, "never"));
    assert_non_null(strstr(incident_explain(EV_NAME_MISMATCH, -1, NULL)->plain, "name"));
    assert_non_null(strstr(incident_explain(EV_CONFIG_ERROR, -1,
                                            "no proxy_ssl_trusted_certificate for "
                                            "proxy_ssl_verify")->plain,
                           "proxy_ssl_trusted_certificate"));
    assert_non_null(incident_explain(EV_NONE, -1, NULL)->plain);
}

static void
text_output_escapes_terminal_sequences_from_the_log(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    struct buf b = BUF_INIT;

    (void)state;
    incident_store_init(&st, 0);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api",
                  "request: \"GET /\x1b]0;pwned\x07\x1b[2J HTTP/1.1\", upstream: "
                  "\"https://10.0.0.1:443/\", host: \"h\"");
    incident_store_add(&st, &ev, "/var/log/x\x1b[31m.log");
    scanout_incidents_text(&b, &st, 1, st.newest, false);
    assert_null(memchr(b.p, 0x1b, b.len));
    assert_null(memchr(b.p, 0x07, b.len));
    assert_non_null(strstr(b.p, "\\x1b]0;pwned"));
    assert_non_null(strstr(b.p, "self-signed certificate that the trusted file"));
    incident_store_free(&st);
    buf_free(&b);
}

static void
jsonl_has_exactly_the_documented_keys_in_order(void **state)
{
    struct ls_event ev;
    struct buf b = BUF_INIT;

    (void)state;
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    scanout_event_jsonl(&b, &ev, NULL);
    assert_string_equal(b.p,
                        "{\"line\":1,\"time\":\"2026/11/27 03:00:00\",\"level\":\"error\","
                        "\"kind\":\"verify_error\",\"verify_code\":18,\"reason\":\"reason 18\","
                        "\"ssl_error\":null,\"name\":null,\"client\":\"1.1.1.1\",\"server\":"
                        "\"api\",\"request\":\"GET /a HTTP/1.1\",\"upstream\":\"10.0.0.1:443\","
                        "\"host\":\"h\"}\n");
    buf_reset(&b);
    scanout_event_jsonl(&b, &ev, "/var/log/nginx/error.log");
    assert_non_null(strstr(b.p, ",\"file\":\"/var/log/nginx/error.log\"}\n"));
    buf_free(&b);
}

/* The fast path for plain text checks values in 16-, 8- and 4-byte pieces: a byte that needs
 * escaping is escaped whatever the value's length and its place in it, and no byte past the
 * value is read (the value is the end of a heap block, for ASan). */
static void
jsonl_escapes_every_unsafe_byte_at_every_place_of_short_and_long_values(void **state)
{
    static const unsigned char bad[] = {0x00, 0x01, 0x1f, '"', '\\', 0x7f, 0x80, 0xc3, 0xff};
    struct buf b = BUF_INIT, want = BUF_INIT;
    struct ls_event ev;

    (void)state;
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    for (size_t n = 0; n <= 40; n++) {
        for (size_t at = 0; at <= n; at++) { /* at == n: all plain */
            for (size_t k = 0; k < sizeof(bad); k++) {
                char *v = malloc(n > 0 ? n : 1);
                assert_non_null(v);
                for (size_t i = 0; i < n; i++)
                    v[i] = (char)(i == at ? bad[k] : 'a' + i % 26);
                ev.request = (struct span){v, n};
                buf_reset(&b);
                buf_reset(&want);
                scanout_event_jsonl(&b, &ev, NULL);
                buf_adds(&want, ",\"request\":");
                json_add_string(&want, v, n);
                buf_adds(&want, ",\"upstream\":");
                if (strstr(b.p, want.p) == NULL)
                    fail_msg("length %zu, byte 0x%02x at %zu: %s", n, bad[k], at, b.p);
                free(v);
                if (at == n)
                    break;
            }
        }
    }
    buf_free(&b);
    buf_free(&want);
}

static void
incidents_json_document_has_the_documented_shape(void **state)
{
    struct incident_store st;
    struct ls_event ev;
    struct buf b = BUF_INIT;

    (void)state;
    incident_store_init(&st, 0);
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    incident_store_add(&st, &ev, NULL);
    scanout_incidents_json(&b, &st, 12);
    assert_string_equal(b.p, "{\"incidents\":[{\"upstream\":\"10.0.0.1:443\",\"kind\":"
                             "\"verify_error\",\"verify_code\":18,\"reason\":\"reason 18\","
                             "\"server\":\"api\",\"count\":1,\"first_seen\":"
                             "\"2026-11-27T03:00:00\",\"last_seen\":\"2026-11-27T03:00:00\","
                             "\"clients\":1,\"sample_request\":\"GET /a HTTP/1.1\","
                             "\"ambiguous\":false}],\"lines_read\":12,\"events\":1,"
                             "\"other_events\":0}\n");
    incident_store_free(&st);
    buf_free(&b);
}

static void
since_accepts_relative_absolute_and_iso_times(void **state)
{
    time_t now = 1800000000, t, local;
    struct tm tm = {0};

    (void)state;
    assert_int_equal(scan_parse_since("15m", now, &t), 0);
    assert_int_equal(t, now - 900);
    assert_int_equal(scan_parse_since("2h", now, &t), 0);
    assert_int_equal(t, now - 7200);
    assert_int_equal(scan_parse_since("1d", now, &t), 0);
    assert_int_equal(t, now - 86400);
    assert_int_equal(scan_parse_since("90s", now, &t), 0);
    assert_int_equal(t, now - 90);
    tm.tm_year = 126;
    tm.tm_mon = 10;
    tm.tm_mday = 27;
    tm.tm_hour = 3;
    tm.tm_isdst = -1;
    local = mktime(&tm);
    assert_int_equal(scan_parse_since("2026-11-27 03:00", now, &t), 0);
    assert_int_equal(t, local);
    assert_int_equal(scan_parse_since("2026/11/27 03:00:00", now, &t), 0);
    assert_int_equal(t, local);
    assert_int_equal(scan_parse_since("2026-11-27T03:00:00", now, &t), 0);
    assert_int_equal(t, local);
    assert_int_equal(scan_parse_since("2026-11-27T03:00:00Z", now, &t), 0);
    assert_int_equal(t, 1795748400);
    assert_int_equal(scan_parse_since("2026-11-27T04:30:00+01:30", now, &t), 0);
    assert_int_equal(t, 1795748400);
    assert_int_equal(scan_parse_since("2026-11-27", now, &t), 0);
}

static void
since_refuses_what_it_cannot_read(void **state)
{
    static const char *const bad[] = {"", "yesterday", "15", "15x", "-5m", "2026-13-01 00:00",
                                      "2026-11-27 25:00", "2026-11-27 03", "2026-11-27 03:00 junk",
                                      "2026-11-27T03:00:00+1"};
    time_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (scan_parse_since(bad[i], 1800000000, &t) == 0)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_of_one_upstream_and_cause_form_one_incident),
        cmocka_unit_test(different_upstream_code_or_server_split_incidents),
        cmocka_unit_test(handshake_errors_are_grouped_by_reason),
        cmocka_unit_test(per_minute_counts_cover_the_last_hour_and_forget_older_minutes),
        cmocka_unit_test(the_cap_sends_new_incidents_to_other_and_keeps_counting_known_ones),
        cmocka_unit_test(clients_and_samples_are_bounded),
        cmocka_unit_test(a_forged_upstream_in_the_request_neither_splits_nor_merges_incidents),
        cmocka_unit_test(verify_error_18_maps_to_self_signed),
        cmocka_unit_test(handshake_and_connect_reasons_get_plain_words),
        cmocka_unit_test(text_output_escapes_terminal_sequences_from_the_log),
        cmocka_unit_test(jsonl_has_exactly_the_documented_keys_in_order),
        cmocka_unit_test(jsonl_escapes_every_unsafe_byte_at_every_place_of_short_and_long_values),
        cmocka_unit_test(incidents_json_document_has_the_documented_shape),
        cmocka_unit_test(since_accepts_relative_absolute_and_iso_times),
        cmocka_unit_test(since_refuses_what_it_cannot_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
