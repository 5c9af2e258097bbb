/*
 * scanout.c — renders scan results: one event as one JSON line, the incident table as text
 * and the incidents JSON document. Appends to a struct buf and never prints itself (the
 * caller writes the buffer). Untrusted bytes go through sanitize_add (text) or the JSON
 * writer (valid JSON for any bytes); the jsonl fast path copies only bytes it checked are
 * plain. Used by cli-scan.c and the follower. The jsonl writer keeps process-wide caches
 * (message fragments by msg_key, the last line number): one thread only.
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
#include "sslconf.h"

/* ---- one event as one JSON line ----
 * Two renderers give the same bytes. jsonl_line_ref builds the line with the core JSON
 * writer's escaping (valid JSON for any bytes): it is the reference, and the way out of the
 * fast path. jsonl_line, the hot path, writes through a cursor into room reserved once per
 * line, copies each value as it is while collecting in one register whether any of its bytes
 * needs escaping, and when one does, drops what it wrote and calls the reference instead. */

/* Bytes a JSON string can hold as they are: printable ASCII but '"' and '\\'. */
static const unsigned char json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The fast path's room: the keys and punctuation, the line number (20 digits) and "null"s
 * (about 150 bytes), a cached message fragment (FRAG_TEXT) and the slack of the wide stores
 * (up to 31 bytes past the end of what they copy); the values and the end come on top. */
#define JSONL_ROOM 512
#define FRAG_SLOTS 64 /* direct-mapped by msg_key: the parser keeps 128 messages at most */
#define FRAG_TEXT 240 /* a longer fragment (a long or escaped reason or name) is not kept */

/* The part of a line that depends only on the level and the message: from ,"level": to
 * ,"client":" (level, kind, verify_code, reason, ssl_error, name; the quote is written over
 * when the client is absent). An outage repeats a few
 * messages line after line; ls_event.msg_key names a message (one key, the same bytes), so
 * the fragment is rendered once per key and level, by the reference, and then copied.
 * Process-wide, like the parser's memo it relies on: the writer is called from one thread. */
struct jsonl_frag {
    unsigned long key; /* 0: empty (msg_key 0 is never kept) */
    int level;
    uint16_t len;
    _Alignas(16) char text[FRAG_TEXT]; /* FRAG_TEXT: a multiple of 16 (put_frag) */
};

static _Alignas(64) struct jsonl_frag frags[FRAG_SLOTS];

/* The last line number written and its digits: the next event is usually a few lines on, and
 * then only the last two digits change. low == 100: nothing kept. Process-wide, as above. */
static struct {
    unsigned long line;
    unsigned low; /* line % 100 */
    unsigned n;   /* digits, 2 to 16 */
    char digits[16];
} lastline = {0, 100, 0, {0}};

/* "00" "01" ... "99": two digits per division. */
static const char digits2[200] = "0001020304050607080910111213141516171819"
                                 "2021222324252627282930313233343536373839"
                                 "4041424344454647484950515253545556575859"
                                 "6061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

static void
add_value(struct buf *out, struct span s)
{
    if (s.p == NULL)
        buf_add(out, "null", 4);
    else
        json_add_string(out, s.p, s.len);
}

#define ADD_LIT(out, lit) buf_add((out), (lit), sizeof(lit) - 1)

/* The reference fragment (see struct jsonl_frag), appended and kept for msg_key. */
static void
jsonl_frag_ref(struct buf *out, const struct ls_event *ev)
{
    const char *level = ev->level == LV_UNKNOWN ? NULL : logscan_level_name(ev->level);
    const char *kind = logscan_kind_name(ev->kind);
    size_t start = out->len, len;

    ADD_LIT(out, ",\"level\":");
    add_value(out, (struct span){level, level != NULL ? strlen(level) : 0});
    ADD_LIT(out, ",\"kind\":");
    add_value(out, (struct span){kind, strlen(kind)});
    ADD_LIT(out, ",\"verify_code\":");
    if (ev->verify_code >= 0)
        buf_addu(out, (unsigned)ev->verify_code);
    else
        ADD_LIT(out, "null");
    ADD_LIT(out, ",\"reason\":");
    add_value(out, ev->reason);
    ADD_LIT(out, ",\"ssl_error\":");
    add_value(out, ev->ssl_error);
    ADD_LIT(out, ",\"name\":");
    add_value(out, ev->name);
    ADD_LIT(out, ",\"client\":");
    len = out->len - start;
    if (ev->msg_key != 0 && len < FRAG_TEXT) { /* kept with the client's opening quote */
        struct jsonl_frag *f = &frags[ev->msg_key % FRAG_SLOTS];
        f->key = ev->msg_key;
        f->level = (int)ev->level;
        f->len = (uint16_t)(len + 1);
        memcpy(f->text, out->p + start, len);
        f->text[len] = '"';
    }
}

