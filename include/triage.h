/*
 * triage.h — the model every front end (the verbs, the TUI, the report) drives: from the
 * config and the error logs to the failing upstream uses (each placed in its block), each
 * planned by remedy.c on request, the one a fix picks, the txn_change list that applies it,
 * the probe plan of a config, the advice for unfinished transactions, and the follower
 * that feeds log lines to the parser. Returns data and {file, line, message} warnings;
 * prints nothing. Implemented in src/triage.c.
 */
#ifndef TT_TRIAGE_H
#define TT_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "incident.h"
#include "logscan.h"
#include "ngxconf.h"
#include "probe.h"
#include "remedy.h"
#include "resolve.h"
#include "staleness.h"
#include "tail.h"
#include "txn.h"

struct evloop;

/* ---- warnings ---- */

enum triage_warning_kind {
    TW_CONFIG,       /* a parse problem in the config (file, line, message) */
    TW_LOG,          /* a log file named by the config could not be read (file, message) */
    TW_PROBE_SKIPPED /* a use whose settings cannot be probed (subject: its context) */
};

/* One problem that does not stop the work. Strings are raw (sanitize before showing). */
struct triage_warning {
    enum triage_warning_kind kind;
    char *file;    /* the config or log file it is about, or NULL */
    unsigned line; /* 0 when none */
    char *subject; /* what it is about (see the kinds), or NULL */
    char *message; /* the reason, or NULL */
};

struct triage_warnings {
    struct triage_warning *v;
    size_t n;
};

void triage_warnings_free(struct triage_warnings *w);

/* ---- collection and planning (diagnose, fix) ---- */

/* One failing (or named) upstream use: the incident it came from and, once planned, its
 * remedy case. */
struct triage_item {
    const struct tls_use *use; /* points into rr or into the triage's uses list */
    size_t ti;                 /* the target of use that failed (valid when resolved) */
    bool resolved;             /* false: proxy_pass names a variable that cannot be
                                  resolved statically; ti is then meaningless */
    char *upstream;            /* "host:port" it is about: use->targets[ti], else the
                                  upstream the log names */
    char *spelling;            /* "H:P@server/location": what --upstream takes to pick it */
    struct resolve_result rr;
    bool have_rr;
    const struct incident *inc; /* the incident it came from (NULL: --upstream) */
    char *kind;                 /* the incident's kind ("verify_error"), or the probe's */
    struct remedy_case rc;
    bool planned;
    char *plan_error; /* not planned: why (also "cannot resolve statically ...") */
    /* Planned, failing in the log since nginx's last load, passing the probe under the
     * files on disk: the files changed after that load (nstale > 0: stale, and rc holds
     * the reload fix), and why a fresh probe and nginx's resumed sessions can disagree. */
    struct stale_file *stale;
    size_t nstale;
    char *stale_text; /* staleness_sentence(), or NULL */
    char *reuse_note; /* proxy_ssl_session_reuse and the disagreement, or NULL */
};

/* One use of an upstream in the config: how --upstream spells it, and its context. */
struct triage_use_ref {
    char *spelling; /* "127.0.0.1:9441@front.lab/api/" */
    char *context;  /* "location /api/ in server front.lab" */
};

struct triage_opts {
    const char *conf;        /* the main config file */
    const char *prefix;      /* as nginx -p, or NULL */
    const char *nginx;       /* the binary (its version decides the IP-SAN rule), or NULL */
    const char *const *logs; /* --log files; none: the config's error_log files */
    size_t nlogs;
    const char *upstream;  /* "H:P" or "H:P@server/location", or NULL for every incident */
    struct remedy_opts ro; /* cert_dir NULL: certs/ next to the config */
};

/* An upstream TLS failure the log shows that the config cannot place (no TLS upstream block
 * matches its server, request and upstream): a finding in the verb's output, never only a
 * warning, so that an output never says "no incident" while the log has one. */
struct triage_unplaced {
    const struct incident *inc; /* in the triage's store */
    char *reason;               /* why it could not be placed */
};

struct triage {
    struct ngxconf *conf;
    struct incident_store store;
    struct tls_use *uses;
    size_t nuses;
    struct triage_item *items;
    size_t n;
    struct remedy_opts ro; /* as given, cert_dir made absolute */
    char *cert_dir;
    char *conf_abs;
    /* With an upstream "H:P" (no '@'): every use of it in the config, once each. More
     * than one means --upstream H:P does not name one use (triage_ambiguous). */
    struct triage_use_ref *refs;
    size_t nrefs;
    bool upstream_has_use;            /* the upstream names a use ('@' given) */
    struct triage_unplaced *unplaced; /* the log's incidents no block matches, log order */
    size_t nunplaced;
    struct triage_warnings warnings;
    char *nginx, *prefix;   /* as given (for nginx's load time) */
    struct stale_load load; /* nginx's last load, found once (load_done) when needed */
    bool load_done;
    /* The incidents that say which uses fail now (a front end that follows the logs into
     * its own store sets it); NULL: store. */
    const struct incident_store *log_store;
};

