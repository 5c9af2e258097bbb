/*
 * test_txn.c — the transaction without a running nginx: nginx is stood in by true(1) /
 * false(1) for -t and the reload (the real nginx is in tests/integration/txn*.sh). Pins
 * the journal round trip, the hash re-check, symlinks, mode/owner, backups, rollback.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "journal.h"
#include "txn.h"
#include "undo.h"
#include "xmalloc.h"

struct fx {
    char dir[64];
    char *state, *conf;
};

static void
put_file(const char *path, const char *s)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(s, fp);
    fclose(fp);
}

static char *
get_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;

    if (fp == NULL)
        return NULL;
    buf_add(&b, "", 0);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(&b, chunk, n);
    fclose(fp);
    return buf_detach(&b);
}

static int
setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";

    snprintf(f->dir, sizeof(f->dir), "%.40s/tt-txn-XXXXXX", tmp);
    assert_non_null(mkdtemp(f->dir));
    f->state = xasprintf("%s/state", f->dir);
    f->conf = xasprintf("%s/nginx.conf", f->dir);
    put_file(f->conf, "events {}\nhttp {\n    server { listen 127.0.0.1:20599; }\n}\n");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char *argv[] = {"rm", "-rf", f->dir, NULL};
    pid_t pid = fork();

    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    waitpid(pid, NULL, 0);
    free(f->state);
    free(f->conf);
    free(f);
    return 0;
}

/* Options where `nginx -t` is test_cmd and the reload is true(1). */
static void
opts(struct txn_opts *o, struct fx *f, const char *test_cmd)
{
    memset(o, 0, sizeof(*o));
    o->state_dir = f->state;
    o->summary = "unit test change";
    o->nginx.binary = test_cmd;
    o->nginx.reload_cmd = "true";
    o->nginx.confirm_ms = 50;
}

static const char *NEW = "events {}\nhttp {\n    server { listen 127.0.0.1:20598; }\n}\n";
static const char *OLD = "events {}\nhttp {\n    server { listen 127.0.0.1:20599; }\n}\n";

static int
apply1(struct fx *f, const char *test_cmd, const char *path, const char *data,
       struct txn_result *res, char **cause)
{
    struct txn_opts o;
    struct txn_change ch = {.path = path, .data = data, .len = strlen(data), .summary = "s"};

    opts(&o, f, test_cmd);
    *cause = NULL;
    return txn_apply(&o, &ch, 1, res, cause);
}

static void
apply_writes_the_new_bytes_and_the_journal_round_trips(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct txn_info *v;
    size_t n;
    char *cause, *got;

    assert_int_equal(apply1(f, "true", f->conf, NEW, &res, &cause), TXN_OK);
    assert_int_equal(res.state, TXN_DONE);
    assert_string_equal((got = get_file(f->conf)), NEW);
    free(got);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].id, res.id);
    assert_string_equal(v[0].kind, "apply");
    assert_string_equal(v[0].summary, "unit test change");
    assert_int_equal(v[0].state, TXN_DONE);
    assert_int_equal(v[0].nfiles, 1);
    assert_string_equal(v[0].files[0], f->conf);
    assert_string_equal(v[0].diff, res.diff);
    assert_non_null(strstr(v[0].diff, "-    server { listen 127.0.0.1:20599; }\n"
                                      "+    server { listen 127.0.0.1:20598; }\n"));
    assert_string_equal(v[0].last_step, "confirm done");
    txn_info_free(v, n);
    assert_int_equal(txn_pending(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 0);
    txn_result_free(&res);
}

