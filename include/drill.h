/*
 * drill.h — the training drills' layer (src/drill-*.c): a scenario loaded from YAML
 * (drill-scenario.c), its certificates made with the OpenSSL API (drill-pki.c), the
 * sandbox of nginx processes on loopback (drill-sandbox.c), the traffic generator
 * (drill-traffic.c) and the score history (drill-score.c). cli-drill.c drives them; none
 * of them prints.
 */
#ifndef TT_DRILL_H
#define TT_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct app;

/* ---- scenarios (drill-scenario.c) ---- */

struct drill_cert {
    char *name;    /* file stem in D/certs: NAME.pem, NAME.key */
    char *subject; /* the CN */
    char **sans;   /* "DNS:x", "IP:1.2.3.4"; NULL-terminated */
    char *issuer;  /* NULL: self-signed; else an earlier certificate's name */
    bool ca;
    bool client;           /* extendedKeyUsage clientAuth instead of serverAuth */
    long start_days, days; /* notBefore = now + start_days; notAfter = notBefore + days */
    bool rsa;              /* key type: RSA 2048, else EC P-256 */
};

struct drill_sni {
    char *name;        /* server_name */
    char *certificate; /* cert name */
};

struct drill_upstream {
    char *name;
    char *certificate; /* leaf, sent first (default server) */
    char **chain;      /* certs sent after it, NULL-terminated */
    struct drill_sni *sni;
    size_t nsni;
    char *client_ca; /* a client certificate issued by this CA is required */
    bool plain;      /* plain HTTP on the port the front reaches with https */
};

struct drill_request {
    char *uri;
    char *host;
};

struct drill_scenario {
    char *file; /* where it was loaded from */
    char *name, *title, *briefing;
    long difficulty;
    struct drill_cert *certs;
    size_t ncerts;
    struct drill_upstream *upstreams;
    size_t nupstreams;
    char *front; /* the front config template (the body of http { }) */
    struct drill_request *traffic;
    size_t ntraffic;
    long rate;          /* requests per second, 1..20 */
    char *expect_log;   /* a text the front's error.log shows while broken */
    long expect_status; /* what the front answers while broken (502, or 200: verify off) */
    char **hints;
    size_t nhints;
    char *solution_front;                      /* NULL: the front is not changed */
    struct drill_upstream *solution_upstreams; /* upstreams replaced by name */
    size_t nsolution_upstreams;
    bool tool_fix;        /* `tlstriage fix --apply --yes` can fix it on the nginx side */
    char **tool_fix_args; /* extra arguments for fix (templated), NULL-terminated */
};

/* Parses a scenario (text of the file named name). Returns 0, or -1 with *cause naming
 * NAME:LINE:COLUMN; sc is empty then. */
int drill_scenario_parse(struct drill_scenario *sc, const char *name, const char *text, size_t len,
                         char **cause);
int drill_scenario_load(struct drill_scenario *sc, const char *path, char **cause);
void drill_scenario_free(struct drill_scenario *sc);

/* The directories searched for scenarios, first wins: app->drills_dir, an extra dir (the
 * --drills option, may be NULL), /etc/tlstriage/drills, the installed ones, the source
 * tree's. NULL-terminated, caller frees with drill_dirs_free. */
char **drill_dirs(const struct app *app, const char *extra);
void drill_dirs_free(char **dirs);
/* Every scenario found (by name, first dir wins), sorted by difficulty then name. Files
 * that do not load are reported in *errors (one line each, allocated) and skipped. */
size_t drill_scenario_list(char **dirs, struct drill_scenario **out, char **errors);
/* The scenario NAME. Returns 0, or -1 with *cause. */
int drill_scenario_find(char **dirs, const char *name, struct drill_scenario *sc, char **cause);

/* ---- certificates (drill-pki.c) ---- */

/* Makes every certificate of sc into dir (NAME.pem, NAME.key; keys 0600). Returns 0, or
 * -1 with *cause (the OpenSSL error queue drained into it). */
int drill_pki_make(const struct drill_scenario *sc, const char *dir, char **cause);

/* ---- the sandbox (drill-sandbox.c) ---- */

