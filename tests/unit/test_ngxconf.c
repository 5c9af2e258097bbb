/* test_ngxconf.c — the config tokenizer, includes, nginx -T input and the edit helper. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "ngxconf.h"
#include "xmalloc.h"

static char *
fixture(const char *name)
{
    const char *src = getenv("TT_SRCDIR");
    return xasprintf("%s/tests/unit/conf/%s", src != NULL ? src : ".", name);
}

static struct ngxconf *
parse(const char *text)
{
    return ngxconf_parse_mem("/etc/nginx/nginx.conf", text, strlen(text));
}

/* The n-th kid (0-based) of block, include directives counted. */
static const struct ngx_node *
kid(const struct ngx_node *block, size_t n)
{
    const struct ngx_node *k = block->kids;
    while (k != NULL && n-- > 0)
        k = k->next;
    assert_non_null(k);
    return k;
}

static char *
node_text(const struct ngx_node *n)
{
    return xstrndup(n->file->text + n->start, n->end - n->start);
}

static void
tokenizer_unquotes_and_unescapes_like_nginx(void **state)
{
    struct ngxconf *c = parse("add_header X-A \"say \\\"hi\\\"\" 'it\\'s' a\\ b \"t\\tn\";\n");
    const struct ngx_node *n = kid(c->root, 0);

    assert_int_equal(c->nerrors, 0);
    assert_string_equal(n->name, "add_header");
    assert_int_equal(n->nargs, 5);
    assert_string_equal(n->args[1], "say \"hi\"");
    assert_string_equal(n->args[2], "it's");
    assert_string_equal(n->args[3], "a\\ b"); /* only \" \' \\ \t \r \n are unescaped */
    assert_string_equal(n->args[4], "t\tn");
    ngxconf_free(c);
}

static void
comments_are_skipped_but_kept_in_the_original_text(void **state)
{
    const char *t = "# head\n\nworker_processes 2; # two { } ;\n  # tail\n";
    struct ngxconf *c = parse(t);

    assert_int_equal(c->nerrors, 0);
    assert_int_equal(c->root->nkids, 1);
    assert_int_equal(kid(c->root, 0)->line, 3);
    assert_int_equal(c->files[0]->len, strlen(t));
    assert_memory_equal(c->files[0]->text, t, strlen(t));
    ngxconf_free(c);
}

static void
hash_inside_a_word_is_not_a_comment(void **state)
{
    struct ngxconf *c = parse("set $a x#y;\n");
    assert_int_equal(c->nerrors, 0);
    assert_string_equal(kid(c->root, 0)->args[1], "x#y");
    ngxconf_free(c);
}

static void
dollar_brace_variable_does_not_open_a_block(void **state)
{
    struct ngxconf *c = parse("location / { set $b ${a}x; return 200 \"${a}\"; }\n");
    const struct ngx_node *loc = kid(c->root, 0);

    assert_int_equal(c->nerrors, 0);
    assert_true(loc->block);
    assert_int_equal(loc->nkids, 2);
    assert_string_equal(kid(loc, 0)->args[1], "${a}x");
    assert_string_equal(kid(loc, 1)->args[1], "${a}");
    ngxconf_free(c);
}

static void
regex_location_with_quoted_braces_is_one_block(void **state)
{
    struct ngxconf *c = parse("location ~ \"^/r/([0-9]{2,4})$\" {\n    return 204;\n}\n");
    const struct ngx_node *loc = kid(c->root, 0);

    assert_int_equal(c->nerrors, 0);
    assert_string_equal(loc->args[0], "~");
    assert_string_equal(loc->args[1], "^/r/([0-9]{2,4})$");
    assert_string_equal(loc->label, "location ~ ^/r/([0-9]{2,4})$");
    assert_int_equal(loc->end_line, 3);
    ngxconf_free(c);
}

static void
if_block_keeps_its_condition_words(void **state)
{
    struct ngxconf *c = parse("if ($http_x = \"yes\") {\n return 204;\n}\n");
    const struct ngx_node *n = kid(c->root, 0);

    assert_int_equal(c->nerrors, 0);
    assert_true(n->block);
    assert_string_equal(n->name, "if");
    assert_int_equal(n->nargs, 4); /* as nginx: ')' after a quote is a word of its own */
    assert_string_equal(n->args[0], "($http_x");
    assert_string_equal(n->args[2], "yes");
    assert_string_equal(n->args[3], ")");
    ngxconf_free(c);
}