static void
backups_are_0600_copies_of_the_old_bytes(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct stat st;
    char *cause, *got, *path;

    assert_int_equal(apply1(f, "true", f->conf, NEW, &res, &cause), TXN_OK);
    path = xasprintf("%s/backups/%s/0.orig", f->state, res.id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_string_equal((got = get_file(path)), OLD);
    free(got);
    free(path);
    path = xasprintf("%s/journal/%s.yaml", f->state, res.id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    free(path);
    txn_result_free(&res);
}

static void
a_file_changed_after_the_plan_stops_with_nothing_changed(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    char sha[1][65], *cause = NULL, *got;
    const char *planned[1] = {sha[0]};
    struct txn_change ch = {.path = f->conf, .data = NEW, .len = strlen(NEW)};

    assert_int_equal(txn_plan(&ch, 1, NULL, sha, &cause), 0);
    put_file(f->conf, "# edited by a colleague\n");
    opts(&o, f, "true");
    o.planned_sha256 = planned;
    assert_int_equal(txn_apply(&o, &ch, 1, &res, &cause), TXN_ERR_CHANGED);
    assert_non_null(strstr(cause, "changed since the plan"));
    assert_string_equal((got = get_file(f->conf)), "# edited by a colleague\n");
    free(got);
    free(cause);
    txn_result_free(&res);
}

static void
a_symlinked_site_stays_a_link_and_its_target_is_written(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct stat st;
    char *cause, *got;
    char *avail = xasprintf("%s/sites-available", f->dir),
         *en = xasprintf("%s/sites-enabled", f->dir);
    char *target = xasprintf("%s/api", avail), *link = xasprintf("%s/api", en);

    assert_int_equal(mkdir(avail, 0755), 0);
    assert_int_equal(mkdir(en, 0755), 0);
    put_file(target, OLD);
    assert_int_equal(symlink("../sites-available/api", link), 0);
    assert_int_equal(apply1(f, "true", link, NEW, &res, &cause), TXN_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal((got = get_file(target)), NEW);
    free(got);
    txn_result_free(&res);
    /* and the rollback restores through the link too */
    struct txn_opts o;
    opts(&o, f, "true");
    assert_int_equal(txn_rollback(&o, NULL, &res, &cause), TXN_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_string_equal((got = get_file(target)), OLD);
    free(got);
    txn_result_free(&res);
    free(avail);
    free(en);
    free(target);
    free(link);
}

static void
mode_and_group_of_a_0640_config_are_kept(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct stat st;
    struct group *g = getgrnam("www-data");
    char *cause;

    if (g == NULL)
        g = getgrnam("nogroup");
    if (geteuid() != 0 || g == NULL)
        skip();
    assert_int_equal(chown(f->conf, 0, g->gr_gid), 0);
    assert_int_equal(chmod(f->conf, 0640), 0);
    assert_int_equal(apply1(f, "true", f->conf, NEW, &res, &cause), TXN_OK);
    assert_int_equal(stat(f->conf, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_gid, g->gr_gid);
    txn_result_free(&res);
}

/* A stand-in for nginx whose -t refuses the config once it holds NEW's port (20598), with
 * nginx's own kind of message. Returns the script's path (caller frees). */
static char *
nginx_refusing_new(struct fx *f)
{
    char *script = xasprintf("%s/nginx-refusing", f->dir);
    char *text = xasprintf("#!/bin/sh\n[ \"$1\" = -t ] || exit 0\n"
                           "grep -q 20598 %s || exit 0\n"
                           "echo 'nginx: [emerg] invalid port in \"20598\" in %s:3'\n"
                           "exit 1\n",
                           f->conf, f->conf);

    put_file(script, text);
    free(text);
    assert_int_equal(chmod(script, 0755), 0);
    return script;
}

static void
nginx_t_failure_restores_the_old_bytes(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    char *cause, *got, *ng = nginx_refusing_new(f);

    assert_int_equal(apply1(f, ng, f->conf, NEW, &res, &cause), TXN_ERR_TEST);
    free(ng);
    assert_int_equal(res.state, TXN_ROLLED_BACK);
    assert_non_null(strstr(cause, "-t failed"));
    assert_string_equal((got = get_file(f->conf)), OLD);
    free(got);
    free(cause);
    txn_result_free(&res);
}

/* The number of entries in directory path (-1: it does not exist). */
static int
dir_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void
a_config_nginx_already_refuses_is_neither_backed_up_nor_written(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct txn_info *v;
    size_t n;
    char *cause, *got, *ng = nginx_refusing_new(f), *backups = xasprintf("%s/backups", f->state);

    put_file(f->conf, NEW); /* the config on disk is already one nginx -t refuses */
    assert_int_equal(apply1(f, ng, f->conf, OLD, &res, &cause), TXN_ERR_BROKEN);
    assert_int_equal(res.state, TXN_ABORTED);
    assert_null(res.id);
    assert_non_null(strstr(cause, "already fails before this change"));
    assert_non_null(strstr(cause, "[emerg] invalid port"));
    assert_non_null(strstr(cause, "nginx.conf:3"));
    assert_string_equal((got = get_file(f->conf)), NEW);
    assert_true(dir_entries(backups) <= 0);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 0);
    free(v);
    free(got);
    free(ng);
    free(backups);
    free(cause);
    txn_result_free(&res);
}

static void
a_failed_apply_removes_the_directory_it_created(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    struct stat st;
    char *cause = NULL, *ng = nginx_refusing_new(f), *dir = xasprintf("%s/certs/sub", f->dir);
    char *pem = xasprintf("%s/pin.pem", dir);
    struct txn_change ch[2] = {{.path = f->conf, .data = NEW, .len = strlen(NEW)},
                               {.path = pem, .data = "PEM\n", .len = 4}};

    opts(&o, f, ng);
    assert_int_equal(txn_apply(&o, ch, 2, &res, &cause), TXN_ERR_TEST);
    assert_int_equal(res.state, TXN_ROLLED_BACK);
    assert_int_equal(stat(pem, &st), -1);
    assert_int_equal(stat(dir, &st), -1);
    free(dir);
    dir = xasprintf("%s/certs", f->dir);
    assert_int_equal(stat(dir, &st), -1); /* both levels it made */
    free(dir);
    free(pem);
    free(ng);
    free(cause);
    txn_result_free(&res);
}

static int
verify_fails(void *arg, char **cause)
{
    (*(int *)arg)++;
    *cause = xstrdup("probe still fails");
    return -1;
}

static void
a_failing_verify_hook_rolls_back(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    int called = 0;
    char *cause = NULL, *got;
    struct txn_change ch = {.path = f->conf, .data = NEW, .len = strlen(NEW)};

    opts(&o, f, "true");
    o.verify = verify_fails;
    o.verify_arg = &called;
    assert_int_equal(txn_apply(&o, &ch, 1, &res, &cause), TXN_ERR_VERIFY);
    assert_int_equal(called, 1);
    assert_string_equal(cause, "probe still fails");
    assert_int_equal(res.state, TXN_ROLLED_BACK);
    assert_string_equal((got = get_file(f->conf)), OLD);
    free(got);
    free(cause);
    txn_result_free(&res);
}

static void
rollback_restores_byte_for_byte_and_is_journaled_newest_first(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    struct txn_info *v;
    size_t n;
    char *cause, *got, *first;

    assert_int_equal(apply1(f, "true", f->conf, NEW, &res, &cause), TXN_OK);
    first = xstrdup(res.id);
    txn_result_free(&res);
    opts(&o, f, "true");
    assert_int_equal(txn_rollback(&o, NULL, &res, &cause), TXN_OK);
    assert_string_equal((got = get_file(f->conf)), OLD);
    free(got);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].kind, "rollback");
    assert_string_equal(v[0].reverts, first);
    assert_string_equal(v[1].id, first);
    assert_string_equal(v[1].rolled_back_by, v[0].id);
    assert_int_equal(v[1].state, TXN_ROLLED_BACK);
    txn_info_free(v, n);
    txn_result_free(&res);
    /* nothing left to roll back */
    assert_int_equal(txn_rollback(&o, NULL, &res, &cause), TXN_ERR);
    assert_non_null(strstr(cause, "no transaction to roll back"));
    free(cause);
    txn_result_free(&res);
    free(first);
}

static void
a_new_file_gets_its_mode_and_rollback_removes_it(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    struct stat st;
    char *cause = NULL, *pem = xasprintf("%s/pin.pem", f->dir);
    struct txn_change ch = {.path = pem, .data = "PEM\n", .len = 4, .mode = 0644};

    opts(&o, f, "true");
    o.nginx.conf = f->conf; /* read to make sure no line names pin.pem */
    assert_int_equal(txn_apply(&o, &ch, 1, &res, &cause), TXN_OK);
    assert_int_equal(stat(pem, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_non_null(strstr(res.diff, "--- /dev/null\n"));
    txn_result_free(&res);
    assert_int_equal(txn_rollback(&o, NULL, &res, &cause), TXN_OK);
    assert_int_equal(stat(pem, &st), -1);
    txn_result_free(&res);
    free(pem);
}

static void
a_held_lock_is_refused_naming_its_holder(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    char *cause, *got, *lock = xasprintf("%s/lock", f->state);
    int fd;

    assert_int_equal(mkdir(f->state, 0700), 0);
    fd = open(lock, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "pid 4242, user alice\n", 21), 21);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    assert_int_equal(apply1(f, "true", f->conf, NEW, &res, &cause), TXN_ERR_LOCKED);
    assert_non_null(strstr(cause, "pid 4242, user alice"));
    assert_string_equal((got = get_file(f->conf)), OLD);
    free(got);
    free(cause);
    close(fd);
    free(lock);
    txn_result_free(&res);
}

/* Runs a transaction in a child whose "nginx -t" sends it SIG; returns the wait status. */
static int
signal_during_nginx_t(struct fx *f, const char *sig)
{
    char *script = xasprintf("%s/nginx-killer", f->dir);
    char *text = xasprintf("#!/bin/sh\n[ \"$1\" = -t ] && grep -q 20598 %s && kill -%s $PPID\n"
                           "exit 0\n",
                           f->conf, sig);
    pid_t pid;
    int st;

    put_file(script, text);
    free(text);
    assert_int_equal(chmod(script, 0755), 0);
    if ((pid = fork()) == 0) {
        struct txn_result res;
        char *cause;
        apply1(f, script, f->conf, NEW, &res, &cause);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    free(script);
    return st;
}

/* SIGKILL at nginx -t: the journal stays at "written" with the new bytes on disk, as
 * after a crash. */
static void
kill_during_nginx_t(struct fx *f)
{
    int st = signal_during_nginx_t(f, "KILL");
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void
sighup_during_the_transaction_waits_until_it_is_done(void **state)
{
    struct fx *f = *state;
    struct txn_info *v;
    size_t n;
    char *cause = NULL, *got;
    int st = signal_during_nginx_t(f, "HUP");

    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].state, TXN_DONE);
    assert_string_equal((got = get_file(f->conf)), NEW);
    free(got);
    txn_info_free(v, n);
}

/* A POSIX ACL (system.posix_acl_access, version 2): user::rw- user:65534:r-- group::r--
 * mask::r-- other::---. */
static void
a_posix_acl_is_kept(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    unsigned char acl[4 + 5 * 8], back[256];
    const struct {
        uint16_t tag, perm;
        uint32_t id;
    } e[5] = {{0x01, 6, 0xffffffff},
              {0x02, 4, 65534},
              {0x04, 4, 0xffffffff},
              {0x10, 4, 0xffffffff},
              {0x20, 0, 0xffffffff}};
    char *cause;
    ssize_t n;

    memset(acl, 0, sizeof(acl));
    acl[0] = 2; /* little-endian version 2 */
    for (int i = 0; i < 5; i++) {
        unsigned char *p = acl + 4 + 8 * i;
        p[0] = (unsigned char)e[i].tag;
        p[2] = (unsigned char)e[i].perm;
        for (int b = 0; b < 4; b++)
            p[4 + b] = (unsigned char)(e[i].id >> (8 * b));
    }
    if (setxattr(f->conf, "system.posix_acl_access", acl, sizeof(acl), 0) == -1)
        skip(); /* no ACL support on this file system */
    assert_int_equal(apply1(f, "true", f->conf, NEW, &res, &cause), TXN_OK);
    n = getxattr(f->conf, "system.posix_acl_access", back, sizeof(back));
    assert_int_equal(n, (ssize_t)sizeof(acl));
    assert_memory_equal(back, acl, sizeof(acl));
    txn_result_free(&res);
}

static void
an_interrupted_run_is_pending_and_can_be_completed(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    struct txn_info *v;
    size_t n;
    char *cause = NULL, *got;

    kill_during_nginx_t(f);
    assert_int_equal(txn_pending(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].state, TXN_WRITTEN);
    assert_string_equal(v[0].last_step, "test start");
    assert_string_equal((got = get_file(f->conf)), NEW);
    free(got);
    opts(&o, f, "true");
    assert_int_equal(txn_complete(&o, v[0].id, &res, &cause), TXN_OK);
    assert_int_equal(res.state, TXN_DONE);
    assert_string_equal((got = get_file(f->conf)), NEW);
    free(got);
    txn_info_free(v, n);
    txn_result_free(&res);
    assert_int_equal(txn_pending(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 0);
    free(v);
}

static void
an_interrupted_run_can_be_rolled_back(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    struct txn_info *v;
    size_t n;
    char *cause = NULL, *got;

    kill_during_nginx_t(f);
    opts(&o, f, "true");
    assert_int_equal(txn_rollback(&o, NULL, &res, &cause), TXN_OK);
    assert_string_equal((got = get_file(f->conf)), OLD);
    free(got);
    txn_result_free(&res);
    assert_int_equal(txn_pending(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, 0);
    free(v);
}

static void
the_watch_counts_new_tls_failures_of_the_upstream(void **state)
{
    struct fx *f = *state;
    struct txn_opts o;
    struct txn_result res;
    char *log = xasprintf("%s/error.log", f->dir), *cause = NULL;
    char *reload = xasprintf("sh -c 'echo \"[notice] 1#1: reconfiguring\" >> \"$0\"' %s", log);
    struct txn_change ch = {.path = f->conf, .data = NEW, .len = strlen(NEW)};
    pid_t pid;

    put_file(log, "");
    opts(&o, f, "true");
    o.nginx.error_log = log;
    o.nginx.reload_cmd = reload;
    o.watch_seconds = 1;
    o.watch_match = "10.0.2.88:8443";
    if ((pid = fork()) == 0) {
        usleep(400 * 1000); /* during the watch */
        FILE *fp = fopen(log, "a");
        fputs("[error] 7#7: *9 upstream SSL certificate verify error: (18:self-signed "
              "certificate) while SSL handshaking to upstream, upstream: "
              "\"https://10.0.2.88:8443/\"\n"
              "[error] 7#7: *10 upstream SSL certificate verify error: (18:self-signed "
              "certificate) while SSL handshaking to upstream, upstream: "
              "\"https://10.0.9.9:443/\"\n",
              fp);
        fclose(fp);
        _exit(0);
    }
    assert_int_equal(txn_apply(&o, &ch, 1, &res, &cause), TXN_OK);
    waitpid(pid, NULL, 0);
    assert_true(res.confirmed);
    assert_int_equal(res.watch_failures, 1);
    assert_non_null(strstr(res.watch_first, "https://10.0.2.88:8443/"));
    txn_result_free(&res);
    free(log);
    free(reload);
}

static void
reload_commands_split_on_blanks_with_quotes_and_no_shell(void **state)
{
    char **argv = txn_split_command("  systemctl reload 'nginx@a b.service' \"x\"y;z ");
    assert_non_null(argv);
    assert_string_equal(argv[0], "systemctl");
    assert_string_equal(argv[1], "reload");
    assert_string_equal(argv[2], "nginx@a b.service");
    assert_string_equal(argv[3], "xy;z");
    assert_null(argv[4]);
    txn_argv_free(argv);
    assert_null(txn_split_command("   "));
    assert_null(txn_split_command("a 'b"));
}

static void
sha256_is_the_openssl_digest_in_hex(void **state)
{
    char hex[65];
    txn_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
a_file_holds_the_old_bytes_the_new_ones_neither_or_is_absent(void **state)
{
    struct fx *f = *state;
    struct jfile jf;
    struct buf scratch = BUF_INIT;
    char *cause = NULL;
    bool exists;

    memset(&jf, 0, sizeof(jf));
    jf.target = f->conf;
    jf.existed = true;
    txn_sha256_hex(OLD, strlen(OLD), jf.before);
    txn_sha256_hex(NEW, strlen(NEW), jf.after);
    assert_int_equal(txn_file_holds(&jf, &scratch, &exists, &cause), TXN_HOLDS_OLD);
    assert_true(exists);
    put_file(f->conf, NEW);
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause), TXN_HOLDS_NEW);
    put_file(f->conf, "edited by hand\n");
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause), 0);
    /* a change that does not change the bytes: both */
    memcpy(jf.after, jf.before, sizeof(jf.after));
    put_file(f->conf, OLD);
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause), TXN_HOLDS_OLD | TXN_HOLDS_NEW);
    /* absent: old when it did not exist before, new when the change removes it */
    unlink(f->conf);
    assert_int_equal(txn_file_holds(&jf, &scratch, &exists, &cause), 0);
    assert_false(exists);
    jf.existed = false;
    jf.before[0] = '\0';
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause), TXN_HOLDS_OLD);
    jf.existed = true;
    jf.remove = true;
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause), TXN_HOLDS_NEW);
    /* a file that cannot be read is an error that names it */
    jf.target = f->dir; /* a directory */
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause), -1);
    assert_non_null(cause);
    assert_non_null(strstr(cause, f->dir));
    free(cause);
    buf_free(&scratch);
}

