/*
 * logscan.c — recognises the upstream TLS failures in one nginx error.log line (http and
 * stream formats, OpenSSL 1.1 and 3.x wording) and splits out its fields as spans into
 * the caller's line. No I/O, no allocation. The client writes request, host and referrer
 * raw into the line, so fields are found by nginx's own layout, never by first match; the
 * line nginx writes when nothing in it is forged takes a short path with the same answers.
 * Two process-wide memos (the last time conversion, recent messages with what was found in
 * them) make it single-threaded. Called by logread.c (batch scan), the follower
 * (cli-scan-follow.c) and the fuzz target.
 *
 * How to add an event kind (say nginx's "SSL_shutdown() failed ... while SSL handshaking to
 * upstream"):
 *  1. logscan.h: a value in enum ev_kind before EV__COUNT, commented with the words nginx logs;
 *     kind_names[] at the end of this file: its JSON name (the output's "kind").
 *  2. classify(): recognise the message head and fill what it says. Anything decided from the
 *     message alone belongs to the message part of struct ls_event (kind .. message in
 *     logscan.h): the memo copies that part whole, and a new span there goes into
 *     memo_spans[] (the build refuses a span it does not count). Read nothing past the
 *     action, or the memo's answer for a repeated message would be wrong.
 *  3. A line of another shape (a new action than the two in actions[], an [emerg] needle, a
 *     level): make sure it holds one of the markers (marker_event, marker_emerg, marker_read)
 *     or add one, with its candidate bytes in find_marker_* and cand_*: the batch scan and
 *     the follower never parse a line the marker search rejects.
 *  4. incident.c's incident_explanations[]: a per-kind entry (plain words, what it means);
 *     the man page's list of kinds (share/man/tlstriage.1).
 *  5. tests/unit/test_logscan.c: the line as a real nginx wrote it (tests/lab/fixtures when
 *     the lab can provoke it), with every field, also as a memo hit (see
 *     a_remembered_message_gives_the_same_event_as_a_fresh_parse).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "logscan.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_VECTOR_SCAN 1 /* SSE2 always, AVX2 when the CPU has it */
#endif

#define LIT(s) (s), (sizeof(s) - 1)

/* The helpers below are always inlined: with the needle a literal, the compiler turns each
 * memcmp into a few word compares instead of a library call (most of a line's cost was in
 * such calls on 5- to 40-byte literals). */
#define INLINE static inline __attribute__((always_inline))

/* The n bytes at p equal the literal lit. gcc calls memcmp for most lengths over 8 even
 * when n is a constant; two overlapping word loads per 16 bytes are a handful of
 * instructions (the caller guarantees n readable bytes at p). */
INLINE bool
eq_lit(const char *p, const char *lit, size_t n)
{
    uint64_t a, b, c, d;

    if (n >= 8 && n <= 16) {
        memcpy(&a, p, 8);
        memcpy(&b, lit, 8);
        memcpy(&c, p + n - 8, 8);
        memcpy(&d, lit + n - 8, 8);
        return ((a ^ b) | (c ^ d)) == 0;
    }
    if (n > 16 && n <= 32)
        return eq_lit(p, lit, 16) && eq_lit(p + n - 16, lit + n - 16, 16);
    return memcmp(p, lit, n) == 0;
}

/* memmem() for the short needles of one line: memchr on the first byte, then memcmp.
 * (glibc's memmem sets up a shift table on every call, which costs more than a line.) */
INLINE const char *
mem_find(const char *p, const char *end, const char *needle, size_t nlen)
{
    while (p < end && (size_t)(end - p) >= nlen) {
        const char *q = memchr(p, needle[0], (size_t)(end - p) - nlen + 1);
        if (q == NULL)
            return NULL;
        if (memcmp(q + 1, needle + 1, nlen - 1) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

/* Where '"', ',' and ' ' are in the first LM_BYTES of a line's message (or of its fields,
 * when the message was remembered), one bit per byte, built in one vector pass: nginx's field
 * markers start with or hold one of these bytes, so the searches for them walk the bits
 * instead of calling memchr for every marker (a dozen calls a line were a quarter of the
 * parser's time). Past the mapped bytes memchr does the work, so the answers are the same for
 * a line of any length. */
#define LM_BYTES 1024
enum { LM_QUOTE, LM_COMMA, LM_SPACE, LM_MAPPED };
static const char lm_char[] = {'"', ',', ' '};

struct linemap {
    const char *base, *lim; /* mapped: [base, lim) */
    size_t nwords;
    uint64_t bits[LM_MAPPED][LM_BYTES / 64];
};

/* The quote, comma and space bits of the 64 bytes at b. */
INLINE void
lm_word(const char *b, uint64_t *quote, uint64_t *comma, uint64_t *space)
{
#if defined(__SSE2__)
    const __m128i c_q = _mm_set1_epi8('"'), c_c = _mm_set1_epi8(','), c_s = _mm_set1_epi8(' ');
    uint64_t q = 0, c = 0, s = 0;

    for (int i = 0; i < 4; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(b + 16 * i));
        q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c_q)) << (16 * i);
        c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c_c)) << (16 * i);
        s |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c_s)) << (16 * i);
    }
    *quote = q;
    *comma = c;
    *space = s;
#else
    *quote = *comma = *space = 0;
    for (int i = 0; i < 64; i++) {
        *quote |= (uint64_t)(b[i] == '"') << i;
        *comma |= (uint64_t)(b[i] == ',') << i;
        *space |= (uint64_t)(b[i] == ' ') << i;
    }
#endif
}

#if defined(HAVE_VECTOR_SCAN)
__attribute__((target("avx2"), always_inline)) static inline void
lm_word_avx2(const char *b, uint64_t *quote, uint64_t *comma, uint64_t *space)
{
    const __m256i c_q = _mm256_set1_epi8('"'), c_c = _mm256_set1_epi8(',');
    const __m256i c_s = _mm256_set1_epi8(' ');
    __m256i v0 = _mm256_loadu_si256((const __m256i *)b);
    __m256i v1 = _mm256_loadu_si256((const __m256i *)(b + 32));

    *quote = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, c_q)) |
             (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, c_q)) << 32;
    *comma = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, c_c)) |
             (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, c_c)) << 32;
    *space = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, c_s)) |
             (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, c_s)) << 32;
}
#endif

/* Maps [base, min(end, base + LM_BYTES)); from <= base is where the caller's line starts.
 * A partial last block must not be read past the line (the caller's buffer may end right
 * after it): it is read as the 64 bytes ending at the line's end, which the line holds when it
 * has 64 bytes from `from`, and the bits of the bytes before the block are shifted out; only a
 * shorter line has its last block copied to a zero-padded buffer (that copy and its set-up
 * cost more than the rest of a map). WORD is lm_word or lm_word_avx2. */
#define LM_BUILD_BODY(WORD)                                                                        \
    do {                                                                                           \
        size_t n = (size_t)(end - base) < LM_BYTES ? (size_t)(end - base) : LM_BYTES;              \
        const char *lim = base + n, *b = base;                                                     \
        uint64_t *q = lm->bits[LM_QUOTE], *c = lm->bits[LM_COMMA], *s = lm->bits[LM_SPACE];        \
                                                                                                   \
        lm->base = base;                                                                           \
        lm->lim = lim;                                                                             \
        lm->nwords = (n + 63) / 64;                                                                \
        for (; lim - b >= 64; b += 64)                                                             \
            WORD(b, q++, c++, s++);                                                                \
        if (b < lim && lim - from >= 64) { /* then lim == end */                                   \
            unsigned shift = 64 - (unsigned)(lim - b);                                             \
            WORD(lim - 64, q, c, s);                                                               \
            *q >>= shift;                                                                          \
            *c >>= shift;                                                                          \
            *s >>= shift;                                                                          \
        } else if (b < lim) {                                                                      \
            char last[64];                                                                         \
            memset(last, 0, sizeof(last));                                                         \
            memcpy(last, b, (size_t)(lim - b));                                                    \
            WORD(last, q, c, s);                                                                   \
        }                                                                                          \
    } while (0)

static void
lm_build_generic(struct linemap *lm, const char *from, const char *base, const char *end)
{
    LM_BUILD_BODY(lm_word);
}

#if defined(HAVE_VECTOR_SCAN)
__attribute__((target("avx2"))) static void
lm_build_avx2(struct linemap *lm, const char *from, const char *base, const char *end)
{
    LM_BUILD_BODY(lm_word_avx2);
}
#endif

INLINE void
lm_build(struct linemap *lm, const char *from, const char *base, const char *end)
{
#if defined(HAVE_VECTOR_SCAN)
    if (__builtin_cpu_supports("avx2")) {
        lm_build_avx2(lm, from, base, end);
        return;
    }
#endif
    lm_build_generic(lm, from, base, end);
}

/* The first byte lm_char[k] in [x, lim), or NULL. */
INLINE const char *
lm_next(const struct linemap *lm, int k, const char *x, const char *lim)
{
    if (x >= lim)
        return NULL;
    if (k < LM_MAPPED && x >= lm->base && x < lm->lim) {
        size_t off = (size_t)(x - lm->base), w = off >> 6;
        uint64_t m = lm->bits[k][w] & (~(uint64_t)0 << (off & 63));
        for (;;) {
            if (m != 0) {
                const char *c = lm->base + (w << 6) + __builtin_ctzll(m);
                return c < lim ? c : NULL;
            }
            if (++w >= lm->nwords)
                break;
            m = lm->bits[k][w];
        }
        x = lm->lim;
    }
    return x < lim ? memchr(x, lm_char[k], (size_t)(lim - x)) : NULL;
}