/* Loads the config, reads the logs and places each upstream TLS incident in its block (or,
 * with o->upstream and no incident for it, every use of it in the config); an incident no
 * block matches goes to t->unplaced with the reason. Plans nothing.
 * A --log that is missing, a directory, a FIFO or not a regular file is an error. Returns
 * 0 (free with triage_free, also after an error), or -1 with *cause (config unreadable,
 * bad --log, malformed --upstream). Blocks only on reading the files and nginx -V. */
int triage_collect(const struct triage_opts *o, struct triage *t, char **cause);

/* The error_log files of conf's main context, resolved as nginx resolves them (absolute, else
 * against prefix, else the config's prefix; stderr, syslog: and memory: skipped). *out is an
 * allocated array of allocated paths (NULL when none); returns their count. */
size_t triage_default_logs(const char *prefix, const struct ngxconf *conf, char ***out);

/* For a front end that follows the logs itself (the TUI): loads the config and the remedy
 * options as triage_collect does, reads no log. Free with triage_free (also after an error).
 * Returns 0, or -1 with *cause. */
int triage_open(const struct triage_opts *o, struct triage *t, char **cause);
/* Places one incident (of any store; it must outlive t) in its block as triage_collect does
 * and adds its item, or finds the item it has already. Returns 0 with *index, or -1 with
 * *cause ("H:P (kind): no TLS upstream block found: why"). Plans nothing. */
int triage_place(struct triage *t, const struct incident *inc, size_t *index, char **cause);

/* The same for a use of the config named as triage_probe_plan labels it ("CONTEXT
 * (FILE:LINE)") and one of its targets: the TUI's Upstreams screen opens Detail with it. */
int triage_place_use(struct triage *t, const char *label, const char *host, unsigned port,
                     size_t *index, char **cause);

/* Whether o->upstream was "H:P" alone and the config has several uses of it (t->refs). */
bool triage_ambiguous(const struct triage *t);

/* Plans item i (probes; blocks for seconds): fills rc, or plan_error. */
void triage_plan_item(struct triage *t, size_t i);
/* Plans every item, in order. */
void triage_plan(struct triage *t);

void triage_free(struct triage *t);

/* "H:P@server/location" of target ti of use (ti ignored when it has no targets). */
char *triage_use_spelling(const struct tls_use *use, size_t ti);

/* A config nginx refuses before any edit: ngxconf's parse errors, then `nginx -t` (with -c
 * when conf_given, -p prefix). Returns 0 when nginx accepts it, -1 with *cause naming the
 * file and line in nginx's own words. Blocks while nginx -t runs. */
int triage_preflight(const struct ngxconf *conf, const char *nginx, const char *conf_path,
                     bool conf_given, const char *prefix, char **cause);

/* What fix does with the planned items: the one failing use and its fix. */
enum triage_choice {
    TC_NOTHING,     /* no item fails now */
    TC_SEVERAL,     /* several fail: pick one with --upstream */
    TC_NOT_PLANNED, /* the one failing item could not be planned (*item set) */
    TC_NO_FIX,      /* no fix with the wanted strategies (*item set) */
    TC_UNVERIFIED,  /* its fix did not pass the probe (*item and *fix set) */
    TC_READY,       /* *item and *fix set, verified */
};
/* want: mask of strategies every chosen fix must include (0: any). */
enum triage_choice triage_choose(const struct triage *t, unsigned want, size_t *nfailing,
                                 const struct triage_item **item, const struct remedy_fix **fix);
/* Whether item x fails now (or is vulnerable): what triage_choose counts. */
bool triage_item_failing(const struct triage_item *x);

/* The transaction's changes for fix f of item it: *changes and *sha256 are arrays of
 * f->nfiles (free both with free(); they borrow f's strings), *summary is allocated. */
void triage_changes(const struct triage_item *it, const struct remedy_fix *f,
                    struct txn_change **changes, const char ***sha256, char **summary);

/* ---- the next reload (check, probe --all, the TUI's upstreams) ---- */

/* A use that works in nginx now (no failure logged since its last load) and fails the
 * probe under the files on disk, one of which changed after that load. */
struct triage_reload_risk {
    char *context; /* "location /api/ in server front.lab" */
    char *file;    /* where the use's block starts */
    unsigned line;
    char *upstream; /* "host:port" */
    char *message;  /* the probe's verdict in nginx's words */
    enum probe_verdict verdict;
    char *changed; /* "F (directive) changed at T, ..." */
    char *text;    /* "the next reload breaks location X (file F changed at T): M" */
};

