/*
 * undo.h — undoing one change (old → new bytes of a file) in bytes that may have moved on
 * since: the change's own unified diff, reversed, applied as `patch -R` would without
 * fuzz (context lines must match exactly, once). Pure: no files. Used by txn_rollback.
 */
#ifndef TT_UNDO_H
#define TT_UNDO_H

#include <stddef.h>

struct buf;

/*
 * Sets *out to cur with the change old → new taken back: old itself when cur == new,
 * otherwise every hunk of the diff new → old applied to cur where its lines (context
 * and removed lines) appear exactly and only once, in order. Returns 0, or -1 with
 * *cause naming the hunk (its line in new) that does not apply or applies in more than
 * one place; *out is then left empty.
 */
int undo_apply(const char *old, size_t old_len, const char *new, size_t new_len, const char *cur,
               size_t cur_len, struct buf *out, char **cause);

#endif