static void
map_and_types_entries_are_directives_of_their_block(void **state)
{
    struct ngxconf *c = parse("map $a $b {\n default 0;\n '' 1;\n ~^x 2;\n}\n"
                              "types { text/html html htm; }\n");
    const struct ngx_node *map = kid(c->root, 0), *types = kid(c->root, 1);

    assert_int_equal(c->nerrors, 0);
    assert_int_equal(map->nkids, 3);
    assert_string_equal(kid(map, 1)->name, "");
    assert_string_equal(kid(map, 2)->name, "~^x");
    assert_int_equal(kid(types, 0)->nargs, 2);
    ngxconf_free(c);
}

static void
lua_block_body_is_skipped_with_braces_in_strings_and_comments(void **state)
{
    struct ngxconf *c = parse("location / {\n"
                              "    content_by_lua_block {\n"
                              "        local s = \"}\" -- a } in a comment\n"
                              "        local t = [==[ } ]] } ]==] ngx.say('{')\n"
                              "        --[[ } ]] if x then y = {a = {}} end\n"
                              "    }\n"
                              "    proxy_pass https://x;\n"
                              "}\n");
    const struct ngx_node *loc = kid(c->root, 0);

    assert_int_equal(c->nerrors, 0);
    assert_int_equal(loc->nkids, 2);
    assert_true(kid(loc, 0)->raw);
    assert_int_equal(kid(loc, 0)->end_line, 6);
    assert_string_equal(kid(loc, 1)->name, "proxy_pass");
    assert_int_equal(kid(loc, 1)->line, 7);
    ngxconf_free(c);
}

static void
unexpected_closing_brace_is_an_error_at_its_line(void **state)
{
    struct ngxconf *c = parse("events {}\n}\n");
    assert_int_equal(c->nerrors, 1);
    assert_string_equal(c->errors[0].message, "unexpected \"}\"");
    assert_int_equal(c->errors[0].line, 2);
    ngxconf_free(c);
}

static void
unclosed_block_is_an_error_at_end_of_file(void **state)
{
    struct ngxconf *c = parse("http {\n server {\n");
    assert_int_equal(c->nerrors, 1);
    assert_string_equal(c->errors[0].message, "unexpected end of file, expecting \"}\"");
    assert_int_equal(c->root->nkids, 1); /* the partial tree is kept */
    ngxconf_free(c);
}

static void
missing_semicolon_at_end_of_file_is_an_error(void **state)
{
    struct ngxconf *c = parse("worker_processes 1");
    assert_int_equal(c->nerrors, 1);
    assert_string_equal(c->errors[0].message, "unexpected end of file, expecting \";\" or \"}\"");
    ngxconf_free(c);
}

static void
text_after_a_closing_quote_is_an_error(void **state)
{
    struct ngxconf *c = parse("return 200 'it''s';\n");
    assert_int_equal(c->nerrors, 1);
    assert_string_equal(c->errors[0].message, "unexpected \"'\"");
    ngxconf_free(c);
}

static void
byte_offsets_cover_the_directive_exactly(void **state)
{
    struct ngxconf *c = parse("http {\n    server {   # s\n        proxy_pass https://x:1;  # c\n"
                              "    }\n}\n");
    const struct ngx_node *srv = kid(kid(c->root, 0), 0), *pp = kid(srv, 0);
    char *s = node_text(pp);

    assert_string_equal(s, "proxy_pass https://x:1;");
    free(s);
    s = node_text(srv);
    assert_true(strncmp(s, "server {", 8) == 0);
    assert_int_equal(s[strlen(s) - 1], '}');
    assert_int_equal(srv->line, 2);
    assert_int_equal(srv->end_line, 4);
    assert_int_equal(srv->file->text[srv->body_end], '}');
    free(s);
    ngxconf_free(c);
}

