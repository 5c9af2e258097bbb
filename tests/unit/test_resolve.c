/* test_resolve.c — server and location selection, proxy_pass targets and the effective
 * proxy_ssl_* values with their origin, on fixtures real nginx -t accepts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logscan.h"
#include "ngxconf.h"
#include "resolve.h"
#include "xmalloc.h"

static struct ngxconf *
load(const char *name)
{
    const char *src = getenv("TT_SRCDIR");
    char *path = xasprintf("%s/tests/unit/conf/%s", src != NULL ? src : ".", name);
    struct ngxconf *c = NULL;
    char *cause = NULL;

    assert_int_equal(ngxconf_load(path, NULL, &c, &cause), 0);
    assert_int_equal(c->nerrors, 0);
    free(path);
    return c;
}

static int
setup(void **state)
{
    *state = load("locations.conf");
    return 0;
}

static int
teardown(void **state)
{
    ngxconf_free(*state);
    return 0;
}

/* The label of the block nginx uses for HOST on LISTEN with URI. */
static char *
block_for(struct ngxconf *c, const char *host, const char *listen, const char *uri)
{
    struct resolve_query q = {false, host, listen, uri, NULL, NULL};
    struct resolve_result r;
    char *cause = NULL, *s;

    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    s = resolve_context(r.block);
    resolve_result_free(&r);
    return s;
}