/* The reference line: every value through the core writer. */
static __attribute__((noinline)) void
jsonl_line_ref(struct buf *out, const struct ls_event *ev, const struct buf *end)
{
    ADD_LIT(out, "{\"line\":");
    buf_addu(out, ev->line);
    ADD_LIT(out, ",\"time\":");
    add_value(out, ev->time);
    jsonl_frag_ref(out, ev);
    add_value(out, ev->client);
    ADD_LIT(out, ",\"server\":");
    add_value(out, ev->server);
    ADD_LIT(out, ",\"request\":");
    add_value(out, ev->request);
    ADD_LIT(out, ",\"upstream\":");
    add_value(out, ev->upstream);
    ADD_LIT(out, ",\"host\":");
    add_value(out, ev->host);
    buf_add(out, end->p, end->len);
}

#if defined(__SSE2__)
/* What the copied bytes of a line hold, for one test at its end: the largest byte - 0x20
 * (unsigned; plain bytes give 0x00-0x5e, every byte below 0x20 or from 0x7f on more) and
 * 0xff where a byte was '"' or '\\'. Three instructions fewer per 16 bytes than a mask of
 * bad bytes per step. */
typedef struct {
    __m128i top;
    __m128i quote;
} plain_acc;
#define PLAIN_ACC_INIT                                                                             \
    {                                                                                              \
        _mm_setzero_si128(), _mm_setzero_si128()                                                   \
    }

static inline __attribute__((always_inline)) void
plain_add(plain_acc *acc, __m128i v)
{
    const __m128i c_20 = _mm_set1_epi8(0x20), c_q = _mm_set1_epi8('"');
    const __m128i c_bs = _mm_set1_epi8('\\');

    acc->top = _mm_max_epu8(acc->top, _mm_sub_epi8(v, c_20));
    acc->quote =
        _mm_or_si128(acc->quote, _mm_or_si128(_mm_cmpeq_epi8(v, c_q), _mm_cmpeq_epi8(v, c_bs)));
}

static inline __attribute__((always_inline)) bool
plain_bad(plain_acc acc)
{
    const __m128i c_5e = _mm_set1_epi8(0x5e);

    return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(acc.top, c_5e), c_5e)) != 0xffff ||
           _mm_movemask_epi8(acc.quote) != 0;
}
#else
typedef unsigned plain_acc; /* nonzero: something not plain was copied */
#define PLAIN_ACC_INIT 0u
#define plain_bad(acc) ((acc) != 0)
#endif

/* Copies n bytes 16 at a time: reads up to 15 bytes past p + n and writes as far past w + n
 * (both must be inside their allocations). n >= 1. */
static inline __attribute__((always_inline)) char *
put_wide(char *w, const char *p, size_t n)
{
    size_t i = 0;

    do {
        memcpy(w + i, p + i, 16);
        i += 16;
    } while (i < n);
    return w + n;
}

/* A literal of up to 16 bytes as one 16-byte store (the padding is written over next). */
#define PUT_KEY(w, lit)                                                                            \
    do {                                                                                           \
        _Static_assert(sizeof(lit) - 1 <= 16, "key literal longer than one store");                \
        memcpy((w), lit "                ", 16);                                                   \
        (w) += sizeof(lit) - 1;                                                                    \
    } while (0)

/* Decimal v at w: the digits are counted first (log2 * 1233 / 4096 is log10 within one,
 * settled by one compare) and written backwards in place, two per step. */
