/*
 * journal.c — the transaction journal: STATE/journal/ID.yaml (libyaml) written atomically
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

#include <yaml.h>

#include "atomicfile.h"
#include "buf.h"
#include "journal.h"
#include "sanitize.h"
#include "xmalloc.h"

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

/* Text for YAML: libyaml wants UTF-8, so any other byte becomes \xNN text. */
static char *
utf8_clean(const char *s)
{
    struct buf b = BUF_INIT;
    size_t len = strlen(s);

    buf_add(&b, "", 0);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            buf_addf(&b, "\\x%02x", (unsigned char)s[i]);
            i++;
        } else {
            buf_add(&b, s + i, n);
            i += n;
        }
    }
    return buf_detach(&b);
}

static int
y_emit(yaml_emitter_t *e, yaml_event_t *ev)
{
    return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int
y_str(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    char *c = utf8_clean(s != NULL ? s : "");
    int rc = -1;

    if (yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)c, (int)strlen(c), 1, 1,
                                     style))
        rc = y_emit(e, &ev);
    free(c);
    return rc;
}

static int
y_kv(yaml_emitter_t *e, const char *k, const char *v)
{
    if (v == NULL)
        return 0;
    return y_str(e, k, YAML_PLAIN_SCALAR_STYLE) == 0 && y_str(e, v, YAML_ANY_SCALAR_STYLE) == 0
               ? 0
               : -1;
}

static int
y_kulong(yaml_emitter_t *e, const char *k, unsigned long v, bool octal)
{
    char s[64];

    if (octal)
        snprintf(s, sizeof(s), "%04lo", v);
    else
        snprintf(s, sizeof(s), "%lu", v);
    return y_kv(e, k, s);
}

static int
y_open(yaml_emitter_t *e, bool map)
{
    yaml_event_t ev;

    if (map)
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    else
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    return y_emit(e, &ev);
}

static int
y_close(yaml_emitter_t *e, bool map)
{
    yaml_event_t ev;

    if (map)
        yaml_mapping_end_event_initialize(&ev);
    else
        yaml_sequence_end_event_initialize(&ev);
    return y_emit(e, &ev);
}

static int
y_out(void *data, unsigned char *buffer, size_t size)
{
    buf_add(data, buffer, size);
    return 1;
}

