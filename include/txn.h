/*
 * txn.h — the transaction that changes nginx's config safely: plan (diff and SHA-256 of
 * the bytes on disk) → lock → backup → journal → re-check → atomic write → nginx -t →
 * reload → confirm (error log and new worker PIDs) → verify hook → watch; any failure
 * after the first write restores the backups (and reloads again). An apply starts with
 * nginx -t on the config as it is, and writes nothing when nginx already refuses it. Every step is
 * journaled (YAML, libyaml) in STATE/journal/ID.yaml so an interrupted run can be
 * completed or rolled back later. No terminal I/O: progress goes through a callback.
 * Called by the fix verb (remedy), `tlstriage rollback`, `tlstriage history`.
 */
#ifndef TT_TXN_H
#define TT_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;
struct jfile;

/* One file to write. path may be a symlink: its target is written and the link kept.
 * mode applies only when the file does not exist yet (else mode, owner, ACL and SELinux
 * label of the existing file are kept). */
struct txn_change {
    const char *path;
    const char *data;
    size_t len;
    mode_t mode;         /* for a new file; 0 means 0644 */
    const char *summary; /* one line for humans, may be NULL */
};

/* How nginx is run, tested and reloaded. Every NULL field is discovered. */
struct txn_nginx {
    const char *binary;     /* nginx binary (NULL: "nginx") */
    const char *conf;       /* -c (NULL: nginx's default) */
    const char *prefix;     /* -p (NULL: none given) */
    const char *reload_cmd; /* split on blanks (quotes allowed), never a shell; NULL: auto
                             * (systemctl reload nginx under systemd, else nginx -s reload
                             * with the same -c/-p) */
    const char *pid_file;   /* NULL: the pid directive of `nginx -T`, else nginx -V's */
    const char *error_log;  /* NULL: the top-level error_log of `nginx -T`, else -V's */
    int confirm_ms;         /* how long to wait for the reload to show (0: 10000) */
};

/* The steps, as journaled and reported to the progress callback. */
enum txn_step {
    TXN_STEP_PLAN,
    TXN_STEP_LOCK,
    TXN_STEP_BACKUP,
    TXN_STEP_RECHECK,
    TXN_STEP_WRITE,
    TXN_STEP_TEST,
    TXN_STEP_RELOAD,
    TXN_STEP_CONFIRM,
    TXN_STEP_VERIFY,
    TXN_STEP_WATCH,
    TXN_STEP_RESTORE,
};

/* Journal states. Unfinished (pending) are all but DONE, ROLLED_BACK and ABORTED. */
enum txn_state {
    TXN_PLANNED,      /* journal written, nothing backed up yet */
    TXN_BACKED_UP,    /* backups complete, nothing written */
    TXN_WRITING,      /* some files may hold the new bytes */
    TXN_WRITTEN,      /* all files hold the new bytes */
    TXN_TESTED,       /* nginx -t passed */
    TXN_RELOADING,    /* reload sent, not confirmed */
    TXN_DONE,         /* reloaded and confirmed (or nginx was not running) */
    TXN_ROLLING_BACK, /* restoring the backups */
    TXN_ROLLED_BACK,  /* the old bytes are back (and nginx reloaded with them) */
    TXN_ABORTED,      /* stopped before any file changed */
    TXN_FAILED,       /* a restore failed: needs an operator (tlstriage rollback ID) */
};

/* Return codes of txn_apply / txn_rollback / txn_complete (negative = failure). */
enum {
    TXN_OK = 0,
    TXN_ERR = -1,         /* could not start or I/O failed; see *cause and res->state */
    TXN_ERR_LOCKED = -2,  /* another tlstriage holds the lock (cause names it) */
    TXN_ERR_CHANGED = -3, /* a file changed since the plan, or a rollback cannot take its
                           * change out of what later changes left: nothing written */
    TXN_ERR_TEST = -4,    /* nginx -t failed: backups restored (res->nginx_output) */
    TXN_ERR_RELOAD = -5,  /* the reload did not take: rolled back and reloaded again */
    TXN_ERR_VERIFY = -6,  /* the verify hook failed: rolled back and reloaded again */
    TXN_ERR_BROKEN = -7,  /* nginx -t failed before the change: nothing journaled or
                           * written (cause: nginx's own message, res->nginx_output) */
};

struct txn_opts {
    const char *state_dir; /* journal/, backups/, lock */
    const char *summary;   /* one line for history */
    struct txn_nginx nginx;
    /* The plan's SHA-256 of each file (hex, "" for "did not exist"), as computed when the
     * diff was shown; NULL: the bytes on disk at txn_apply time are the plan. */
    const char *const *planned_sha256;
    /* Called after a confirmed reload (e.g. the remedy re-probes); non-zero → rollback. */
    int (*verify)(void *arg, char **cause);
    void *verify_arg;
    /* After success, watch the error log this long for new lines naming watch_match
     * (e.g. the upstream "10.0.2.88:8443") with an upstream TLS failure; counted in the
     * result, no automatic rollback. */
    int watch_seconds;
    const char *watch_match;
    /* Progress for the front end (done = 0 when a step starts, 1 when it ends). */
    void (*progress)(void *arg, enum txn_step step, int done, const char *msg);
    void *progress_arg;
};

