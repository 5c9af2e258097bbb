/*
 * journal.h — the transaction journal in the state dir: STATE/journal/ID.yaml (YAML,
 * written atomically, 0600), STATE/backups/ID/N.orig|N.new, STATE/lock. The journal
 * records; txn.c decides. Used by txn.c.
 */
#ifndef TT_JOURNAL_H
#define TT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "txn.h"

/* One file of a transaction, as journaled. */
struct jfile {
    char *path, *target;
    bool existed;
    bool remove; /* the change deletes the file (rollback of a file that was created) */
    mode_t mode;
    unsigned long uid, gid;
    char before[65], after[65];
    char *summary;
};

/* One step record: step name, "start"/"done"/"failed", time, message. */
struct jstep {
    char *step, *status, *time, *msg;
};

struct journal {
    char *dir; /* state dir */
    char *id, *kind, *time, *user, *summary, *reverts, *rolled_back_by, *error;
    enum txn_state state;
    bool confirmed;
    char *nginx_binary, *nginx_conf, *nginx_prefix, *reload_cmd;
    struct jfile *files;
    size_t nfiles;
    /* Directories this transaction creates for its new files (outermost first), and the
     * ones it removes once empty after removing its files (a rollback's). */
    char **dirs_created, **dirs_removed;
    size_t ndirs_created, ndirs_removed;
    char *diff;
    struct jstep *steps;
    size_t nsteps;
};

/* The journal's name of a state ("?" when out of range). */
const char *journal_state_name(enum txn_state s);

/* Unfinished: all states but done, rolled-back and aborted. */
bool journal_state_pending(enum txn_state s);

/* Claims a fresh id (STATE/backups/ID created exclusively) and fills j for it: kind,
 * time, user, summary, state planned. Returns 0, or -1 with *cause. */
int journal_new(struct journal *j, const char *dir, const char *kind, const char *summary,
                char **cause);

/* Writes STATE/journal/ID.yaml atomically (0600). Returns 0, or -1 with *cause. */
int journal_save(const struct journal *j, char **cause);

/* Reads STATE/journal/ID.yaml into j (freed on failure). Returns 0, or -1 with *cause
 * naming the file and line. */
int journal_load(const char *dir, const char *id, struct journal *j, char **cause);

void journal_free(struct journal *j);

/* Appends a step record (done: 0 start, 1 done, -1 failed; a failure's message also
 * becomes j->error). Does not save. */
void journal_add_step(struct journal *j, const char *name, int done, const char *msg);

/* STATE/backups/ID/I.WHAT ("orig" or "new"), allocated. */
char *journal_backup_path(const struct journal *j, size_t i, const char *what);

/* Takes STATE/lock (flock, non-blocking) and writes the holder line into it. Returns 0,
 * TXN_ERR_LOCKED naming the holder, or -1 with *cause. */
int journal_lock(const char *dir, int *fdp, char **cause);
void journal_unlock(int fd); /* fd -1 is a no-op */

/* The journal entries of the state dir, newest first (pending_only: unfinished ones); an
 * unreadable journal is skipped, a missing dir is an empty list. Free with txn_info_free.
 * Returns 0, or -1 with *cause. */
int journal_list(const char *state_dir, bool pending_only, struct txn_info **out, size_t *n,
                 char **cause);

#endif