struct triage_reload_risks {
    struct triage_reload_risk *v;
    size_t n;
    bool load_known; /* false: nginx is not running (or its load time is unknown) */
};

/* Finds them for o's config (o->upstream ignored) and logs. Probes only the uses whose
 * files changed after nginx's last load (blocks for their probes). Returns 0 (free with
 * triage_reload_risks_free, always), or -1 with *cause (config unreadable). */
int triage_reload_risks(const struct triage_opts *o, struct triage_reload_risks *out, char **cause);
void triage_reload_risks_free(struct triage_reload_risks *r);

/* The same for one probe already made (the TUI's Upstreams): r of po (as the probe plan
 * built it, labelled label) under the files on disk, st the incidents seen, l nginx's load
 * (staleness_load). Returns the warning text (allocated) or NULL. Blocks only on stat(). */
char *triage_reload_break(const struct ngxconf *conf, const struct stale_load *l,
                          const struct incident_store *st, const struct probe_opts *po,
                          const struct probe_result *r, const char *label);

/* Re-derives item i's staleness (stale files, the reload fix, the session note) after it was
 * planned elsewhere (the TUI plans in a job): reads nginx's load time again (nginx -V). */
void triage_item_stale(struct triage *t, size_t i);

/* ---- the probe plan of a config (probe --all / --location-of / --server) ---- */

struct triage_probe_query {
    bool all;                /* every TLS use */
    const char *location_of; /* "https://host:port/path", "tcp://addr:port" (resolve_url) */
    const char *server;      /* with uri; with stream: the stream server's "addr:port" */
    const char *uri;
    bool stream;        /* server names a stream server by its listen address */
    bool timeout_given; /* base->timeout_ms overrides proxy_connect_timeout */
    /* nginx's default proxy_ssl_protocols for the running version (nginxbin), for uses that
     * leave it at the default; NULL: 1.22's */
    const char *default_protocols;
};

struct triage_probe_plan {
    struct ngxconf *conf;
    struct tls_use *uses;
    size_t nuses;
    struct resolve_result rr;
    bool have_rr;
    char **owned; /* strings the probe options borrow */
    size_t nowned;
    struct probe_opts *opts; /* one per target to probe */
    const char **labels;     /* where each one's settings come from */
    size_t n;
    struct triage_warnings warnings;
};

/* Builds the probes of q from the config. Returns 0, or -1 with *cause (NULL when every
 * probe was skipped: the warnings say why). Free with triage_probe_plan_free (always). */
int triage_probe_plan(const char *conf, const char *prefix, const struct triage_probe_query *q,
                      const struct probe_opts *base, struct triage_probe_plan *p, char **cause);
void triage_probe_plan_free(struct triage_probe_plan *p);

/* ---- unfinished transactions ---- */

enum triage_advice {
    TA_FINISH_ROLLBACK, /* an interrupted rollback: complete it (or roll back again) */
    TA_RESTORE,         /* nothing confirmed: restore the old bytes */
    TA_UNDO_OR_FINISH,  /* written: undo it, or finish it if nginx -t passes */
};

struct triage_pending {
    struct txn_info *v;
    enum triage_advice *advice;
    size_t n;
};

/* The unfinished transactions in state_dir and what to do with each. Returns 0 or -1 with
 * *cause. Free with triage_pending_free. */
int triage_pending(const char *state_dir, struct triage_pending *out, char **cause);
void triage_pending_free(struct triage_pending *p);

/* ---- following logs: tail.c → logscan.c → the incident store or a callback ---- */

typedef void (*triage_event_cb)(const struct ls_event *ev, const char *path, void *arg);

struct triage_follow;

/* A follower on loop. ev_cb NULL: events go to the incident store (triage_follow_store);
 * else each event goes to ev_cb. */
struct triage_follow *triage_follow_new(struct evloop *loop, const struct tail_opts *to,
                                        triage_event_cb ev_cb, void *arg);
/* Follows path ("-": standard input). Returns 0 or -1 with *cause. */
int triage_follow_add(struct triage_follow *f, const char *path, char **cause);
/* The backfill (before the first wait), the last readable bytes (at the end), and whether
 * all it follows has ended (standard input closed). */
void triage_follow_check(struct triage_follow *f);
void triage_follow_drain(struct triage_follow *f);
bool triage_follow_ended(const struct triage_follow *f);
struct incident_store *triage_follow_store(struct triage_follow *f);
unsigned long long triage_follow_lines(const struct triage_follow *f);
void triage_follow_free(struct triage_follow *f);

#endif
