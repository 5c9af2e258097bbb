/* test_resolve.c — server and location selection, proxy_pass targets and the effective
 * proxy_ssl_* values with their origin, on fixtures real nginx -t accepts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
    struct resolve_query q = {false, host, listen, uri, NULL};
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
    struct resolve_query q = {false, "default.example", "127.0.0.1:20216", "/exact", NULL};
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
    struct resolve_query q = {false, "default.example", "127.0.0.1:20216", "/static/x.png", NULL};
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
    struct resolve_query q = {false, "default.example", "127.0.0.1:20216", "/other",
                              "https://127.0.0.1:20271/other"};
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
    struct resolve_query q = {false, "other-port.example", "127.0.0.1:20217", "/", NULL};
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
    struct resolve_query q = {false, NULL, NULL, NULL, "https://localhost:20263/a.png"};
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
    struct resolve_query q = {true, NULL, "127.0.0.1:20218", NULL, "127.0.0.1:20272"};
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
    struct resolve_query q = {true, NULL, "127.0.0.1:20219", NULL, NULL};
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_location_wins_only_for_the_exact_uri),
        cmocka_unit_test(longest_prefix_then_its_nested_regex),
        cmocka_unit_test(caret_tilde_prefix_stops_the_regex_search),
        cmocka_unit_test(regexes_are_tried_in_order_after_the_prefix_match),
        cmocka_unit_test(tilde_star_regex_ignores_case),
        cmocka_unit_test(unknown_host_goes_to_the_default_server),
        cmocka_unit_test(exact_name_beats_the_default_server),
        cmocka_unit_test(wildcard_names_match_leading_and_trailing),
        cmocka_unit_test(regex_server_name_with_named_capture_matches),
        cmocka_unit_test(server_field_spelling_a_wildcard_or_regex_name_finds_that_block),
        cmocka_unit_test(listen_port_selects_the_server),
        cmocka_unit_test(settings_show_where_each_value_comes_from),
        cmocka_unit_test(nested_location_inherits_from_the_server),
        cmocka_unit_test(upstream_block_gives_its_servers_as_targets),
        cmocka_unit_test(variable_proxy_pass_cannot_be_resolved_statically),
        cmocka_unit_test(upstream_alone_finds_the_location_that_proxies_to_it),
        cmocka_unit_test(stream_server_is_found_by_its_listen_address),
        cmocka_unit_test(stream_server_with_proxy_ssl_off_is_not_a_tls_use),
        cmocka_unit_test(every_tls_use_is_listed_in_file_order),
        cmocka_unit_test(settings_from_included_files_name_that_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
