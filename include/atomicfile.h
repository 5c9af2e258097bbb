/*
 * atomicfile.h — files on disk as the transaction needs them: read whole, replaced
 * atomically (same-directory O_EXCL temp, fsync, mode/owner/ACL/SELinux label kept,
 * rename, directory fsync, read back), symlinks resolved, SHA-256. No journal, no nginx.
 * Used by txn.c, journal.c and ngxctl.c.
 */
#ifndef TT_ATOMICFILE_H
#define TT_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;

/* SHA-256 of len bytes as 64 hex digits and a NUL. */
void atomicfile_sha256_hex(const void *data, size_t len, char hex[65]);

/* Reads the whole file into out (NUL-terminated). With exists != NULL, an absent file
 * sets *exists = false and returns 0. Returns 0, or -1 with *cause naming the file. */
int atomicfile_read(const char *path, struct buf *out, bool *exists, char **cause);

/* fsync of the directory holding path. Returns 0, or -1 with *cause. */
int atomicfile_dir_fsync(const char *path, char **cause);

/* The file really written for path: its symlink target (the link is kept), or path
 * itself when it does not exist yet. *target is allocated. Returns 0, or -1 with *cause
 * (e.g. a dangling symlink). */
int atomicfile_target(const char *path, char **target, char **cause);

/* Replaces target with data atomically: a temp file next to it (O_EXCL), the full bytes,
 * the mode, owner, ACL and SELinux label of the current file (or new_mode, 0 meaning
 * 0644, and our own ids for a new file), fsync, rename, fsync of the directory, then the
 * bytes are read back and compared. On failure the target is untouched. Returns 0, or
 * -1 with *cause. */
int atomicfile_write(const char *target, const char *data, size_t len, mode_t new_mode,
                     char **cause);

/* Removes the temp files a killed atomicfile_write may have left next to target. */
void atomicfile_sweep_temps(const char *target);

/* mkdir -p with mode 0700 for what it creates. Returns 0, or -1 with *cause. */
int atomicfile_mkdir_p(const char *path, char **cause);

#endif
