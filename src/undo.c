/*
 * undo.c — takes one change back out of bytes that may have moved on: the diff new → old
 * (diff.c's own unified diff) is parsed into hunks, and each hunk is applied to the
 * current bytes where all its lines match exactly and only once (a hunk with less than
 * DIFF_CONTEXT lines of context at an end of the file is anchored to that end), as
 * `patch` does without fuzz. No files, no output. Called by txn.c (rollback).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "undo.h"
#include "xmalloc.h"

struct uline {
    const char *p;
    size_t len; /* including the '\n' when there is one */
};

struct hunk {
    size_t line;             /* 1-based line in new where it starts (context included) */
    struct uline *from, *to; /* context and removed lines; context and added lines */
    size_t nfrom, nto, lead, trail;
};

static void
line_push(struct uline **v, size_t *n, const char *p, size_t len)
{
    *v = xreallocarray(*v, *n + 1, sizeof(**v));
    (*v)[*n].p = p;
    (*v)[*n].len = len;
    (*n)++;
}

static struct uline *
undo_split(const char *s, size_t len, size_t *n)
{
    struct uline *v = NULL;
    size_t start = 0;

    *n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') {
            line_push(&v, n, s + start, i + 1 - start);
            start = i + 1;
        }
    }
    if (start < len)
        line_push(&v, n, s + start, len - start);
    return v;
}

static void
hunks_free(struct hunk *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].from);
        free(h[i].to);
    }
    free(h);
}

/* The hunks of a unified diff made by diff_unified (one file). */
static struct hunk *
undo_parse(const char *d, size_t *nh)
{
    struct hunk *h = NULL, *cur = NULL;
    size_t n = 0, nl;
    struct uline *l = undo_split(d, strlen(d), &nl);
    bool in_hunk = false, seen_change = false;

    for (size_t i = 0; i < nl; i++) {
        const char *p = l[i].p;
        size_t len = l[i].len;
        if (len >= 3 && strncmp(p, "@@ ", 3) == 0) {
            h = xreallocarray(h, n + 1, sizeof(*h));
            cur = &h[n++];
            memset(cur, 0, sizeof(*cur));
            unsigned long start = strtoul(p + 4, NULL, 10), count = 1;
            const char *comma = memchr(p + 4, ',', len - 4), *sp = memchr(p + 4, ' ', len - 4);
            if (comma != NULL && (sp == NULL || comma < sp))
                count = strtoul(comma + 1, NULL, 10);
            cur->line = count == 0 ? start + 1 : start;
            in_hunk = true;
            seen_change = false;
            continue;
        }
        if (!in_hunk || len == 0)
            continue;
        /* The content keeps its line end, unless the next line says the file has none. */
        const char *c = p + 1;
        size_t clen = len - 1;
        if (clen > 0 && i + 1 < nl && l[i + 1].p[0] == '\\')
            clen--;
        switch (p[0]) {
        case ' ':
            line_push(&cur->from, &cur->nfrom, c, clen);
            line_push(&cur->to, &cur->nto, c, clen);
            cur->lead += !seen_change;
            cur->trail++;
            break;
        case '-':
            line_push(&cur->from, &cur->nfrom, c, clen);
            seen_change = true;
            cur->trail = 0;
            break;
        case '+':
            line_push(&cur->to, &cur->nto, c, clen);
            seen_change = true;
            cur->trail = 0;
            break;
        default: /* "\ No newline at end of file" */
            break;
        }
    }
    free(l);
    *nh = n;
    return h;
}

static bool
lines_match(const struct uline *a, const struct uline *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].len != b[i].len || memcmp(a[i].p, b[i].p, a[i].len) != 0)
            return false;
    return true;
}

int
undo_apply(const char *old, size_t old_len, const char *new, size_t new_len, const char *cur,
           size_t cur_len, struct buf *out, char **cause)
{
    struct buf d = BUF_INIT;
    struct hunk *h = NULL;
    struct uline *c = NULL;
    size_t nh = 0, nc, pos = 0;
    int rc = -1;

    buf_reset(out);
    buf_add(out, "", 0);
    if (cur_len == new_len && memcmp(cur, new, new_len) == 0) {
        buf_add(out, old, old_len);
        return 0;
    }
    diff_unified(&d, "file", new, new_len, old, old_len);
    h = undo_parse(buf_str(&d), &nh);
    c = undo_split(cur, cur_len, &nc);
    for (size_t k = 0; k < nh; k++) {
        const struct hunk *x = &h[k];
        size_t lo = pos, hi = nc >= x->nfrom ? nc - x->nfrom : 0, found = 0, at = 0;
        if (nc < x->nfrom) {
            *cause = xasprintf("the change at line %zu is not there any more", x->line + x->lead);
            goto out;
        }
        if (x->lead < DIFF_CONTEXT)
            hi = lo == 0 ? 0 : lo - 1; /* at the start of the file only */
        for (size_t p = lo; p <= hi && found < 2; p++) {
            if (x->trail < DIFF_CONTEXT && p + x->nfrom != nc)
                continue; /* at the end of the file only */
            if (lines_match(&c[p], x->from, x->nfrom)) {
                found++;
                at = p;
            }
        }
        if (found != 1) {
            *cause = found == 0 ? xasprintf("the change at line %zu is not there any more, or the "
                                            "lines around it were changed since",
                                            x->line + x->lead)
                                : xasprintf("the change at line %zu matches in more than one "
                                            "place",
                                            x->line + x->lead);
            goto out;
        }
        for (size_t i = pos; i < at; i++)
            buf_add(out, c[i].p, c[i].len);
        for (size_t i = 0; i < x->nto; i++)
            buf_add(out, x->to[i].p, x->to[i].len);
        pos = at + x->nfrom;
    }
    for (size_t i = pos; i < nc; i++)
        buf_add(out, c[i].p, c[i].len);
    rc = 0;
out:
    if (rc == -1) {
        buf_reset(out);
        buf_add(out, "", 0);
    }
    hunks_free(h, nh);
    free(c);
    buf_free(&d);
    return rc;
}
