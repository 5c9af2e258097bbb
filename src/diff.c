/*
 * diff.c — unified diffs of two byte strings split into lines: the common head and tail
 * are trimmed, the middle is aligned by a longest-common-subsequence table, and the edit
 * script is grouped into hunks with DIFF_CONTEXT lines of context. Owns no files and
 * prints nothing; txn.c (journal) and the fix preview call it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "xmalloc.h"

/* Beyond this many LCS cells the middle is shown as one replacement (still a valid diff). */
#define DIFF_MAX_CELLS (16u * 1024 * 1024)

struct line {
    const char *p;
    size_t len; /* including the '\n' when there is one */
};

enum op { OP_SAME, OP_DEL, OP_ADD };

struct edit {
    enum op op;
    size_t a, b; /* line index in old (SAME, DEL) and in new (SAME, ADD) */
};

static struct line *
diff_split(const char *s, size_t len, size_t *n)
{
    struct line *v = NULL;
    size_t cap = 0, count = 0, start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len ? i > start : s[i] == '\n') {
            size_t end = i < len ? i + 1 : i;
            if (count == cap) {
                cap = cap ? cap * 2 : 64;
                v = xreallocarray(v, cap, sizeof(*v));
            }
            v[count].p = s + start;
            v[count].len = end - start;
            count++;
            start = end;
        }
    }
    *n = count;
    return v;
}

static int
line_eq(const struct line *x, const struct line *y)
{
    return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static void
edits_add(struct edit **e, size_t *n, size_t *cap, enum op op, size_t a, size_t b)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *e = xreallocarray(*e, *cap, sizeof(**e));
    }
    (*e)[*n].op = op;
    (*e)[*n].a = a;
    (*e)[*n].b = b;
    (*n)++;
}

/* The edit script for the whole files, in order. */
static struct edit *
diff_script(const struct line *A, size_t na, const struct line *B, size_t nb, size_t *nedits)
{
    struct edit *e = NULL;
    size_t n = 0, cap = 0, head = 0, tail = 0;

    while (head < na && head < nb && line_eq(&A[head], &B[head]))
        head++;
    while (tail < na - head && tail < nb - head && line_eq(&A[na - 1 - tail], &B[nb - 1 - tail]))
        tail++;
    for (size_t i = 0; i < head; i++)
        edits_add(&e, &n, &cap, OP_SAME, i, i);

    size_t ma = na - head - tail, mb = nb - head - tail;
    const struct line *a = A + head, *b = B + head;
    if (ma > 0 && mb > 0 && (ma + 1) * (mb + 1) <= DIFF_MAX_CELLS) {
        /* L[i][j] = LCS length of a[i..] and b[j..]. */
        size_t w = mb + 1;
        uint32_t *L = xcalloc((ma + 1) * w, sizeof(*L));
        for (size_t i = ma; i-- > 0;)
            for (size_t j = mb; j-- > 0;)
                L[i * w + j] = line_eq(&a[i], &b[j])
                                   ? L[(i + 1) * w + j + 1] + 1
                                   : (L[(i + 1) * w + j] >= L[i * w + j + 1] ? L[(i + 1) * w + j]
                                                                             : L[i * w + j + 1]);
        size_t i = 0, j = 0;
        while (i < ma && j < mb) {
            if (line_eq(&a[i], &b[j])) {
                edits_add(&e, &n, &cap, OP_SAME, head + i, head + j);
                i++, j++;
            } else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) {
                edits_add(&e, &n, &cap, OP_DEL, head + i, head + j);
                i++;
            } else {
                edits_add(&e, &n, &cap, OP_ADD, head + i, head + j);
                j++;
            }
        }
        for (; i < ma; i++)
            edits_add(&e, &n, &cap, OP_DEL, head + i, head + mb);
        for (; j < mb; j++)
            edits_add(&e, &n, &cap, OP_ADD, head + ma, head + j);
        free(L);
    } else {
        for (size_t i = 0; i < ma; i++)
            edits_add(&e, &n, &cap, OP_DEL, head + i, head);
        for (size_t j = 0; j < mb; j++)
            edits_add(&e, &n, &cap, OP_ADD, head + ma, head + j);
    }
    for (size_t i = 0; i < tail; i++)
        edits_add(&e, &n, &cap, OP_SAME, na - tail + i, nb - tail + i);
    *nedits = n;
    return e;
}