/* ---- taking a change back out (undo_apply) ---- */

/* undo_apply on C strings; returns the result (caller frees) or NULL with *cause. */
static char *
undo(const char *old, const char *new, const char *cur, char **cause)
{
    struct buf out = BUF_INIT;

    *cause = NULL;
    if (undo_apply(old, strlen(old), new, strlen(new), cur, strlen(cur), &out, cause) == -1) {
        buf_free(&out);
        return NULL;
    }
    return buf_detach(&out);
}

#define BASE                                                                                       \
    "http {\n    server {\n        location /a/ {\n            proxy_pass https://a;\n"            \
    "        }\n        location /x/ { return 200; }\n        location /y/ { return 200; }\n"      \
    "        location /z/ { return 200; }\n        location /b/ {\n"                               \
    "            proxy_pass https://b;\n        }\n    }\n}\n"
#define PIN_A "            proxy_ssl_trusted_certificate /c/pin-a.pem;\n"
#define PIN_B "            proxy_ssl_trusted_certificate /c/pin-b.pem;\n"

/* BASE with PIN_A after a's proxy_pass (a) and PIN_B after b's (b). */
static char *
base_with(bool a, bool b)
{
    struct buf o = BUF_INIT;
    const char *s = BASE, *pa = strstr(s, "https://a;\n") + 11,
               *pb = strstr(s, "https://b;\n") + 11;

    buf_add(&o, s, (size_t)(pa - s));
    if (a)
        buf_adds(&o, PIN_A);
    buf_add(&o, pa, (size_t)(pb - pa));
    if (b)
        buf_adds(&o, PIN_B);
    buf_adds(&o, pb);
    return buf_detach(&o);
}