struct txn_result {
    char *id;             /* the journal id (also set on most failures) */
    enum txn_state state; /* the final state */
    char *diff;           /* unified diff of the change */
    char *nginx_output;   /* nginx -t / reload output or the log lines that refused */
    bool reloaded;        /* a reload was sent */
    bool confirmed;       /* the reload was confirmed (new workers / log) */
    char *note;           /* e.g. "nginx is not running: takes effect at start" */
    int watch_failures;   /* lines matched during the watch */
    char *watch_first;    /* the first such line (raw bytes: sanitize before printing) */
};

/* A journal entry, as history and the pending report show it. */
struct txn_info {
    char *id, *time, *user, *kind, *summary; /* kind: "apply" or "rollback" */
    char *reverts;                           /* rollback: the id it undid; else NULL */
    char *rolled_back_by;                    /* apply: the rollback that undid it; else NULL */
    char *error;                             /* the last failure, or NULL */
    char *last_step;                         /* the last step journaled, e.g. "write done" */
    enum txn_state state;
    bool confirmed;
    char **files; /* paths as given */
    size_t nfiles;
    char *diff;
};

/* Computes the diff of the changes against the bytes on disk into *diff (may be NULL)
 * and their SHA-256 into sha256[i] (65 bytes each, "" when the file is absent; may be
 * NULL). Returns 0, or -1 with *cause naming the file. */
int txn_plan(const struct txn_change *ch, size_t n, struct buf *diff, char (*sha256)[65],
             char **cause);

/* Runs the whole transaction. Returns TXN_OK or a TXN_ERR_* code; res is filled either
 * way (free with txn_result_free). SIGHUP/SIGINT/SIGTERM are held off from the first
 * write to the end of the confirm step, so a dropped session finishes the step safely. */
int txn_apply(const struct txn_opts *o, const struct txn_change *ch, size_t n,
              struct txn_result *res, char **cause);

/*
 * Takes the change of transaction id (NULL: the newest apply not yet rolled back,
 * finished or not; id may name a rollback, which puts back the change it took out) back
 * out, then nginx -t, reload, confirm and o->verify (e.g. a probe of the uses it touched),
 * as a journaled transaction of kind "rollback". A file that still holds what id wrote
 * gets its backup byte for byte; one that later changes moved on gets id's own diff
 * reversed (undo.h); when that does not apply, TXN_ERR_CHANGED before anything is
 * journaled, *cause naming the later transactions to roll back first. A file id created
 * is removed only when no line of the config (as it will be) names it (res->note says
 * which were kept), with the directories a transaction created for it once empty. NULL
 * fields of o->nginx come from the journal of id. A finished transaction with no file (a
 * reload: fix's reload strategy) has nothing to restore: TXN_OK with res->note saying so,
 * nothing journaled, no reload; with id NULL it is skipped.
 */
int txn_rollback(const struct txn_opts *o, const char *id, struct txn_result *res, char **cause);

/* Completes an interrupted transaction: writes the journaled new bytes where a file
 * still holds the old ones, nginx -t (failure → restore), reload, confirm. */
int txn_complete(const struct txn_opts *o, const char *id, struct txn_result *res, char **cause);

/* Journal entries, newest first (txn_pending: only the unfinished ones). A missing
 * state dir is an empty list. Returns 0, or -1 with *cause. */
int txn_list(const char *state_dir, struct txn_info **out, size_t *n, char **cause);
int txn_pending(const char *state_dir, struct txn_info **out, size_t *n, char **cause);
void txn_info_free(struct txn_info *v, size_t n);
void txn_result_free(struct txn_result *res);

const char *txn_state_name(enum txn_state s);
const char *txn_step_name(enum txn_step s);

/* What a journaled file holds now: TXN_HOLDS_OLD when it is as before the transaction
 * (absent, if it did not exist), TXN_HOLDS_NEW when as after it (absent, if the change
 * removes it); both when the two are alike, 0 when neither (someone edited it). Reads it
 * into scratch; *exists (when not NULL) says whether it exists. Returns the bits, or -1
 * with *cause when it cannot be read. */
enum { TXN_HOLDS_OLD = 1, TXN_HOLDS_NEW = 2 };
int txn_file_holds(const struct jfile *f, struct buf *scratch, bool *exists, char **cause);

/* SHA-256 of len bytes as 64 hex digits and a NUL. */
void txn_sha256_hex(const void *data, size_t len, char hex[65]);

/* Splits a command line on blanks, with '...' and "..." quoting and no other expansion.
 * Returns a NULL-terminated argv (free with txn_argv_free), or NULL when empty or a
 * quote is not closed. */
char **txn_split_command(const char *s);
void txn_argv_free(char **argv);

#endif
