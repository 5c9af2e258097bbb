/*
 * radius.h — the blast radius of a config edit: the edited file texts are read back into
 * a new tree in memory (with every other file as it is), both trees are resolved, and each
 * TLS upstream use (server × location × upstream server, http and stream) whose effective
 * proxy_ssl_* values differ is listed. Knows nothing of probes or fixes: remedy.c probes
 * the radius and decides; this module only says who an edit reaches.
 */
#ifndef TT_RADIUS_H
#define TT_RADIUS_H

#include <stddef.h>

#include "ngxconf.h"
#include "resolve.h"

/* A config file's complete new text. */
struct radius_text {
    const char *path; /* as in ngx_file.path */
    const char *data;
    size_t len;
};

/* One use × target whose effective settings change. */
struct radius_item {
    size_t use;       /* index into radius.before / radius.after (the same use) */
    size_t ti;        /* index into that use's targets */
    unsigned changed; /* mask of (1u << enum pss) whose value differs */
};

struct radius {
    struct ngxconf *edited; /* the config with the new texts (owned) */
    struct tls_use *before; /* resolve_uses of the config as it is */
    struct tls_use *after;  /* resolve_uses of edited: the same uses, in the same order */
    size_t nuses;
    struct radius_item *items; /* file order of the uses, then target order */
    size_t n;
};

/*
 * Computes the radius of replacing the texts of the n files in conf. Returns 0 with out
 * filled (free with radius_free), or -1 with *cause: a text names no file of conf, the
 * edited config does not parse, or its TLS uses are not the same uses.
 */
int radius_compute(const struct ngxconf *conf, const struct radius_text *texts, size_t n,
                   struct radius *out, char **cause);
void radius_free(struct radius *r);

/* The config with the texts in place of its files (the nginx -T round trip), or NULL with
 * *cause when the result does not parse. */
struct ngxconf *radius_reparse(const struct ngxconf *conf, const struct radius_text *texts,
                               size_t n, char **cause);

/* The mask of settings whose values differ between a and b (NULL and "" count as set). */
unsigned radius_diff_settings(const struct proxy_ssl_settings *a,
                              const struct proxy_ssl_settings *b);

/* "proxy_ssl_verify, proxy_ssl_trusted_certificate" for a mask. Caller frees. */
char *radius_mask_names(unsigned changed);
/* The same in the spelling of family fam ("grpc_ssl_verify, ..."). Caller frees. */
char *radius_mask_names_family(unsigned changed, enum pss_family fam);

/* The index of the use in uses whose block and proxy_pass are those of u (pointers into
 * the same tree), or (size_t)-1. */
size_t radius_find_use(const struct tls_use *uses, size_t n, const struct tls_use *u);

#endif