static void
undo_of_bytes_unchanged_since_is_the_old_bytes(void **state)
{
    char *cause, *got;

    (void)state;
    got = undo("old\r\nbytes", "new\nbytes\n", "new\nbytes\n", &cause);
    assert_string_equal(got, "old\r\nbytes");
    free(got);
}

static void
undo_of_the_first_of_two_changes_keeps_the_second(void **state)
{
    char *v1 = base_with(false, false), *v2 = base_with(true, false), *v3 = base_with(true, true);
    char *want = base_with(false, true), *cause, *got;

    (void)state;
    got = undo(v1, v2, v3, &cause);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    /* and the second one, out of that, gives the very first bytes */
    got = undo(v2, v3, want, &cause);
    assert_non_null(got);
    assert_string_equal(got, v1);
    free(got);
    free(v1);
    free(v2);
    free(v3);
    free(want);
}

static void
undo_refuses_when_the_lines_around_the_change_were_changed(void **state)
{
    char *v1 = base_with(false, false), *v2 = base_with(true, false), *cause, *got;
    char *v4 = xstrdup(v2);
    char *x = strstr(v4, "/x/ { return 200; }");

    (void)state;
    memcpy(x, "/x/ { return 201; }", 19); /* within the change's 3 lines of context */
    got = undo(v1, v2, v4, &cause);
    assert_null(got);
    assert_non_null(strstr(cause, "the change at line 5 is not there any more"));
    free(cause);
    free(v1);
    free(v2);
    free(v4);
}

