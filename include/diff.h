/*
 * diff.h — a small unified-diff generator on lines (LCS after trimming the common head
 * and tail), three lines of context, `--- a/PATH` / `+++ b/PATH` headers. Used by the
 * transaction journal and the fix preview; it never reads files itself.
 */
#ifndef TT_DIFF_H
#define TT_DIFF_H

#include <stddef.h>

struct buf;

#define DIFF_CONTEXT 3

/*
 * Appends to *out the unified diff turning old (old_len bytes) into new (new_len bytes)
 * for the file named path. old == NULL means the file does not exist yet (header
 * `--- /dev/null`). Identical inputs append nothing. Returns the number of hunks.
 */
int diff_unified(struct buf *out, const char *path, const char *old, size_t old_len,
                 const char *new, size_t new_len);

/*
 * The same with the header paths relative to root (a directory with a trailing '/'; a path
 * outside it keeps its full spelling without the leading '/'), so `cd ROOT && patch -p1`
 * applies the diff. diff_unified is diff_unified_at with root "/".
 */
int diff_unified_at(struct buf *out, const char *root, const char *path, const char *old,
                    size_t old_len, const char *new, size_t new_len);

/* The deepest directory (with a trailing '/') holding every one of the n paths: "/" when
 * they share nothing else. Caller frees. */
char *diff_root(const char *const *paths, size_t n);

#endif
