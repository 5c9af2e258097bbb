/*
 * test_txn.c — the transaction without a running nginx: nginx is stood in by true(1) /
 * false(1) for -t and the reload (the real nginx is in tests/integration/txn*.sh). Pins
 * the journal round trip, the hash re-check, symlinks, mode/owner, backups, rollback.
 */
#include "config.h"

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

static void
nginx_t_failure_restores_the_old_bytes(void **state)
{
    struct fx *f = *state;
    struct txn_result res;
    char *cause, *got;

    assert_int_equal(apply1(f, "false", f->conf, NEW, &res, &cause), TXN_ERR_TEST);
    assert_int_equal(res.state, TXN_ROLLED_BACK);
    assert_non_null(strstr(cause, "-t failed"));
    assert_string_equal((got = get_file(f->conf)), OLD);
    free(got);
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
    char *text = xasprintf("#!/bin/sh\n[ \"$1\" = -t ] && kill -%s $PPID\nexit 0\n", sig);
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
    assert_int_equal(txn_file_holds(&jf, &scratch, NULL, &cause),
                     TXN_HOLDS_OLD | TXN_HOLDS_NEW);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
