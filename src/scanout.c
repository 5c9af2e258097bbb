/*
 * scanout.c — renders scan results: one event as one JSON line, the incident table as text
 * and the incidents JSON document. Appends to a struct buf and never prints itself (the
 * caller writes the buffer). Untrusted bytes go through sanitize_add (text) or the JSON
 * writer (valid JSON for any bytes). Used by cli-scan.c and the follower.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "buf.h"
#include "json.h"
#include "sanitize.h"
#include "scanout.h"

/* A JSON string value: plain printable ASCII is copied as is (the common case, and the
 * hot path of jsonl); anything else goes through the core writer's escaping. */
/* Bytes a JSON string can hold as they are: printable ASCII but '"' and '\\'. */
static const unsigned char json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

#if defined(__SSE2__)
/* Nonzero when one of the 16 bytes is not plain: below 0x20 as a signed byte (so also from
 * 0x80 on), 0x7f, '"' or '\\'. */
static inline __attribute__((always_inline)) int
json_bad16(__m128i v)
{
    const __m128i c_sp = _mm_set1_epi8(0x20), c_7f = _mm_set1_epi8(0x7f);
    const __m128i c_q = _mm_set1_epi8('"'), c_bs = _mm_set1_epi8('\\');
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, c_7f), _mm_cmpeq_epi8(v, c_q)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, c_bs), _mm_cmpgt_epi8(c_sp, v)));

    return _mm_movemask_epi8(bad);
}
#endif

/* Whether every byte of [p, p+n) is in json_plain; with SSE2 (x86-64 always has it) 16 bytes
 * a step, the last step moved back to end at p+n, and short spans (most values are) as two
 * overlapping 8- or 4-byte loads: never a byte outside the span is read. */
static inline __attribute__((always_inline)) bool
json_all_plain(const unsigned char *p, size_t n)
{
#if defined(__SSE2__)
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16) {
            if (json_bad16(_mm_loadu_si128((const __m128i *)(p + i))))
                return false;
        }
        return !json_bad16(_mm_loadu_si128((const __m128i *)(p + n - 16)));
    }
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        return !json_bad16(_mm_set_epi64x((long long)b, (long long)a));
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return !json_bad16(_mm_set_epi32((int)b, (int)a, (int)b, (int)a));
    }
#endif
    for (size_t i = 0; i < n; i++) {
        if (!json_plain[p[i]])
            return false;
    }
    return true;
}

/* The jsonl writer works on a cursor into room reserved once per event (keys, numbers and
 * every value plain: the common case), so the compiler keeps it in a register; a value that
 * needs escaping goes through the core JSON writer, which reserves for itself, and the room
 * is reserved again after it. */
#define JSONL_KEYS_ROOM 256 /* the keys, punctuation and two numbers (20 digits each) */

/* Copies n bytes with at most two loads and two stores for n < 16 (most values are short),
 * never reading outside [p, p + n). */