/* mem_find for a needle whose byte k is lm_char[kind]: the first needle in [p, end). */
INLINE const char *
lm_find(const struct linemap *lm, int kind, const char *p, const char *end, const char *needle,
        size_t nlen, size_t k)
{
    if (p >= end || (size_t)(end - p) < nlen)
        return NULL;
    for (const char *c = p + k; (c = lm_next(lm, kind, c, end - (nlen - 1 - k))) != NULL; c++) {
        if (eq_lit(c - k, needle, nlen))
            return c - k;
    }
    return NULL;
}

/* Some bit of kind k in [a, b), a range the map covers. */
INLINE bool
lm_any(const struct linemap *lm, int k, const char *a, const char *b)
{
    size_t off = (size_t)(a - lm->base), stop = (size_t)(b - lm->base), w = off >> 6;
    size_t last = (stop - 1) >> 6;
    uint64_t m, tail_mask = (stop & 63) != 0 ? ~(~(uint64_t)0 << (stop & 63)) : ~(uint64_t)0;

    if (a >= b)
        return false;
    m = lm->bits[k][w] & (~(uint64_t)0 << (off & 63));
    while (w < last) {
        if (m != 0)
            return true;
        m = lm->bits[k][++w];
    }
    return (m & tail_mask) != 0;
}

/* The places of the bits of kind k in [a, b), a range the map covers, into out[max]: returns
 * how many there are, or max + 1 when there are more. */
INLINE int
lm_collect(const struct linemap *lm, int k, const char *a, const char *b, const char **out, int max)
{
    size_t off = (size_t)(a - lm->base), stop = (size_t)(b - lm->base), w = off >> 6;
    size_t last = (stop - 1) >> 6;
    uint64_t m, tail_mask = (stop & 63) != 0 ? ~(~(uint64_t)0 << (stop & 63)) : ~(uint64_t)0;
    int n = 0;

    if (a >= b)
        return 0;
    m = lm->bits[k][w] & (~(uint64_t)0 << (off & 63));
    for (;;) {
        if (w == last)
            m &= tail_mask;
        for (; m != 0; m &= m - 1) {
            if (n == max)
                return max + 1;
            out[n++] = lm->base + (w << 6) + __builtin_ctzll(m);
        }
        if (w == last)
            return n;
        m = lm->bits[k][++w];
    }
}

INLINE int
has_prefix(const char *p, const char *end, const char *pre, size_t n)
{
    return (size_t)(end - p) >= n && eq_lit(p, pre, n);
}

INLINE int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static struct span
mkspan(const char *a, const char *b)
{
    struct span s = {a, (size_t)(b - a)};
    return s;
}

#if defined(__SSE2__)
/* The value of the first n (1..8) digits of the 8 bytes in w, loaded from memory in x86's
 * byte order (first digit lowest): the digits moved to the top, the bytes below them become
 * leading zeros, then pairs, quads and the two halves are combined in three multiplies. */
INLINE uint64_t
digits8(uint64_t w, unsigned n)
{
    w = (w << (8 * (8 - n))) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    w = (w * (1 + (10 << 8))) >> 8;
    w = ((w & UINT64_C(0x00ff00ff00ff00ff)) * (1 + (100 << 16))) >> 16;
    return ((w & UINT64_C(0x0000ffff0000ffff)) * (1 + (UINT64_C(10000) << 32))) >> 32;
}
#endif

/* Reads decimal digits (at most 18); returns the position after them, or NULL if none. */
static const char *
read_num_loop(const char *p, const char *end, long long *out)
{
    long long v = 0;
    const char *s = p, *lim = end - p > 18 ? p + 18 : end;
    unsigned d;

    while (p < lim && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
        v = v * 10 + d;
        p++;
    }
    if (p == s)
        return NULL;
    *out = v;
    return p;
}

/* read_num_loop's answer. With 16 bytes of the line at hand, the run of digits is found with
 * one compare of all of them and its value made without a loop (the pid, tid and connection
 * number of every header cost ~50 instructions each digit by digit); a run of 16 and a short
 * rest of line are left to the loop. */
INLINE const char *
read_num(const char *p, const char *end, long long *out)
{
#if defined(__SSE2__)
    if (end - p >= 16) {
        static const uint64_t pow10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
        const __m128i c9 = _mm_set1_epi8(9);
        __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)p), _mm_set1_epi8('0'));
        unsigned digits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, c9), x));
        unsigned n = (unsigned)__builtin_ctz(~digits); /* bits 16-31 of ~digits are set */
        uint64_t lo, hi;

        if (n == 0)
            return NULL;
        memcpy(&lo, p, 8);
        if (n <= 8) {
            *out = (long long)digits8(lo, n);
            return p + n;
        }
        if (n < 16) {
            memcpy(&hi, p + 8, 8);
            *out = (long long)(digits8(lo, 8) * pow10[n - 8] + digits8(hi, n - 8));
            return p + n;
        }
    }
#endif
    return read_num_loop(p, end, out);
}

static const struct {
    const char *name;
    size_t len;
    enum ev_level level;
} level_names[] = {
    {LIT("debug"), LV_DEBUG}, {LIT("info"), LV_INFO},   {LIT("notice"), LV_NOTICE},
    {LIT("warn"), LV_WARN},   {LIT("error"), LV_ERROR}, {LIT("crit"), LV_CRIT},
    {LIT("alert"), LV_ALERT}, {LIT("emerg"), LV_EMERG},
};

/* "[level] " at p: returns the position after it, or NULL. Picked by the first letter
 * (only "error" and "emerg" share one), then one compare of the literal. For lines too short
 * for read_level's word compares. */
static const char *
read_level_short(const char *p, const char *end, enum ev_level *out)
{
    size_t i;

    if (p >= end || *p != '[' || end - p < 2)
        return NULL;
    p++;
    switch (*p) {
    case 'd':
        i = 0;
        break;
    case 'i':
        i = 1;
        break;
    case 'n':
        i = 2;
        break;
    case 'w':
        i = 3;
        break;
    case 'e':
        i = end - p >= 2 && p[1] == 'm' ? 7 : 4;
        break;
    case 'c':
        i = 5;
        break;
    case 'a':
        i = 6;
        break;
    default:
        return NULL;
    }
    size_t n = level_names[i].len;
    if ((size_t)(end - p) >= n + 2 && memcmp(p, level_names[i].name, n) == 0 && p[n] == ']' &&
        p[n + 1] == ' ') {
        *out = level_names[i].level;
        return p + n + 2;
    }
    return NULL;
}

/* The 8 bytes at s as one word (a literal's: folded to a constant; any byte order). */
INLINE uint64_t
word8(const char *s)
{
    uint64_t w;

    memcpy(&w, s, 8);
    return w;
}

/* read_level_short's answer, from the 8 bytes at p as one word against each name as a
 * constant (the name's ']', ' ' and, for a 7-byte "[info] ", a masked-off eighth byte): the
 * memcmp call of a 4- or 5-byte name cost more than the rest of the header. */
INLINE const char *
read_level(const char *p, const char *end, enum ev_level *out)
{
    const uint64_t m7 = word8("\xff\xff\xff\xff\xff\xff\xff"); /* the first 7 bytes */
    uint64_t w;
    enum ev_level lv;
    size_t n = 8;

    if (end - p < 9) /* "[notice] " */
        return read_level_short(p, end, out);
    w = word8(p);
    if (w == word8("[error] "))
        lv = LV_ERROR;
    else if ((w & m7) == word8("[warn] "))
        lv = LV_WARN, n = 7;
    else if ((w & m7) == word8("[crit] "))
        lv = LV_CRIT, n = 7;
    else if (w == word8("[alert] "))
        lv = LV_ALERT;
    else if (w == word8("[emerg] "))
        lv = LV_EMERG;
    else if ((w & m7) == word8("[info] "))
        lv = LV_INFO, n = 7;
    else if (w == word8("[notice]") && p[8] == ' ')
        lv = LV_NOTICE, n = 9;
    else if (w == word8("[debug] "))
        lv = LV_DEBUG;
    else
        return NULL;
    *out = lv;
    return p + n;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY/MM/DD HH:MM:SS" (checked digits) as local time. mktime() re-reads the time zone
 * on every call (6 us); this costs two localtime_r() calls, and none when the line has the
 * same second as the one before (the common case in a busy log): the one memo the parser
 * keeps, per thread, keyed by the 19 bytes as written, exact by construction. */
static _Thread_local struct {
    char text[19];
    time_t when;
} memo = {"", (time_t)-1};

__attribute__((noinline)) static time_t
parse_time_uncached(const char *t)
{
    int v[6], pos[6] = {0, 5, 8, 11, 14, 17}, width[6] = {4, 2, 2, 2, 2, 2};
    struct tm tm;
    time_t naive, guess;
    long off1;

    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int j = 0; j < width[i]; j++)
            v[i] = v[i] * 10 + (t[pos[i] + j] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return (time_t)-1;
    naive = (time_t)(days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5]);
    if (localtime_r(&naive, &tm) == NULL)
        return (time_t)-1;
    off1 = tm.tm_gmtoff;
    guess = naive - off1;
    if (localtime_r(&guess, &tm) == NULL)
        return (time_t)-1;
    if (tm.tm_gmtoff != off1)
        guess = naive - tm.tm_gmtoff;
    memcpy(memo.text, t, sizeof(memo.text));
    memo.when = guess;
    return guess;
}