struct drill_sandbox {
    char *dir;      /* D */
    char *nginx;    /* the binary */
    char *scenario; /* scenario file */
    char *name;
    unsigned front_port;
    unsigned *ports; /* one per upstream, in the scenario's order */
    size_t nports;
    char *token; /* the upstream's answers carry it: proof a 200 came through */
    time_t started;
    long hints_used;
    time_t passed;           /* first passing --check, 0: not yet */
    bool verify_on_at_start; /* every TLS upstream verified when the sandbox started */
    long unsafe;             /* checks since then that found verification turned off */
};

/* Builds and starts sc's sandbox in a fresh directory (under TMPDIR): certificates, both
 * nginx, the state file and D/tlstriage.yaml. port_base 0: free ports. On failure
 * everything started is stopped and removed. stop (may be NULL) is polled between steps:
 * when it turns true, setup stops, cleans up and fails. */
int drill_sandbox_up(const struct app *app, const struct drill_scenario *sc, unsigned port_base,
                     volatile int *stop, struct drill_sandbox *sb, char **cause);
/* Reads D's state file. Returns 0, or -1 with *cause (not a drill sandbox). */
int drill_sandbox_open(const char *dir, struct drill_sandbox *sb, char **cause);
/* Writes the state file back (hints used, passed). */
int drill_sandbox_save(const struct drill_sandbox *sb, char **cause);
/* Stops every process the sandbox started (traffic, both nginx) and removes D. */
int drill_sandbox_down(const struct drill_sandbox *sb, char **cause);
void drill_sandbox_free(struct drill_sandbox *sb);
/* The front config path (D/front/nginx.conf). Caller frees. */
char *drill_sandbox_front_conf(const struct drill_sandbox *sb);
/* Replaces `${...}` in a template: ${dir} ${certs} ${front_port} ${port.NAME}. */
char *drill_sandbox_expand(const struct drill_sandbox *sb, const struct drill_scenario *sc,
                           const char *tmpl);

/* What --check found: problems, one line each (NULL-terminated, allocated). */
struct drill_verdict {
    char **problems;
    size_t nproblems;
    bool verify_off; /* some TLS upstream use has proxy_ssl_verify off */
};
/* The success condition: every request answered 200 through the upstream (the token in
 * the body), and proxy_ssl_verify on for every TLS upstream use of the front's config
 * (resolve_uses and the effective value). Returns 0 (verdict filled), -1 with *cause. */
int drill_sandbox_check(const struct drill_sandbox *sb, const struct drill_scenario *sc,
                        struct drill_verdict *v, char **cause);
void drill_verdict_free(struct drill_verdict *v);
/* Applies the reference solution (front config, upstream certificates), reloads. */
int drill_sandbox_solve(const struct drill_sandbox *sb, const struct drill_scenario *sc,
                        char **cause);
/* One GET to the front: status (0: no answer) and body (allocated, may be NULL). */
int drill_http_get(unsigned port, const char *host, const char *uri, int timeout_ms, char **body);

/* ---- traffic (drill-traffic.c) ---- */

/* Runs the generator in this process until D's state file is gone or SIGTERM: rate
 * requests a second to the front, round-robin over the scenario's requests, on the evloop. */
int drill_traffic_run(const struct drill_sandbox *sb, const struct drill_scenario *sc);
/* Starts `SELF drill --traffic D` as a detached child (own session, stdio /dev/null) and
 * writes D/run/traffic.pid. */
int drill_traffic_spawn(const struct drill_sandbox *sb, char **cause);

/* ---- scores (drill-score.c) ---- */

struct drill_score {
    char *scenario;
    char *date;   /* ISO 8601 UTC */
    long seconds; /* from the sandbox's start to the first passing check */
    long hints;
    long keys;   /* keystrokes in the drill's screen; -1 when it ran headless */
    long unsafe; /* unsafe actions attempted: verification found turned off by a check */
};

/* Appends one score to STATE/drill-scores.yaml (rewritten atomically). */
int drill_score_add(const char *state_dir, const struct drill_score *s, char **cause);
/* Reads them all (oldest first). Missing file: 0 scores. */
int drill_score_read(const char *state_dir, struct drill_score **out, size_t *n, char **cause);
void drill_scores_free(struct drill_score *s, size_t n);

#endif
