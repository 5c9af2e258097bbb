/*
 * ngxctl.h — how a transaction runs nginx: nginx -t, the reload (given command, systemctl
 * under systemd, or nginx -s reload), its confirmation from the error log and new worker
 * PIDs, and the watch of the error log afterwards. No journal, no config files. Used by
 * txn.c.
 */
#ifndef TT_NGXCTL_H
#define TT_NGXCTL_H

#include <stdbool.h>
#include <sys/types.h>

#include "txn.h"

/* What ngxctl_setup found out; zero-initialise, free with ngxctl_free. */
struct ngxctl {
    char **test_argv, **reload_argv;
    char *pid_file, *error_log; /* NULL when unknown (an error_log to stderr too) */
    char *reload_cmd;           /* reload_argv joined with blanks, for the journal */
    bool reload_given;          /* the reload command was given, not discovered */
    int confirm_ms;
};

/* Fills c from ng: the argv of nginx -t and of the reload, the pid file and error log
 * (given, else from nginx -T, else nginx -V). Returns 0, or -1 with *cause when the
 * given reload command is empty or has an unclosed quote. */
int ngxctl_setup(struct ngxctl *c, const struct txn_nginx *ng, char **cause);

/* Runs nginx -t; its output replaces *output. Returns 0, or -1 with *cause. */
int ngxctl_test(const struct ngxctl *c, char **output, char **cause);

/* Sends the reload and confirms it took: no [emerg]/[alert] in the error log after the
 * offset taken before, and a worker of the master that was not there before (or, without
 * a pid file, "reconfiguring"/"start worker processes" in the log). *reloaded is set once
 * the command ran; its output (or the refusing log lines) replaces *output. Returns 0
 * confirmed, 1 nothing to reload or not confirmable (*note replaced), -1 refused
 * (*cause). */
int ngxctl_reload(const struct ngxctl *c, bool *reloaded, char **output, char **note, char **cause);

/* The error log's size now (-1 when unknown): the offset for ngxctl_watch. */
off_t ngxctl_log_size(const struct ngxctl *c);

/* Waits seconds, then counts the error-log lines after off that name match with an
 * upstream TLS failure (SSL, or "upstream timed out"); the first is kept in *first when
 * *failures was 0 (raw bytes). */
void ngxctl_watch(const struct ngxctl *c, off_t off, int seconds, const char *match, int *failures,
                  char **first);

void ngxctl_free(struct ngxctl *c);

/* The running master's pid from c's pid file (0: none, or not running), and the live
 * child processes (workers) of a pid, from /proc. For staleness.c. */
int ngxctl_master_pid(const struct ngxctl *c);
size_t ngxctl_children(int pid, int *out, size_t max);

/* Splits a command line on blanks with '...' and "..." quoting and nothing else. Returns
 * a NULL-terminated argv (free with ngxctl_argv_free), or NULL when empty or a quote is
 * not closed. */
char **ngxctl_split_command(const char *s);
void ngxctl_argv_free(char **argv);

#endif