/* The memo's check inlined into the caller, the work (once a second in a busy log) not: its
 * tables were set up on the stack before the check on every call. */
INLINE time_t
parse_time(const char *t)
{
    if (memcmp(t, memo.text, sizeof(memo.text)) == 0)
        return memo.when;
    return parse_time_uncached(t);
}

/* "PID#TID: " at p: the position after it, or NULL. */
INLINE const char *
read_pid_tid(const char *p, const char *end, struct ls_event *ev)
{
    long long n;

#if defined(__SSE2__)
    /* Both numbers from one compare of 16 bytes when they end inside them (pids and tids
     * have at most 7 digits): no loop and no second compare. Anything else takes read_num. */
    if (end - p >= 16) {
        const __m128i c9 = _mm_set1_epi8(9);
        __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)p), _mm_set1_epi8('0'));
        unsigned other = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, c9), x));
        unsigned n1 = (unsigned)__builtin_ctz(other), n2; /* bits 16-31 of other are set */
        uint64_t w1, w2;

        if (n1 - 1 < 8 && p[n1] == '#') {
            n2 = (unsigned)__builtin_ctz(other >> (n1 + 1));
            if (n2 - 1 < 8 && n1 + 1 + n2 < 16) { /* the tid's end is inside the 16 bytes */
                const char *t = p + n1 + 1, *q = t + n2;
                if (!has_prefix(q, end, LIT(": ")))
                    return NULL;
                /* digits8 on both at once, one 64-bit lane each: the digits moved to the top
                 * of their lane, then pairs (x * 2561 >> 8 in 16 bits: 10 * first + second),
                 * quads (pmaddwd by 100, 1) and the two halves (pmaddwd by 10000, 1). */
                memcpy(&w1, p, 8);
                memcpy(&w2, t, 8);
                __m128i v = _mm_set_epi64x((long long)(w2 << (8 * (8 - n2))),
                                           (long long)(w1 << (8 * (8 - n1))));
                v = _mm_and_si128(v, _mm_set1_epi8(0x0f));
                v = _mm_srli_epi16(_mm_mullo_epi16(v, _mm_set1_epi16(2561)), 8);
                v = _mm_madd_epi16(v, _mm_set1_epi32(100 | 1 << 16));
                v = _mm_packs_epi32(v, v); /* 4 digits at most: 9999 fits */
                v = _mm_madd_epi16(v, _mm_set1_epi32(10000 | 1 << 16));
                ev->pid = (long)(uint32_t)_mm_cvtsi128_si32(v);
                ev->tid = (long)(uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(v, 4));
                return q + 2;
            }
        }
    }
#endif
    if ((p = read_num(p, end, &n)) == NULL || p >= end || *p != '#')
        return NULL;
    ev->pid = (long)n;
    if ((p = read_num(p + 1, end, &n)) == NULL || !has_prefix(p, end, LIT(": ")))
        return NULL;
    ev->tid = (long)n;
    return p + 2;
}

/* "YYYY/MM/DD HH:MM:SS [level] PID#TID: [*CONN ]" or "nginx: [level] ". Returns the start
 * of the message, or NULL when the line has no nginx header. */
static const char *
parse_header(const char *p, const char *end, struct ls_event *ev)
{
    unsigned bad;
    long long n;

    /* "dddd/dd/dd dd:dd:dd ": 20 bytes, each a digit or its separator. */
    if (end - p < 20)
        bad = 1;
    else {
#if defined(__SSE2__)
        /* Bytes 0-15 and 16-19 (of the load at 4) at once: x = byte - want is in [0, max]
         * exactly when min(x, max) == x, with want '0' and max 9 for a digit, want the
         * separator and max 0 for a separator. */
        const __m128i want_a = _mm_setr_epi8('0', '0', '0', '0', '/', '0', '0', '/', '0', '0', ' ',
                                             '0', '0', ':', '0', '0');
        const __m128i max_a = _mm_setr_epi8(9, 9, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9, 0, 9, 9);
        const __m128i want_b =
            _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ':', '0', '0', ' ');
        const __m128i max_b = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 0);
        __m128i a = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)p), want_a);
        __m128i b = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(p + 4)), want_b);
        unsigned ma = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(a, max_a), a));
        unsigned mb = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(b, max_b), b));
        bad = (ma & (mb | 0x0fff)) != 0xffff;
#else
        static const unsigned char digit_at[14] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
        bad = p[4] != '/' || p[7] != '/' || p[10] != ' ' || p[13] != ':' || p[16] != ':' ||
              p[19] != ' ';
        for (size_t i = 0; i < sizeof(digit_at); i++)
            bad |= (unsigned)((unsigned char)p[digit_at[i]] - '0') > 9;
#endif
    }
    if (bad) {
        /* nginx -t on stderr (no line with a time starts so) */
        if (has_prefix(p, end, LIT("nginx: [")))
            return read_level(p + 7, end, &ev->level);
        return NULL;
    }
    ev->time = mkspan(p, p + 19);
    p += 20;
    if ((p = read_level(p, end, &ev->level)) == NULL)
        return NULL;
    if ((p = read_pid_tid(p, end, ev)) == NULL)
        return NULL;
    if (p < end && *p == '*') {
        const char *q = read_num(p + 1, end, &n);
        if (q != NULL && q < end && *q == ' ') {
            ev->conn = n;
            p = q + 1;
        }
    }
    return p;
}

/* "(NNN: text)" at p (inside [p, end)): errno text into reason. */
static void
read_errno_reason(const char *p, const char *end, struct ls_event *ev)
{
    long long n;
    const char *q, *close;

    if (p >= end || *p != '(')
        return;
    if ((q = read_num(p + 1, end, &n)) == NULL || !has_prefix(q, end, LIT(": ")))
        return;
    q += 2;
    close = memchr(q, ')', (size_t)(end - q));
    if (close != NULL)
        ev->reason = mkspan(q, close);
}

/* " error:HEX" at p: the next entry of nginx's drained OpenSSL error queue. */
static bool
next_error_code(const char *p, const char *end)
{
    if (!has_prefix(p, end, LIT(" error:")) || end - p < 8)
        return false;
    p += 7;
    return is_digit(*p) || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f');
}

/* The Host header's value at v: no spaces and no '/' (nginx rejects such hosts), but it may
 * hold '"'. Its closing quote is the first one followed by the end of the line or by
 * `, referrer: "`. Returns that quote, or NULL. */
static const char *
host_value_end(const struct linemap *lm, const char *v, const char *end)
{
    const char *stop, *slash;

    if (v >= end)
        return NULL;
    stop = lm_next(lm, LM_SPACE, v, end);
    stop = stop != NULL ? stop : end;
    if (stop > v && (slash = memchr(v, '/', (size_t)(stop - v))) != NULL)
        stop = slash;
    for (const char *c = v; (c = lm_next(lm, LM_QUOTE, c, stop)) != NULL; c++) {
        if (c + 1 == end || has_prefix(c + 1, end, LIT(", referrer: \"")))
            return c;
    }
    return NULL;
}

/* The OpenSSL part "(SSL: error:0A00010B:SSL routines::wrong version number ...)":
 * the first error code, its reason text, and "SSL alert number N". */
static void
read_ssl_error(const char *p, const char *end, struct ls_event *ev)
{
    const char *e, *q, *r;
    long long n;
    int colons = 0;

    if ((e = mem_find(p, end, LIT("error:"))) == NULL)
        return;
    q = e + 6;
    while (q < end &&
           ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'F') || (*q >= 'a' && *q <= 'f')))
        q++;
    if (q == e + 6)
        return;
    ev->ssl_error = mkspan(e, q);
    /* error:CODE:LIB:FUNC:REASON[:extra] — 1.1 names the function, 3.x leaves it empty. */
    r = q;
    while (r < end && colons < 3) {
        if (*r == ':')
            colons++;
        else if (*r == ')' || *r == '(')
            break;
        r++;
    }
    if (colons == 3) {
        const char *s = r;
        while (r < end && *r != ':' && *r != ')' && !next_error_code(r, end))
            r++;
        if (r > s)
            ev->reason = mkspan(s, r);
    }
    if ((q = mem_find(p, end, LIT("SSL alert number "))) != NULL &&
        read_num(q + 17, end, &n) != NULL && n < 256)
        ev->alert = (int)n;
}