static int
journal_emit(const struct journal *j, struct buf *out)
{
    yaml_emitter_t e;
    yaml_event_t ev;
    int bad = 0;

    if (!yaml_emitter_initialize(&e))
        return -1;
    yaml_emitter_set_output(&e, y_out, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    bad |= y_emit(&e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
    bad |= y_emit(&e, &ev);
    bad |= y_open(&e, true);
    bad |= y_kulong(&e, "tlstriage_journal", JOURNAL_VERSION, false);
    bad |= y_kv(&e, "id", j->id);
    bad |= y_kv(&e, "kind", j->kind);
    bad |= y_kv(&e, "time", j->time);
    bad |= y_kv(&e, "user", j->user);
    bad |= y_kv(&e, "summary", j->summary);
    bad |= y_kv(&e, "state", journal_state_name(j->state));
    bad |= y_kv(&e, "confirmed", j->confirmed ? "true" : "false");
    bad |= y_kv(&e, "reverts", j->reverts);
    bad |= y_kv(&e, "rolled_back_by", j->rolled_back_by);
    bad |= y_kv(&e, "error", j->error);
    bad |= y_str(&e, "nginx", YAML_PLAIN_SCALAR_STYLE);
    bad |= y_open(&e, true);
    bad |= y_kv(&e, "binary", j->nginx_binary);
    bad |= y_kv(&e, "conf", j->nginx_conf);
    bad |= y_kv(&e, "prefix", j->nginx_prefix);
    bad |= y_kv(&e, "reload", j->reload_cmd);
    bad |= y_close(&e, true);
    bad |= y_str(&e, "files", YAML_PLAIN_SCALAR_STYLE);
    bad |= y_open(&e, false);
    for (size_t i = 0; i < j->nfiles; i++) {
        const struct jfile *f = &j->files[i];
        bad |= y_open(&e, true);
        bad |= y_kv(&e, "path", f->path);
        bad |= y_kv(&e, "target", f->target);
        bad |= y_kv(&e, "existed", f->existed ? "true" : "false");
        bad |= y_kv(&e, "remove", f->remove ? "true" : "false");
        bad |= y_kulong(&e, "mode", (unsigned long)f->mode, true);
        bad |= y_kulong(&e, "uid", f->uid, false);
        bad |= y_kulong(&e, "gid", f->gid, false);
        bad |= y_kv(&e, "sha256_before", f->before);
        bad |= y_kv(&e, "sha256_after", f->after);
        char *b = xasprintf("backups/%s/%zu.orig", j->id, i);
        char *n = xasprintf("backups/%s/%zu.new", j->id, i);
        bad |= y_kv(&e, "backup", f->existed ? b : NULL);
        bad |= y_kv(&e, "new", f->remove ? NULL : n);
        free(b);
        free(n);
        bad |= y_kv(&e, "summary", f->summary);
        bad |= y_close(&e, true);
    }
    bad |= y_close(&e, false);
    if (j->diff != NULL) {
        bad |= y_str(&e, "diff", YAML_PLAIN_SCALAR_STYLE);
        bad |= y_str(&e, j->diff, YAML_LITERAL_SCALAR_STYLE);
    }
    bad |= y_str(&e, "steps", YAML_PLAIN_SCALAR_STYLE);
    bad |= y_open(&e, false);
    for (size_t i = 0; i < j->nsteps; i++) {
        bad |= y_open(&e, true);
        bad |= y_kv(&e, "step", j->steps[i].step);
        bad |= y_kv(&e, "status", j->steps[i].status);
        bad |= y_kv(&e, "time", j->steps[i].time);
        bad |= y_kv(&e, "message", j->steps[i].msg);
        bad |= y_close(&e, true);
    }
    bad |= y_close(&e, false);
    bad |= y_close(&e, true);
    yaml_document_end_event_initialize(&ev, 1);
    bad |= y_emit(&e, &ev);
    yaml_stream_end_event_initialize(&ev);
    bad |= y_emit(&e, &ev);
    yaml_emitter_delete(&e);
    return bad ? -1 : 0;
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

static const yaml_node_t *
y_get(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static char *
y_dup(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
    const yaml_node_t *n = y_get(d, map, key);

    if (n == NULL || n->type != YAML_SCALAR_NODE)
        return NULL;
    return xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

static bool
y_bool(yaml_document_t *d, const yaml_node_t *map, const char *key)
{
    char *s = y_dup(d, map, key);
    bool v = s != NULL && strcmp(s, "true") == 0;

    free(s);
    return v;
}

static unsigned long
y_ulong(yaml_document_t *d, const yaml_node_t *map, const char *key, int base)
{
    char *s = y_dup(d, map, key);
    unsigned long v = s != NULL ? strtoul(s, NULL, base) : 0;

    free(s);
    return v;
}

static void
y_hash(yaml_document_t *d, const yaml_node_t *map, const char *key, char out[65])
{
    char *s = y_dup(d, map, key);

    snprintf(out, 65, "%s", s != NULL ? s : "");
    free(s);
}

int
journal_load(const char *dir, const char *id, struct journal *j, char **cause)
{
    char *path = journal_path(dir, id);
    struct buf b = BUF_INIT;
    yaml_parser_t p;
    yaml_document_t d;
    bool have_doc = false;
    const yaml_node_t *root, *seq;
    char *state = NULL;
    int rc = -1;

    memset(j, 0, sizeof(*j));
    yaml_parser_initialize(&p);
    if (atomicfile_read(path, &b, NULL, cause) == -1)
        goto out;
    yaml_parser_set_input_string(&p, (const unsigned char *)b.p, b.len);
    if (!yaml_parser_load(&p, &d)) {
        *cause = xasprintf("%s:%zu: not a valid journal: %s", path, p.problem_mark.line + 1,
                           p.problem != NULL ? p.problem : "YAML error");
        goto out;
    }
    have_doc = true;
    root = yaml_document_get_root_node(&d);
    j->dir = xstrdup(dir);
    j->id = y_dup(&d, root, "id");
    state = y_dup(&d, root, "state");
    if (j->id == NULL || journal_state_from_name(state, &j->state) == -1) {
        *cause = xasprintf("%s: not a tlstriage journal (no id or state)", path);
        goto out;
    }
    j->kind = y_dup(&d, root, "kind");
    j->time = y_dup(&d, root, "time");
    j->user = y_dup(&d, root, "user");
    j->summary = y_dup(&d, root, "summary");
    j->reverts = y_dup(&d, root, "reverts");
    j->rolled_back_by = y_dup(&d, root, "rolled_back_by");
    j->error = y_dup(&d, root, "error");
    j->confirmed = y_bool(&d, root, "confirmed");
    j->diff = y_dup(&d, root, "diff");
    const yaml_node_t *ng = y_get(&d, root, "nginx");
    j->nginx_binary = y_dup(&d, ng, "binary");
    j->nginx_conf = y_dup(&d, ng, "conf");
    j->nginx_prefix = y_dup(&d, ng, "prefix");
    j->reload_cmd = y_dup(&d, ng, "reload");
    if ((seq = y_get(&d, root, "files")) != NULL && seq->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
        j->files = xcalloc(n + 1, sizeof(*j->files));
        for (size_t i = 0; i < n; i++) {
            const yaml_node_t *m = yaml_document_get_node(&d, seq->data.sequence.items.start[i]);
            struct jfile *f = &j->files[j->nfiles++];
            f->path = y_dup(&d, m, "path");
            f->target = y_dup(&d, m, "target");
            f->summary = y_dup(&d, m, "summary");
            f->existed = y_bool(&d, m, "existed");
            f->remove = y_bool(&d, m, "remove");
            f->mode = (mode_t)y_ulong(&d, m, "mode", 8);
            f->uid = y_ulong(&d, m, "uid", 10);
            f->gid = y_ulong(&d, m, "gid", 10);
            y_hash(&d, m, "sha256_before", f->before);
            y_hash(&d, m, "sha256_after", f->after);
            if (f->path == NULL || f->target == NULL) {
                *cause = xasprintf("%s: file %zu has no path or target", path, i + 1);
                goto out;
            }
        }
    }
    if ((seq = y_get(&d, root, "steps")) != NULL && seq->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
        j->steps = xcalloc(n + 1, sizeof(*j->steps));
        for (size_t i = 0; i < n; i++) {
            const yaml_node_t *m = yaml_document_get_node(&d, seq->data.sequence.items.start[i]);
            struct jstep *s = &j->steps[j->nsteps++];
            s->step = y_dup(&d, m, "step");
            s->status = y_dup(&d, m, "status");
            s->time = y_dup(&d, m, "time");
            s->msg = y_dup(&d, m, "message");
        }
    }
    rc = 0;
out:
    if (rc == -1)
        journal_free(j);
    if (have_doc)
        yaml_document_delete(&d);
    yaml_parser_delete(&p);
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
