/*
 * remedy.h — fixes for one failing (or unverified) TLS upstream use, chosen from the probe's
 * evidence, least privilege first (pin, ca, chain, name, depth, sni, mtls), combined when
 * several causes stack up, and each proven by a real probe under the candidate settings
 * before it is offered. Produces the edits (ngxconf_edit_set in the owning block), the
 * certificate files to write and the diff; never `proxy_ssl_verify off`. No terminal I/O:
 * fmt-remedy.c renders, cli-diagnose.c and cli-fix.c print; txn.c applies.
 */
#ifndef TT_REMEDY_H
#define TT_REMEDY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ngxconf.h"
#include "probe.h"
#include "resolve.h"
#include "sslconf.h"

enum remedy_strategy {
    RS_PIN,    /* trust exactly the presented self-signed certificate */
    RS_CA,     /* trust the private root (from the chain, --ca FILE, or the system store) */
    RS_CHAIN,  /* add the missing intermediate (--ca FILE) to the trusted file */
    RS_NAME,   /* proxy_ssl_name = a DNS SAN of the certificate + proxy_ssl_server_name on */
    RS_DEPTH,  /* proxy_ssl_verify_depth = the chain's depth */
    RS_SNI,    /* proxy_ssl_server_name on */
    RS_MTLS,   /* proxy_ssl_certificate / _key from the operator's files */
    RS_VERIFY, /* proxy_ssl_verify on (an existing "off" is the vulnerability) */
    RS_RELOAD, /* no edit: reload nginx, which runs on files older than those on disk
                  (staleness.h; added by triage.c through remedy_add_reload) */
    RS__COUNT
};

#define RS_MASK(s) (1u << (s))
#define RS_ALL ((1u << RS__COUNT) - 1)

struct remedy_opts {
    const char *cert_dir;    /* absolute; where exported certificates go */
    const char *ca_file;     /* --ca: a private root (ca) or the missing intermediate (chain) */
    const char *client_cert; /* --client-cert / --client-key (mtls) */
    const char *client_key;
    const char *tmp_dir; /* candidate trusted files for the probes (NULL: $TMPDIR, /tmp) */
    unsigned allowed;    /* mask of strategies (0: all) */
    int timeout_ms;      /* per probe (0: 5000) */
    bool check_ip_san;   /* nginx >= 1.31.0 rule */
    /* nginx's default proxy_ssl_protocols for the running version (nginxbin), for settings
     * the config leaves at the default; NULL: 1.22's. */
    const char *default_protocols;
    /* Called before each probe of remedy_plan ("probing candidate 3 of at most 24: pin+name");
     * NULL: none. The text holds config bytes (sanitize before showing). The job form
     * (remedy-wire.c) sends these as progress records. */
    void (*progress)(void *arg, const char *msg);
    void *progress_arg;
    /* The probes of the plan (NULL: probe_run_many, over the network). The offline path
     * (offline.c) judges a given chain instead, with probe_verify_chain. */
    int (*run)(void *arg, const struct probe_opts *opts, size_t n, struct probe_result *res,
               char **cause);
    void *run_arg;
    bool tmp_in_memory; /* candidate files for the probes in memfds: nothing on disk */
};

/* A directive the fix sets in the owning block (or, to keep a use in its radius as it is,
 * in another block: block_label names it). */
struct remedy_set {
    enum pss key; /* spelled in the fix's family: sslconf_directive(fix->family, key) */
    char *value;
    char *note;        /* "replaces ... at file:line", "overrides ... inherited from ..." */
    char *block_label; /* NULL: the owning block; else "location /n/m/ (file:line)" */
};

/* A use (block × upstream server) whose effective proxy_ssl_* the fix changes: its blast
 * radius. Each is probed as it is and under the fix. */
struct remedy_affected {
    char *context; /* "location /b/ in server front.lab" */
    char *file;    /* where the use's block starts */
    unsigned line;
    char *upstream; /* "host:port" */
    char *changed;  /* "proxy_ssl_trusted_certificate, proxy_ssl_verify" */
    bool target;    /* the use the fix is for */
    bool probed;    /* false for a $variable upstream (cannot resolve statically) */
    enum probe_verdict before, after;
    char *before_message, *after_message; /* nginx's message (NULL when ok) */
};

/* A file the fix writes: a config file (its complete new text) or a certificate. */
struct remedy_file {
    char *path;
    char *data;
    size_t len;
    mode_t mode; /* for a new file */
    bool config; /* a config file (else a certificate file the fix creates) */
};