static void
diff_line(struct buf *out, char mark, const struct line *l)
{
    buf_addc(out, mark);
    buf_add(out, l->p, l->len);
    if (l->len == 0 || l->p[l->len - 1] != '\n')
        buf_adds(out, "\n\\ No newline at end of file\n");
}

/* "@@ -S,C" in GNU diff's spelling: the count is left out when it is 1, and an empty
 * range names the line before it. */
static void
diff_range(struct buf *out, char sign, size_t start, size_t count)
{
    if (count == 1)
        buf_addf(out, "%c%zu", sign, start + 1);
    else
        buf_addf(out, "%c%zu,%zu", sign, count == 0 ? start : start + 1, count);
}

int
diff_unified(struct buf *out, const char *path, const char *old, size_t old_len, const char *new,
             size_t new_len)
{
    return diff_unified_at(out, "/", path, old, old_len, new, new_len);
}

char *
diff_root(const char *const *paths, size_t n)
{
    size_t keep = 0;

    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i], *slash = strrchr(p, '/');
        size_t dir = slash != NULL ? (size_t)(slash - p) + 1 : 0;
        if (i == 0) {
            keep = dir;
            continue;
        }
        size_t k = 0;
        while (k < keep && k < dir && paths[0][k] == p[k])
            k++;
        while (k > 0 && paths[0][k - 1] != '/')
            k--;
        keep = k;
    }
    if (n == 0 || keep == 0)
        return xstrdup(n > 0 && paths[0][0] == '/' ? "/" : "");
    return xstrndup(paths[0], keep);
}

int
diff_unified_at(struct buf *out, const char *root, const char *path, const char *old,
                size_t old_len, const char *new, size_t new_len)
{
    size_t rl = strlen(root);

    if (rl > 0 && strncmp(path, root, rl) == 0 && root[rl - 1] == '/')
        path += rl;
    while (*path == '/')
        path++;
    size_t na, nb, ne;
    struct line *A = diff_split(old != NULL ? old : "", old != NULL ? old_len : 0, &na);
    struct line *B = diff_split(new, new_len, &nb);
    struct edit *e = diff_script(A, na, B, nb, &ne);
    int hunks = 0;

    for (size_t k = 0; k < ne;) {
        if (e[k].op == OP_SAME) {
            k++;
            continue;
        }
        /* A hunk starts DIFF_CONTEXT lines before this change and runs until a stretch of
         * more than 2 * DIFF_CONTEXT unchanged lines (or the end). */
        size_t first = k >= DIFF_CONTEXT ? k - DIFF_CONTEXT : 0, last = k, same = 0;
        for (size_t m = k; m < ne; m++) {
            if (e[m].op == OP_SAME) {
                if (++same > 2 * DIFF_CONTEXT)
                    break;
            } else {
                same = 0;
                last = m;
            }
        }
        size_t end = last + 1 + DIFF_CONTEXT < ne ? last + 1 + DIFF_CONTEXT : ne;
        size_t ca = 0, cb = 0;
        for (size_t m = first; m < end; m++) {
            ca += e[m].op != OP_ADD;
            cb += e[m].op != OP_DEL;
        }
        if (hunks++ == 0) {
            if (old == NULL)
                buf_adds(out, "--- /dev/null\n");
            else
                buf_addf(out, "--- a/%s\n", path[0] == '/' ? path + 1 : path);
            buf_addf(out, "+++ b/%s\n", path[0] == '/' ? path + 1 : path);
        }
        buf_adds(out, "@@ ");
        diff_range(out, '-', e[first].a, ca);
        buf_addc(out, ' ');
        diff_range(out, '+', e[first].b, cb);
        buf_adds(out, " @@\n");
        for (size_t m = first; m < end; m++) {
            if (e[m].op == OP_SAME)
                diff_line(out, ' ', &A[e[m].a]);
            else if (e[m].op == OP_DEL)
                diff_line(out, '-', &A[e[m].a]);
            else
                diff_line(out, '+', &B[e[m].b]);
        }
        k = end;
    }
    free(e);
    free(A);
    free(B);
    return hunks;
}
