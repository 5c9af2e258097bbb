/*
 * journal.c — the transaction journal: STATE/journal/ID.yaml (through yamlio) written atomically
 * and read back, fresh ids with their STATE/backups/ID directory, the state names, the
 * STATE/lock, and the listing newest first. Decides nothing about files or nginx (txn.c
 * does). Called by txn.c only.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "buf.h"
#include "journal.h"
#include "xmalloc.h"
#include "yamlio.h"

#define JOURNAL_VERSION 1

static const char *const state_names[] = {
    [TXN_PLANNED] = "planned",
    [TXN_BACKED_UP] = "backed-up",
    [TXN_WRITING] = "writing",
    [TXN_WRITTEN] = "written",
    [TXN_TESTED] = "tested",
    [TXN_RELOADING] = "reloading",
    [TXN_DONE] = "done",
    [TXN_ROLLING_BACK] = "rolling-back",
    [TXN_ROLLED_BACK] = "rolled-back",
    [TXN_ABORTED] = "aborted",
    [TXN_FAILED] = "failed",
};

const char *
journal_state_name(enum txn_state s)
{
    return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static int
journal_state_from_name(const char *s, enum txn_state *out)
{
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (s != NULL && strcmp(s, state_names[i]) == 0) {
            *out = (enum txn_state)i;
            return 0;
        }
    }
    return -1;
}

bool
journal_state_pending(enum txn_state s)
{
    return s != TXN_DONE && s != TXN_ROLLED_BACK && s != TXN_ABORTED;
}

void
journal_free(struct journal *j)
{
    free(j->dir);
    free(j->id);
    free(j->kind);
    free(j->time);
    free(j->user);
    free(j->summary);
    free(j->reverts);
    free(j->rolled_back_by);
    free(j->error);
    free(j->nginx_binary);
    free(j->nginx_conf);
    free(j->nginx_prefix);
    free(j->reload_cmd);
    for (size_t i = 0; i < j->nfiles; i++) {
        free(j->files[i].path);
        free(j->files[i].target);
        free(j->files[i].summary);
    }
    free(j->files);
    for (size_t i = 0; i < j->ndirs_created; i++)
        free(j->dirs_created[i]);
    free(j->dirs_created);
    for (size_t i = 0; i < j->ndirs_removed; i++)
        free(j->dirs_removed[i]);
    free(j->dirs_removed);
    free(j->diff);
    for (size_t i = 0; i < j->nsteps; i++) {
        free(j->steps[i].step);
        free(j->steps[i].status);
        free(j->steps[i].time);
        free(j->steps[i].msg);
    }
    free(j->steps);
    memset(j, 0, sizeof(*j));
}

static char *
now_iso(void)
{
    struct timespec ts;
    struct tm tm;
    char s[64];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(s);
}

static char *
user_name(void)
{
    struct passwd *pw = getpwuid(getuid());
    const char *sudo = getenv("SUDO_USER");
    char *name = pw != NULL ? xstrdup(pw->pw_name) : xasprintf("uid %lu", (unsigned long)getuid());

    if (sudo != NULL && sudo[0] != '\0') {
        char *s = xasprintf("%s (sudo from %s)", name, sudo);
        free(name);
        return s;
    }
    return name;
}

char *
journal_backup_path(const struct journal *j, size_t i, const char *what)
{
    return xasprintf("%s/backups/%s/%zu.%s", j->dir, j->id, i, what);
}

static char *
journal_path(const char *dir, const char *id)
{
    return xasprintf("%s/journal/%s.yaml", dir, id);
}

/* A sequence of strings under key k, left out when empty. */
static void
journal_emit_list(struct yamlio_emitter *e, const char *k, char *const *v, size_t n)
{
    if (n == 0)
        return;
    yamlio_str(e, k, YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(e, false);
    for (size_t i = 0; i < n; i++)
        yamlio_str(e, v[i], YAML_ANY_SCALAR_STYLE);
    yamlio_close(e, false);
}

static int
journal_emit(const struct journal *j, struct buf *out)
{
    struct yamlio_emitter em, *e = &em;

    if (yamlio_emit_begin(e, out) == -1)
        return -1;
    yamlio_open(e, true);
    yamlio_kulong(e, "tlstriage_journal", JOURNAL_VERSION, false);
    yamlio_kv(e, "id", j->id);
    yamlio_kv(e, "kind", j->kind);
    yamlio_kv(e, "time", j->time);
    yamlio_kv(e, "user", j->user);
    yamlio_kv(e, "summary", j->summary);
    yamlio_kv(e, "state", journal_state_name(j->state));
    yamlio_kv(e, "confirmed", j->confirmed ? "true" : "false");
    yamlio_kv(e, "reverts", j->reverts);
    yamlio_kv(e, "rolled_back_by", j->rolled_back_by);
    yamlio_kv(e, "error", j->error);
    yamlio_str(e, "nginx", YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(e, true);
    yamlio_kv(e, "binary", j->nginx_binary);
    yamlio_kv(e, "conf", j->nginx_conf);
    yamlio_kv(e, "prefix", j->nginx_prefix);
    yamlio_kv(e, "reload", j->reload_cmd);
    yamlio_close(e, true);
    yamlio_str(e, "files", YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(e, false);
    for (size_t i = 0; i < j->nfiles; i++) {
        const struct jfile *f = &j->files[i];
        yamlio_open(e, true);
        yamlio_kv(e, "path", f->path);
        yamlio_kv(e, "target", f->target);
        yamlio_kv(e, "existed", f->existed ? "true" : "false");
        yamlio_kv(e, "remove", f->remove ? "true" : "false");
        yamlio_kulong(e, "mode", (unsigned long)f->mode, true);
        yamlio_kulong(e, "uid", f->uid, false);
        yamlio_kulong(e, "gid", f->gid, false);
        yamlio_kv(e, "sha256_before", f->before);
        yamlio_kv(e, "sha256_after", f->after);
        char *b = xasprintf("backups/%s/%zu.orig", j->id, i);
        char *n = xasprintf("backups/%s/%zu.new", j->id, i);
        yamlio_kv(e, "backup", f->existed ? b : NULL);
        yamlio_kv(e, "new", f->remove ? NULL : n);
        free(b);
        free(n);
        yamlio_kv(e, "summary", f->summary);
        yamlio_close(e, true);
    }
    yamlio_close(e, false);
    journal_emit_list(e, "dirs_created", j->dirs_created, j->ndirs_created);
    journal_emit_list(e, "dirs_removed", j->dirs_removed, j->ndirs_removed);
    if (j->diff != NULL) {
        yamlio_str(e, "diff", YAML_PLAIN_SCALAR_STYLE);
        yamlio_str(e, j->diff, YAML_LITERAL_SCALAR_STYLE);
    }
    yamlio_str(e, "steps", YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(e, false);
    for (size_t i = 0; i < j->nsteps; i++) {
        yamlio_open(e, true);
        yamlio_kv(e, "step", j->steps[i].step);
        yamlio_kv(e, "status", j->steps[i].status);
        yamlio_kv(e, "time", j->steps[i].time);
        yamlio_kv(e, "message", j->steps[i].msg);
        yamlio_close(e, true);
    }
    yamlio_close(e, false);
    yamlio_close(e, true);
    return yamlio_emit_end(e);
}

/* Writes the journal atomically (STATE/journal/ID.yaml, 0600). */
int
journal_save(const struct journal *j, char **cause)
{
    struct buf b = BUF_INIT;
    char *dir = xasprintf("%s/journal", j->dir), *path = journal_path(j->dir, j->id);
    int rc = -1;

    if (journal_emit(j, &b) == -1) {
        *cause = xasprintf("%s: cannot write the journal as YAML", path);
        goto out;
    }
    if (atomicfile_mkdir_p(dir, cause) == -1 ||
        atomicfile_write(path, b.p, b.len, 0600, cause) == -1)
        goto out;
    rc = 0;
out:
    buf_free(&b);
    free(dir);
    free(path);
    return rc;
}

static void
y_hash(const struct yamlio_doc *d, const yaml_node_t *map, const char *key, char out[65])
{
    char *s = yamlio_dup(d, map, key);

    snprintf(out, 65, "%s", s != NULL ? s : "");
    free(s);
}

/* The strings of the sequence under key (missing: none). */
static char **
journal_load_list(const struct yamlio_doc *d, const yaml_node_t *map, const char *key, size_t *n)
{
    const yaml_node_t *seq = yamlio_get(d, map, key);
    size_t len = yamlio_seq_len(seq);
    char **v;

    *n = 0;
    if (len == 0)
        return NULL;
    v = xcalloc(len + 1, sizeof(*v));
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *s = yamlio_seq_at(d, seq, i);
        if (s != NULL && s->type == YAML_SCALAR_NODE)
            v[(*n)++] = xstrndup((const char *)s->data.scalar.value, s->data.scalar.length);
    }
    return v;
}

int
journal_load(const char *dir, const char *id, struct journal *j, char **cause)
{
    char *path = journal_path(dir, id);
    struct buf b = BUF_INIT;
    struct yamlio_doc d;
    const yaml_node_t *root, *seq;
    char *state = NULL;
    int rc = -1;

    memset(j, 0, sizeof(*j));
    memset(&d, 0, sizeof(d));
    if (atomicfile_read(path, &b, NULL, cause) == -1)
        goto out;
    if (yamlio_load(&d, path, b.p, b.len, cause) == -1) {
        free(*cause);
        *cause = xasprintf("%s:%zu: not a valid journal: %s", path, d.err_line, d.err_problem);
        goto out;
    }
    root = d.root;
    j->dir = xstrdup(dir);
    j->id = yamlio_dup(&d, root, "id");
    state = yamlio_dup(&d, root, "state");
    if (j->id == NULL || journal_state_from_name(state, &j->state) == -1) {
        *cause = xasprintf("%s: not a tlstriage journal (no id or state)", path);
        goto out;
    }
    j->kind = yamlio_dup(&d, root, "kind");
    j->time = yamlio_dup(&d, root, "time");
    j->user = yamlio_dup(&d, root, "user");
    j->summary = yamlio_dup(&d, root, "summary");
    j->reverts = yamlio_dup(&d, root, "reverts");
    j->rolled_back_by = yamlio_dup(&d, root, "rolled_back_by");
    j->error = yamlio_dup(&d, root, "error");
    j->confirmed = yamlio_bool(&d, root, "confirmed");
    j->diff = yamlio_dup(&d, root, "diff");
    const yaml_node_t *ng = yamlio_get(&d, root, "nginx");
    j->nginx_binary = yamlio_dup(&d, ng, "binary");
    j->nginx_conf = yamlio_dup(&d, ng, "conf");
    j->nginx_prefix = yamlio_dup(&d, ng, "prefix");
    j->reload_cmd = yamlio_dup(&d, ng, "reload");
    if ((seq = yamlio_get(&d, root, "files")) != NULL && seq->type == YAML_SEQUENCE_NODE) {
        size_t n = yamlio_seq_len(seq);
        j->files = xcalloc(n + 1, sizeof(*j->files));
        for (size_t i = 0; i < n; i++) {
            const yaml_node_t *m = yamlio_seq_at(&d, seq, i);
            struct jfile *f = &j->files[j->nfiles++];
            f->path = yamlio_dup(&d, m, "path");
            f->target = yamlio_dup(&d, m, "target");
            f->summary = yamlio_dup(&d, m, "summary");
            f->existed = yamlio_bool(&d, m, "existed");
            f->remove = yamlio_bool(&d, m, "remove");
            f->mode = (mode_t)yamlio_ulong(&d, m, "mode", 8);
            f->uid = yamlio_ulong(&d, m, "uid", 10);
            f->gid = yamlio_ulong(&d, m, "gid", 10);
            y_hash(&d, m, "sha256_before", f->before);
            y_hash(&d, m, "sha256_after", f->after);
            if (f->path == NULL || f->target == NULL) {
                *cause = xasprintf("%s: file %zu has no path or target", path, i + 1);
                goto out;
            }
        }
    }
    j->dirs_created = journal_load_list(&d, root, "dirs_created", &j->ndirs_created);
    j->dirs_removed = journal_load_list(&d, root, "dirs_removed", &j->ndirs_removed);
    if ((seq = yamlio_get(&d, root, "steps")) != NULL && seq->type == YAML_SEQUENCE_NODE) {
        size_t n = yamlio_seq_len(seq);
        j->steps = xcalloc(n + 1, sizeof(*j->steps));
        for (size_t i = 0; i < n; i++) {
            const yaml_node_t *m = yamlio_seq_at(&d, seq, i);
            struct jstep *s = &j->steps[j->nsteps++];
            s->step = yamlio_dup(&d, m, "step");
            s->status = yamlio_dup(&d, m, "status");
            s->time = yamlio_dup(&d, m, "time");
            s->msg = yamlio_dup(&d, m, "message");
        }
    }
    rc = 0;
out:
    if (rc == -1)
        journal_free(j);
    yamlio_doc_free(&d);
    free(state);
    free(path);
    buf_free(&b);
    return rc;
}

/* Appends a step record (before: done = 0, after: done = 1, failed: done = -1); a failure's
 * message also becomes the journal's error. */
void
journal_add_step(struct journal *j, const char *name, int done, const char *msg)
{
    struct jstep *st;

    j->steps = xreallocarray(j->steps, j->nsteps + 1, sizeof(*j->steps));
    st = &j->steps[j->nsteps++];
    st->step = xstrdup(name);
    st->status = xstrdup(done == 0 ? "start" : done > 0 ? "done" : "failed");
    st->time = now_iso();
    st->msg = msg != NULL ? xstrdup(msg) : NULL;
    if (done < 0 && msg != NULL) {
        free(j->error);
        j->error = xstrdup(msg);
    }
}

int
journal_lock(const char *dir, int *fdp, char **cause)
{
    char *path = xasprintf("%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int rc = -1;

    if (fd == -1) {
        *cause = xasprintf("%s: cannot open the lock: %s", path, strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        char who[256] = "";
        ssize_t n = pread(fd, who, sizeof(who) - 1, 0);
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        *cause = xasprintf("%s: another tlstriage is changing the config (%s); try again "
                           "when it has finished",
                           path, who[0] != '\0' ? who : "holder unknown");
        close(fd);
        fd = -1;
        rc = TXN_ERR_LOCKED;
        goto out;
    }
    char *user = user_name(), *t = now_iso();
    char *who = xasprintf("pid %ld, user %s, since %s\n", (long)getpid(), user, t);
    if (ftruncate(fd, 0) == 0)
        (void)!pwrite(fd, who, strlen(who), 0);
    free(user);
    free(t);
    free(who);
    *fdp = fd;
    rc = 0;
out:
    free(path);
    return rc;
}

void
journal_unlock(int fd)
{
    if (fd != -1) {
        if (ftruncate(fd, 0) == -1) {
            /* the holder line stays; harmless, flock is what counts */
        }
        close(fd);
    }
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* Claims a fresh id: the backups/ID directory is created exclusively. */
int
journal_new(struct journal *j, const char *dir, const char *kind, const char *summary, char **cause)
{
    char *bdir = xasprintf("%s/backups", dir);
    int rc = atomicfile_mkdir_p(bdir, cause);

    memset(j, 0, sizeof(*j));
    j->dir = xstrdup(dir);
    for (int tries = 0; rc == 0 && tries < 1000; tries++) {
        struct timespec ts;
        struct tm tm;
        char s[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(s, sizeof(s), "%Y%m%d-%H%M%S", &tm);
        char *id = xasprintf("%s-%03ld", s, ts.tv_nsec / 1000000);
        char *p = xasprintf("%s/%s", bdir, id);
        int m = mkdir(p, 0700);
        free(p);
        if (m == 0) {
            j->id = id;
            break;
        }
        free(id);
        if (errno != EEXIST) {
            *cause = xasprintf("%s: cannot create a backup directory: %s", bdir, strerror(errno));
            rc = -1;
        }
        sleep_ms(1);
    }
    if (rc == 0 && j->id == NULL) {
        *cause = xasprintf("%s: cannot find a free transaction id", bdir);
        rc = -1;
    }
    free(bdir);
    j->kind = xstrdup(kind);
    j->time = now_iso();
    j->user = user_name();
    j->summary = summary != NULL ? xstrdup(summary) : NULL;
    j->state = TXN_PLANNED;
    return rc;
}

static int
info_from_journal(struct txn_info *v, struct journal *j)
{
    memset(v, 0, sizeof(*v));
    v->id = j->id;
    v->time = j->time;
    v->user = j->user;
    v->kind = j->kind;
    v->summary = j->summary;
    v->reverts = j->reverts;
    v->rolled_back_by = j->rolled_back_by;
    v->error = j->error;
    v->diff = j->diff;
    v->state = j->state;
    v->confirmed = j->confirmed;
    j->id = j->time = j->user = j->kind = j->summary = j->reverts = j->rolled_back_by = NULL;
    j->error = j->diff = NULL;
    if (j->nsteps > 0)
        v->last_step =
            xasprintf("%s %s", j->steps[j->nsteps - 1].step, j->steps[j->nsteps - 1].status);
    v->files = xcalloc(j->nfiles + 1, sizeof(*v->files));
    for (size_t i = 0; i < j->nfiles; i++)
        v->files[v->nfiles++] = xstrdup(j->files[i].path);
    return 0;
}

static int
cmp_desc(const void *a, const void *b)
{
    return -strcmp(((const struct txn_info *)a)->id, ((const struct txn_info *)b)->id);
}

int
journal_list(const char *state_dir, bool pending_only, struct txn_info **out, size_t *n,
             char **cause)
{
    char *dir = xasprintf("%s/journal", state_dir);
    DIR *d = opendir(dir);
    struct dirent *de;
    struct txn_info *v = NULL;
    size_t count = 0;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (d == NULL) {
        if (errno == ENOENT) {
            rc = 0;
        } else {
            *cause = xasprintf("%s: cannot list: %s", dir, strerror(errno));
        }
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        struct journal j;
        char *err = NULL;
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
            continue;
        char *id = xstrndup(de->d_name, len - 5);
        int r2 = journal_load(state_dir, id, &j, &err);
        free(id);
        if (r2 == -1) {
            free(err); /* an unreadable journal is skipped, not fatal for the list */
            continue;
        }
        if (!pending_only || journal_state_pending(j.state)) {
            v = xreallocarray(v, count + 1, sizeof(*v));
            info_from_journal(&v[count++], &j);
        }
        journal_free(&j);
    }
    if (count > 0)
        qsort(v, count, sizeof(*v), cmp_desc);
    *out = v;
    *n = count;
    rc = 0;
out:
    if (d != NULL)
        closedir(d);
    free(dir);
    return rc;
}