static void
undo_refuses_a_change_that_matches_in_two_places(void **state)
{
    const char *old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
    const char *new = "a\nb\nc\nd\nX\ne\nf\ng\nh\ni\n";
    /* a later change copied the block around X elsewhere */
    const char *cur = "a\nb\nc\nd\nX\ne\nf\ng\nh\ni\nb\nc\nd\nX\ne\nf\ng\n";
    char *cause, *got;

    (void)state;
    got = undo(old, new, cur, &cause);
    assert_null(got);
    assert_non_null(strstr(cause, "more than one place"));
    free(cause);
}

static void
undo_keeps_crlf_tabs_and_a_missing_final_newline(void **state)
{
    const char *old = "a\r\n\tb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nlast";
    const char *new = "a\r\n\tb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nlast\r\n\tpin;";
    const char *cur = "a\r\n\tb\r\nLATER\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nlast\r\n\tpin;";
    const char *want = "a\r\n\tb\r\nLATER\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\ni\r\nlast";
    char *cause, *got;

    (void)state;
    got = undo(old, new, cur, &cause);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void
undo_of_a_replaced_line_puts_the_old_line_back(void **state)
{
    const char *old = "1\n2\n3\nverify off;\n4\n5\n6\n7\n8\n9\n10\n11\n";
    const char *new = "1\n2\n3\nverify on;\n4\n5\n6\n7\n8\n9\n10\n11\n";
    const char *cur = "1\n2\n3\nverify on;\n4\n5\n6\n7\n8\n9\n10\nten and a half\n11\n";
    char *cause, *got;

    (void)state;
    got = undo(old, new, cur, &cause);
    assert_non_null(got);
    assert_string_equal(got, "1\n2\n3\nverify off;\n4\n5\n6\n7\n8\n9\n10\nten and a half\n11\n");
    free(got);
}

/* ---- rollback of any transaction, with true(1) as nginx ---- */

static char *
apply_id(struct fx *f, const char *path, const char *data, const char *path2, const char *data2)
{
    struct txn_opts o;
    struct txn_result res;
    struct txn_change ch[2] = {{.path = path, .data = data, .len = strlen(data)},
                               {.path = path2, .data = data2, .len = data2 ? strlen(data2) : 0}};
    char *cause = NULL, *id;

    opts(&o, f, "true");
    o.nginx.conf = f->conf;
    assert_int_equal(txn_apply(&o, ch, path2 != NULL ? 2 : 1, &res, &cause), TXN_OK);
    id = xstrdup(res.id);
    txn_result_free(&res);
    return id;
}

static int
rollback_id(struct fx *f, const char *id, struct txn_result *res, char **cause)
{
    struct txn_opts o;

    opts(&o, f, "true");
    o.nginx.conf = f->conf;
    *cause = NULL;
    return txn_rollback(&o, id, res, cause);
}

static const struct txn_info *
find_info(const struct txn_info *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].id, id) == 0)
            return &v[i];
    fail_msg("no journal entry %s", id);
    return NULL;
}