static inline __attribute__((always_inline)) char *
put_uint(char *w, uint64_t v)
{
    static const uint64_t pow10[20] = {0, /* 0-7 have one digit, like 8-9 */
                                       UINT64_C(10),
                                       UINT64_C(100),
                                       UINT64_C(1000),
                                       UINT64_C(10000),
                                       UINT64_C(100000),
                                       UINT64_C(1000000),
                                       UINT64_C(10000000),
                                       UINT64_C(100000000),
                                       UINT64_C(1000000000),
                                       UINT64_C(10000000000),
                                       UINT64_C(100000000000),
                                       UINT64_C(1000000000000),
                                       UINT64_C(10000000000000),
                                       UINT64_C(100000000000000),
                                       UINT64_C(1000000000000000),
                                       UINT64_C(10000000000000000),
                                       UINT64_C(100000000000000000),
                                       UINT64_C(1000000000000000000),
                                       UINT64_C(10000000000000000000)};
    unsigned t = ((unsigned)(64 - __builtin_clzll(v | 1)) * 1233u) >> 12;
    size_t n = t + (v >= pow10[t]);
    char *e = w + n;
    uint32_t s;

    while (v > UINT32_MAX) {
        uint64_t q = v / 100;
        e -= 2;
        memcpy(e, digits2 + 2 * (v - q * 100), 2);
        v = q;
    }
    s = (uint32_t)v; /* 32-bit division by 100: a multiply and a shift */
    while (s >= 100) {
        uint32_t q = s / 100;
        e -= 2;
        memcpy(e, digits2 + 2 * (s - q * 100), 2);
        s = q;
    }
    if (s >= 10)
        memcpy(e - 2, digits2 + 2 * s, 2);
    else
        e[-1] = (char)('0' + s);
    return w + n;
}

/* The line number: the digits kept from the last line with their last two replaced when no
 * carry leaves them, else written afresh (and kept). */
static inline __attribute__((always_inline)) char *
put_line(char *w, unsigned long v)
{
    unsigned long d = v - lastline.line;
    char *e;

    if (d < 100 - lastline.low) {
        unsigned low = lastline.low + (unsigned)d, n = lastline.n;
        memcpy(w, lastline.digits, 16);
        memcpy(w + n - 2, digits2 + 2 * low, 2);
        memcpy(lastline.digits + n - 2, digits2 + 2 * low, 2);
        lastline.line = v;
        lastline.low = low;
        return w + n;
    }
    e = put_uint(w, v);
    lastline.low = 100;
    if (e - w >= 2 && e - w <= 16) {
        memcpy(lastline.digits, w, 16);
        lastline.n = (unsigned)(e - w);
        lastline.line = v;
        lastline.low = (unsigned)(v % 100);
    }
    return e;
}

#if defined(__SSE2__)
/* Two overlapping 16-byte pieces: 16-32 bytes. */
static inline __attribute__((always_inline)) void
copy_16_32(char *w, const char *p, size_t n, plain_acc *acc)
{
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(p + n - 16));

    _mm_storeu_si128((__m128i *)w, a);
    _mm_storeu_si128((__m128i *)(w + n - 16), b);
    plain_add(acc, a);
    plain_add(acc, b);
}

/* Three: 33-48 bytes. */
static inline __attribute__((always_inline)) void
copy_33_48(char *w, const char *p, size_t n, plain_acc *acc)
{
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(p + n - 16));

    _mm_storeu_si128((__m128i *)w, a);
    _mm_storeu_si128((__m128i *)(w + 16), b);
    _mm_storeu_si128((__m128i *)(w + n - 16), c);
    plain_add(acc, a);
    plain_add(acc, b);
    plain_add(acc, c);
}
#endif

/* A value at w, just after its opening quote (written with the key), then `next` (nlen
 * bytes, at most 16, padded to 17 or more): the value's closing quote and the next key.
 * Absent: null over the opening quote, and next without its quote. The bytes are copied as
 * they are (a short value as two overlapping 8- or 4-byte loads, a longer one 16 a step, the
 * last step moved back to end at p + n: never a byte outside [p, p + n) is read), and what
 * they hold is added to *acc. typ: the field's usual length (a constant), whose way of
 * copying is tried first. */
