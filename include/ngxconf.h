/*
 * ngxconf.h — the nginx configuration as nginx reads it: tokens → a tree of directives and
 * blocks, each with its file, line and byte offsets into that file's original text (kept
 * byte for byte, comments and blank lines included, so an edit rewrites only the lines it
 * changes). Input from the files (following `include`) or from the output of `nginx -T`.
 * Errors are collected, not fatal. resolve.h interprets the tree; this module does not.
 */
#ifndef TT_NGXCONF_H
#define TT_NGXCONF_H

#include <stdbool.h>
#include <stddef.h>

/* One configuration file as read: its bytes are never modified. */
struct ngx_file {
    const char *path; /* as nginx names it: absolute when the main config path is */
    const char *text; /* the original bytes, NUL-terminated (a NUL inside is kept) */
    size_t len;
};

/*
 * One directive (`name args;`) or block (`name args { ... }`). The root of the tree is a
 * block named "main" spanning the main file. An `include` directive stays in the tree where
 * it was written (block == false, no kids); the directives of the files it names follow it
 * directly among its parent's kids, each with its own file and with included_by pointing
 * at it. Iterate kids with ngx_node.next.
 */
struct ngx_node {
    const char *name; /* the first word, unquoted ("location", "proxy_pass") */
    char **args;      /* the other words, unquoted and unescaped as nginx does */
    size_t nargs;
    const char *value; /* the args joined by one space ("" when none) */
    bool block;        /* followed by { ... } */
    bool raw;          /* a *_by_lua_block: its body was skipped, not parsed */
    const struct ngx_file *file;
    unsigned line;           /* line of the name (1-based) */
    unsigned end_line;       /* line of the ';' or of the closing '}' */
    size_t start;            /* byte offset of the name in file->text */
    size_t end;              /* offset just past the ';' or the closing '}' */
    size_t body_start;       /* blocks: just past the '{' */
    size_t body_end;         /* blocks: offset of the closing '}' (same file as the '{') */
    const char *label;       /* blocks: "http", "server api.example", "location = /x",
                                "location ~ ^/api", "upstream backend", "if ($x)"; else NULL */
    struct ngx_node *parent; /* enclosing block; NULL for the root */
    struct ngx_node *kids, *last_kid, *next; /* children in order, and the next sibling */
    size_t nkids;
    const struct ngx_node *included_by; /* the include directive that brought it in */
};

/* A problem found while reading, in nginx's terms ("unexpected \"}\"", "open() \"x\" failed
 * (2: No such file or directory)"). */
struct ngx_error {
    const char *file; /* NULL when no file is known */
    unsigned line;    /* 0 when no line is known */
    const char *message;
};

struct ngx_arena;

struct ngxconf {
    struct ngx_node *root;   /* never NULL after a successful load */
    struct ngx_file **files; /* every file read, main first, in reading order */
    size_t nfiles;
    struct ngx_error *errors; /* collected problems, in reading order */
    size_t nerrors;
    const char *conf_prefix; /* directory relative include and certificate paths are
                                resolved against, with a trailing '/' (as nginx's
                                conf_prefix: the main config's directory) */
    struct ngx_arena *arena; /* owns every string and node above */
};

/*
 * Reads PATH and every file it includes. A relative PATH is taken relative to prefix
 * (as `nginx -p PREFIX -c PATH`), else to the working directory. Returns 0 with *out set
 * (parse problems are in (*out)->errors), or -1 with *cause when PATH cannot be read.
 */
int ngxconf_load(const char *path, const char *prefix, struct ngxconf **out, char **cause);

/*
 * Reads the output of `nginx -T` (stdout, optionally with stderr mixed in): the
 * `# configuration file PATH:` markers give each file and its bytes; includes are
 * resolved against the files present in the dump (a glob matching none is fine, an
 * explicit include of a file not in the dump is an error). name labels the input
 * ("-" or the file) in errors. Returns 0 with *out, or -1 with *cause when the text holds
 * no configuration file at all.
 */
int ngxconf_load_nginx_T(const char *name, const char *text, size_t len, const char *prefix,
                         struct ngxconf **out, char **cause);

/* Parses one buffer as the main file named name, without following includes (include
 * directives stay in the tree). Always returns a tree; for tests and the fuzzer. */
struct ngxconf *ngxconf_parse_mem(const char *name, const char *text, size_t len);

void ngxconf_free(struct ngxconf *conf);

/* The first kid of block named name (include directives are transparent), or NULL. */
const struct ngx_node *ngxconf_find(const struct ngx_node *block, const char *name);
/* The next sibling after n with the same name, or NULL. */
const struct ngx_node *ngxconf_find_next(const struct ngx_node *n);

/* The innermost block (location, server, http, ...) whose text in file path contains
 * line, or NULL: maps a "file:line" from a log [emerg] or a check finding back to the tree. */
const struct ngx_node *ngxconf_block_at(const struct ngxconf *conf, const char *path,
                                        unsigned line);

/* An absolute path for a path written in the config (relative ones are taken against
 * conf_prefix, as nginx does for include and ssl certificate files). Caller frees. */
char *ngxconf_full_path(const struct ngxconf *conf, const char *path);

/*
 * The edit helper for remediation: sets directive name to args (nargs words, quoted if
 * they need it) in block. An existing directive of that name among the block's own kids
 * (even one brought in by an include) is replaced on its lines; otherwise a new line is
 * inserted after the block's last proxy_ssl_/proxy_pass (grpc_, uwsgi_) line (else the '{'),
 * with that line's indentation. Pure: no I/O. Sets *file to the file that changes and
 * the new bytes (*newtext, *newlen) to its complete text (caller frees *newtext). Returns 0, or -1
 * with *cause (e.g. the existing directive shares its line with another one).
 */
int ngxconf_edit_set(const struct ngxconf *conf, const struct ngx_node *block, const char *name,
                     const char *const *args, size_t nargs, const struct ngx_file **file,
                     char **newtext, size_t *newlen, char **cause);

#endif