static void
rolling_back_an_older_change_keeps_the_later_one_and_can_itself_be_rolled_back(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct txn_info *v;
    size_t n;
    struct stat st;
    char *cause, *got, *r1, *r2;
    char *v1 = base_with(false, false), *v2 = base_with(true, false), *v3 = base_with(true, true);
    char *v13 = base_with(false, true);
    char *certs = xasprintf("%s/certs", f->dir), *pa = xasprintf("%s/pin-a.pem", certs);
    char *pb = xasprintf("%s/pin-b.pem", certs);
    char *c2, *c3, *c13;

    /* the pins name the files really written */
    c2 = xstrdup(v2);
    put_file(f->conf, v1);
    {
        struct buf b = BUF_INIT;
        const char *s = v2, *at = strstr(s, "/c/pin-a.pem");
        buf_add(&b, s, (size_t)(at - s));
        buf_adds(&b, pa);
        buf_adds(&b, at + strlen("/c/pin-a.pem"));
        free(c2);
        c2 = buf_detach(&b);
    }
    c3 = xstrdup(c2);
    {
        /* c3 = c2 with PIN_B (pointing at pb) after b's proxy_pass */
        struct buf b = BUF_INIT;
        const char *at = strstr(c3, "https://b;\n") + 11;
        buf_add(&b, c3, (size_t)(at - c3));
        buf_addf(&b, "            proxy_ssl_trusted_certificate %s;\n", pb);
        buf_adds(&b, at);
        free(c3);
        c3 = buf_detach(&b);
    }
    {
        struct buf b = BUF_INIT;
        const char *at = strstr(v1, "https://b;\n") + 11;
        buf_add(&b, v1, (size_t)(at - v1));
        buf_addf(&b, "            proxy_ssl_trusted_certificate %s;\n", pb);
        buf_adds(&b, at);
        c13 = buf_detach(&b);
    }
    char *a = apply_id(f, f->conf, c2, pa, "PIN A\n");
    char *b = apply_id(f, f->conf, c3, pb, "PIN B\n");

    /* roll back the first: its lines and pin-a go, the second's stay */
    assert_int_equal(rollback_id(f, a, &res, &cause), TXN_OK);
    r1 = xstrdup(res.id);
    txn_result_free(&res);
    assert_string_equal((got = get_file(f->conf)), c13);
    free(got);
    assert_int_equal(stat(pa, &st), -1);
    assert_int_equal(stat(pb, &st), 0);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(find_info(v, n, a)->state, TXN_ROLLED_BACK);
    assert_string_equal(find_info(v, n, a)->rolled_back_by, r1);
    assert_int_equal(find_info(v, n, b)->state, TXN_DONE);
    assert_null(find_info(v, n, b)->rolled_back_by);
    assert_int_equal(find_info(v, n, r1)->state, TXN_DONE);
    assert_string_equal(find_info(v, n, r1)->reverts, a);
    txn_info_free(v, n);

    /* roll back the rollback: the first change and pin-a are back, byte for byte */
    assert_int_equal(rollback_id(f, r1, &res, &cause), TXN_OK);
    r2 = xstrdup(res.id);
    txn_result_free(&res);
    assert_string_equal((got = get_file(f->conf)), c3);
    free(got);
    assert_string_equal((got = get_file(pa)), "PIN A\n");
    free(got);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(find_info(v, n, r1)->state, TXN_ROLLED_BACK);
    assert_string_equal(find_info(v, n, r1)->rolled_back_by, r2);
    assert_string_equal(find_info(v, n, r2)->reverts, r1);
    assert_int_equal(find_info(v, n, r2)->state, TXN_DONE);
    txn_info_free(v, n);
    /* the first change itself says who put it back */
    assert_int_equal(rollback_id(f, a, &res, &cause), TXN_ERR);
    assert_non_null(strstr(cause, "roll back"));
    assert_non_null(strstr(cause, r2));
    free(cause);
    txn_result_free(&res);

    /* --last: the second change; pin-b goes, the directory stays (pin-a is in it) */
    assert_int_equal(rollback_id(f, NULL, &res, &cause), TXN_OK);
    txn_result_free(&res);
    assert_string_equal((got = get_file(f->conf)), c2);
    free(got);
    assert_int_equal(stat(pb, &st), -1);
    assert_int_equal(stat(certs, &st), 0);

    /* the re-applied first change out again: pin-a and the directory a fix created go */
    assert_int_equal(rollback_id(f, r2, &res, &cause), TXN_OK);
    txn_result_free(&res);
    assert_string_equal((got = get_file(f->conf)), v1);
    free(got);
    assert_int_equal(stat(pa, &st), -1);
    assert_int_equal(stat(certs, &st), -1);

    free(a);
    free(b);
    free(r1);
    free(r2);
    free(v1);
    free(v2);
    free(v3);
    free(v13);
    free(c2);
    free(c3);
    free(c13);
    free(certs);
    free(pa);
    free(pb);
}