/* The kinds recognised from the message head (before " while ACTION"). */
static enum ev_kind
classify(const char *h, const char *hend, bool handshaking, struct ls_event *ev)
{
    long long n;
    const char *q;

    if (handshaking && has_prefix(h, hend, LIT("upstream SSL certificate verify error: ("))) {
        q = h + 40;
        if ((q = read_num(q, hend, &n)) == NULL || q >= hend || *q != ':' || n > 100000)
            return EV_NONE;
        ev->verify_code = (int)n;
        q++;
        const char *close = hend; /* the reason ends at the last ')' of the head */
        while (close > q && close[-1] != ')')
            close--;
        if (close > q)
            ev->reason = mkspan(q, close - 1);
        return EV_VERIFY_ERROR;
    }
    if (handshaking && has_prefix(h, hend, LIT("upstream SSL certificate does not match \""))) {
        q = h + 41;
        const char *close = hend;
        while (close > q && close[-1] != '"')
            close--;
        if (close <= q)
            return EV_NONE;
        ev->name = mkspan(q, close - 1);
        return EV_NAME_MISMATCH;
    }
    if (handshaking && has_prefix(h, hend, LIT("SSL_do_handshake() failed ("))) {
        read_ssl_error(h + 26, hend, ev);
        return EV_HANDSHAKE_ERROR;
    }
    if (handshaking && has_prefix(h, hend, LIT("peer closed connection in SSL handshake"))) {
        q = h + 39;
        if (has_prefix(q, hend, LIT(" (")))
            read_errno_reason(q + 1, hend, ev);
        if (ev->reason.p == NULL)
            ev->reason = mkspan(h, q);
        return EV_PEER_CLOSED;
    }
    if (has_prefix(h, hend, LIT("upstream timed out ("))) {
        read_errno_reason(h + 19, hend, ev);
        return handshaking ? EV_HANDSHAKE_TIMEOUT : EV_CONNECT_ERROR;
    }
    if (!handshaking && has_prefix(h, hend, LIT("connect() failed ("))) {
        read_errno_reason(h + 17, hend, ev);
        return EV_CONNECT_ERROR;
    }
    if (!handshaking && has_prefix(h, hend, LIT("no live upstreams"))) {
        ev->reason = mkspan(h, h + 17);
        return EV_CONNECT_ERROR;
    }
    return EV_NONE;
}

/* [emerg] lines of a configuration nginx refuses, about upstream TLS. */
static const struct {
    const char *needle;
    size_t len;
} config_needles[] = {
    {LIT("proxy_ssl_trusted_certificate")},
    {LIT("SSL_CTX_load_verify_locations(")},
    {LIT("proxy_ssl_certificate")},
    {LIT("cannot load certificate")},
    {LIT("SSL_CTX_use_PrivateKey(")},
    {LIT("SSL_CTX_use_certificate(")},
    {LIT("proxy_ssl_crl")},
    {LIT("X509_LOOKUP")},
    {LIT("grpc_ssl_trusted_certificate")},
    {LIT("uwsgi_ssl_trusted_certificate")},
};

static bool
parse_config_error(const char *m, const char *end, struct ls_event *ev)
{
    const char *hit = NULL, *r;

    if (ev->conn >= 0)
        return false;
    for (size_t i = 0; i < sizeof(config_needles) / sizeof(config_needles[0]); i++) {
        if ((hit = mem_find(m, end, config_needles[i].needle, config_needles[i].len)) != NULL)
            break;
    }
    if (hit == NULL)
        return false;
    /* A request's decoded %0A can start a fake record: whatever follows it in the real line
     * still carries the request's fields. A real [emerg] has none. */
    if (mem_find(m, end, LIT(", client: ")) != NULL ||
        mem_find(m, end, LIT("\", upstream: \"")) != NULL ||
        mem_find(m, end, LIT("\", host: \"")) != NULL)
        return false;
    ev->message = mkspan(m, end);
    /* reason: the message up to " (SSL:" or a trailing " in /file:line". */
    r = mem_find(m, end, LIT(" (SSL:"));
    if (r == NULL) {
        const char *in = NULL, *q = m;
        while ((q = mem_find(q, end, LIT(" in /"))) != NULL)
            in = q++;
        r = in != NULL ? in : end;
    }
    ev->reason = mkspan(m, r);
    read_ssl_error(m, end, ev);
    if (ev->reason.p != m) { /* read_ssl_error replaced it: keep nginx's own words */
        ev->reason = mkspan(m, r);
    }
    return true;
}

/* [A-Za-z0-9._-], as a bit set over the 128 ASCII bytes. */
INLINE bool
is_host_char(char ch)
{
    static const uint64_t set[2] = {
        (UINT64_C(1) << '-') | (UINT64_C(1) << '.') | (UINT64_C(0x3ff) << '0'),
        (UINT64_C(0x3ffffff) << ('A' - 64)) | (UINT64_C(1) << ('_' - 64)) |
            (UINT64_C(0x3ffffff) << ('a' - 64)),
    };
    unsigned char c = (unsigned char)ch;

    return c < 128 && ((set[c >> 6] >> (c & 63)) & 1) != 0;
}

/* The first byte at or after p that is not a host character (or end): 16 bytes a step where
 * 16 are left, the bit set for the rest. */
INLINE const char *
skip_host_chars(const char *p, const char *end)
{
#if defined(__SSE2__)
    const __m128i lc = _mm_set1_epi8(0x20), a = _mm_set1_epi8('a'), z = _mm_set1_epi8(25);
    const __m128i d0 = _mm_set1_epi8('0'), d9 = _mm_set1_epi8(9), dot = _mm_set1_epi8('.');
    const __m128i dash = _mm_set1_epi8('-'), us = _mm_set1_epi8('_');

    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i al = _mm_sub_epi8(_mm_or_si128(v, lc), a); /* A-Z and a-z: 0..25 */
        __m128i dg = _mm_sub_epi8(v, d0);                  /* 0-9: 0..9 */
        __m128i ok = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(al, z), al),
                                  _mm_cmpeq_epi8(_mm_min_epu8(dg, d9), dg));
        ok = _mm_or_si128(
            ok, _mm_or_si128(_mm_cmpeq_epi8(v, dot),
                             _mm_or_si128(_mm_cmpeq_epi8(v, dash), _mm_cmpeq_epi8(v, us))));
        unsigned bad = ~(unsigned)_mm_movemask_epi8(ok) & 0xffff;
        if (bad != 0)
            return p + __builtin_ctz(bad);
        p += 16;
    }
#endif
    while (p < end && is_host_char(*p))
        p++;
    return p;
}

/* Upstream value at q (just after `upstream: "`) in http format: SCHEME://PEER[URI]" followed
 * by the end of line, `, host: "H"` (then end or referrer) or `, referrer: "`. Returns the
 * closing quote (or end for a line nginx truncated), or NULL when the shape is wrong. */
/* "SCHEME://PEER" at q, PEER being host:port, [v6]:port or unix:path: sets *peer and
 * returns where the URI starts, or NULL. Stops at the first '"' or ' ' at the latest. */