static inline __attribute__((always_inline)) char *
put_fast(char *w, const char *p, size_t n, plain_acc *acc, const char *next, size_t nlen,
         size_t typ)
{
    if (p == NULL) {
        memcpy(w - 1, "null", 4);
        memcpy(w + 3, next + 1, 16);
        return w + 3 + nlen - 1;
    }
#if defined(__SSE2__)
    if (typ - 16 <= 16 && n - 16 <= 16)
        copy_16_32(w, p, n, acc);
    else if (typ - 33 < 16 && n - 33 < 16)
        copy_33_48(w, p, n, acc);
    else if (n - 8 < 8) { /* 8-15 bytes: most values */
        __m128i a = _mm_loadl_epi64((const __m128i *)p);
        __m128i b = _mm_loadl_epi64((const __m128i *)(p + n - 8));
        _mm_storel_epi64((__m128i *)w, a);
        _mm_storel_epi64((__m128i *)(w + n - 8), b);
        plain_add(acc, _mm_unpacklo_epi64(a, b));
    } else if (n - 16 <= 16) { /* 16-32: the time, short requests */
        copy_16_32(w, p, n, acc);
    } else if (n - 33 < 16) { /* 33-48: most requests */
        copy_33_48(w, p, n, acc);
    } else if (n > 48) {
        __m128i v;
        for (size_t i = 0; i + 16 < n; i += 16) {
            v = _mm_loadu_si128((const __m128i *)(p + i));
            _mm_storeu_si128((__m128i *)(w + i), v);
            plain_add(acc, v);
        }
        v = _mm_loadu_si128((const __m128i *)(p + n - 16));
        _mm_storeu_si128((__m128i *)(w + n - 16), v);
        plain_add(acc, v);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        memcpy(w, &a, 4);
        memcpy(w + n - 4, &b, 4);
        plain_add(acc, _mm_set_epi32((int)b, (int)a, (int)b, (int)a));
    } else { /* 0-3 bytes: the table (what the portable build uses for all) */
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            bad |= json_plain[(unsigned char)p[i]] ^ 1;
            w[i] = p[i];
        }
        acc->quote = _mm_or_si128(acc->quote, _mm_cvtsi32_si128(-bad)); /* -1: top bits */
    }
#else
    for (size_t i = 0; i < n; i++) {
        *acc |= json_plain[(unsigned char)p[i]] ^ 1u;
        w[i] = p[i];
    }
#endif
    memcpy(w + n, next, 16);
    return w + n + nlen;
}

/* Copies a kept fragment: one 16-byte load and store per 16 bytes, entered at the count it
 * needs (a jump table instead of a loop's test per step); reads and writes up to 15 bytes past
 * its end (inside text[], and the room). */
static inline __attribute__((always_inline)) char *
put_frag(char *w, const struct jsonl_frag *f)
{
    size_t len = f->len;

#define FRAG_COPY(i) memcpy(w + 16 * (i), f->text + 16 * (i), 16)
    _Static_assert(FRAG_TEXT <= 15 * 16, "put_frag copies 15 steps at most");
    switch ((len + 15) / 16) {
    case 15:
        FRAG_COPY(14); /* fall through */
    case 14:
        FRAG_COPY(13); /* fall through */
    case 13:
        FRAG_COPY(12); /* fall through */
    case 12:
        FRAG_COPY(11); /* fall through */
    case 11:
        FRAG_COPY(10); /* fall through */
    case 10:
        FRAG_COPY(9); /* fall through */
    case 9:
        FRAG_COPY(8); /* fall through */
    case 8:
        FRAG_COPY(7); /* fall through */
    case 7:
        FRAG_COPY(6); /* fall through */
    case 6:
        FRAG_COPY(5); /* fall through */
    case 5:
        FRAG_COPY(4); /* fall through */
    case 4:
        FRAG_COPY(3); /* fall through */
    case 3:
        FRAG_COPY(2); /* fall through */
    case 2:
        FRAG_COPY(1); /* fall through */
    case 1:
        FRAG_COPY(0); /* fall through */
    default:
        break;
    }
#undef FRAG_COPY
    return w + len;
}

