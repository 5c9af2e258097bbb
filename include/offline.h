/*
 * offline.h — the offline fast path: a pasted location/server/upstream block (or a whole
 * file) read into the ngxconf tree inside the context nginx would give it, a peer chain
 * read from PEM or `openssl s_client -showcerts` text, and remedy.c's fixes planned with
 * probe_verify_chain judging that chain instead of a live handshake. No nginx run, no
 * connection, no file written. cli-fix.c and cli-check.c (--block) drive it.
 */
#ifndef TT_OFFLINE_H
#define TT_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "ngxconf.h"
#include "remedy.h"
#include "resolve.h"

/* Reads the whole of path ("-": standard input) into *data (NUL-terminated). Returns 0, or
 * -1 with *cause. */
int offline_read_file(const char *path, char **data, size_t *len, char **cause);

/*
 * Reads the certificates of a peer chain: PEM blocks with any text around them (the output
 * of `openssl s_client -showcerts` pasted as is), in the order given (leaf first). name
 * labels the input in messages. Returns 0 with *out (free with sk_X509_pop_free), or -1
 * with *cause ("NAME: no certificate in it", "NAME:LINE: a broken PEM certificate").
 */
int offline_read_chain(const char *name, const char *text, size_t len, STACK_OF(X509) * *out,
                       char **cause);

/* A fragment as read: the tree with the fragment as its own file (named as the input, so
 * file:line in every report names the input's own lines) inside the wrapper. */
struct offline_block {
    struct ngxconf *conf;
    const struct ngx_file *file; /* the input in conf */
    char *name;                  /* the input's name in reports ("-" for stdin) */
    const char *kind;            /* "location", "server", "stream server", "upstream",
                                    "file" (a whole config: no wrapper) */
    const char *wrapper;         /* "http { server { ... } }", or "" for a whole file */
    bool crlf;                   /* the input used CRLF line ends (kept in the output) */
};

/* Parses a fragment (any line ends). A block nginx's tokenizer refuses gives -1 with *cause
 * naming the input's line ("-:3: unexpected \"}\""), as does an empty one. */
int offline_block_load(const char *name, const char *text, size_t len, struct offline_block *b,
                       char **cause);
void offline_block_free(struct offline_block *b);

/* One fix as the offline path shows it: the corrected input and its diff. */
struct offline_fix {
    char *block; /* the whole corrected input (its line ends), NULL when the fix does not
                    change the input (e.g. only a file) */
    char *diff;  /* unified diff of the input */
};

/* One TLS use of the fragment, judged and planned. */
struct offline_item {
    const struct tls_use *use;
    size_t ti;
    char *upstream;  /* "host:port" */
    bool judged;     /* a chain was given: rc.probe is the offline verdict */
    char *judgement; /* without a chain: what the log line says, or that nothing was judged */
    struct remedy_case rc;
    bool planned;
    char *plan_error;
    struct offline_fix *fixes; /* parallel to rc.fixes */
    char **notes;              /* files of the block not here, what cannot be judged offline */
    size_t nnotes;
};

struct offline_opts {
    STACK_OF(X509) * chain; /* NULL: none given */
    const char *log_line;   /* NULL: none */
    struct remedy_opts ro;  /* cert_dir: absolute, where new trusted files would go */
};

struct offline_result {
    struct tls_use *uses;
    size_t nuses;
    struct offline_item *items;
    size_t n;
    char *log_upstream; /* the upstream the log line names, or NULL */
};

/* Judges and plans every TLS use of b (with a log line: the use it names). Returns 0, or -1
 * with *cause (a log line that is not an upstream TLS event, or that names an upstream no
 * proxy_pass of the block reaches). Free with offline_result_free (always). */
int offline_plan(const struct offline_block *b, const struct offline_opts *o,
                 struct offline_result *res, char **cause);
void offline_result_free(struct offline_result *res);

#endif