#define assert_block(c, host, listen, uri, want)                                                   \
    do {                                                                                           \
        char *got_ = block_for(c, host, listen, uri);                                              \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void
exact_location_wins_only_for_the_exact_uri(void **state)
{
    assert_block(*state, "default.example", "127.0.0.1:20216", "/exact",
                 "location = /exact in server default.example");
    assert_block(*state, "default.example", "127.0.0.1:20216", "/exact/more",
                 "location / in server default.example");
}

static void
longest_prefix_then_its_nested_regex(void **state)
{
    assert_block(*state, "default.example", "127.0.0.1:20216", "/static/a.css",
                 "location /static/ in server default.example");
    assert_block(*state, "default.example", "127.0.0.1:20216", "/static/a.png?x=1",
                 "location ~ \\.png$ in location /static/ in server default.example");
}

static void
caret_tilde_prefix_stops_the_regex_search(void **state)
{
    assert_block(*state, "default.example", "127.0.0.1:20216", "/noregex/a.gif",
                 "location ^~ /noregex/ in server default.example");
}

static void
regexes_are_tried_in_order_after_the_prefix_match(void **state)
{
    assert_block(*state, "default.example", "127.0.0.1:20216", "/api/v2/logo.gif",
                 "location ~ ^/api/v\\d+/ in server default.example");
    assert_block(*state, "default.example", "127.0.0.1:20216", "/img/logo.gif",
                 "location ~* \\.(jpg|gif)$ in server default.example");
}

static void
tilde_star_regex_ignores_case(void **state)
{
    assert_block(*state, "default.example", "127.0.0.1:20216", "/img/PHOTO.JPG",
                 "location ~* \\.(jpg|gif)$ in server default.example");
}

static void
unknown_host_goes_to_the_default_server(void **state)
{
    assert_block(*state, "nobody.example", "127.0.0.1:20216", "/",
                 "location / in server default.example");
}

static void
exact_name_beats_the_default_server(void **state)
{
    assert_block(*state, "First.Example", "127.0.0.1:20216", "/",
                 "location / in server first.example");
}

static void
wildcard_names_match_leading_and_trailing(void **state)
{
    assert_block(*state, "a.b.wild.example", "127.0.0.1:20216", "/",
                 "location / in server *.wild.example");
    assert_block(*state, "www.trail.org", "127.0.0.1:20216", "/",
                 "location / in server *.wild.example");
}

static void
regex_server_name_with_named_capture_matches(void **state)
{
    assert_block(*state, "abc.re.example", "127.0.0.1:20216", "/",
                 "location / in server ~^(?<sub>[a-z]+)\\.re\\.example$");
}

static void
server_field_spelling_a_wildcard_or_regex_name_finds_that_block(void **state)
{
    assert_block(*state, "*.wild.example", "127.0.0.1:20216", "/",
                 "location / in server *.wild.example");
    assert_block(*state, "~^(?<sub>[a-z]+)\\.re\\.example$", NULL, "/",
                 "location / in server ~^(?<sub>[a-z]+)\\.re\\.example$");
}

static void
listen_port_selects_the_server(void **state)
{
    assert_block(*state, "first.example", "127.0.0.1:20217", "/",
                 "location / in server other-port.example");
}

static void
settings_show_where_each_value_comes_from(void **state)
{
    struct resolve_query q = {false, "default.example", "127.0.0.1:20216", "/exact", NULL, NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_true(r.has_use);
    const struct proxy_ssl_settings *s = &r.use.ssl;
    assert_int_equal(s->v[PSS_NAME].origin, PSS_SET);
    assert_string_equal(s->v[PSS_NAME].value, "exact.internal");
    assert_string_equal(s->v[PSS_NAME].block, "location = /exact");
    assert_int_equal(s->v[PSS_VERIFY].origin, PSS_INHERITED);
    assert_string_equal(s->v[PSS_VERIFY].block, "http");
    assert_int_equal(s->v[PSS_VERIFY].line, 7);
    assert_non_null(strstr(s->v[PSS_VERIFY].file, "locations.conf"));
    assert_int_equal(s->v[PSS_VERIFY_DEPTH].origin, PSS_DEFAULT);
    assert_string_equal(s->v[PSS_VERIFY_DEPTH].value, "1");
    assert_null(s->v[PSS_VERIFY_DEPTH].file);
    assert_int_equal(s->v[PSS_SESSION_REUSE].origin, PSS_DEFAULT);
    assert_string_equal(s->v[PSS_SESSION_REUSE].value, "on");
    resolve_result_free(&r);
}

static void
nested_location_inherits_from_the_server(void **state)
{
    struct resolve_query q = {false, "default.example", "127.0.0.1:20216", "/static/x.png", NULL,
                              NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_int_equal(r.use.ssl.v[PSS_NAME].origin, PSS_INHERITED);
    assert_string_equal(r.use.ssl.v[PSS_NAME].value, "default.internal");
    assert_string_equal(r.use.ssl.v[PSS_NAME].block, "server default.example");
    assert_int_equal(r.use.targets[0].port, 20263);
    assert_string_equal(resolve_ssl_name(&r.use), "default.internal");
    resolve_result_free(&r);
}

static void
upstream_block_gives_its_servers_as_targets(void **state)
{
    struct resolve_query q = {
        false, "default.example", "127.0.0.1:20216", "/other", "https://127.0.0.1:20271/other",
        NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_int_equal(r.use.kind, RESOLVE_UPSTREAM);
    assert_string_equal(r.use.proxy_host, "pool");
    assert_int_equal(r.use.ntargets, 2);
    assert_string_equal(r.use.targets[1].host, "127.0.0.1");
    assert_int_equal(r.use.targets[1].port, 20271);
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
variable_proxy_pass_cannot_be_resolved_statically(void **state)
{
    struct resolve_query q = {false, "other-port.example", "127.0.0.1:20217", "/", NULL, NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_int_equal(r.use.kind, RESOLVE_VARIABLE);
    assert_non_null(strstr(r.note, "cannot resolve statically"));
    assert_int_equal(r.use.ntargets, 2); /* the candidates: the upstream pool's servers */
    resolve_result_free(&r);
}

static void
upstream_alone_finds_the_location_that_proxies_to_it(void **state)
{
    struct resolve_query q = {false, NULL, NULL, NULL, "https://localhost:20263/a.png", NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_string_equal(r.use.context,
                        "location ~ \\.png$ in location /static/ in server default.example");
    resolve_result_free(&r);
}

static void
stream_server_is_found_by_its_listen_address(void **state)
{
    struct resolve_query q = {true, NULL, "127.0.0.1:20218", NULL, "127.0.0.1:20272", NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_true(r.has_use);
    assert_true(r.use.stream);
    assert_string_equal(r.use.context, "stream server 127.0.0.1:20218");
    assert_int_equal(r.use.ssl.v[PSS_VERIFY].origin, PSS_INHERITED);
    assert_string_equal(r.use.ssl.v[PSS_VERIFY].block, "stream");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
stream_server_with_proxy_ssl_off_is_not_a_tls_use(void **state)
{
    struct resolve_query q = {true, NULL, "127.0.0.1:20219", NULL, NULL, NULL};
    struct resolve_result r;
    char *cause = NULL;

    assert_int_equal(resolve_find(*state, &q, &r, &cause), 0);
    assert_false(r.has_use);
    resolve_result_free(&r);
}

static void
every_tls_use_is_listed_in_file_order(void **state)
{
    struct tls_use *uses;
    size_t n = resolve_uses(*state, &uses);

    /* 1 + 7 + 1 + 1 + 1 http locations and one stream server with proxy_ssl on */
    assert_int_equal(n, 12);
    assert_string_equal(uses[0].context, "location / in server first.example");
    assert_string_equal(resolve_ssl_name(&uses[0]), "localhost"); /* the proxy_pass host */
    assert_int_equal(uses[0].proxy_pass->line, 17);
    assert_true(uses[11].stream);
    resolve_uses_free(uses, n);
}

static void
settings_from_included_files_name_that_file(void **state)
{
    struct ngxconf *c = load("includes.conf");
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);

    assert_int_equal(n, 1);
    assert_int_equal(uses[0].kind, RESOLVE_UPSTREAM);
    assert_non_null(strstr(uses[0].ssl.v[PSS_VERIFY].file, "inc/server-tls.inc"));
    assert_int_equal(uses[0].ssl.v[PSS_VERIFY].line, 2);
    assert_non_null(strstr(uses[0].ssl.v[PSS_TRUSTED_CERTIFICATE].file, "inc/http-a.conf"));
    assert_int_equal(uses[0].ssl.v[PSS_NAME].origin, PSS_SET);
    resolve_uses_free(uses, n);
    ngxconf_free(c);
}

/* ---- regexes (PCRE2), pinned by regex.expect, which a real nginx answers too ---- */

/* The first word of the `return` of the block nginx uses for the request. */
static char *
label_of(struct ngxconf *c, const char *hostport, const char *uri)
{
    char *host = xstrdup(hostport), *colon = strrchr(host, ':');
    char *listen = xasprintf("127.0.0.1:%s", colon != NULL ? colon + 1 : "80");
    struct resolve_query q = {.server = NULL, .listen = listen, .uri = uri, .host = host};
    struct resolve_result r;
    char *cause = NULL, *label;
    const struct ngx_node *ret;

    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    ret = ngxconf_find(r.block, "return");
    assert_non_null(ret);
    assert_int_equal(ret->nargs, 2);
    label = xstrndup(ret->args[1], strcspn(ret->args[1], " \n"));
    resolve_result_free(&r);
    free(listen);
    free(host);
    return label;
}

static void
every_case_of_regex_expect_is_placed_as_nginx_answers_it(void **state)
{
    struct ngxconf *c = load("regex.conf");
    const char *src = getenv("TT_SRCDIR");
    char *path = xasprintf("%s/tests/unit/conf/regex.expect", src != NULL ? src : ".");
    FILE *fp = fopen(path, "r");
    char line[512];
    int n = 0, bad = 0;

    (void)state;
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char hostport[200], uri[200], want[64];
        if (line[0] == '#' || sscanf(line, "%199s %199s %63s", hostport, uri, want) != 3)
            continue;
        char *got = label_of(c, hostport, uri);
        if (strcmp(got, want) != 0) {
            print_error("%s %s: resolve says %s, nginx %s\n", hostport, uri, got, want);
            bad++;
        }
        free(got);
        n++;
    }
    fclose(fp);
    free(path);
    ngxconf_free(c);
    assert_true(n >= 40);
    assert_int_equal(bad, 0);
}

static const char *
cap(const struct resolve_result *r, const char *name)
{
    for (size_t i = 0; i < r->ncaptures; i++) {
        if (strcmp(r->captures[i].name, name) == 0)
            return r->captures[i].value;
    }
    return NULL;
}

static void
named_and_numbered_captures_are_those_of_the_matching_regex(void **state)
{
    struct ngxconf *c = load("regex.conf");
    struct resolve_query q = {
        .listen = "127.0.0.1:20600", .uri = "/api/v12/a/b?q=1", .host = "loc.test"};
    struct resolve_result r;
    char *cause = NULL;

    (void)state;
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_string_equal(cap(&r, "ver"), "v12");
    assert_string_equal(cap(&r, "rest"), "a/b");
    assert_string_equal(cap(&r, "1"), "v12");
    assert_string_equal(cap(&r, "0"), "/api/v12/a/b");
    resolve_result_free(&r);
    q.listen = "127.0.0.1:20601";
    q.host = "Carol.users.test:20601";
    q.uri = "/";
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_string_equal(cap(&r, "user"), "carol"); /* the host is lowercased first */
    resolve_result_free(&r);
    ngxconf_free(c);
}

/* ---- which block: shapes.conf ---- */

static struct resolve_result
place(struct ngxconf *c, const char *server, const char *host, const char *uri,
      const char *upstream)
{
    struct resolve_query q = {.server = server, .uri = uri, .upstream = upstream, .host = host};
    struct resolve_result r;
    char *cause = NULL;

    if (resolve_find(c, &q, &r, &cause) != 0) {
        print_error("resolve_find: %s\n", cause);
        fail();
    }
    return r;
}

static int
shapes_setup(void **state)
{
    *state = load("shapes.conf");
    return 0;
}

static void
one_line_sibling_locations_are_told_apart(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", "shapes.test:20700", "/b/x", "https://127.0.0.1:20702/b/x");
    assert_true(r.has_use);
    assert_string_equal(r.use.context, "location /b/ in server shapes.test");
    assert_true(r.upstream_matches);
    assert_int_equal(r.ncandidates, 0);
    resolve_result_free(&r);
}

static void
nested_location_is_chosen_for_its_uri_and_the_outer_for_the_rest(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/n/m/x", "https://127.0.0.1:20704/n/m/x");
    assert_string_equal(r.use.context, "location /n/m/ in location /n/ in server shapes.test");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
    r = place(*state, "shapes.test", NULL, "/n/x", "https://127.0.0.1:20703/n/x");
    assert_string_equal(r.use.context, "location /n/ in server shapes.test");
    resolve_result_free(&r);
}

static void
proxy_pass_in_if_is_matched_by_the_logged_upstream(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/i/x?alt=1", "https://127.0.0.1:20706/i/x?alt=1");
    assert_true(r.has_use);
    assert_string_equal(r.use.block->name, "if");
    assert_string_equal(r.use.context, "if ($arg_alt) in location /i/ in server shapes.test");
    assert_int_equal(r.use.proxy_pass->line, 35);
    assert_string_equal(r.use.location->label, "location /i/");
    assert_ptr_equal(r.block, r.use.location);
    assert_int_equal(r.use.targets[0].port, 20706);
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
two_paths_of_one_location_to_the_same_upstream_are_candidates(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/i/x", "https://127.0.0.1:20705/i/x");
    assert_true(r.has_use);
    assert_int_equal(r.ncandidates, 2);
    assert_string_equal(r.candidates[0].context, "location /i/ in server shapes.test");
    assert_string_equal(r.candidates[1].context,
                        "if ($arg_dup) in location /i/ in server shapes.test");
    assert_string_equal(r.use.context, r.candidates[0].context);
    assert_non_null(strstr(r.note, "cannot decide"));
    resolve_result_free(&r);
}

static void
an_upstream_the_location_does_not_name_is_never_mapped_to_another(void **state)
{
    /* /a/ proxies to 20701 only; no block of the server proxies to 20799 */
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/a/x", "https://127.0.0.1:20799/a/x");
    assert_false(r.has_use);
    assert_string_equal(r.block->label, "location /a/");
    assert_non_null(strstr(r.note, "does not proxy to 127.0.0.1:20799"));
    resolve_result_free(&r);
    /* a location without proxy_pass: the server's block that proxies there, said so */
    r = place(*state, "shapes.test", NULL, "/static/x", "https://127.0.0.1:20702/x");
    assert_true(r.has_use);
    assert_true(r.by_upstream);
    assert_string_equal(r.use.context, "location /b/ in server shapes.test");
    assert_non_null(strstr(r.note, "location /static/ in server shapes.test does not proxy"));
    resolve_result_free(&r);
}

static void
limit_except_proxy_pass_is_its_own_path(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/le/x", "https://127.0.0.1:20708/le/x");
    assert_string_equal(r.use.block->name, "limit_except");
    assert_string_equal(r.use.location->label, "location /le/");
    resolve_result_free(&r);
    r = place(*state, "shapes.test", NULL, "/le/x", "https://127.0.0.1:20707/le/x");
    assert_string_equal(r.use.block->label, "location /le/");
    resolve_result_free(&r);
}

static void
upstream_group_server_is_placed_with_the_line_it_comes_from(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/g/x", "https://127.0.0.1:20712/g/x");
    assert_int_equal(r.use.kind, RESOLVE_UPSTREAM);
    assert_int_equal(r.use.ntargets, 2);
    assert_int_equal(r.use.targets[1].origin->line, 13);
    assert_string_equal(r.use.targets[1].origin->name, "server");
    assert_string_equal(resolve_target_ssl_name(&r.use, 1), "g");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
    /* "no live upstreams" lines name the group itself, without a port */
    r = place(*state, "shapes.test", NULL, "/g/x", "https://g/g/x");
    assert_string_equal(r.use.context, "location /g/ in server shapes.test");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
    r = place(*state, "shapes.test", NULL, "/m/x?color=green", "https://g/m/x");
    assert_string_equal(r.use.context, "location /m/ in server shapes.test");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
set_with_a_literal_resolves_the_variable_upstream(void **state)
{
    struct resolve_result r = place(*state, "shapes.test", NULL, "/v/x", NULL);
    assert_int_equal(r.use.kind, RESOLVE_VARIABLE);
    assert_true(r.use.var_static);
    assert_int_equal(r.use.ntargets, 1);
    assert_string_equal(r.use.targets[0].host, "127.0.0.1");
    assert_int_equal(r.use.targets[0].port, 20709);
    assert_false(r.use.targets[0].guess);
    assert_string_equal(r.use.targets[0].origin->name, "set");
    assert_string_equal(resolve_target_ssl_name(&r.use, 0), "127.0.0.1");
    assert_null(r.note);
    resolve_result_free(&r);
    /* a server-level set, and a URI after the variable */
    r = place(*state, "shapes.test", NULL, "/v2/x", "https://127.0.0.1:20724/x");
    assert_true(r.use.var_static);
    assert_int_equal(r.use.ntargets, 1);
    assert_int_equal(r.use.targets[0].port, 20724);
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
map_with_literal_values_gives_every_candidate_including_a_group(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/m/x?color=green", "https://127.0.0.1:20711/m/x");
    assert_true(r.use.var_static);
    assert_int_equal(r.use.ntargets, 4); /* 20721 20722, and group g's 20711 20712 */
    assert_int_equal(r.use.targets[0].port, 20721);
    assert_string_equal(r.use.targets[0].origin->name, "default");
    assert_int_equal(r.use.targets[2].port, 20711);
    assert_string_equal(resolve_target_ssl_name(&r.use, 2), "g");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
unresolvable_variables_say_so_with_guesses_and_never_crash(void **state)
{
    struct resolve_result r = place(*state, "shapes.test", NULL, "/h/x", NULL);
    assert_int_equal(r.use.kind, RESOLVE_VARIABLE);
    assert_false(r.use.var_static);
    assert_non_null(strstr(r.note, "cannot resolve statically"));
    assert_int_equal(r.use.ntargets, 2); /* guesses: group g's servers */
    assert_true(r.use.targets[0].guess);
    resolve_result_free(&r);
    /* a map whose value is itself a request header */
    r = place(*state, "shapes.test", NULL, "/d/x", "https://10.9.9.9:443/d/x");
    assert_true(r.has_use);
    assert_false(r.use.var_static);
    assert_false(r.upstream_matches);
    assert_non_null(strstr(r.note, "cannot resolve statically"));
    resolve_result_free(&r);
}

static void
a_regex_capture_in_proxy_pass_is_resolved_from_the_uri(void **state)
{
    struct resolve_result r =
        place(*state, "shapes.test", NULL, "/cap/20733/x", "https://127.0.0.1:20733/cap/20733/x");
    assert_true(r.use.var_static);
    assert_int_equal(r.use.ntargets, 1);
    assert_int_equal(r.use.targets[0].port, 20733);
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
}

static void
servers_without_server_name_are_told_apart_by_the_host_port(void **state)
{
    struct resolve_result r = place(*state, "", "127.0.0.1:20714", "/x", NULL);
    assert_true(r.has_use);
    assert_int_equal(r.use.targets[0].port, 20716);
    assert_int_equal(r.ncandidates, 0);
    resolve_result_free(&r);
    r = place(*state, "", "localhost:20713", "/x", NULL);
    assert_int_equal(r.use.targets[0].port, 20715);
    resolve_result_free(&r);
}

static void
servers_without_server_name_are_told_apart_by_the_upstream(void **state)
{
    /* `server: ,` and no host: the upstream names the server */
    struct resolve_result r = place(*state, "", NULL, "/x", "https://127.0.0.1:20716/x");
    assert_true(r.has_use);
    assert_int_equal(r.ncandidates, 0);
    assert_string_equal(r.server->label, "server (listen 127.0.0.1:20714)");
    assert_int_equal(r.server->line, 55);
    resolve_result_free(&r);
    /* both proxy to 20719: the log cannot decide without the host's port */
    r = place(*state, "", NULL, "/x", "https://127.0.0.1:20719/x");
    assert_int_equal(r.ncandidates, 2);
    assert_int_equal(r.candidates[0].server->line, 59);
    assert_int_equal(r.candidates[1].server->line, 63);
    resolve_result_free(&r);
    r = place(*state, "", "127.0.0.1:20718", "/x", "https://127.0.0.1:20719/x");
    assert_int_equal(r.ncandidates, 0);
    assert_int_equal(r.server->line, 63);
    resolve_result_free(&r);
}

static void
snippet_included_by_two_servers_is_placed_by_the_server_name(void **state)
{
    struct resolve_result r =
        place(*state, "two.test", NULL, "/s/x", "https://127.0.0.1:20730/s/x");
    assert_int_equal(r.ncandidates, 0);
    assert_string_equal(r.use.context, "location /s/ in server two.test");
    assert_non_null(strstr(r.use.proxy_pass->file->path, "inc/shared-loc.inc"));
    resolve_result_free(&r);
    /* the upstream alone: both including servers are candidates */
    r = place(*state, NULL, NULL, NULL, "https://127.0.0.1:20730/s/x");
    assert_int_equal(r.ncandidates, 2);
    assert_string_equal(r.candidates[0].context, "location /s/ in server one.test");
    assert_string_equal(r.candidates[1].context, "location /s/ in server two.test");
    assert_ptr_not_equal(r.candidates[0].proxy_pass, r.candidates[1].proxy_pass);
    resolve_result_free(&r);
}

static void
every_shape_is_listed_once_with_if_and_limit_except_paths(void **state)
{
    struct tls_use *uses;
    size_t n = resolve_uses(*state, &uses);
    size_t ifs = 0, lmt = 0, vars = 0;

    for (size_t i = 0; i < n; i++) {
        ifs += strcmp(uses[i].block->name, "if") == 0;
        lmt += strcmp(uses[i].block->name, "limit_except") == 0;
        vars += uses[i].kind == RESOLVE_VARIABLE;
        for (size_t t = 0; t < uses[i].ntargets; t++)
            assert_non_null(resolve_target_ssl_name(&uses[i], t));
    }
    /* 7 literal / group locations + 2 ifs + 1 limit_except + 6 variable ones, 4 unnamed
     * servers, both.test's proxying server, the snippet twice */
    assert_int_equal(n, 23);
    assert_int_equal(ifs, 2);
    assert_int_equal(lmt, 1);
    assert_int_equal(vars, 6);
    resolve_uses_free(uses, n);
}

static void
a_crlf_file_is_matched_like_any_other(void **state)
{
    struct ngxconf *c = load("crlf.conf");
    struct resolve_result r =
        place(c, "crlf.test", NULL, "/img/A.PNG", "https://127.0.0.1:20742/img/A.PNG");

    (void)state;
    assert_true(r.has_use);
    assert_string_equal(r.use.context, "location ~* \\.png$ in server crlf.test");
    assert_true(r.upstream_matches);
    resolve_result_free(&r);
    r = place(c, "crlf.test", NULL, "/c/x", NULL);
    assert_int_equal(r.use.targets[0].port, 20741);
    resolve_result_free(&r);
    ngxconf_free(c);
}

static void
a_context_keeps_its_compiled_regexes_across_queries(void **state)
{
    struct ngxconf *c = load("regex.conf");
    struct resolve_ctx *ctx = resolve_ctx_new(c);
    struct resolve_query q = {.listen = "127.0.0.1:20600", .host = "loc.test"};
    const char *uris[] = {"/2024/05/x", "/foo/foo", "/img/x.gif", "/2024/05/x"};
    const char *want[] = {"L-date", "L-backref", "L-img", "L-date"};
    struct resolve_result r;
    char *cause = NULL;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        q.uri = uris[i];
        assert_int_equal(resolve_find_ctx(ctx, &q, &r, &cause), 0);
        const struct ngx_node *ret = ngxconf_find(r.block, "return");
        assert_int_equal(strncmp(ret->args[1], want[i], strlen(want[i])), 0);
        resolve_result_free(&r);
    }
    resolve_ctx_free(ctx);
    ngxconf_free(c);
}

static void
a_name_on_two_ports_is_placed_in_the_server_that_proxies(void **state)
{
    /* the usual pair: port 80 redirects, the other port proxies; same first name */
    struct resolve_result r = place(*state, "both.test", "both.test", "/x", NULL);
    assert_true(r.has_use);
    assert_int_equal(r.ncandidates, 0);
    assert_int_equal(r.use.targets[0].port, 20752);
    resolve_result_free(&r);
    r = place(*state, "both.test", "both.test:20750", "/x", "https://127.0.0.1:20752/x");
    assert_false(r.has_use); /* the line names the redirecting server's port */
    resolve_result_free(&r);
}

static void
stream_map_variable_gives_the_group_and_the_default(void **state)
{
    struct ngxconf *c = load("stream-vars.conf");
    struct resolve_query q = {
        .stream = true, .listen = "127.0.0.1:20760", .upstream = "127.0.0.1:20762"};
    struct resolve_result r;
    char *cause = NULL;

    (void)state;
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_true(r.has_use);
    assert_true(r.use.stream);
    assert_int_equal(r.use.kind, RESOLVE_VARIABLE);
    assert_true(r.use.var_static);
    assert_int_equal(r.use.ntargets, 3);
    assert_true(r.upstream_matches);
    assert_string_equal(resolve_target_ssl_name(&r.use, 0), "sg");
    assert_string_equal(resolve_target_ssl_name(&r.use, 2), "127.0.0.1");
    resolve_result_free(&r);
    ngxconf_free(c);
}

static void
a_regex_nginx_refuses_is_reported_and_skipped_without_a_crash(void **state)
{
    static const char text[] = "http {\n"
                               "  server {\n"
                               "    listen 127.0.0.1:20780;\n"
                               "    location ~ ^/(broken { proxy_pass https://127.0.0.1:20781; }\n"
                               "    location / { proxy_pass https://127.0.0.1:20782; }\n"
                               "  }\n"
                               "}\n";
    struct ngxconf *c = ngxconf_parse_mem("bad-regex.conf", text, sizeof(text) - 1);
    struct resolve_result r = place(c, NULL, "x.test:20780", "/broken", NULL);

    (void)state;
    assert_true(r.has_use);
    assert_int_equal(r.use.targets[0].port, 20782);
    assert_non_null(strstr(r.note, "does not compile"));
    assert_non_null(strstr(r.note, "nginx -t refuses it"));
    resolve_result_free(&r);
    ngxconf_free(c);
}

static void
a_uri_above_the_root_matches_no_location(void **state)
{
    struct resolve_result r = place(*state, "shapes.test", NULL, "/a/../../etc", NULL);
    assert_false(r.has_use);
    assert_string_equal(r.block->label, "server shapes.test");
    assert_non_null(strstr(r.note, "nginx answers 400"));
    resolve_result_free(&r);
}

/* ---- what real nginx logged for shapes.conf (capture-shapes.sh) ---- */

static char *
span_dup(struct span sp)
{
    return sp.p != NULL ? xstrndup(sp.p, sp.len) : NULL;
}

static void
every_line_real_nginx_logged_for_shapes_is_placed_where_it_was_served(void **state)
{
    const char *src = getenv("TT_SRCDIR");
    char *epath = xasprintf("%s/tests/unit/conf/shapes.expect", src != NULL ? src : ".");
    char *lpath = xasprintf("%s/tests/unit/conf/shapes.errlog", src != NULL ? src : ".");
    FILE *fp = fopen(epath, "r");
    char line[2048], *want[64] = {NULL};
    unsigned long lineno = 0;
    int placed = 0, bad = 0, unnamed = 0;

    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        int n, off = 0;
        char method[16], hostport[128], uri[256];
        if (line[0] == '#' ||
            sscanf(line, "%d %15s %127s %255s %n", &n, method, hostport, uri, &off) != 4 ||
            n <= 0 || n >= 64 || off == 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        want[n] = xstrdup(line + off);
    }
    fclose(fp);
    fp = fopen(lpath, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        struct ls_event ev;
        size_t len = strcspn(line, "\n");
        if (!logscan_parse_line(line, len, ++lineno, &ev))
            continue;
        char *server = span_dup(ev.server), *host = span_dup(ev.host);
        char *req = span_dup(ev.request), *up = span_dup(ev.upstream);
        /* "no live upstreams" names the group ("https://g/x"): logscan gives no host:port */
        char *upstream = up != NULL ? xasprintf("https://%s/", up) : NULL;
        const char *sp = strchr(req, ' '), *t = strstr(req, "&t=");
        if (t == NULL)
            t = strstr(req, "?t=");
        char *uri = xstrndup(sp + 1, strcspn(sp + 1, " "));
        int n = t != NULL ? atoi(t + 3) : 0;
        struct resolve_result r = place(*state, server, host, uri, upstream);

        assert_true(n > 0 && n < 64 && want[n] != NULL);
        unnamed += server != NULL && server[0] == '\0';
        if (strncmp(want[n], "candidates:", 11) == 0) {
            if (r.ncandidates != (size_t)atoi(want[n] + 11)) {
                print_error("line %lu: %zu candidates, want %s\n", lineno, r.ncandidates, want[n]);
                bad++;
            }
        } else if (!r.has_use || r.ncandidates != 0 || strcmp(r.use.context, want[n]) != 0 ||
                   (upstream != NULL && !r.upstream_matches)) {
            print_error(
                "line %lu (t=%d, upstream %s): placed in \"%s\" (%zu candidates, matches %d), want "
                "\"%s\"\n",
                lineno, n, upstream != NULL ? upstream : "-", r.has_use ? r.use.context : "-",
                r.ncandidates, r.upstream_matches, want[n]);
            bad++;
        }
        placed++;
        resolve_result_free(&r);
        free(server);
        free(host);
        free(req);
        free(up);
        free(upstream);
        free(uri);
    }
    fclose(fp);
    for (int i = 0; i < 64; i++)
        free(want[i]);
    free(epath);
    free(lpath);
    assert_int_equal(bad, 0);
    assert_true(placed >= 21);    /* every connect() failure line of the capture */
    assert_int_equal(unnamed, 4); /* `server: ,` lines, placed by the host's port */
}

/* ---- the grpc and uwsgi families ---- */

static const char family_conf[] =
    "http {\n"
    "    grpc_ssl_verify on;\n"
    "    proxy_ssl_verify off;\n"
    "    upstream gpool { server 10.0.0.7:9443; }\n"
    "    server {\n"
    "        listen 127.0.0.1:8080;\n"
    "        grpc_ssl_trusted_certificate /etc/nginx/ca.pem;\n"
    "        uwsgi_ssl_name app.internal;\n"
    "        location /pkg.Svc/ { grpc_pass grpcs://127.0.0.1:9441; }\n"
    "        location /plain/ { grpc_pass grpc://127.0.0.1:9000; }\n"
    "        location /bare/ { grpc_pass 127.0.0.1:9001; }\n"
    "        location /pool/ { grpc_pass grpcs://gpool; grpc_ssl_name svc.internal; }\n"
    "        location /var/ { set $g grpcs://10.0.0.9:9445; grpc_pass $g; }\n"
    "        location /app/ { uwsgi_pass suwsgi://127.0.0.1:9442; uwsgi_ssl_verify on; }\n"
    "        location /uplain/ { uwsgi_pass uwsgi://127.0.0.1:9002; }\n"
    "        location /web/ { proxy_pass https://127.0.0.1:9443; }\n"
    "    }\n"
    "}\n";

static const struct tls_use *
use_at(const struct tls_use *uses, size_t n, const char *context_prefix)
{
    for (size_t i = 0; i < n; i++) {
        if (strncmp(uses[i].context, context_prefix, strlen(context_prefix)) == 0)
            return &uses[i];
    }
    fail_msg("no use in %s", context_prefix);
    return NULL;
}

static void
grpcs_and_suwsgi_are_tls_uses_with_their_family_settings(void **state)
{
    struct ngxconf *c =
        ngxconf_parse_mem("/etc/nginx/nginx.conf", family_conf, sizeof(family_conf) - 1);
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);
    (void)state;

    /* grpc:// and a bare grpc_pass, uwsgi:// are plain: not TLS uses */
    assert_int_equal(n, 5);
    const struct tls_use *g = use_at(uses, n, "location /pkg.Svc/");
    assert_int_equal(g->ssl.family, PSS_FAM_GRPC);
    assert_string_equal(g->proxy_pass->name, "grpc_pass");
    assert_int_equal(g->kind, RESOLVE_LITERAL);
    assert_string_equal(g->proxy_host, "127.0.0.1");
    assert_int_equal(g->targets[0].port, 9441);
    /* grpc_ssl_verify from http, the trusted file from the server; proxy_ssl_verify off in
     * http is another module's and does not reach a grpc location */
    assert_string_equal(g->ssl.v[PSS_VERIFY].value, "on");
    assert_int_equal(g->ssl.v[PSS_VERIFY].origin, PSS_INHERITED);
    assert_int_equal(g->ssl.v[PSS_VERIFY].line, 2);
    assert_string_equal(g->ssl.v[PSS_TRUSTED_CERTIFICATE].value, "/etc/nginx/ca.pem");
    assert_int_equal(g->ssl.v[PSS_TRUSTED_CERTIFICATE].line, 7);
    assert_int_equal(g->ssl.v[PSS_NAME].origin, PSS_DEFAULT); /* the grpc_pass host */
    assert_string_equal(resolve_ssl_name(g), "127.0.0.1");
    assert_string_equal(g->ssl.v[PSS_SERVER_NAME].value, "off");

    const struct tls_use *p = use_at(uses, n, "location /pool/");
    assert_int_equal(p->kind, RESOLVE_UPSTREAM);
    assert_string_equal(p->proxy_host, "gpool");
    assert_int_equal(p->ntargets, 1);
    assert_int_equal(p->targets[0].port, 9443);
    assert_string_equal(resolve_ssl_name(p), "svc.internal");

    const struct tls_use *v = use_at(uses, n, "location /var/");
    assert_int_equal(v->kind, RESOLVE_VARIABLE);
    assert_true(v->var_static);
    assert_string_equal(v->targets[0].host, "10.0.0.9");
    assert_int_equal(v->targets[0].port, 9445);

    const struct tls_use *u = use_at(uses, n, "location /app/");
    assert_int_equal(u->ssl.family, PSS_FAM_UWSGI);
    assert_string_equal(u->ssl.v[PSS_VERIFY].value, "on");
    assert_int_equal(u->ssl.v[PSS_VERIFY].origin, PSS_SET);
    assert_string_equal(resolve_ssl_name(u), "app.internal");
    /* grpc_ssl_verify on in http is not uwsgi's */
    assert_null(u->ssl.v[PSS_TRUSTED_CERTIFICATE].value);

    const struct tls_use *w = use_at(uses, n, "location /web/");
    assert_int_equal(w->ssl.family, PSS_FAM_PROXY);
    assert_string_equal(w->ssl.v[PSS_VERIFY].value, "off");

    /* resolve_settings on a grpc location gives the grpc family and its values */
    struct proxy_ssl_settings s;
    resolve_settings(g->block, &s);
    assert_int_equal(s.family, PSS_FAM_GRPC);
    assert_string_equal(s.v[PSS_VERIFY].value, "on");
    resolve_settings_family(g->block, PSS_FAM_PROXY, &s);
    assert_string_equal(s.v[PSS_VERIFY].value, "off");
    resolve_uses_free(uses, n);
    ngxconf_free(c);
}

static void
a_grpcs_or_suwsgi_event_is_placed_on_its_location(void **state)
{
    struct ngxconf *c =
        ngxconf_parse_mem("/etc/nginx/nginx.conf", family_conf, sizeof(family_conf) - 1);
    struct resolve_query q;
    struct resolve_result r;
    char *cause = NULL, *ctx;
    (void)state;

    memset(&q, 0, sizeof(q));
    q.server = "";
    q.listen = "127.0.0.1:8080";
    q.uri = "/pkg.Svc/Call";
    q.upstream = "grpcs://127.0.0.1:9441";
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_true(r.has_use);
    assert_true(r.upstream_matches);
    assert_int_equal(r.use.ssl.family, PSS_FAM_GRPC);
    ctx = resolve_context(r.block);
    assert_string_equal(ctx, "location /pkg.Svc/ in server (listen 127.0.0.1:8080)");
    free(ctx);
    resolve_result_free(&r);

    q.uri = "/app/x";
    q.upstream = "suwsgi://127.0.0.1:9442";
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_true(r.has_use);
    assert_true(r.upstream_matches);
    assert_int_equal(r.use.ssl.family, PSS_FAM_UWSGI);
    resolve_result_free(&r);

    /* from the upstream alone (no server, no URI) */
    memset(&q, 0, sizeof(q));
    q.upstream = "grpcs://127.0.0.1:9441";
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_true(r.has_use);
    assert_string_equal(r.use.proxy_pass->name, "grpc_pass");
    resolve_result_free(&r);

    /* a plain grpc:// location is no TLS use */
    memset(&q, 0, sizeof(q));
    q.server = "";
    q.listen = "127.0.0.1:8080";
    q.uri = "/plain/x";
    assert_int_equal(resolve_find(c, &q, &r, &cause), 0);
    assert_false(r.has_use);
    resolve_result_free(&r);
    ngxconf_free(c);
}

static void
conf_commands_are_the_familys_own(void **state)
{
    const char t[] = "http { proxy_ssl_conf_command Options -SessionTicket;\n"
                     " grpc_ssl_conf_command CipherString DEFAULT;\n"
                     " server { listen 8080;\n"
                     "  location /g/ { grpc_pass grpcs://10.0.0.1:9000; }\n"
                     "  location /u/ { uwsgi_pass suwsgi://10.0.0.1:9001; }\n"
                     "  location /p/ { proxy_pass https://10.0.0.2:9443; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, sizeof(t) - 1);
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);
    char *cc;
    (void)state;

    assert_int_equal(n, 3);
    cc = resolve_conf_commands(uses[0].block);
    assert_string_equal(cc, "CipherString DEFAULT");
    free(cc);
    assert_null(resolve_conf_commands(uses[1].block)); /* no uwsgi_ssl_conf_command */
    cc = resolve_conf_commands(uses[2].block);
    assert_string_equal(cc, "Options -SessionTicket");
    free(cc);
    resolve_uses_free(uses, n);
    ngxconf_free(c);
}

static void
an_if_with_its_own_grpc_pass_is_a_grpc_use(void **state)
{
    const char t[] = "http { grpc_ssl_name n.internal; server { listen 8080;\n"
                     " location /a/ { if ($arg_x) { grpc_pass grpcs://10.0.0.1:9000; }\n"
                     "  proxy_pass https://10.0.0.2:9443; } } }\n";
    struct ngxconf *c = ngxconf_parse_mem("/x/nginx.conf", t, sizeof(t) - 1);
    struct tls_use *uses;
    size_t n = resolve_uses(c, &uses);
    (void)state;

    assert_int_equal(n, 2);
    assert_int_equal(uses[0].ssl.family, PSS_FAM_PROXY);
    assert_int_equal(uses[1].ssl.family, PSS_FAM_GRPC);
    assert_string_equal(uses[1].block->name, "if");
    assert_string_equal(resolve_ssl_name(&uses[1]), "n.internal");
    assert_string_equal(resolve_ssl_name(&uses[0]), "10.0.0.2");
    resolve_uses_free(uses, n);
    ngxconf_free(c);
}

/* ---- picking a server as a request URL names it (probe --location-of, --stream) ---- */

/* The upstream port the use found for url proxies to (0: none, -1: no block matched). */
static int
picked_port(struct ngxconf *c, const char *url)
{
    struct resolve_url u;
    struct resolve_result r;
    char *cause = NULL;
    int port = 0;

    assert_int_equal(resolve_url_parse(url, &u, &cause), 0);
    if (resolve_find(c, &u.q, &r, &cause) != 0) {
        free(cause);
        resolve_url_free(&u);
        return -1;
    }
    if (r.has_use && r.use.ntargets > 0)
        port = (int)r.use.targets[0].port;
    resolve_result_free(&r);
    resolve_url_free(&u);
    return port;
}

static void
url_host_picks_the_name_based_server_on_that_port(void **state)
{
    struct ngxconf *c = load("pick.conf");

    (void)state;
    assert_int_equal(picked_port(c, "http://good.pick.test:22110/"), 22120);
    assert_int_equal(picked_port(c, "http://bad.pick.test:22110/x"), 22121);
    assert_int_equal(picked_port(c, "http://GOOD.Pick.Test:22110/"), 22120);  /* caseless */
    assert_int_equal(picked_port(c, "http://good.pick.test.:22110/"), 22120); /* trailing dot */
    ngxconf_free(c);
}

static void
url_host_matches_wildcards_suffixes_and_regexes(void **state)
{
    struct ngxconf *c = load("pick.conf");

    (void)state;
    assert_int_equal(picked_port(c, "http://a.wild.pick.test:22110/"), 22122);
    assert_int_equal(picked_port(c, "http://suffix.pick.test:22110/"), 22123);
    assert_int_equal(picked_port(c, "http://x.y.suffix.pick.test:22110/"), 22123);
    assert_int_equal(picked_port(c, "http://api7.re.pick.test:22110/"), 22124);
    assert_int_equal(picked_port(c, "http://apix.re.pick.test:22110/"), 22125); /* no match */
    ngxconf_free(c);
}

static void
url_host_nobody_names_goes_to_the_default_server(void **state)
{
    struct ngxconf *c = load("pick.conf");

    (void)state;
    assert_int_equal(picked_port(c, "http://nobody.pick.test:22110/"), 22125);
    assert_int_equal(picked_port(c, "http://127.0.0.1:22110/"), 22125);
    /* the only server on a port, without server_name, takes every name */
    assert_int_equal(picked_port(c, "http://whatever.test:22111/"), 22126);
    assert_int_equal(picked_port(c, "http://127.0.0.1:22111/"), 22126);
    ngxconf_free(c);
}

static void
listen_port_without_address_accepts_an_ip_literal_url(void **state)
{
    struct ngxconf *c = load("pick.conf");

    (void)state;
    assert_int_equal(picked_port(c, "http://127.0.0.1:22112/api/v1"), 22127);
    assert_int_equal(picked_port(c, "http://localhost:22112/api/"), 22127);
    assert_int_equal(picked_port(c, "http://anyaddr.pick.test:22112/api/"), 22127);
    assert_int_equal(picked_port(c, "http://anyaddr.pick.test:22112/"), 0); /* no location */
    /* https:// without a port is port 443; http:// is 80, where nothing listens */
    assert_int_equal(picked_port(c, "https://secure.pick.test/"), 22128);
    assert_int_equal(picked_port(c, "http://secure.pick.test/"), -1);
    ngxconf_free(c);
}

static void
tcp_url_picks_the_stream_server_by_its_listen_address(void **state)
{
    struct ngxconf *c = load("pick.conf");
    struct resolve_url u;
    struct resolve_result r;
    char *cause = NULL;

    (void)state;
    assert_int_equal(picked_port(c, "tcp://127.0.0.1:22113"), 22129);
    assert_int_equal(picked_port(c, "tcp://127.0.0.1:22114"), 22130); /* listen 22114 */
    assert_int_equal(picked_port(c, "tcp://localhost:22114"), 22130);
    assert_int_equal(picked_port(c, "tcp://127.0.0.1:22199"), -1);
    assert_int_equal(resolve_url_parse("tcp://127.0.0.1:22113", &u, &cause), 0);
    assert_true(u.q.stream);
    assert_int_equal(resolve_find(c, &u.q, &r, &cause), 0);
    assert_true(r.use.stream);
    assert_string_equal(r.use.context, "stream server 127.0.0.1:22113");
    assert_string_equal(resolve_ssl_name(&r.use), "127.0.0.1"); /* the proxy_pass host */
    resolve_result_free(&r);
    resolve_url_free(&u);
    ngxconf_free(c);
}

/* Stream spellings: proxy_pass to an upstream block names the group (the default
 * proxy_ssl_name, no URI in stream); proxy_ssl_conf_command is an array directive: the
 * nearest level that has any gives all of its lines, in order (http and stream alike). */
static void
stream_upstream_block_and_conf_commands_are_read_as_nginx_merges_them(void **state)
{
    struct ngxconf *c = load("pick.conf");
    const char *urls[] = {"tcp://127.0.0.1:22115", "http://good.pick.test:22110/own/x",
                          "http://good.pick.test:22110/x", "tcp://127.0.0.1:22113"};
    const char *want[] = {"MinProtocol TLSv1.3",
                          "MaxProtocol TLSv1.2\nCiphersuites TLS_AES_128_GCM_SHA256",
                          "Options -SessionTicket", NULL};
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        struct resolve_url u;
        struct resolve_result r;
        char *cause = NULL, *cc;
        assert_int_equal(resolve_url_parse(urls[i], &u, &cause), 0);
        assert_int_equal(resolve_find(c, &u.q, &r, &cause), 0);
        assert_true(r.has_use);
        cc = resolve_conf_commands(r.use.block);
        if (want[i] == NULL)
            assert_null(cc);
        else
            assert_string_equal(cc, want[i]);
        if (i == 0) {
            assert_int_equal(r.use.kind, RESOLVE_UPSTREAM);
            assert_string_equal(resolve_ssl_name(&r.use), "sgrp");
            assert_int_equal(r.use.ntargets, 1);
            assert_int_equal(r.use.targets[0].port, 22131);
        }
        free(cc);
        resolve_result_free(&r);
        resolve_url_free(&u);
    }
    ngxconf_free(c);
}

static void
urls_that_name_no_request_are_refused_with_the_url(void **state)
{
    static const char *bad[] = {"ftp://x:1/", "tcp://name.test:22113", "tcp://127.0.0.1",
                                "http://[::1/", "http://:80/"};
    struct resolve_url u;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *cause = NULL;
        assert_int_equal(resolve_url_parse(bad[i], &u, &cause), -1);
        assert_non_null(strstr(cause, bad[i]));
        free(cause);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exact_location_wins_only_for_the_exact_uri, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(longest_prefix_then_its_nested_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(caret_tilde_prefix_stops_the_regex_search, setup, teardown),
        cmocka_unit_test_setup_teardown(regexes_are_tried_in_order_after_the_prefix_match, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tilde_star_regex_ignores_case, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_host_goes_to_the_default_server, setup, teardown),
        cmocka_unit_test_setup_teardown(exact_name_beats_the_default_server, setup, teardown),
        cmocka_unit_test_setup_teardown(wildcard_names_match_leading_and_trailing, setup, teardown),
        cmocka_unit_test_setup_teardown(regex_server_name_with_named_capture_matches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            server_field_spelling_a_wildcard_or_regex_name_finds_that_block, setup, teardown),
        cmocka_unit_test_setup_teardown(listen_port_selects_the_server, setup, teardown),
        cmocka_unit_test_setup_teardown(settings_show_where_each_value_comes_from, setup, teardown),
        cmocka_unit_test_setup_teardown(nested_location_inherits_from_the_server, setup, teardown),
        cmocka_unit_test_setup_teardown(upstream_block_gives_its_servers_as_targets, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(variable_proxy_pass_cannot_be_resolved_statically, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(upstream_alone_finds_the_location_that_proxies_to_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_server_is_found_by_its_listen_address, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_server_with_proxy_ssl_off_is_not_a_tls_use, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(every_tls_use_is_listed_in_file_order, setup, teardown),
        cmocka_unit_test_setup_teardown(settings_from_included_files_name_that_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(one_line_sibling_locations_are_told_apart, shapes_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            nested_location_is_chosen_for_its_uri_and_the_outer_for_the_rest, shapes_setup,
            teardown),
        cmocka_unit_test_setup_teardown(proxy_pass_in_if_is_matched_by_the_logged_upstream,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(
            two_paths_of_one_location_to_the_same_upstream_are_candidates, shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(
            an_upstream_the_location_does_not_name_is_never_mapped_to_another, shapes_setup,
            teardown),
        cmocka_unit_test_setup_teardown(limit_except_proxy_pass_is_its_own_path, shapes_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(upstream_group_server_is_placed_with_the_line_it_comes_from,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(set_with_a_literal_resolves_the_variable_upstream,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(
            map_with_literal_values_gives_every_candidate_including_a_group, shapes_setup,
            teardown),
        cmocka_unit_test_setup_teardown(unresolvable_variables_say_so_with_guesses_and_never_crash,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(a_regex_capture_in_proxy_pass_is_resolved_from_the_uri,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(servers_without_server_name_are_told_apart_by_the_host_port,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(servers_without_server_name_are_told_apart_by_the_upstream,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(
            snippet_included_by_two_servers_is_placed_by_the_server_name, shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(every_shape_is_listed_once_with_if_and_limit_except_paths,
                                        shapes_setup, teardown),
        cmocka_unit_test_setup_teardown(a_name_on_two_ports_is_placed_in_the_server_that_proxies,
                                        shapes_setup, teardown),
        cmocka_unit_test(stream_map_variable_gives_the_group_and_the_default),
        cmocka_unit_test_setup_teardown(
            every_line_real_nginx_logged_for_shapes_is_placed_where_it_was_served, shapes_setup,
            teardown),
        cmocka_unit_test(a_crlf_file_is_matched_like_any_other),
        cmocka_unit_test(a_regex_nginx_refuses_is_reported_and_skipped_without_a_crash),
        cmocka_unit_test_setup_teardown(a_uri_above_the_root_matches_no_location, shapes_setup,
                                        teardown),
        cmocka_unit_test(every_case_of_regex_expect_is_placed_as_nginx_answers_it),
        cmocka_unit_test(named_and_numbered_captures_are_those_of_the_matching_regex),
        cmocka_unit_test(a_context_keeps_its_compiled_regexes_across_queries),
        cmocka_unit_test(grpcs_and_suwsgi_are_tls_uses_with_their_family_settings),
        cmocka_unit_test(a_grpcs_or_suwsgi_event_is_placed_on_its_location),
        cmocka_unit_test(an_if_with_its_own_grpc_pass_is_a_grpc_use),
        cmocka_unit_test(conf_commands_are_the_familys_own),
        cmocka_unit_test(url_host_picks_the_name_based_server_on_that_port),
        cmocka_unit_test(url_host_matches_wildcards_suffixes_and_regexes),
        cmocka_unit_test(url_host_nobody_names_goes_to_the_default_server),
        cmocka_unit_test(listen_port_without_address_accepts_an_ip_literal_url),
        cmocka_unit_test(tcp_url_picks_the_stream_server_by_its_listen_address),
        cmocka_unit_test(urls_that_name_no_request_are_refused_with_the_url),
        cmocka_unit_test(stream_upstream_block_and_conf_commands_are_read_as_nginx_merges_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