static const char *
upstream_peer(const char *q, const char *end, const char **peer)
{
    const char *p = q;

    if (p >= end || !(*p >= 'a' && *p <= 'z'))
        return NULL;
    if (end - p > 8 && eq_lit(p, "https://", 8)) /* what the loop below would find */
        p += 5;
    else
        while (p < end &&
               ((*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '+' || *p == '-' || *p == '.'))
            p++;
    if (!has_prefix(p, end, LIT("://")))
        return NULL;
    p += 3;
    *peer = p;
    if (has_prefix(p, end, LIT("unix:"))) {
        p += 5;
        while (p < end && *p != ':' && *p != '"' && *p != ' ')
            p++;
        return p;
    }
    if (p < end && *p == '[') {
        while (p < end && *p != ']' && *p != '"' && *p != ' ')
            p++;
        if (p >= end || *p != ']')
            return NULL;
        p++;
    } else {
        const char *s = p;
        p = skip_host_chars(p, end);
        if (p == s)
            return NULL;
    }
    if (p >= end || *p != ':' || p + 1 >= end || !is_digit(p[1]))
        return NULL;
    p++;
    while (p < end && is_digit(*p))
        p++;
    return p;
}

static const char *
http_upstream_shape(const struct linemap *lm, const char *q, const char *end, const char **peer,
                    const char **uri, bool *truncated, const char **host_end)
{
    const char *p, *c, *sp, *lim;

    *truncated = false;
    *host_end = NULL;
    if ((p = upstream_peer(q, end, peer)) == NULL)
        return NULL;
    *uri = p;
    /* The closing quote: the first one followed by what nginx writes next, before any space
     * (nginx escapes spaces in the URI it sends). */
    sp = lm_next(lm, LM_SPACE, p, end);
    lim = sp != NULL ? sp : end;
    for (c = p; (c = lm_next(lm, LM_QUOTE, c, lim)) != NULL; c++) {
        const char *a = c + 1;
        if (a == end)
            return c;
        if (has_prefix(a, end, LIT(", referrer: \"")))
            return c;
        if (has_prefix(a, end, LIT(", host: \"")) &&
            (*host_end = host_value_end(lm, a + 9, end)) != NULL)
            return c;
    }
    if (sp != NULL)
        return NULL;
    *truncated = true;
    return end;
}

/* A request line as nginx accepted it: "METHOD URI HTTP/x[.y]" (2: exactly so, 1: at least
 * ends with the version, 0: neither). */
static int
request_shape(const struct linemap *lm, const char *r, const char *end)
{
    const char *p = r, *v, *sp;

    if (end - r < 8)
        return 0;
    v = end;
    if (is_digit(v[-1]) && v[-2] == '.' && is_digit(v[-3]))
        v -= 3;
    else if (is_digit(v[-1]))
        v -= 1;
    else
        return 0;
    if (v - r < 6 || memcmp(v - 6, " HTTP/", 6) != 0)
        return 0;
    if (!(*p >= 'A' && *p <= 'Z'))
        return 1;
    /* Exactly two spaces: the one before "HTTP/" and one before it (the version holds none). */
    sp = lm_next(lm, LM_SPACE, r, v - 6);
    if (sp == NULL)
        return 1;
    return lm_next(lm, LM_SPACE, sp + 1, v - 6) == NULL ? 2 : 1;
}

/* The fields after ", client: " (p) in the http format; srv is the first ", server: " after
 * p, or NULL. */
static void
parse_http_fields(const struct linemap *lm, const char *p, const char *srv, const char *end,
                  struct ls_event *ev)
{
    const char *req, *m, *best = NULL, *best_close = NULL, *best_peer = NULL;
    const char *best_uri = NULL, *best_host_end = NULL, *host_e = NULL;
    int best_tier = -1, candidates = 0, markers = 0;
    bool best_trunc = false;

    ev->client = mkspan(p, srv != NULL ? srv : end);
    if (srv == NULL)
        return;
    p = srv + 10;
    /* server_name comes from the config: the first marker after it is nginx's. */
    const char *se = end;
    bool is_request = false;
    for (const char *q = p; (q = lm_next(lm, LM_COMMA, q, end)) != NULL; q++) {
        if (has_prefix(q, end, LIT(", request: \""))) {
            is_request = true;
            se = q;
            break;
        }
        if (has_prefix(q, end, LIT(", upstream: \"")) || has_prefix(q, end, LIT(", host: \"")) ||
            has_prefix(q, end, LIT(", referrer: \""))) {
            se = q;
            break;
        }
    }
    ev->server = mkspan(p, se);
    if (se == end)
        return;
    req = NULL;
    if (is_request) {
        req = se + 12;
        p = req;
    } else {
        p = se; /* no request: the upstream marker follows the server directly */
    }

    /* Every `", upstream: "` (or, without request, `, upstream: "` at p) is a candidate. */
    for (m = p;; m++) {
        const char *q, *close, *peer, *uri, *he;
        bool trunc;
        int tier;

        if (req == NULL) {
            if (m != p || !has_prefix(m, end, LIT(", upstream: \"")))
                break;
            q = m + 13;
        } else {
            m = lm_find(lm, LM_QUOTE, m, end, LIT("\", upstream: \""), 0);
            if (m == NULL)
                break;
            q = m + 14;
        }
        markers++;
        close = http_upstream_shape(lm, q, end, &peer, &uri, &trunc, &he);
        if (close == NULL)
            continue;
        candidates++;
        if (req != NULL) {
            const char *rend = m;
            const char *sub = NULL, *s = req;
            while ((s = lm_find(lm, LM_QUOTE, s, rend, LIT("\", subrequest: \""), 0)) != NULL)
                sub = s++;
            tier = request_shape(lm, req, sub != NULL ? sub : rend);
        } else {
            tier = 1;
        }
        if (!trunc)
            tier += 4; /* a complete field beats one cut by nginx's 2048-byte limit */
        if (tier > best_tier) {
            best_tier = tier;
            best = m;
            best_close = close;
            best_peer = peer;
            best_uri = uri;
            best_trunc = trunc;
            best_host_end = he;
        }
    }
    if (markers > 1 || candidates > 1)
        ev->ambiguous = true;

    const char *after; /* where host / referrer may start */
    if (best != NULL) {
        const char *q = best + (req != NULL ? 14 : 13);
        if (req != NULL)
            ev->request = mkspan(req, best);
        ev->scheme = mkspan(q, best_peer - 3);
        ev->upstream = mkspan(best_peer, best_uri);
        if (best_close > best_uri)
            ev->uri = mkspan(best_uri, best_close);
        if (best_trunc)
            return;
        after = best_close + 1;
        host_e = best_host_end; /* where the Host value ends, if the shape check found it */
    } else if (req != NULL) {
        /* No upstream field: the request runs to `", host: "` or `", referrer: "`. */
        const char *h = NULL, *s = req, *rf;
        while ((s = lm_find(lm, LM_QUOTE, s, end, LIT("\", host: \""), 0)) != NULL) {
            if ((host_e = host_value_end(lm, s + 10, end)) != NULL) {
                h = s;
                break;
            }
            s++;
        }
        if (h != NULL) {
            ev->request = mkspan(req, h);
            after = h + 1;
        } else if ((rf = lm_find(lm, LM_QUOTE, req, end, LIT("\", referrer: \""), 0)) != NULL) {
            ev->request = mkspan(req, rf);
            after = rf + 1;
        } else {
            ev->request = mkspan(req, end > req && end[-1] == '"' ? end - 1 : end);
            return;
        }
    } else {
        after = se;
    }
    if (has_prefix(after, end, LIT(", host: \""))) {
        const char *v = after + 9, *e = host_e != NULL ? host_e : host_value_end(lm, v, end);
        if (e == NULL) { /* cut by nginx's line limit */
            e = lm_next(lm, LM_QUOTE, v, end);
            e = e != NULL ? e : end;
        }
        ev->host = mkspan(v, e);
        after = e < end ? e + 1 : end;
    }
    if (has_prefix(after, end, LIT(", referrer: \""))) {
        /* The referrer is the last field: it may hold anything, forged markers included. */
        if (lm_find(lm, LM_QUOTE, after, end, LIT("\", upstream: \""), 0) != NULL)
            ev->ambiguous = true;
    }
}

/* parse_http_fields for the line nginx writes when nothing in it is forged, in a few checks:
 *   C, server: S, request: "R", upstream: "SCHEME://PEER[URI]", host: "H"
 * with exactly these five quotes after `request: "`, no space in the upstream value, and
 * neither a space nor a '/' in the host. For such a line every step of parse_http_fields
 * (and parse_stream_fields, which refuses it) has one outcome, worked out below; anything
 * else returns false and goes the long way. Needs the map to cover the fields. */
static bool
parse_http_canonical(const struct linemap *lm, const char *p, const char *srv, const char *end,
                     struct ls_event *ev)
{
    const char *s, *c1, *req, *r[6], *peer, *uri;

    if (srv == NULL || srv < lm->base || end > lm->lim)
        return false;
    s = srv + 10;
    /* The first comma after the server opens `, request: "`: the stream check refuses the
     * line (its server must end at a comma that opens one of its own markers) and the server
     * loop stops at it. */
    if ((c1 = lm_next(lm, LM_COMMA, s, end)) == NULL || !has_prefix(c1, end, LIT(", request: \"")))
        return false;
    req = c1 + 12;
    /* r[0] ends the request, r[1] and r[2] hold the upstream, r[3] and r[4] the host, which
     * ends the line. */
    if (lm_collect(lm, LM_QUOTE, req, end, r, 5) != 5)
        return false;
    if (r[4] != end - 1 || r[1] - r[0] != 13 || !has_prefix(r[0], end, LIT("\", upstream: \"")) ||
        r[3] - r[2] != 9 || !has_prefix(r[2], end, LIT("\", host: \"")))
        return false;
    /* The only `", upstream: "` is at r[0]: a match is two quotes 13 apart with none between,
     * and (r[1], r[2]) is no match once the shape check below has seen a letter after r[1];
     * (r[2], r[3]) are 9 apart; (r[3], r[4]) would be one only for the host `, upstream: `,
     * which the no-space rule for the host below refuses. */
    /* No `", subrequest: "` before r[0]: it would need a quote in the request. */
    if ((uri = upstream_peer(r[1] + 1, end, &peer)) == NULL)
        return false;
    /* The shape check's closing quote is r[2] when no space comes before it, and the host
     * check accepts r[4] (the line's last byte) when the host has no space and no '/'. */
    if (lm_any(lm, LM_SPACE, uri, r[2]) || lm_any(lm, LM_SPACE, r[3] + 1, r[4]) ||
        memchr(r[3] + 1, '/', (size_t)(r[4] - r[3] - 1)) != NULL)
        return false;
    /* The one candidate is the best, whatever the request's shape makes its tier. */
    ev->client = mkspan(p, srv);
    ev->server = mkspan(s, c1);
    ev->request = mkspan(req, r[0]);
    ev->scheme = mkspan(r[1] + 1, peer - 3);
    ev->upstream = mkspan(peer, uri);
    if (r[2] > uri)
        ev->uri = mkspan(uri, r[2]);
    ev->host = mkspan(r[3] + 1, r[4]);
    return true;
}

/* The fields after ", client: " (p) in the stream format, srv as for parse_http_fields:
 * "C, server: ADDR, upstream: "PEER", bytes from/to client:..." (no client-controlled text). */
static bool
parse_stream_fields(const struct linemap *lm, const char *p, const char *srv, const char *end,
                    struct ls_event *ev)
{
    const char *s, *e, *u;

    if (srv == NULL)
        return false;
    s = srv + 10;
    /* the server address ends at the first ',', '"' or ' ' */
    if ((e = lm_next(lm, LM_COMMA, s, end)) == NULL)
        e = end;
    if ((u = lm_next(lm, LM_QUOTE, s, e)) != NULL)
        e = u;
    if ((u = lm_next(lm, LM_SPACE, s, e)) != NULL)
        e = u;
    if (has_prefix(e, end, LIT(", upstream: \""))) {
        u = e + 13;
        const char *c = lm_next(lm, LM_QUOTE, u, end);
        if (c == NULL || mem_find(u, c, LIT("://")) != NULL)
            return false;
        if (!has_prefix(c + 1, end, LIT(", bytes from/to client:")) && c + 1 != end)
            return false;
        ev->client = mkspan(p, srv);
        ev->server = mkspan(s, e);
        ev->upstream = mkspan(u, c);
        ev->stream = true;
        return true;
    }
    if (has_prefix(e, end, LIT(", bytes from/to client:"))) {
        ev->client = mkspan(p, srv);
        ev->server = mkspan(s, e);
        ev->stream = true;
        return true;
    }
    return false;
}

/* ---- the message memo ----
 * In an outage the same message and action ("upstream SSL certificate verify error:
 * (18:self-signed certificate) while SSL handshaking to upstream, client: ") repeat line after
 * line. What the parser makes of a message depends only on its own bytes: the action is the
 * first one in the message, and classify() reads nothing past it. So the bytes from the
 * message's start to the end of its action are kept with what was found in them, and a line
 * that holds the same bytes at the same place gets the same answer without the search. A hit
 * is a memcmp of the whole kept text, never a hash alone. 2-way, 64 sets; the set is picked
 * by bytes 16-47 of the message, where the verify code, the SSL error code and the name of
 * the families above differ (so they do not evict each other). Like the time memo, this is
 * process-wide state: the parser is called from one thread. */
#define MEMO_SETS 64
#define MEMO_TEXT 240     /* longer message + action: not kept */
#define MEMO_KEY_AT 16    /* the set is picked from bytes [16, 48) of the message */
#define MEMO_NONE 0xffffu /* an absent span */

/* What the memo keeps of an event: the message part of struct ls_event (logscan.h), from kind
 * up to level, copied whole, and its spans, which point into the line, as offsets into the
 * message. memo_spans lists every span of the part; the build checks that the part's spans
 * (its last bytes, from reason on) are exactly that many, so a span added to the part without
 * a line here fails to compile instead of leaving a hit's span pointing into an old line. */
#define MSG_PART_AT offsetof(struct ls_event, kind)
#define MSG_PART_LEN (offsetof(struct ls_event, level) - MSG_PART_AT)

static const size_t memo_spans[] = {
    offsetof(struct ls_event, reason),
    offsetof(struct ls_event, ssl_error),
    offsetof(struct ls_event, name),
    offsetof(struct ls_event, message),
};
#define MEMO_NSPANS (sizeof(memo_spans) / sizeof(memo_spans[0]))

_Static_assert(offsetof(struct ls_event, level) - offsetof(struct ls_event, reason) ==
                   MEMO_NSPANS * sizeof(struct span),
               "a span was added to the message part of struct ls_event: list it in memo_spans");

struct msg_memo {
    unsigned long id;                 /* 0: empty; else unique for the text (ls_event.msg_key) */
    uint16_t len;                     /* bytes of message + action kept in text */
    uint16_t off[MEMO_NSPANS];        /* memo_spans' offsets into the text, or MEMO_NONE */
    unsigned char part[MSG_PART_LEN]; /* the message part (kind EV_NONE: the action is there
                                         but the message is no event) */
    char text[MEMO_TEXT];
};

static struct {
    struct msg_memo way[MEMO_SETS][2];
    unsigned char last[MEMO_SETS]; /* the way hit or filled last */
    unsigned long next_id;
} mm;

static unsigned
memo_set(const char *m)
{
    uint64_t a, b, c, d;

    memcpy(&a, m + MEMO_KEY_AT, 8);
    memcpy(&b, m + MEMO_KEY_AT + 8, 8);
    memcpy(&c, m + MEMO_KEY_AT + 16, 8);
    memcpy(&d, m + MEMO_KEY_AT + 24, 8);
    a ^= (b * UINT64_C(0x9e3779b97f4a7c15)) ^ (c * UINT64_C(0xc2b2ae3d27d4eb4f)) ^
         (d * UINT64_C(0x165667b19e3779f9));
    return (unsigned)((a * UINT64_C(0xff51afd7ed558ccd)) >> 58); /* 6 bits: MEMO_SETS */
}

#if defined(HAVE_VECTOR_SCAN)
/* memcmp(a, t, n) == 0 for n >= 32 (a kept text ends with an action: at least " while
 * connecting to upstream, client: "), in 32-byte steps that only collect the differences, the
 * last step moved back to end at n (bytes seen twice do no harm to a yes/no answer): a hit
 * compares every byte anyway, and libc's memcmp call with its size dispatch cost twice this.
 * The first step alone decides most misses. */
__attribute__((target("avx2"), always_inline)) static inline bool
memo_same_avx2(const char *a, const char *t, size_t n)
{
    __m256i d = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)a),
                                 _mm256_loadu_si256((const __m256i *)t));

    if (!_mm256_testz_si256(d, d))
        return false;
    for (size_t i = 32; i + 32 < n; i += 32)
        d = _mm256_or_si256(d, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + i)),
                                                _mm256_loadu_si256((const __m256i *)(t + i))));
    d = _mm256_or_si256(d, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + n - 32)),
                                            _mm256_loadu_si256((const __m256i *)(t + n - 32))));
    return _mm256_testz_si256(d, d);
}