struct remedy_fix {
    char *id;            /* "pin+name": the strategies joined by '+' */
    unsigned strategies; /* mask */
    char *summary;       /* several lines of plain words (raw: sanitize before printing) */
    bool verified;       /* the probe under the candidate settings passed */
    char *verdict_note;  /* the candidate's verdict/nginx message when not verified */
    struct remedy_set *sets;
    size_t nsets;
    struct remedy_file *files;
    size_t nfiles;
    char *diff;                       /* unified diff of every file, paths relative to diff_root */
    char *diff_root;                  /* `cd DIFF_ROOT && patch -p1` applies diff */
    char (*sha256)[65];               /* the planned hash of each file (nfiles entries) */
    struct remedy_affected *affected; /* the blast radius (the target included) */
    size_t naffected;
    bool radius_whole; /* no use of the radius that passes today fails under the fix */
    /* The target use's family: every set is its directive (an edit of grpc_ssl_* changes
     * only the grpc uses that inherit it, so the bystanders kept are of the same family). */
    enum pss_family family;
};

struct remedy_case {
    char *upstream; /* "host:port" probed */
    char *host;
    int port;
    char *context; /* "location = /s/x in server front.lab" */
    const char *file;
    unsigned line;                       /* where the block starts */
    const char *block_name;              /* the owning block: name, file and line find it again */
    struct proxy_ssl_settings effective; /* borrowed from the config tree */
    struct probe_result probe;           /* under the current settings */
    bool verification_disabled;          /* the vulnerability: verification is off */
    char *cause;                         /* plain words */
    struct remedy_fix *fixes;
    size_t nfixes;
};

/* Parses strategy names: "pin", "pin+name", "pin,name". */
int remedy_strategy_parse(const char *s, unsigned *mask);
/* "pin" for one strategy (static text). */
const char *remedy_strategy_name(enum remedy_strategy s);
/* "pin+name" for a mask. Caller frees. */
char *remedy_mask_name(unsigned mask);

/* The candidate being built (exposed for the unit tests of the choice). */
struct remedy_cand {
    unsigned applied; /* strategies applied so far */
    int depth;        /* proxy_ssl_verify_depth (current or raised) */
    bool name_set;    /* proxy_ssl_name changed */
    bool have_client; /* --client-cert/--client-key given and matching */
    bool have_ca;     /* --ca given */
};

/*
 * The next strategy to add to a candidate whose probe gave r (verification on), or -1
 * when none applies (the cause is then beyond the nginx side, e.g. an expired leaf).
 * allowed is a mask. Pure: decides from the verdict, verify code, chain and what-if answers.
 */
int remedy_next(const struct probe_result *r, const struct remedy_cand *c, unsigned allowed);

/* The cause in plain words for probe result r: nginx's message, what it means, and what is
 * known that bears on it (the missing intermediate only for an issuer that was not found).
 * verify is the block's proxy_ssl_verify (for "verification is off"); fam spells the
 * directives named (grpc_ssl_* in a grpc location). Allocated. */
char *remedy_cause(const struct probe_result *r, bool verification_disabled, enum pss_family fam,
                   const struct pss_value *verify);

/*
 * Plans the fixes for the upstream target ti of use: probes under the current settings,
 * then builds candidates step by step (each step probed) and keeps the verified ones, the
 * first being the least-privilege one. Also a failing candidate is kept (verified false)
 * when nothing passes. Returns 0 (out filled; free with remedy_case_free) or -1 with *cause.
 */
int remedy_plan(const struct ngxconf *conf, const struct tls_use *use, size_t ti,
                const struct remedy_opts *o, struct remedy_case *out, char **cause);
void remedy_case_free(struct remedy_case *c);

/* Appends the reload fix to c: no file written, verified by c's probe under the files on
 * disk (it must have passed), summary why (copied). diff_root as the other fixes'. */
void remedy_add_reload(struct remedy_case *c, const char *why, const char *diff_root);

/*
 * Applies directive sets to block (each through ngxconf_edit_set, re-reading the tree
 * between edits) and returns the changed config files (complete texts). Refuses to set
 * proxy_ssl_verify to anything but "on". Returns 0 or -1 with *cause. Pure (no I/O).
 */
int remedy_edit(const struct ngxconf *conf, const struct ngx_node *block,
                const struct remedy_set *sets, size_t nsets, struct remedy_file **files,
                size_t *nfiles, char **cause);

/* The block at file:line named name in conf (how a case's block is found again), or NULL. */
const struct ngx_node *remedy_find_block(const struct ngxconf *conf, const char *file,
                                         unsigned line, const char *name);

/* After an apply: re-reads the config from disk, finds the block again (file, line, name),
 * probes the upstream with the new effective settings. 0 when nginx's handshake passes,
 * else -1 with *cause (the nginx message). */
int remedy_recheck(const char *conf_path, const char *prefix, const struct remedy_case *c,
                   const struct remedy_opts *o, char **cause);

/* After an apply: re-probes every use of the fix's radius that passed before the fix
 * (the target aside: remedy_recheck) with the settings now on disk, concurrently. 0 when
 * all still pass, else -1 with *cause naming each use that fails now. */
int remedy_recheck_radius(const char *conf_path, const char *prefix, const struct remedy_fix *f,
                          const struct remedy_opts *o, char **cause);

#endif
