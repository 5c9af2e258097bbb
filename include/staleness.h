/*
 * staleness.h — whether nginx runs on files older than those on disk: the time of nginx's
 * last (re)load (its workers' start times in /proc, else the master's notices in the error
 * log) and, for a use's effective proxy_ssl_* settings and the config files, which file
 * changed after it. Prints nothing; triage.c decides what it means (a reload fixes a failing
 * use, or the next reload breaks a working one). Implemented in src/staleness.c.
 */
#ifndef TT_STALENESS_H
#define TT_STALENESS_H

#include <stdbool.h>
#include <stddef.h>

#include "ngxconf.h"
#include "sslconf.h"

/* When nginx last loaded its config. */
struct stale_load {
    bool known;  /* false: nginx is not running, or nothing tells when it loaded */
    double when; /* seconds since the epoch */
    int master;  /* the master's pid (0 when found from the log only) */
    char *how;   /* "its workers started (/proc/PID/stat)", or the log notice */
};

/* A file a use depends on, changed after the load. */
struct stale_file {
    char *path;       /* absolute, as nginx opens it */
    const char *what; /* "proxy_ssl_trusted_certificate", ..., "config" (static text) */
    double changed;   /* the newest of its mtime and ctime (and a symlink's own) */
};

/* Finds the load time of the nginx that runs conf (path; parsed: its tree): the pid file and
 * error log from parsed's main-context pid / error_log, else nginx -V's compiled-in paths
 * (nginx: the binary, NULL "nginx"), relative ones under prefix (NULL: -V's); the master of
 * the pid file must run conf (its title's -c, else /etc/nginx/nginx.conf), then the newest
 * start time of its workers in /proc; only when /proc cannot say, the log's
 * "reconfiguring" / "start worker processes" / "signal process started" notices (nginx
 * writes them at level notice; at the default level error only the last one, and only
 * when `nginx -s reload` signalled). Runs nginx -V, never nginx -T (which loads the config
 * and may prompt for a key's passphrase). Never fails: an unknown time (nginx not running
 * conf) is out->known false. Free with stale_load_free. */
void staleness_load(const char *nginx, const struct ngxconf *parsed, const char *conf,
                    const char *prefix, struct stale_load *out);
void stale_load_free(struct stale_load *l);

/* The log part alone: the time of the last of those notices in the last 512 KiB of the
 * error log path (local time, whole seconds). Returns out->known. */
bool staleness_load_log(const char *path, struct stale_load *out);

/* The files of s (trusted certificate, client certificate and key, CRL, password file;
 * relative names taken as nginx takes them) and every config file of conf that changed at
 * least a second after l (the times are whole seconds at best). *out is allocated (free
 * with stale_files_free); *n may be 0. Nothing when l is not known. */
void staleness_files(const struct ngxconf *conf, const struct proxy_ssl_settings *s,
                     const struct stale_load *l, struct stale_file **out, size_t *n);
/* The same with only the config files cf names (ncf of them; cf NULL: every file of conf). */
void staleness_files_of(const struct ngxconf *conf, const struct proxy_ssl_settings *s,
                        const char *const *cf, size_t ncf, const struct stale_load *l,
                        struct stale_file **out, size_t *n);
void stale_files_free(struct stale_file *v, size_t n);

/* "21:04:07" for a time of today, else "2026-12-03 21:04:07" (local time). */
void staleness_time_text(double t, char out[32]);

/* "nginx is running on files it loaded at T; F changed at T2 — a reload loads it" (and
 * the others that changed). Allocated. */
char *staleness_sentence(const struct stale_load *l, const struct stale_file *v, size_t n);

#endif
