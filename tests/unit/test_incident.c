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
#include "cli-scan.h"
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
    assert_non_null(
        strstr(incident_explain(EV_HANDSHAKE_ERROR, -1, "tlsv1 alert protocol version")->plain,
               "protocol version"));
    assert_string_equal(incident_explain(EV_CONNECT_ERROR, -1, "Connection refused")->plain,
                        "the upstream is down, not a TLS fault");
    assert_non_null(strstr(incident_explain(EV_HANDSHAKE_TIMEOUT, -1, NULL)->plain, "never"));
    assert_non_null(strstr(incident_explain(EV_NAME_MISMATCH, -1, NULL)->plain, "name"));
    assert_non_null(strstr(incident_explain(EV_CONFIG_ERROR, -1,
                                            "no proxy_ssl_trusted_certificate for "
                                            "proxy_ssl_verify")
                               ->plain,
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

/* The documented jsonl line, built independently of scanout.c's fast paths: every string
 * through the core JSON writer, numbers through printf. */
static void
want_value(struct buf *b, struct span s)
{
    if (s.p == NULL)
        buf_adds(b, "null");
    else
        json_add_string(b, s.p, s.len);
}

static void
want_jsonl(struct buf *b, const struct ls_event *ev, const char *file)
{
    const char *level = ev->level == LV_UNKNOWN ? NULL : logscan_level_name(ev->level);
    const char *kind = logscan_kind_name(ev->kind);

    buf_addf(b, "{\"line\":%lu,\"time\":", ev->line);
    want_value(b, ev->time);
    buf_adds(b, ",\"level\":");
    want_value(b, (struct span){level, level != NULL ? strlen(level) : 0});
    buf_adds(b, ",\"kind\":");
    want_value(b, (struct span){kind, strlen(kind)});
    if (ev->verify_code >= 0)
        buf_addf(b, ",\"verify_code\":%d", ev->verify_code);
    else
        buf_adds(b, ",\"verify_code\":null");
    buf_adds(b, ",\"reason\":");
    want_value(b, ev->reason);
    buf_adds(b, ",\"ssl_error\":");
    want_value(b, ev->ssl_error);
    buf_adds(b, ",\"name\":");
    want_value(b, ev->name);
    buf_adds(b, ",\"client\":");
    want_value(b, ev->client);
    buf_adds(b, ",\"server\":");
    want_value(b, ev->server);
    buf_adds(b, ",\"request\":");
    want_value(b, ev->request);
    buf_adds(b, ",\"upstream\":");
    want_value(b, ev->upstream);
    buf_adds(b, ",\"host\":");
    want_value(b, ev->host);
    if (file != NULL) {
        buf_adds(b, ",\"file\":");
        want_value(b, (struct span){file, strlen(file)});
    }
    buf_adds(b, "}\n");
}

static void
assert_jsonl(const struct ls_event *ev, const char *file)
{
    struct buf got = BUF_INIT, want = BUF_INIT;

    buf_adds(&got, "prefix\n"); /* the line is appended after what the buffer holds */
    scanout_event_jsonl(&got, ev, file);
    buf_adds(&want, "prefix\n");
    want_jsonl(&want, ev, file);
    assert_string_equal(got.p, want.p);
    assert_int_equal(got.len, want.len);
    buf_free(&got);
    buf_free(&want);
}

#define SPAN(s) ((struct span){(s), sizeof(s) - 1})

/* The writer keeps the rendered message part (level to name) per msg_key and level: a key
 * (even one sharing a cache slot), a level or key 0 (never kept) must not get another
 * message's text. Keys far above the parser's, which this process also hands out. */
static void
jsonl_message_part_is_reused_only_for_its_own_key_and_level(void **state)
{
    static const struct {
        unsigned long key;
        enum ev_level level;
        int code;
        struct span reason;
    } seq[] = {
        {(1UL << 40) + 7, LV_ERROR, 18, SPAN("first reason")},
        {(1UL << 40) + 7, LV_ERROR, 18, SPAN("first reason")},
        {(1UL << 40) + 7 + 64, LV_ERROR, 20, SPAN("second reason, same slot")},
        {(1UL << 40) + 7, LV_ERROR, 18, SPAN("first reason")},
        {(1UL << 40) + 7, LV_WARN, 18, SPAN("first reason")},
        {(1UL << 40) + 7, LV_UNKNOWN, 18, SPAN("first reason")},
        {(1UL << 40) + 8, LV_ERROR, -1, SPAN("escaped \"reason\"\n\x01\xff")},
        {(1UL << 40) + 8, LV_ERROR, -1, SPAN("escaped \"reason\"\n\x01\xff")},
        {0, LV_ERROR, 18, SPAN("key zero a")},
        {0, LV_ERROR, 18, SPAN("key zero b")},
        {0, LV_UNKNOWN, 18, SPAN("key zero c")},
        {(1UL << 40) + 7 + 64, LV_ERROR, 20, SPAN("second reason, same slot")},
    };
    struct ls_event ev;

    (void)state;
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        ev.msg_key = seq[i].key;
        ev.level = seq[i].level;
        ev.verify_code = seq[i].code;
        ev.reason = seq[i].reason;
        assert_jsonl(&ev, NULL);
    }
    /* a long name: too long to keep, still written whole (a key of its own: one key, one
     * message) */
    static char longname[600];
    memset(longname, 'n', sizeof(longname));
    ev.msg_key = (1UL << 40) + 9;
    ev.name = (struct span){longname, sizeof(longname)};
    assert_jsonl(&ev, NULL);
    assert_jsonl(&ev, NULL);
}

/* Line numbers reuse the last one's digits when only the last two change: carries, jumps
 * back, and numbers of every width are written in full. */
static void
jsonl_line_numbers_are_right_across_carries_jumps_and_widths(void **state)
{
    static const unsigned long lines[] = {0,
                                          1,
                                          9,
                                          10,
                                          11,
                                          12,
                                          98,
                                          99,
                                          100,
                                          101,
                                          150,
                                          199,
                                          200,
                                          299,
                                          1000,
                                          999999,
                                          1000000,
                                          1000001,
                                          1000098,
                                          1000099,
                                          1000100,
                                          1000101,
                                          5,
                                          4,
                                          4294967295UL,
                                          4294967296UL,
                                          4294967297UL,
                                          99999999999UL,
                                          100000000000UL,
                                          12345678901234567UL,
                                          12345678901234568UL,
                                          1234567890123456UL,
                                          1234567890123457UL,
                                          1234567890123499UL,
                                          1234567890123500UL,
                                          18446744073709551614UL,
                                          18446744073709551615UL,
                                          18446744073709551615UL,
                                          10,
                                          11,
                                          0};
    struct ls_event ev;

    (void)state;
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        ev.line = lines[i];
        assert_jsonl(&ev, NULL);
    }
    for (unsigned long l = 1; l < 3000; l += 1 + l % 7) {
        ev.line = l;
        assert_jsonl(&ev, NULL);
    }
}