/* memo_find with memo_same_avx2; the two ways written out (a loop over them kept both the
 * way index and the entry's address live). */
__attribute__((target("avx2"))) static const struct msg_memo *
memo_find_avx2(const char *m, const char *end, unsigned set)
{
    unsigned w = mm.last[set];
    const struct msg_memo *e = &mm.way[set][w];
    size_t room = (size_t)(end - m);

    if (e->id != 0 && room >= e->len && memo_same_avx2(m, e->text, e->len))
        return e;
    e = &mm.way[set][w ^ 1];
    if (e->id != 0 && room >= e->len && memo_same_avx2(m, e->text, e->len)) {
        mm.last[set] = (unsigned char)(w ^ 1);
        return e;
    }
    return NULL;
}
#endif

/* The kept entry whose whole text is at m, or NULL. */
static const struct msg_memo *
memo_find(const char *m, const char *end, unsigned set)
{
    unsigned w = mm.last[set];

    for (int i = 0; i < 2; i++, w ^= 1) {
        const struct msg_memo *e = &mm.way[set][w];
        if (e->id != 0 && (size_t)(end - m) >= e->len && memcmp(m, e->text, e->len) == 0) {
            mm.last[set] = (unsigned char)w;
            return e;
        }
    }
    return NULL;
}

/* Keeps [m, fields) with what classify() found in it (kind EV_NONE for a refusal); the
 * way not hit last is replaced. Returns the id given to it, or 0 when a span of the message
 * part lies outside [m, fields) (then the line is not kept: a hit could not rebuild it). */
static unsigned long
memo_add(unsigned set, const char *m, const char *fields, const struct ls_event *ev)
{
    int w = mm.last[set] ^ 1;
    struct msg_memo *e = &mm.way[set][w];
    uint16_t off[MEMO_NSPANS];

    for (size_t i = 0; i < MEMO_NSPANS; i++) {
        const struct span *sp = (const struct span *)((const char *)ev + memo_spans[i]);
        if (sp->p == NULL)
            off[i] = MEMO_NONE;
        else if (sp->p >= m && sp->p + sp->len <= fields)
            off[i] = (uint16_t)(sp->p - m);
        else
            return 0;
    }
    e->id = ++mm.next_id;
    e->len = (uint16_t)(fields - m);
    memcpy(e->text, m, e->len);
    memcpy(e->off, off, sizeof(off));
    memcpy(e->part, (const char *)ev + MSG_PART_AT, MSG_PART_LEN);
    mm.last[set] = (unsigned char)w;
    return e->id;
}

/* A hit: the message part as kept, its spans pointed into this line's message at m. */
INLINE void
memo_get(const struct msg_memo *e, const char *m, struct ls_event *ev)
{
    memcpy((char *)ev + MSG_PART_AT, e->part, MSG_PART_LEN);
    for (size_t i = 0; i < MEMO_NSPANS; i++) {
        struct span *sp = (struct span *)((char *)ev + memo_spans[i]);
        sp->p = e->off[i] != MEMO_NONE ? m + e->off[i] : NULL;
    }
    ev->msg_key = e->id;
}

#define ACTION_TAIL "g to upstream, client: "
#define ACTION_TAIL_COMMA (sizeof("g to upstream") - 1)
#define READ_ACTION " while reading response header from upstream, client: "
#define READ_ACTION_COMMA (sizeof(" while reading response header from upstream") - 1)

static const struct {
    const char *text;
    size_t len;
    bool handshaking;
} actions[] = {
    {LIT(" while SSL handshaking to upstream, client: "), true},
    {LIT(" while connecting to upstream, client: "), false},
};

/* An empty event: no fields, numbers -1. Zeroed with 16-byte vector stores written out one by
 * one (the size is a constant: the loop unrolls, whatever fields the event has), the last one
 * moved back to end at the struct's end: the memset the compiler emits for the struct's size is
 * a `rep stos`, whose start-up cost was an eighth of a line's. */