static inline __attribute__((always_inline)) char *
put_bytes(char *w, const char *p, size_t n)
{
    if (n >= 16) {
        memcpy(w, p, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
        memcpy(w, &a, 8);
        memcpy(w + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        memcpy(w, &a, 4);
        memcpy(w + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            w[i] = p[i];
    }
    return w + n;
}

#define PUT_LIT(w, lit) ((w) = put_bytes((w), (lit), sizeof(lit) - 1))

static inline __attribute__((always_inline)) char *
put_quoted(char *w, const char *p, size_t n)
{
    *w++ = '"';
    w = put_bytes(w, p, n);
    *w++ = '"';
    return w;
}

static char *
put_uint(char *w, unsigned long long v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return put_bytes(w, tmp + sizeof(tmp) - n, n);
}

/* A string value at the cursor: plain bytes are copied, anything else is escaped by the core
 * writer (then the cursor moves to the buffer's new end, with `room` reserved again). */
static inline __attribute__((always_inline)) char *
put_value(struct buf *out, char *w, const char *p, size_t len, size_t room)
{
    if (p == NULL) {
        PUT_LIT(w, "null");
        return w;
    }
    if (json_all_plain((const unsigned char *)p, len))
        return put_quoted(w, p, len);
    out->len = (size_t)(w - out->p);
    json_add_string(out, p, len);
    buf_reserve(out, room);
    return out->p + out->len;
}

void
scanout_event_jsonl(struct buf *out, const struct ls_event *ev, const char *file)
{
    const char *level = ev->level == LV_UNKNOWN ? NULL : logscan_level_name(ev->level);
    const char *kind = logscan_kind_name(ev->kind);
    size_t level_len = level != NULL ? strlen(level) : 0, kind_len = strlen(kind);
    size_t file_len = file != NULL ? strlen(file) : 0;
    size_t room = JSONL_KEYS_ROOM + level_len + kind_len + file_len + 2 + ev->time.len +
                  ev->reason.len + ev->ssl_error.len + ev->name.len + ev->client.len +
                  ev->server.len + ev->request.len + ev->upstream.len + ev->host.len + 2 * 9;
    char *w;

    buf_reserve(out, room);
    w = out->p + out->len;
    /* Written by hand for speed, in the documented key order; every string value from the
     * line goes through put_value, so the line is valid JSON for any input bytes. */
    PUT_LIT(w, "{\"line\":");
    w = put_uint(w, ev->line);
    PUT_LIT(w, ",\"time\":");
    w = put_value(out, w, ev->time.p, ev->time.len, room);
    PUT_LIT(w, ",\"level\":");
    if (level != NULL) /* the names are plain ASCII */
        w = put_quoted(w, level, level_len);
    else
        PUT_LIT(w, "null");
    PUT_LIT(w, ",\"kind\":");
    w = put_quoted(w, kind, kind_len);
    if (ev->verify_code >= 0) {
        PUT_LIT(w, ",\"verify_code\":");
        w = put_uint(w, (unsigned)ev->verify_code);
    } else
        PUT_LIT(w, ",\"verify_code\":null");
#define PUT_KV(key, s)                                                                             \
    do {                                                                                           \
        PUT_LIT(w, ",\"" key "\":");                                                               \
        w = put_value(out, w, (s).p, (s).len, room);                                               \
    } while (0)
    PUT_KV("reason", ev->reason);
    PUT_KV("ssl_error", ev->ssl_error);
    PUT_KV("name", ev->name);
    PUT_KV("client", ev->client);
    PUT_KV("server", ev->server);
    PUT_KV("request", ev->request);
    PUT_KV("upstream", ev->upstream);
    PUT_KV("host", ev->host);
    if (file != NULL)
        PUT_KV("file", ((struct span){file, file_len}));
#undef PUT_KV
    PUT_LIT(w, "}\n");
    out->len = (size_t)(w - out->p);
    out->p[out->len] = '\0';
}

static void
iso_time(struct jw *w, const char *key, const char *t)
{
    char iso[20];

    if (t == NULL || strlen(t) != 19) {
        jw_knull(w, key);
        return;
    }
    memcpy(iso, t, 20);
    iso[4] = iso[7] = '-';
    iso[10] = 'T';
    jw_kstr(w, key, iso);
}

void
scanout_incidents_json(struct buf *out, const struct incident_store *st,
                       unsigned long long lines_read)
{
    struct incident **v = incident_store_sorted(st);
    struct jw w;

    jw_init(&w, out);
    jw_obj_open(&w);
    jw_key(&w, "incidents");
    jw_arr_open(&w);
    for (size_t i = 0; i < st->n; i++) {
        const struct incident *inc = v[i];
        jw_obj_open(&w);
        jw_kstr(&w, "upstream", inc->upstream[0] != '\0' ? inc->upstream : NULL);
        jw_kstr(&w, "kind", logscan_kind_name(inc->kind));
        if (inc->verify_code >= 0)
            jw_kint(&w, "verify_code", inc->verify_code);
        else
            jw_knull(&w, "verify_code");
        jw_kstr(&w, "reason", inc->reason);
        jw_kstr(&w, "server", inc->server);
        jw_kint(&w, "count", (long long)inc->count);
        iso_time(&w, "first_seen", inc->first_time);
        iso_time(&w, "last_seen", inc->last_time);
        jw_kint(&w, "clients", (long long)inc->nclients);
        jw_kstr(&w, "sample_request", inc->nsamples > 0 ? inc->samples[0] : NULL);
        jw_kbool(&w, "ambiguous", inc->ambiguous);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_kint(&w, "lines_read", (long long)lines_read);
    jw_kint(&w, "events", (long long)st->events);
    jw_kint(&w, "other_events", (long long)st->other);
    jw_obj_close(&w);
    buf_addc(out, '\n');
    free(v);
}

static void
add_sparkline(struct buf *out, const struct incident *inc, time_t now)
{
    static const char *const bars[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                       "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                       "\xe2\x96\x87", "\xe2\x96\x88"};
    uint32_t v[INCIDENT_MINUTES], max = 0;

    incident_minutes(inc, now, v);
    for (int i = 0; i < INCIDENT_MINUTES; i++) {
        if (v[i] > max)
            max = v[i];
    }
    for (int i = 0; i < INCIDENT_MINUTES; i++) {
        if (v[i] == 0)
            buf_addc(out, ' ');
        else
            buf_adds(out, bars[(size_t)((uint64_t)(v[i] - 1) * 8 / max)]);
    }
    buf_addf(out, "| peak %u/min", max);
}

static void
add_s(struct buf *out, const char *s)
{
    if (s == NULL)
        buf_adds(out, "-");
    else
        sanitize_add(out, s, strlen(s));
}

void
scanout_incidents_text(struct buf *out, const struct incident_store *st,
                       unsigned long long lines_read, time_t now, bool color)
{
    struct incident **v = incident_store_sorted(st);
    const char *bold = color ? "\x1b[1m" : "", *red = color ? "\x1b[31m" : "";
    const char *dim = color ? "\x1b[2m" : "", *off = color ? "\x1b[0m" : "";

    buf_addf(out, "%zu incident%s, %llu event%s in %llu lines read", st->n,
             st->n == 1 ? "" : "s", (unsigned long long)st->events,
             st->events == 1 ? "" : "s", lines_read);
    if (st->other > 0)
        buf_addf(out, " (%llu more events beyond the first %zu incidents)",
                 (unsigned long long)st->other, st->max);
    buf_adds(out, "\n");
    for (size_t i = 0; i < st->n; i++) {
        const struct incident *inc = v[i];
        const struct incident_explanation *e =
            incident_explain(inc->kind, inc->verify_code, inc->reason);

        buf_addf(out, "\n%s%s", bold, red);
        add_s(out, inc->upstream[0] != '\0' ? inc->upstream : "(no upstream)");
        buf_addf(out, "%s%s  %s", off, bold, logscan_kind_name(inc->kind));
        if (inc->verify_code >= 0)
            buf_addf(out, " %d", inc->verify_code);
        if (inc->reason != NULL) {
            buf_adds(out, " (");
            add_s(out, inc->reason);
            buf_adds(out, ")");
        }
        buf_addf(out, "%s", off);
        if (inc->server != NULL) {
            buf_adds(out, "  server ");
            add_s(out, inc->server);
        }
        if (inc->stream)
            buf_adds(out, " [stream]");
        buf_addf(out, "\n  %llu event%s, first %s, last %s, ", (unsigned long long)inc->count,
                 inc->count == 1 ? "" : "s", inc->first_time[0] ? inc->first_time : "?",
                 inc->last_time[0] ? inc->last_time : "?");
        buf_addf(out, "%s%zu client%s\n", inc->clients_overflow ? "more than " : "",
                 inc->nclients, inc->nclients == 1 ? "" : "s");
        buf_addf(out, "  what: %s\n", e->plain);
        buf_addf(out, "  usually: %s\n", e->means);
        if (inc->name != NULL) {
            buf_adds(out, "  expected name: ");
            add_s(out, inc->name);
            buf_adds(out, "\n");
        }
        if (inc->alert >= 0)
            buf_addf(out, "  TLS alert: %d\n", inc->alert);
        if (inc->nsamples > 0) {
            buf_adds(out, "  sample request: \"");
            add_s(out, inc->samples[0]);
            buf_adds(out, "\"\n");
        }
        buf_addf(out, "  %slast 60 min |", dim);
        add_sparkline(out, inc, now);
        buf_addf(out, "%s\n  latest at ", off);
        add_s(out, inc->file != NULL ? inc->file : "(stdin)");
        buf_addf(out, ":%lu\n", inc->line);
        if (inc->ambiguous)
            buf_addf(out,
                     "  note: %llu line%s had client-written text that looks like nginx "
                     "fields; the fields shown follow nginx's layout\n",
                     (unsigned long long)inc->ambiguous_count,
                     inc->ambiguous_count == 1 ? "" : "s");
    }
    free(v);
}

int
scanout_write(int fd, const struct buf *b)
{
    size_t off = 0;

    while (off < b->len) {
        ssize_t n = write(fd, b->p + off, b->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)n;
    }
    return 0;
}