/* The follower keeps the ,"file":"..."}\n end per file pointer: lines of several files in
 * turn each name their own file, escaped. */
static void
jsonl_file_end_follows_the_file_of_each_line(void **state)
{
    static const char *const files[] = {"/var/log/a.log",
                                        "/var/log/a.log",
                                        "b\"c\n.log",
                                        "/var/log/a.log",
                                        NULL,
                                        "b\"c\n.log",
                                        NULL};
    struct scanout_jsonl_end end = SCANOUT_JSONL_END_INIT;
    struct buf got = BUF_INIT, want = BUF_INIT;
    struct ls_event ev;

    (void)state;
    ev = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        ev.line = i + 1;
        scanout_event_jsonl_file(&got, &ev, files[i], &end);
        want_jsonl(&want, &ev, files[i]);
    }
    assert_string_equal(got.p, want.p);
    scanout_jsonl_end_free(&end);
    buf_free(&got);
    buf_free(&want);
}

/* Each value of the line is copied by the fast path in pieces that depend on its length; a
 * byte that needs escaping anywhere in any of them sends the whole line to the core writer.
 * Every value is the end of its own heap block (for ASan: no byte past it is read). */
static void
jsonl_every_value_of_every_length_is_escaped_where_it_must_be(void **state)
{
    static const unsigned char bad[] = {0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xc3, 0xff};
    struct ls_event ev, base;

    (void)state;
    base = event_at("2026/11/27 03:00:00", 18, "1.1.1.1", "api", REST_A);
    for (int field = 0; field < 6; field++) {
        for (size_t n = 0; n <= 70; n++) {
            for (size_t at = 0; at <= n; at++) { /* at == n: all plain */
                for (size_t k = 0; k < sizeof(bad); k++) {
                    char *v = malloc(n > 0 ? n : 1);
                    struct span *s;
                    assert_non_null(v);
                    for (size_t i = 0; i < n; i++) /* plain, with the range's edge bytes */
                        v[i] = (char)(i == at ? bad[k] : " !~#[]az"[i % 8]);
                    ev = base;
                    s = field == 0   ? &ev.time
                        : field == 1 ? &ev.client
                        : field == 2 ? &ev.server
                        : field == 3 ? &ev.request
                        : field == 4 ? &ev.upstream
                                     : &ev.host;
                    *s = (struct span){v, n};
                    assert_jsonl(&ev, NULL);
                    free(v);
                    if (at == n)
                        break;
                }
            }
        }
    }
    ev = base; /* absent values */
    ev.time = ev.client = ev.server = ev.request = ev.upstream = ev.host = (struct span){NULL, 0};
    assert_jsonl(&ev, NULL);
    assert_jsonl(&ev, "f");
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
    assert_int_equal(cli_scan_parse_since("15m", now, &t), 0);
    assert_int_equal(t, now - 900);
    assert_int_equal(cli_scan_parse_since("2h", now, &t), 0);
    assert_int_equal(t, now - 7200);
    assert_int_equal(cli_scan_parse_since("1d", now, &t), 0);
    assert_int_equal(t, now - 86400);
    assert_int_equal(cli_scan_parse_since("90s", now, &t), 0);
    assert_int_equal(t, now - 90);
    tm.tm_year = 126;
    tm.tm_mon = 10;
    tm.tm_mday = 27;
    tm.tm_hour = 3;
    tm.tm_isdst = -1;
    local = mktime(&tm);
    assert_int_equal(cli_scan_parse_since("2026-11-27 03:00", now, &t), 0);
    assert_int_equal(t, local);
    assert_int_equal(cli_scan_parse_since("2026/11/27 03:00:00", now, &t), 0);
    assert_int_equal(t, local);
    assert_int_equal(cli_scan_parse_since("2026-11-27T03:00:00", now, &t), 0);
    assert_int_equal(t, local);
    assert_int_equal(cli_scan_parse_since("2026-11-27T03:00:00Z", now, &t), 0);
    assert_int_equal(t, 1795748400);
    assert_int_equal(cli_scan_parse_since("2026-11-27T04:30:00+01:30", now, &t), 0);
    assert_int_equal(t, 1795748400);
    assert_int_equal(cli_scan_parse_since("2026-11-27", now, &t), 0);
}

static void
since_refuses_what_it_cannot_read(void **state)
{
    static const char *const bad[] = {"",
                                      "yesterday",
                                      "15",
                                      "15x",
                                      "-5m",
                                      "2026-13-01 00:00",
                                      "2026-11-27 25:00",
                                      "2026-11-27 03",
                                      "2026-11-27 03:00 junk",
                                      "2026-11-27T03:00:00+1"};
    time_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cli_scan_parse_since(bad[i], 1800000000, &t) == 0)
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
        cmocka_unit_test(jsonl_message_part_is_reused_only_for_its_own_key_and_level),
        cmocka_unit_test(jsonl_line_numbers_are_right_across_carries_jumps_and_widths),
        cmocka_unit_test(jsonl_file_end_follows_the_file_of_each_line),
        cmocka_unit_test(jsonl_every_value_of_every_length_is_escaped_where_it_must_be),
        cmocka_unit_test(incidents_json_document_has_the_documented_shape),
        cmocka_unit_test(since_accepts_relative_absolute_and_iso_times),
        cmocka_unit_test(since_refuses_what_it_cannot_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