INLINE void
ev_reset(struct ls_event *ev, unsigned long lineno)
{
#if defined(__SSE2__)
    char *p = (char *)ev;
    const __m128i z = _mm_setzero_si128();

#pragma GCC unroll 32
    for (size_t o = 0; o + 16 <= sizeof(*ev); o += 16)
        _mm_storeu_si128((__m128i *)(p + o), z);
    if (sizeof(*ev) % 16 != 0)
        _mm_storeu_si128((__m128i *)(p + sizeof(*ev) - 16), z);
#else
    memset(ev, 0, sizeof(*ev));
#endif
    ev->kind = EV_NONE;
    ev->line = lineno;
    ev->when = (time_t)-1;
    ev->pid = ev->tid = -1;
    ev->conn = -1;
    ev->verify_code = ev->alert = -1;
}

bool
logscan_parse_line(const char *line, size_t len, unsigned long lineno, struct ls_event *ev)
{
    const char *end = line + len, *m, *act = NULL, *fields, *srv;
    struct linemap lm;
    bool handshaking = false;
    size_t actlen = 0;
    unsigned set = MEMO_SETS; /* MEMO_SETS: the line is too short to be kept */

    ev_reset(ev, lineno);
    if (line == NULL || len == 0 || len > LOGSCAN_MAX_LINE)
        return false;
    while (end > line && (end[-1] == '\r' || end[-1] == '\n'))
        end--;
    if ((m = parse_header(line, end, ev)) == NULL)
        goto none;
    if (end - m >= MEMO_KEY_AT + 32) {
        const struct msg_memo *e;
        set = memo_set(m);
#if defined(HAVE_VECTOR_SCAN)
        if (__builtin_cpu_supports("avx2"))
            e = memo_find_avx2(m, end, set);
        else
#endif
            e = memo_find(m, end, set);
        if (e != NULL) {
            memo_get(e, m, ev);
            if (ev->kind == EV_NONE)
                goto none;
            fields = m + e->len;
            lm_build(&lm, line, fields, end); /* the fields need no map of the message */
            goto fields;
        }
    }

    /* Both actions end in "g to upstream, client: ": find that (memchr on its ',' is much
     * cheaper than on its leading ' '), then see which action it ends. */
    lm_build(&lm, line, m, end);
    for (const char *q = m; act == NULL && (q = lm_find(&lm, LM_COMMA, q, end, LIT(ACTION_TAIL),
                                                        ACTION_TAIL_COMMA)) != NULL;
         q++) {
        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
            size_t head = actions[i].len - (sizeof(ACTION_TAIL) - 1);
            if ((size_t)(q - m) >= head && memcmp(q - head, actions[i].text, head) == 0) {
                act = q - head;
                actlen = actions[i].len;
                handshaking = actions[i].handshaking;
                break;
            }
        }
    }
    if (act == NULL && has_prefix(m, end, LIT("SSL_read() failed (")) &&
        (act = lm_find(&lm, LM_COMMA, m, end, LIT(READ_ACTION), READ_ACTION_COMMA)) != NULL) {
        /* TLS 1.3: a client certificate the upstream demands is refused after the
         * handshake, so nginx meets the alert (116) when it reads the response. */
        actlen = sizeof(READ_ACTION) - 1;
        read_ssl_error(m + 18, act, ev);
        ev->kind = EV_HANDSHAKE_ERROR;
        ev->message = mkspan(m, act + actlen - 10);
        fields = act + actlen;
        parse_http_fields(&lm, fields, lm_find(&lm, LM_COMMA, fields, end, LIT(", server: "), 0),
                          end, ev);
        goto found;
    }
    if (act == NULL) {
        if (ev->level == LV_EMERG && parse_config_error(m, end, ev)) {
            ev->kind = EV_CONFIG_ERROR;
            goto found;
        }
        goto none;
    }
    ev->kind = classify(m, act, handshaking, ev);
    fields = act + actlen;
    if (ev->kind != EV_NONE)
        ev->message = mkspan(m, act + actlen - 10); /* up to ", client: " */
    if (set < MEMO_SETS && fields - m <= MEMO_TEXT) {
        unsigned long id = memo_add(set, m, fields, ev);
        ev->msg_key = ev->kind != EV_NONE ? id : 0;
    }
    if (ev->kind == EV_NONE)
        goto none;
fields:
    srv = lm_find(&lm, LM_COMMA, fields, end, LIT(", server: "), 0);
    if (!parse_http_canonical(&lm, fields, srv, end, ev) &&
        !parse_stream_fields(&lm, fields, srv, end, ev))
        parse_http_fields(&lm, fields, srv, end, ev);

found:
    if (ev->time.p != NULL)
        ev->when = parse_time(ev->time.p);
    return true;
none:
    ev_reset(ev, lineno);
    return false;
}

/* Every line logscan_parse_line can accept holds one of these (the http and stream actions
 * end "... to upstream, client: "; configuration errors are [emerg]; a TLS 1.3 upstream's
 * refusal met after the handshake is an SSL_read() failure, whatever its level). */
static const char marker_event[] = "to upstream, client: ";
static const char marker_emerg[] = "[emerg] ";
static const char marker_read[] = "SSL_read() failed (";

/* Number of '\n' in [p, p+n), plain C (for the tails the vector loops leave). */
static size_t
count_newlines(const char *p, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* Whether one of the markers starts at q. Not inlined: candidates are rare, and inlined its
 * constants took the registers the vector loops need for theirs (gcc then rebuilt every
 * vector constant on each step: 2x the instructions of the search). */
__attribute__((noinline)) static bool
marker_at(const char *q, const char *lim)
{
    size_t room = (size_t)(lim - q);

    return (room >= sizeof(marker_event) - 1 &&
            memcmp(q, marker_event, sizeof(marker_event) - 1) == 0) ||
           (room >= sizeof(marker_emerg) - 1 &&
            memcmp(q, marker_emerg, sizeof(marker_emerg) - 1) == 0) ||
           (room >= sizeof(marker_read) - 1 &&
            memcmp(q, marker_read, sizeof(marker_read) - 1) == 0);
}

/* One pass over [p, lim): returns the first position where a marker starts, or NULL, and
 * adds to *nl the newlines before it (or in the whole range). Candidates are filtered by
 * bytes at fixed offsets, as in the classic SIMD substring search: for "to upstream, client: "
 * 'o' (1), 'u' (3) and ',' (11) ("from upstream, client: " fails), for "[emerg] " '[' (0),
 * 'e' (1) and 'e' (3), which the other levels do not have, for "SSL_read() failed (" 'S' (1)
 * and '_' (3); the loads are shared. */
#define MARK_TAIL 24 /* bytes a vector step may look past its block: 11 + the 21-byte check */

static const char *
find_marker_scalar(const char *p, const char *lim, size_t *nl)
{
    for (const char *q = p; q < lim; q++) {
        if ((*q == 't' || *q == '[' || *q == 'S') && marker_at(q, lim)) {
            *nl += count_newlines(p, (size_t)(q - p));
            return q;
        }
    }
    *nl += count_newlines(p, (size_t)(lim - p));
    return NULL;
}

#if defined(HAVE_VECTOR_SCAN)

/* popcount of 16 bits without the popcnt instruction (not in every x86-64). */
static unsigned
bits16(unsigned x)
{
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0f0fu;
    return (x + (x >> 8)) & 0x1fu;
}

static const char *
find_marker_sse2(const char *p, const char *lim, size_t *nl)
{
    const __m128i c_nl = _mm_set1_epi8('\n'), c_o = _mm_set1_epi8('o');
    const __m128i c_u = _mm_set1_epi8('u'), c_comma = _mm_set1_epi8(',');
    const __m128i c_br = _mm_set1_epi8('['), c_e = _mm_set1_epi8('e');
    const __m128i c_s = _mm_set1_epi8('S'), c_us = _mm_set1_epi8('_');
    size_t n = (size_t)(lim - p), i = 0, count = 0;

    for (; i + 16 + MARK_TAIL <= n; i += 16) {
        const char *q = p + i;
        __m128i l0 = _mm_loadu_si128((const __m128i *)q);
        __m128i l1 = _mm_loadu_si128((const __m128i *)(q + 1));
        __m128i l3 = _mm_loadu_si128((const __m128i *)(q + 3));
        __m128i l11 = _mm_loadu_si128((const __m128i *)(q + 11));
        __m128i ev = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(l1, c_o), _mm_cmpeq_epi8(l3, c_u)),
                                   _mm_cmpeq_epi8(l11, c_comma));
        __m128i em = _mm_or_si128(
            _mm_and_si128(_mm_cmpeq_epi8(l0, c_br),
                          _mm_and_si128(_mm_cmpeq_epi8(l1, c_e), _mm_cmpeq_epi8(l3, c_e))),
            _mm_and_si128(_mm_cmpeq_epi8(l1, c_s), _mm_cmpeq_epi8(l3, c_us)));
        unsigned cand = (unsigned)_mm_movemask_epi8(_mm_or_si128(ev, em));
        unsigned nlm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(l0, c_nl));

        while (cand != 0) {
            unsigned bit = (unsigned)__builtin_ctz(cand);
            if (marker_at(q + bit, lim)) {
                *nl += count + bits16(nlm & ((1u << bit) - 1));
                return q + bit;
            }
            cand &= cand - 1;
        }
        count += bits16(nlm);
    }
    *nl += count;
    return find_marker_scalar(p + i, lim, nl);
}