static void
a_rollback_that_cannot_come_out_cleanly_is_refused_naming_the_later_change(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct txn_info *v;
    size_t n, before;
    char *cause, *got, *v13;
    char *v1 = base_with(false, false), *v2 = base_with(true, false), *v3 = base_with(true, true);
    char *v4 = xstrdup(v3);

    memcpy(strstr(v4, "/x/ { return 200; }"), "/x/ { return 201; }", 19);
    put_file(f->conf, v1);
    char *pem = xasprintf("%s/certs/pin-a.pem", f->dir);
    char *a = apply_id(f, f->conf, v2, pem, "PEM\n");
    char *b = apply_id(f, f->conf, v3, NULL, NULL); /* far from a's lines */
    char *c = apply_id(f, f->conf, v4, NULL, NULL); /* within a's context */
    assert_int_equal(txn_list(f->state, &v, &before, &cause), 0);
    txn_info_free(v, before);

    assert_int_equal(rollback_id(f, a, &res, &cause), TXN_ERR_CHANGED);
    assert_non_null(strstr(cause, "roll back first: "));
    assert_non_null(strstr(cause, c));
    assert_null(strstr(cause, b)); /* b need not go: only the change in the way is named */
    assert_null(res.id);
    assert_string_equal((got = get_file(f->conf)), v4); /* nothing written */
    free(got);
    free(cause);
    txn_result_free(&res);
    assert_int_equal(txn_list(f->state, &v, &n, &cause), 0);
    assert_int_equal(n, before); /* nothing journaled */
    assert_int_equal(find_info(v, n, a)->state, TXN_DONE);
    txn_info_free(v, n);

    /* in the order it names, both come out */
    assert_int_equal(rollback_id(f, c, &res, &cause), TXN_OK);
    txn_result_free(&res);
    assert_int_equal(rollback_id(f, a, &res, &cause), TXN_OK);
    txn_result_free(&res);
    assert_string_equal((got = get_file(f->conf)), (v13 = base_with(false, true)));
    free(got);
    free(a);
    free(b);
    free(c);
    free(v1);
    free(v2);
    free(v3);
    free(v4);
    free(v13);
    free(pem);
}