static void
includes_follow_globs_in_sorted_order_in_any_context(void **state)
{
    char *path = fixture("includes.conf"), *cause = NULL;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 0);
    const struct ngx_node *http = ngxconf_find(c->root, "http");
    /* access_log, include http-*, [http-a] trusted, [http-b] upstream, include none-*, server */
    assert_string_equal(kid(http, 1)->name, "include");
    assert_string_equal(kid(http, 2)->name, "proxy_ssl_trusted_certificate");
    assert_ptr_equal(kid(http, 2)->included_by, kid(http, 1));
    assert_non_null(strstr(kid(http, 2)->file->path, "inc/http-a.conf"));
    assert_string_equal(kid(http, 3)->name, "upstream");
    assert_non_null(strstr(kid(http, 3)->file->path, "inc/http-b.conf"));
    assert_string_equal(kid(http, 4)->name, "include");
    assert_string_equal(kid(http, 5)->name, "server");
    const struct ngx_node *srv = kid(http, 5);
    const struct ngx_node *verify = ngxconf_find(srv, "proxy_ssl_verify");
    assert_non_null(verify);
    assert_int_equal(verify->line, 2);
    const struct ngx_node *loc = ngxconf_find(srv, "location");
    assert_non_null(ngxconf_find(loc, "proxy_pass"));
    assert_int_equal(c->nfiles, 5);
    ngxconf_free(c);
    free(path);
}

static void
block_at_maps_file_and_line_to_the_innermost_block(void **state)
{
    char *path = fixture("includes.conf"), *inc = fixture("inc/location.inc"), *cause = NULL;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_string_equal(ngxconf_block_at(c, path, 12)->label, "server inc.example");
    assert_string_equal(ngxconf_block_at(c, path, 14)->label, "location /");
    assert_string_equal(ngxconf_block_at(c, path, 6)->label, "http");
    /* a line of an included file: the block the include sits in */
    assert_string_equal(ngxconf_block_at(c, inc, 2)->label, "location /");
    assert_null(ngxconf_block_at(c, "/nowhere.conf", 1));
    ngxconf_free(c);
    free(path);
    free(inc);
}

static void
include_cycle_is_an_error_naming_file_and_line(void **state)
{
    char *path = fixture("cycle.conf"), *cause = NULL;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 1);
    assert_non_null(strstr(c->errors[0].file, "inc/cycle-b.inc"));
    assert_int_equal(c->errors[0].line, 2);
    assert_non_null(strstr(c->errors[0].message, "forms a cycle"));
    ngxconf_free(c);
    free(path);
}

static void
missing_explicit_include_is_an_error_like_nginx(void **state)
{
    char *path = fixture("missing.conf"), *cause = NULL;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 1);
    assert_int_equal(c->errors[0].line, 6);
    assert_non_null(strstr(c->errors[0].message, "does-not-exist.conf\" failed (2: No such file"));
    ngxconf_free(c);
    free(path);
}

static void
relative_main_config_is_taken_from_the_prefix(void **state)
{
    const char *src = getenv("TT_SRCDIR");
    char *prefix = xasprintf("%s/tests/unit", src != NULL ? src : "."), *cause = NULL;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load("conf/includes.conf", prefix, &c, &cause), 0);
    assert_int_equal(c->nerrors, 0);
    assert_non_null(strstr(c->conf_prefix, "tests/unit/conf/"));
    ngxconf_free(c);
    free(prefix);
}

static void
tokens_fixture_that_nginx_accepts_parses_without_errors(void **state)
{
    char *path = fixture("tokens.conf"), *cause = NULL;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 0);
    const struct ngx_node *srv = ngxconf_find(ngxconf_find(c->root, "http"), "server");
    assert_string_equal(ngxconf_find(srv, "set")->args[1], "a;b{c}");
    assert_null(ngxconf_find(srv, "server_name")->label); /* directives have no label */
    assert_string_equal(srv->label, "server tokens.example");
    ngxconf_free(c);
    free(path);
}

static void
unreadable_main_config_fails_with_a_cause(void **state)
{
    struct ngxconf *c = NULL;
    char *cause = NULL;

    assert_int_equal(ngxconf_load("/nonexistent/nginx.conf", NULL, &c, &cause), -1);
    assert_string_equal(cause, "open() \"/nonexistent/nginx.conf\" failed (2: No such file or "
                               "directory)");
    free(cause);
}

static const char dump[] = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
                           "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
                           "# configuration file /etc/nginx/nginx.conf:\n"
                           "events {}\n"
                           "http {\n"
                           "    include conf.d/*.conf;\n"
                           "    include extra.conf;\n"
                           "}\n"
                           "\n"
                           "# configuration file /etc/nginx/conf.d/b.conf:\n"
                           "server { listen 8443; }\n"
                           "\n"
                           "# configuration file /etc/nginx/conf.d/a.conf:\n"
                           "# a\n"
                           "proxy_ssl_verify on;\n"
                           "\n"
                           "# configuration file /etc/nginx/extra.conf:\n"
                           "\n";