__attribute__((target("avx2,popcnt"))) static const char *
find_marker_avx2(const char *p, const char *lim, size_t *nl)
{
    const __m256i c_nl = _mm256_set1_epi8('\n'), c_o = _mm256_set1_epi8('o');
    const __m256i c_u = _mm256_set1_epi8('u'), c_comma = _mm256_set1_epi8(',');
    const __m256i c_br = _mm256_set1_epi8('['), c_e = _mm256_set1_epi8('e');
    const __m256i c_s = _mm256_set1_epi8('S'), c_us = _mm256_set1_epi8('_');
    size_t n = (size_t)(lim - p), i = 0, count = 0;

    for (; i + 32 + MARK_TAIL <= n; i += 32) {
        const char *q = p + i;
        __m256i l0 = _mm256_loadu_si256((const __m256i *)q);
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(q + 1));
        __m256i l3 = _mm256_loadu_si256((const __m256i *)(q + 3));
        __m256i l11 = _mm256_loadu_si256((const __m256i *)(q + 11));
        __m256i ev = _mm256_and_si256(
            _mm256_and_si256(_mm256_cmpeq_epi8(l1, c_o), _mm256_cmpeq_epi8(l3, c_u)),
            _mm256_cmpeq_epi8(l11, c_comma));
        __m256i em = _mm256_or_si256(
            _mm256_and_si256(
                _mm256_cmpeq_epi8(l0, c_br),
                _mm256_and_si256(_mm256_cmpeq_epi8(l1, c_e), _mm256_cmpeq_epi8(l3, c_e))),
            _mm256_and_si256(_mm256_cmpeq_epi8(l1, c_s), _mm256_cmpeq_epi8(l3, c_us)));
        unsigned cand = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(ev, em));
        unsigned nlm = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(l0, c_nl));

        while (cand != 0) {
            unsigned bit = (unsigned)__builtin_ctz(cand);
            if (marker_at(q + bit, lim)) {
                *nl += count + (size_t)__builtin_popcount(nlm & (bit ? (~0u >> (32 - bit)) : 0));
                return q + bit;
            }
            cand &= cand - 1;
        }
        count += (size_t)__builtin_popcount(nlm);
    }
    *nl += count;
    return find_marker_scalar(p + i, lim, nl);
}
#endif

const char *
logscan_find_marker(const char *p, const char *lim, size_t *nl)
{
#ifdef HAVE_VECTOR_SCAN
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt"))
        return find_marker_avx2(p, lim, nl);
    return find_marker_sse2(p, lim, nl);
#else
    return find_marker_scalar(p, lim, nl);
#endif
}

#ifdef HAVE_VECTOR_SCAN
/* The marker candidates of the 16 (32) positions from q, as in find_marker_*, without the
 * newline count. Loads q[0 .. 11+15] (q[0 .. 11+31]). */
static unsigned
cand_sse2(const char *q)
{
    const __m128i c_o = _mm_set1_epi8('o'), c_u = _mm_set1_epi8('u'), c_comma = _mm_set1_epi8(',');
    const __m128i c_br = _mm_set1_epi8('['), c_e = _mm_set1_epi8('e');
    const __m128i c_s = _mm_set1_epi8('S'), c_us = _mm_set1_epi8('_');
    __m128i l0 = _mm_loadu_si128((const __m128i *)q);
    __m128i l1 = _mm_loadu_si128((const __m128i *)(q + 1));
    __m128i l3 = _mm_loadu_si128((const __m128i *)(q + 3));
    __m128i l11 = _mm_loadu_si128((const __m128i *)(q + 11));
    __m128i ev = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(l1, c_o), _mm_cmpeq_epi8(l3, c_u)),
                               _mm_cmpeq_epi8(l11, c_comma));
    __m128i em =
        _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(l0, c_br),
                                   _mm_and_si128(_mm_cmpeq_epi8(l1, c_e), _mm_cmpeq_epi8(l3, c_e))),
                     _mm_and_si128(_mm_cmpeq_epi8(l1, c_s), _mm_cmpeq_epi8(l3, c_us)));

    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ev, em));
}

__attribute__((target("avx2"))) static unsigned
cand_avx2(const char *q)
{
    const __m256i c_o = _mm256_set1_epi8('o'), c_u = _mm256_set1_epi8('u');
    const __m256i c_comma = _mm256_set1_epi8(','), c_br = _mm256_set1_epi8('[');
    const __m256i c_e = _mm256_set1_epi8('e'), c_s = _mm256_set1_epi8('S');
    const __m256i c_us = _mm256_set1_epi8('_');
    __m256i l0 = _mm256_loadu_si256((const __m256i *)q);
    __m256i l1 = _mm256_loadu_si256((const __m256i *)(q + 1));
    __m256i l3 = _mm256_loadu_si256((const __m256i *)(q + 3));
    __m256i l11 = _mm256_loadu_si256((const __m256i *)(q + 11));
    __m256i ev =
        _mm256_and_si256(_mm256_and_si256(_mm256_cmpeq_epi8(l1, c_o), _mm256_cmpeq_epi8(l3, c_u)),
                         _mm256_cmpeq_epi8(l11, c_comma));
    __m256i em = _mm256_or_si256(
        _mm256_and_si256(_mm256_cmpeq_epi8(l0, c_br),
                         _mm256_and_si256(_mm256_cmpeq_epi8(l1, c_e), _mm256_cmpeq_epi8(l3, c_e))),
        _mm256_and_si256(_mm256_cmpeq_epi8(l1, c_s), _mm256_cmpeq_epi8(l3, c_us)));

    return (unsigned)_mm256_movemask_epi8(_mm256_or_si256(ev, em));
}

/* One line: vector steps, the last one moved back to end at the line's end (positions seen
 * twice do no harm to a yes/no answer), so no scalar tail but the last 11 positions, where
 * only "[emerg] " still fits. STEP positions a step, loads reach 11 + STEP - 1 past it. */
#define MAY_MATCH_BODY(STEP, CAND)                                                                 \
    do {                                                                                           \
        size_t i = 0, last;                                                                        \
        if (len < (STEP) + 11)                                                                     \
            break;                                                                                 \
        last = len - (STEP)-11;                                                                    \
        for (;;) {                                                                                 \
            unsigned cand = CAND(line + i);                                                        \
            while (cand != 0) {                                                                    \
                if (marker_at(line + i + (unsigned)__builtin_ctz(cand), line + len))               \
                    return true;                                                                   \
                cand &= cand - 1;                                                                  \
            }                                                                                      \
            if (i == last)                                                                         \
                break;                                                                             \
            i = i + (STEP) <= last ? i + (STEP) : last;                                            \
        }                                                                                          \
        for (const char *q = line + last + (STEP); q < line + len; q++) {                          \
            if (*q == '[' && marker_at(q, line + len))                                             \
                return true;                                                                       \
        }                                                                                          \
        return false;                                                                              \
    } while (0)

static bool
may_match_sse2(const char *line, size_t len)
{
    MAY_MATCH_BODY(16, cand_sse2);
    return find_marker_scalar(line, line + len, &(size_t){0}) != NULL;
}

__attribute__((target("avx2"))) static bool
may_match_avx2(const char *line, size_t len)
{
    MAY_MATCH_BODY(32, cand_avx2);
    return may_match_sse2(line, len);
}
#endif

bool
logscan_may_match(const char *line, size_t len)
{
    if (line == NULL)
        return false;
#ifdef HAVE_VECTOR_SCAN
    if (__builtin_cpu_supports("avx2"))
        return may_match_avx2(line, len);
    return may_match_sse2(line, len);
#else
    return find_marker_scalar(line, line + len, &(size_t){0}) != NULL;
#endif
}

time_t
logscan_line_time(const char *p, size_t len)
{
    unsigned bad = 0;

    if (len < 19 || p[4] != '/' || p[7] != '/' || p[10] != ' ' || p[13] != ':' || p[16] != ':')
        return (time_t)-1;
    for (size_t i = 0; i < 19; i++) {
        if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16)
            bad |= (unsigned)((unsigned char)p[i] - '0') > 9;
    }
    return bad ? (time_t)-1 : parse_time(p);
}

static const char *const kind_names[EV__COUNT] = {
    [EV_NONE] = "none",
    [EV_VERIFY_ERROR] = "verify_error",
    [EV_NAME_MISMATCH] = "name_mismatch",
    [EV_HANDSHAKE_ERROR] = "handshake_error",
    [EV_HANDSHAKE_TIMEOUT] = "handshake_timeout",
    [EV_PEER_CLOSED] = "peer_closed",
    [EV_CONNECT_ERROR] = "connect_error",
    [EV_CONFIG_ERROR] = "config_error",
};

const char *
logscan_kind_name(enum ev_kind kind)
{
    if ((int)kind < 0 || kind >= EV__COUNT)
        return "none";
    return kind_names[kind];
}

const char *
logscan_level_name(enum ev_level level)
{
    if (level >= LV_DEBUG && level <= LV_EMERG && level_names[level - 1].level == level)
        return level_names[level - 1].name; /* the table is in enum order */
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (level_names[i].level == level)
            return level_names[i].name;
    }
    return "unknown";
}
