/*
 * app.h — the global options every verb receives (no mutable globals: one struct app is
 * built by main() and passed down), and the exit codes of the command-line contract.
 */
#ifndef TT_APP_H
#define TT_APP_H

#include <stdbool.h>
#include <stddef.h>

enum {
    EXIT_ALL_WELL = 0, /* nothing found, everything worked */
    EXIT_FINDINGS = 1, /* failures or findings were found */
    EXIT_USAGE = 2,    /* usage or input error */
};

struct app {
    const char *conf;  /* --conf, default /etc/nginx/nginx.conf */
    bool conf_given;   /* --conf was on the command line */
    const char **logs; /* --log, repeatable; NULL-terminated, may be empty */
    size_t nlogs;
    const char *nginx;       /* --nginx, default: the nginx found at configure time */
    const char *prefix;      /* --prefix (as nginx -p), NULL if not given */
    const char *state_dir;   /* --state-dir, NULL until app_state_dir() computes it */
    const char *config_file; /* --config (tool settings, YAML), NULL if not given */
    bool no_color;           /* --no-color, or NO_COLOR set */
    /* From the settings file (settings.c); a verb's own option overrides each. */
    const char *cert_dir;       /* where fix writes certificates (NULL: the verb's default) */
    const char *reload_cmd;     /* the reload command (NULL: automatic) */
    int probe_timeout_ms;       /* probe time-out (0: the verb's default) */
    int watch_seconds;          /* fix's watch after the reload, when watch_set */
    int expiry_days;            /* probe's expiry threshold, when expiry_set */
    bool watch_set, expiry_set; /* false (a zeroed app): the verb's default */
    const char *drills_dir;     /* searched before the installed drills (NULL: none) */
    const char *runbooks_dir;   /* searched before the installed runbooks (NULL: none) */
};

/* The state directory: --state-dir, else /var/lib/tlstriage for root, else
 * $XDG_STATE_HOME/tlstriage (~/.local/state/tlstriage). Returned string is owned by app. */
const char *app_state_dir(struct app *app);

#endif
