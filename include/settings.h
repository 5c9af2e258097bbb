/*
 * settings.h — the tool's settings file (/etc/tlstriage/config.yaml or --config FILE):
 * loaded whole and checked (unknown keys and wrong types are errors at FILE:LINE:COLUMN)
 * before anything is applied; then merged into struct app under the command line and
 * over the defaults. main.c calls settings_setup; --show-settings prints settings_show.
 */
#ifndef TT_SETTINGS_H
#define TT_SETTINGS_H

#include <stddef.h>

struct app;

enum settings_key {
    SK_NGINX,
    SK_CONF,
    SK_PREFIX,
    SK_LOGS,
    SK_STATE_DIR,
    SK_CERT_DIR,
    SK_RELOAD_CMD,
    SK_PROBE_TIMEOUT,
    SK_WATCH,
    SK_EXPIRY_DAYS,
    SK_DRILLS_DIR,
    SK_RUNBOOKS_DIR,
    SK__COUNT
};

#define SETTINGS_DEFAULT_FILE TT_SYSCONFDIR "/config.yaml" /* /etc/tlstriage: configure */

struct settings {
    char *file;           /* the file read, or NULL (none) */
    char *str[SK__COUNT]; /* string values; paths made absolute against the file's dir */
    char **logs;          /* SK_LOGS, NULL-terminated */
    size_t nlogs;
    long num[SK__COUNT];     /* SK_PROBE_TIMEOUT (seconds), SK_WATCH, SK_EXPIRY_DAYS */
    char *where[SK__COUNT];  /* "FILE:LINE:COLUMN" of each value in the file, NULL: absent */
    char *origin[SK__COUNT]; /* after settings_setup: "command line", where[], "default" */
};

/* The YAML key of a setting ("reload_command"). */
const char *settings_key_name(enum settings_key k);

/* Parses text (a settings file named name) into s, all or nothing. Returns 0, or -1 with
 * *cause "NAME:LINE:COLUMN: ..." and s empty. */
int settings_parse(struct settings *s, const char *name, const char *text, size_t len,
                   char **cause);
/* Reads and parses path. */
int settings_load(struct settings *s, const char *path, char **cause);
void settings_free(struct settings *s);

/* Loads app->config_file (or SETTINGS_DEFAULT_FILE when it exists) and fills every app
 * field the command line left unset, then the defaults; records each one's origin in s.
 * main.c must leave app->nginx NULL unless --nginx was given. Returns 0, or -1 with
 * *cause (nothing applied). */
int settings_setup(struct app *app, struct settings *s, char **cause);

/* The effective settings and where each comes from, one "key: value  (origin)" line each
 * (raw bytes: the caller sanitizes). Caller frees. */
char *settings_show(const struct app *app, const struct settings *s);

#endif