static void
a_created_file_another_line_still_names_is_kept(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    struct stat st;
    char *cause, *got, *pem = xasprintf("%s/certs/pin.pem", f->dir);
    char *site = xasprintf("%s/site.conf", f->dir);
    char *main1 = xasprintf("events {}\nhttp {\n    include %s;\n}\n", site);
    char *named = xasprintf("# pin\nproxy_ssl_trusted_certificate %s;\n", pem);

    put_file(f->conf, main1);
    put_file(site, "# nothing yet\n");
    char *a = apply_id(f, site, named, pem, "PEM\n");
    /* a hand edit elsewhere names the pin too */
    char *main2 = xasprintf("events {}\nhttp {\n    include %s;\n    # hand edit\n"
                            "    proxy_ssl_trusted_certificate %s;\n}\n",
                            site, pem);
    put_file(f->conf, main2);
    assert_int_equal(rollback_id(f, a, &res, &cause), TXN_OK);
    assert_string_equal((got = get_file(site)), "# nothing yet\n");
    free(got);
    assert_int_equal(stat(pem, &st), 0);
    assert_non_null(res.note);
    assert_non_null(strstr(res.note, "still named at"));
    assert_non_null(strstr(res.note, "nginx.conf:5"));
    txn_result_free(&res);
    free(a);
    free(pem);
    free(site);
    free(main1);
    free(main2);
    free(named);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(apply_writes_the_new_bytes_and_the_journal_round_trips),
        T(backups_are_0600_copies_of_the_old_bytes),
        T(a_file_changed_after_the_plan_stops_with_nothing_changed),
        T(a_symlinked_site_stays_a_link_and_its_target_is_written),
        T(mode_and_group_of_a_0640_config_are_kept),
        T(nginx_t_failure_restores_the_old_bytes),
        T(a_config_nginx_already_refuses_is_neither_backed_up_nor_written),
        T(a_failed_apply_removes_the_directory_it_created),
        T(a_failing_verify_hook_rolls_back),
        T(rollback_restores_byte_for_byte_and_is_journaled_newest_first),
        T(a_new_file_gets_its_mode_and_rollback_removes_it),
        T(a_held_lock_is_refused_naming_its_holder),
        T(an_interrupted_run_is_pending_and_can_be_completed),
        T(an_interrupted_run_can_be_rolled_back),
        T(sighup_during_the_transaction_waits_until_it_is_done),
        T(a_posix_acl_is_kept),
        T(the_watch_counts_new_tls_failures_of_the_upstream),
        T(a_file_holds_the_old_bytes_the_new_ones_neither_or_is_absent),
        cmocka_unit_test(reload_commands_split_on_blanks_with_quotes_and_no_shell),
        cmocka_unit_test(sha256_is_the_openssl_digest_in_hex),
        cmocka_unit_test(undo_of_bytes_unchanged_since_is_the_old_bytes),
        cmocka_unit_test(undo_of_the_first_of_two_changes_keeps_the_second),
        cmocka_unit_test(undo_refuses_when_the_lines_around_the_change_were_changed),
        cmocka_unit_test(undo_refuses_a_change_that_matches_in_two_places),
        cmocka_unit_test(undo_keeps_crlf_tabs_and_a_missing_final_newline),
        cmocka_unit_test(undo_of_a_replaced_line_puts_the_old_line_back),
        T(rolling_back_an_older_change_keeps_the_later_one_and_can_itself_be_rolled_back),
        T(a_rollback_that_cannot_come_out_cleanly_is_refused_naming_the_later_change),
        T(a_created_file_another_line_still_names_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