/* The hot path (see the top of this part). */
static inline __attribute__((always_inline)) void
jsonl_line(struct buf *out, const struct ls_event *ev, const struct buf *end)
{
    const struct jsonl_frag *f;
    size_t start = out->len;
    size_t room = JSONL_ROOM + ev->time.len + ev->client.len + ev->server.len + ev->request.len +
                  ev->upstream.len + ev->host.len + end->len;
    plain_acc acc = PLAIN_ACC_INIT;
    char *w;

#define PUT_VALUE(w, s, next, typ)                                                                 \
    ((w) = put_fast((w), (s).p, (s).len, &acc, next "                ", sizeof(next) - 1, (typ)))

    if (start + room + 1 > out->cap) /* buf_reserve's own test, without the call */
        buf_reserve(out, room);
    w = out->p + start;
    PUT_KEY(w, "{\"line\":");
    w = put_line(w, ev->line);
    PUT_KEY(w, ",\"time\":\"");
    PUT_VALUE(w, ev->time, "\"", 19);
    f = &frags[ev->msg_key % FRAG_SLOTS];
    if (f->key == ev->msg_key && ev->msg_key != 0 && f->level == (int)ev->level) {
        w = put_frag(w, f);
    } else { /* rendered by the reference (which reserves for itself) and kept */
        out->len = (size_t)(w - out->p);
        jsonl_frag_ref(out, ev);
        buf_reserve(out, room);
        w = out->p + out->len;
        *w++ = '"';
    }
    PUT_VALUE(w, ev->client, "\",\"server\":\"", 12);
    PUT_VALUE(w, ev->server, "\",\"request\":\"", 12);
    PUT_VALUE(w, ev->request, "\",\"upstream\":\"", 40);
    PUT_VALUE(w, ev->upstream, "\",\"host\":\"", 12);
    PUT_VALUE(w, ev->host, "\"", 12);
#undef PUT_VALUE
    if (plain_bad(acc)) { /* a value needs escaping: the line again, by the reference */
        out->len = start;
        jsonl_line_ref(out, ev, end);
        return;
    }
    w = put_wide(w, end->p, end->len);
    out->len = (size_t)(w - out->p);
    out->p[out->len] = '\0';
}

/* The end of a line: "}\n", or ,"file":"..."}\n for a file. */
static void
jsonl_end_render(struct scanout_jsonl_end *end, const char *file)
{
    buf_reset(&end->text);
    if (file != NULL) {
        ADD_LIT(&end->text, ",\"file\":");
        json_add_string(&end->text, file, strlen(file));
    }
    ADD_LIT(&end->text, "}\n");
    buf_reserve(&end->text, 16); /* put_wide reads up to 15 bytes past it */
    end->file = file;
}

void
scanout_event_jsonl_file(struct buf *out, const struct ls_event *ev, const char *file,
                         struct scanout_jsonl_end *end)
{
    if (end->text.p == NULL || end->file != file)
        jsonl_end_render(end, file);
    jsonl_line(out, ev, &end->text);
}

void
scanout_jsonl_end_free(struct scanout_jsonl_end *end)
{
    buf_free(&end->text);
    end->file = NULL;
}

void
scanout_event_jsonl(struct buf *out, const struct ls_event *ev, const char *file)
{
    /* A scan's lines name no file: "}\n", padded for put_wide, never rendered again (the
     * NULL file it is for never differs). */
    static char plain_text[16] = "}\n";
    static struct scanout_jsonl_end plain = {NULL, {plain_text, 2, sizeof(plain_text)}};
    struct scanout_jsonl_end end = SCANOUT_JSONL_END_INIT;

    if (file == NULL) {
        scanout_event_jsonl_file(out, ev, NULL, &plain);
        return;
    }
    scanout_event_jsonl_file(out, ev, file, &end);
    scanout_jsonl_end_free(&end);
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

    buf_addf(out, "%zu incident%s, %llu event%s in %llu lines read", st->n, st->n == 1 ? "" : "s",
             (unsigned long long)st->events, st->events == 1 ? "" : "s", lines_read);
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
        buf_addf(out, "%s%zu client%s\n", inc->clients_overflow ? "more than " : "", inc->nclients,
                 inc->nclients == 1 ? "" : "s");
        /* the explanations name proxy_ssl_*: a grpcs:// or suwsgi:// upstream is another family */
        enum pss_family fam = sslconf_family_of_scheme(inc->scheme);
        char *plain = sslconf_respell(fam, e->plain), *means = sslconf_respell(fam, e->means);
        buf_addf(out, "  what: %s\n", plain);
        buf_addf(out, "  usually: %s\n", means);
        free(plain);
        free(means);
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