static void
nginx_T_output_gives_each_file_and_its_lines(void **state)
{
    struct ngxconf *c = NULL;
    char *cause = NULL;

    assert_int_equal(ngxconf_load_nginx_T("-", dump, strlen(dump), NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 0);
    assert_int_equal(c->nfiles, 4);
    assert_string_equal(c->files[0]->path, "/etc/nginx/nginx.conf");
    assert_string_equal(c->conf_prefix, "/etc/nginx/");
    const struct ngx_node *http = ngxconf_find(c->root, "http");
    /* the glob is sorted: a.conf before b.conf */
    const struct ngx_node *v = kid(http, 1);
    assert_string_equal(v->name, "proxy_ssl_verify");
    assert_string_equal(v->file->path, "/etc/nginx/conf.d/a.conf");
    assert_int_equal(v->line, 2);
    assert_string_equal(kid(http, 2)->name, "server");
    assert_string_equal(c->files[1]->text, "# a\nproxy_ssl_verify on;\n");
    assert_int_equal(c->files[3]->len, 0); /* extra.conf is empty */
    ngxconf_free(c);
}

static void
nginx_T_include_of_a_file_not_dumped_is_an_error(void **state)
{
    const char *t = "# configuration file /etc/nginx/nginx.conf:\nhttp { include x.conf; }\n\n";
    struct ngxconf *c = NULL;
    char *cause = NULL;

    assert_int_equal(ngxconf_load_nginx_T("-", t, strlen(t), NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 1);
    assert_int_equal(c->errors[0].line, 1);
    assert_non_null(strstr(c->errors[0].message, "not in the nginx -T output"));
    ngxconf_free(c);
}

static void
text_without_markers_is_not_nginx_T_output(void **state)
{
    struct ngxconf *c = NULL;
    char *cause = NULL;

    assert_int_equal(ngxconf_load_nginx_T("dump.txt", "http {}\n", 8, NULL, &c, &cause), -1);
    assert_non_null(strstr(cause, "not the output of nginx -T"));
    free(cause);
}

static char *
edit(struct ngxconf *c, const struct ngx_node *block, const char *name, const char *a0,
     const char *a1)
{
    const char *args[] = {a0, a1};
    const struct ngx_file *f = NULL;
    char *out = NULL, *cause = NULL;
    size_t len = 0;

    assert_int_equal(
        ngxconf_edit_set(c, block, name, args, a1 != NULL ? 2 : 1, &f, &out, &len, &cause), 0);
    assert_non_null(f);
    assert_int_equal(strlen(out), len);
    return out;
}

static void
edit_replaces_an_existing_directive_and_keeps_every_other_byte(void **state)
{
    const char *t = "http {\n  # keep me\n  location / {\n\tproxy_ssl_verify off;   # was off\n"
                    "\tproxy_pass https://10.0.0.1;\n  }\n}\n";
    struct ngxconf *c = parse(t);
    const struct ngx_node *loc = kid(kid(c->root, 0), 0);
    char *out = edit(c, loc, "proxy_ssl_verify", "on", NULL);

    assert_string_equal(out, "http {\n  # keep me\n  location / {\n\tproxy_ssl_verify on;   # was "
                             "off\n\tproxy_pass https://10.0.0.1;\n  }\n}\n");
    free(out);
    ngxconf_free(c);
}

static void
edit_inserts_after_the_last_proxy_line_with_its_indentation(void **state)
{
    const char *t = "location / {\n      proxy_ssl_verify on;\n      proxy_pass https://h;\n"
                    "      add_header X 1;\n}\n";
    struct ngxconf *c = parse(t);
    char *out =
        edit(c, kid(c->root, 0), "proxy_ssl_trusted_certificate", "/etc/ssl/my ca.pem", NULL);

    assert_string_equal(out,
                        "location / {\n      proxy_ssl_verify on;\n      proxy_pass https://h;\n"
                        "      proxy_ssl_trusted_certificate \"/etc/ssl/my ca.pem\";\n"
                        "      add_header X 1;\n}\n");
    free(out);
    ngxconf_free(c);
}

static void
edit_inserts_after_the_opening_brace_when_no_proxy_line_exists(void **state)
{
    const char *t = "  server {\n  }\n";
    struct ngxconf *c = parse(t);
    char *out = edit(c, kid(c->root, 0), "proxy_ssl_server_name", "on", NULL);

    assert_string_equal(out, "  server {\n      proxy_ssl_server_name on;\n  }\n");
    free(out);
    ngxconf_free(c);
}

/* The block reached from the root by label, then label, ... (NULL-terminated). */
static const struct ngx_node *
block_by_labels(const struct ngxconf *c, const char *const *labels)
{
    const struct ngx_node *b = c->root;
    for (; *labels != NULL; labels++) {
        const struct ngx_node *k;
        for (k = b->kids; k != NULL; k = k->next) {
            if (k->block && k->label != NULL && strcmp(k->label, *labels) == 0)
                break;
        }
        assert_non_null(k);
        b = k;
    }
    return b;
}

/*
 * Edits the block found by labels in text, then checks the three things an edit promises:
 * the result parses without errors, the directive is a kid of that very block with the
 * value, and the bytes outside the inserted statement (plus the blanks or line ending
 * around it) are the original bytes. Returns the new text (caller frees).
 */
static char *
edit_shape(const char *text, const char *const *labels, const char *name, const char *value)
{
    struct ngxconf *c = parse(text);
    assert_int_equal(c->nerrors, 0);
    char *out = edit(c, block_by_labels(c, labels), name, value, NULL);
    struct ngxconf *d = parse(out);
    assert_int_equal(d->nerrors, 0);
    const struct ngx_node *b = block_by_labels(d, labels), *n;
    for (n = b->kids; n != NULL && strcmp(n->name, name) != 0; n = n->next)
        ;
    assert_non_null(n);
    assert_string_equal(n->value, value);
    assert_false(n->block);
    /* nothing else changed: old == out minus [n->start, n->end) and blanks/eol next to it */
    size_t olen = strlen(text), nlen = strlen(out), p = 0, q = 0;
    while (p < olen && p < nlen && text[p] == out[p])
        p++;
    while (q < olen - p && q < nlen - p && text[olen - 1 - q] == out[nlen - 1 - q])
        q++;
    if (strstr(text, name) == NULL) { /* an insertion: only the statement and blanks added */
        assert_int_equal(p + q, olen);
        for (size_t i = p; i < nlen - q; i++) {
            if (i >= n->start && i < n->end)
                continue;
            assert_true(out[i] == ' ' || out[i] == '\t' || out[i] == '\r' || out[i] == '\n');
        }
    }
    ngxconf_free(d);
    ngxconf_free(c);
    return out;
}

static void
edit_in_a_one_line_block_goes_inside_its_braces_not_after_the_line(void **state)
{
    const char *t = "server {\n    location /a/ { proxy_pass https://127.0.0.1:9441; }\n"
                    "    location /b/ { proxy_pass https://127.0.0.1:9442; }\n}\n";
    const char *const lab[] = {"server", "location /a/", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_trusted_certificate", "/c/pin.pem");

    assert_string_equal(out, "server {\n    location /a/ { proxy_pass https://127.0.0.1:9441; "
                             "proxy_ssl_trusted_certificate /c/pin.pem; }\n"
                             "    location /b/ { proxy_pass https://127.0.0.1:9442; }\n}\n");
    free(out);
}

static void
edit_with_several_directives_on_a_line_joins_that_line_after_the_last_proxy_one(void **state)
{
    const char *t = "location / {\n    proxy_pass https://h; proxy_ssl_verify on; add_header X 1;\n"
                    "}\n";
    const char *const lab[] = {"location /", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_name", "h.example");

    assert_string_equal(out, "location / {\n    proxy_pass https://h; proxy_ssl_verify on; "
                             "proxy_ssl_name h.example; add_header X 1;\n}\n");
    free(out);
}

static void
edit_replaces_a_directive_sharing_its_line_in_place(void **state)
{
    const char *t = "location / { proxy_ssl_verify off; proxy_pass https://h; }\n";
    const char *const lab[] = {"location /", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    assert_string_equal(out, "location / { proxy_ssl_verify on; proxy_pass https://h; }\n");
    free(out);
}

static void
edit_with_the_closing_brace_on_the_last_line_stays_inside(void **state)
{
    const char *t = "location / {\n    proxy_pass https://h; }\nlocation /x/ {}\n";
    const char *const lab[] = {"location /", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    assert_string_equal(out, "location / {\n    proxy_pass https://h; proxy_ssl_verify on; }\n"
                             "location /x/ {}\n");
    free(out);
    const char *const lab2[] = {"location /x/", NULL};
    out = edit_shape(t, lab2, "proxy_ssl_verify", "on");
    assert_string_equal(out, "location / {\n    proxy_pass https://h; }\n"
                             "location /x/ { proxy_ssl_verify on; }\n");
    free(out);
}

static void
edit_of_an_outer_location_never_lands_in_the_nested_one(void **state)
{
    const char *t = "location /n/ {\n    location /n/m/ {\n        proxy_pass https://b;\n    }\n"
                    "    proxy_pass https://a;\n}\n";
    const char *const outer[] = {"location /n/", NULL};
    const char *const inner[] = {"location /n/", "location /n/m/", NULL};
    char *out = edit_shape(t, outer, "proxy_ssl_verify", "on");

    assert_string_equal(out, "location /n/ {\n    location /n/m/ {\n        proxy_pass https://b;\n"
                             "    }\n    proxy_pass https://a;\n    proxy_ssl_verify on;\n}\n");
    free(out);
    out = edit_shape(t, inner, "proxy_ssl_verify", "on");
    assert_string_equal(out, "location /n/ {\n    location /n/m/ {\n        proxy_pass https://b;\n"
                             "        proxy_ssl_verify on;\n    }\n    proxy_pass https://a;\n}\n");
    free(out);
}

static void
edit_of_a_location_with_if_and_limit_except_stays_out_of_them(void **state)
{
    const char *t = "location / {\n    if ($x) { proxy_pass https://a; }\n"
                    "    limit_except GET { deny all; }\n}\n";
    const char *const lab[] = {"location /", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    /* no proxy line of its own: right after the '{', indented like its kids */
    assert_string_equal(out, "location / {\n    proxy_ssl_verify on;\n"
                             "    if ($x) { proxy_pass https://a; }\n"
                             "    limit_except GET { deny all; }\n}\n");
    free(out);
}

static void
edit_in_a_crlf_file_inserts_crlf(void **state)
{
    const char *t = "location / {\r\n    proxy_pass https://h;\r\n}\r\nserver {\r\n}\r\n";
    const char *const lab[] = {"location /", NULL};
    const char *const srv[] = {"server", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    assert_string_equal(out, "location / {\r\n    proxy_pass https://h;\r\n"
                             "    proxy_ssl_verify on;\r\n}\r\nserver {\r\n}\r\n");
    free(out);
    out = edit_shape(t, srv, "proxy_ssl_verify", "on");
    assert_string_equal(out, "location / {\r\n    proxy_pass https://h;\r\n}\r\nserver {\r\n"
                             "    proxy_ssl_verify on;\r\n}\r\n");
    free(out);
}

static void
edit_with_tabs_indents_with_tabs(void **state)
{
    const char *t = "\tlocation / {\n\t\tproxy_pass https://h;\n\t}\n\tserver {\n\t}\n";
    const char *const lab[] = {"location /", NULL};
    const char *const srv[] = {"server", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    assert_string_equal(out, "\tlocation / {\n\t\tproxy_pass https://h;\n\t\tproxy_ssl_verify on;\n"
                             "\t}\n\tserver {\n\t}\n");
    free(out);
    out = edit_shape(t, srv, "proxy_ssl_verify", "on");
    assert_string_equal(out, "\tlocation / {\n\t\tproxy_pass https://h;\n\t}\n\tserver {\n"
                             "\t\tproxy_ssl_verify on;\n\t}\n");
    free(out);
}

static void
edit_in_a_file_without_a_final_newline_adds_none(void **state)
{
    const char *t = "location / {\n    proxy_pass https://h;\n}";
    const char *const lab[] = {"location /", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    assert_string_equal(out,
                        "location / {\n    proxy_pass https://h;\n    proxy_ssl_verify on;\n}");
    free(out);
    out = edit_shape("location / { proxy_pass https://h; }", lab, "proxy_ssl_verify", "on");
    assert_string_equal(out, "location / { proxy_pass https://h; proxy_ssl_verify on; }");
    free(out);
}

static void
edit_after_a_brace_followed_by_a_directive_joins_the_line(void **state)
{
    const char *t = "location / { add_header X 1;\n}\n";
    const char *const lab[] = {"location /", NULL};
    char *out = edit_shape(t, lab, "proxy_ssl_verify", "on");

    assert_string_equal(out, "location / { proxy_ssl_verify on; add_header X 1;\n}\n");
    free(out);
}

static void
edit_changes_the_included_file_that_holds_the_directive(void **state)
{
    char *path = fixture("includes.conf"), *cause = NULL, *out;
    struct ngxconf *c = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    const struct ngx_node *srv = ngxconf_find(ngxconf_find(c->root, "http"), "server");
    const char *args[] = {"on"};
    const struct ngx_file *f;
    size_t len;
    assert_int_equal(
        ngxconf_edit_set(c, srv, "proxy_ssl_server_name", args, 1, &f, &out, &len, &cause), 0);
    (void)args;
    assert_non_null(strstr(f->path, "inc/server-tls.inc"));
    assert_string_equal(out, "# TLS settings shared by servers\nproxy_ssl_verify on;\n"
                             "proxy_ssl_server_name on;\n");
    free(out);
    ngxconf_free(c);
    free(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokenizer_unquotes_and_unescapes_like_nginx),
        cmocka_unit_test(comments_are_skipped_but_kept_in_the_original_text),
        cmocka_unit_test(hash_inside_a_word_is_not_a_comment),
        cmocka_unit_test(dollar_brace_variable_does_not_open_a_block),
        cmocka_unit_test(regex_location_with_quoted_braces_is_one_block),
        cmocka_unit_test(if_block_keeps_its_condition_words),
        cmocka_unit_test(map_and_types_entries_are_directives_of_their_block),
        cmocka_unit_test(lua_block_body_is_skipped_with_braces_in_strings_and_comments),
        cmocka_unit_test(unexpected_closing_brace_is_an_error_at_its_line),
        cmocka_unit_test(unclosed_block_is_an_error_at_end_of_file),
        cmocka_unit_test(missing_semicolon_at_end_of_file_is_an_error),
        cmocka_unit_test(text_after_a_closing_quote_is_an_error),
        cmocka_unit_test(byte_offsets_cover_the_directive_exactly),
        cmocka_unit_test(includes_follow_globs_in_sorted_order_in_any_context),
        cmocka_unit_test(block_at_maps_file_and_line_to_the_innermost_block),
        cmocka_unit_test(include_cycle_is_an_error_naming_file_and_line),
        cmocka_unit_test(missing_explicit_include_is_an_error_like_nginx),
        cmocka_unit_test(relative_main_config_is_taken_from_the_prefix),
        cmocka_unit_test(tokens_fixture_that_nginx_accepts_parses_without_errors),
        cmocka_unit_test(unreadable_main_config_fails_with_a_cause),
        cmocka_unit_test(nginx_T_output_gives_each_file_and_its_lines),
        cmocka_unit_test(nginx_T_include_of_a_file_not_dumped_is_an_error),
        cmocka_unit_test(text_without_markers_is_not_nginx_T_output),
        cmocka_unit_test(edit_replaces_an_existing_directive_and_keeps_every_other_byte),
        cmocka_unit_test(edit_inserts_after_the_last_proxy_line_with_its_indentation),
        cmocka_unit_test(edit_inserts_after_the_opening_brace_when_no_proxy_line_exists),
        cmocka_unit_test(edit_in_a_one_line_block_goes_inside_its_braces_not_after_the_line),
        cmocka_unit_test(
            edit_with_several_directives_on_a_line_joins_that_line_after_the_last_proxy_one),
        cmocka_unit_test(edit_replaces_a_directive_sharing_its_line_in_place),
        cmocka_unit_test(edit_with_the_closing_brace_on_the_last_line_stays_inside),
        cmocka_unit_test(edit_of_an_outer_location_never_lands_in_the_nested_one),
        cmocka_unit_test(edit_of_a_location_with_if_and_limit_except_stays_out_of_them),
        cmocka_unit_test(edit_in_a_crlf_file_inserts_crlf),
        cmocka_unit_test(edit_with_tabs_indents_with_tabs),
        cmocka_unit_test(edit_in_a_file_without_a_final_newline_adds_none),
        cmocka_unit_test(edit_after_a_brace_followed_by_a_directive_joins_the_line),
        cmocka_unit_test(edit_changes_the_included_file_that_holds_the_directive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
