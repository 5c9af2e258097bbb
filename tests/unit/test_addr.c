/* test_addr.c — HOST:PORT splitting and IP-literal tests: IPv4, [v6]:port, bare v6, names,
 * ports 0/65535/65536 and garbage, as nginx writes them in proxy_pass, listen and server. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

/* Splits s; returns the rc and fills host (static buffer) and port. */
static int
split(const char *s, unsigned dflt, char host[128], unsigned *port)
{
    char *h = NULL;
    int rc = addr_split(s, strlen(s), dflt, &h, port);

    if (rc == 0) {
        assert_non_null(h);
        assert_true(strlen(h) < 128);
        strcpy(host, h);
        free(h);
    } else {
        assert_null(h);
    }
    return rc;
}

static void
ipv4_with_and_without_port(void **state)
{
    char h[128];
    unsigned p = 1;

    (void)state;
    assert_int_equal(split("10.0.2.88:8443", 443, h, &p), 0);
    assert_string_equal(h, "10.0.2.88");
    assert_int_equal(p, 8443);
    assert_int_equal(split("127.0.0.1", 443, h, &p), 0);
    assert_string_equal(h, "127.0.0.1");
    assert_int_equal(p, 443);
}

static void
bracketed_v6_keeps_its_brackets(void **state)
{
    char h[128];
    unsigned p = 1;

    (void)state;
    assert_int_equal(split("[::1]:8443", 443, h, &p), 0);
    assert_string_equal(h, "[::1]");
    assert_int_equal(p, 8443);
    assert_int_equal(split("[fe80::1]", 443, h, &p), 0);
    assert_string_equal(h, "[fe80::1]");
    assert_int_equal(p, 443);
}

static void
bare_v6_is_refused_as_nginx_wants_brackets(void **state)
{
    char h[128];
    unsigned p;

    (void)state;
    assert_int_equal(split("::1", 443, h, &p), -1);
    assert_int_equal(split("fe80::1:443", 443, h, &p), -1);
    assert_int_equal(split("a:1:2", 443, h, &p), -1);
}

static void
names_and_the_default_port(void **state)
{
    char h[128];
    unsigned p = 1;

    (void)state;
    assert_int_equal(split("api.example:443", 80, h, &p), 0);
    assert_string_equal(h, "api.example");
    assert_int_equal(p, 443);
    assert_int_equal(split("backend", 80, h, &p), 0);
    assert_string_equal(h, "backend");
    assert_int_equal(p, 80);
    /* default 0: the caller learns that no port was written */
    assert_int_equal(split("backend", 0, h, &p), 0);
    assert_int_equal(p, 0);
    /* an empty host is the caller's to judge (":443" in listen) */
    assert_int_equal(split(":443", 80, h, &p), 0);
    assert_string_equal(h, "");
    assert_int_equal(p, 443);
    /* only len bytes are read */
    char *x = NULL;
    assert_int_equal(addr_split("host:8443/path", 9, 80, &x, &p), 0);
    assert_string_equal(x, "host");
    assert_int_equal(p, 8443);
    free(x);
}

static void
ports_0_and_65536_are_refused_65535_and_1_taken(void **state)
{
    char h[128];
    unsigned p = 7;

    (void)state;
    assert_int_equal(split("h:0", 443, h, &p), -1);
    assert_int_equal(split("h:65536", 443, h, &p), -1);
    assert_int_equal(split("h:99999999999999999999", 443, h, &p), -1);
    assert_int_equal(split("[::1]:0", 443, h, &p), -1);
    assert_int_equal(split("h:65535", 443, h, &p), 0);
    assert_int_equal(p, 65535);
    assert_int_equal(split("h:1", 443, h, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(split("h:00443", 80, h, &p), 0);
    assert_int_equal(p, 443);
}

static void
garbage_is_refused(void **state)
{
    static const char *const bad[] = {
        "h:",     "h:abc", "h:44x",  "h: 443", "h:+443",  "h:-1",     "[::1",
        "[]:443", "[]",    "[::1]x", "[::1]:", "[::1]:x", "[::1]443",
    };
    char h[128];
    unsigned p;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (split(bad[i], 443, h, &p) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
}

static void
ip_literals_are_recognised(void **state)
{
    (void)state;
    assert_true(addr_is_ip("10.0.2.88"));
    assert_true(addr_is_ip("[::1]"));
    assert_true(addr_is_ip("fe80::1"));
    assert_true(addr_is_ip("::ffff:10.0.0.1"));
    assert_false(addr_is_ip("[10.0.2.88]")); /* brackets hold IPv6 only */
    assert_false(addr_is_ip("api.internal"));
    assert_false(addr_is_ip("10.0.2"));
    assert_false(addr_is_ip("256.1.1.1"));
    assert_false(addr_is_ip("[::1"));
    assert_false(addr_is_ip(""));
}

static void
ipv4_literal_is_recognised_as_nginx_does(void **state)
{
    (void)state;
    assert_true(addr_is_ipv4("10.0.2.88", 9));
    assert_true(addr_is_ipv4("127.0.0.1", 9));
    assert_true(addr_is_ipv4("010.0.0.1", 9));     /* ngx_inet_addr allows leading zeros */
    assert_true(addr_is_ipv4("10.0.2.88:443", 9)); /* only len bytes count */
    assert_false(addr_is_ipv4("256.0.0.1", 9));
    assert_false(addr_is_ipv4("10.0.2", 6));
    assert_false(addr_is_ipv4("api.example", 11));
    assert_false(addr_is_ipv4("1.2.3.4.", 8));
    assert_false(addr_is_ipv4("1.2.3.4.5", 9));
    assert_false(addr_is_ipv4("::1", 3));
    assert_false(addr_is_ipv4("", 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_with_and_without_port),
        cmocka_unit_test(bracketed_v6_keeps_its_brackets),
        cmocka_unit_test(bare_v6_is_refused_as_nginx_wants_brackets),
        cmocka_unit_test(names_and_the_default_port),
        cmocka_unit_test(ports_0_and_65536_are_refused_65535_and_1_taken),
        cmocka_unit_test(garbage_is_refused),
        cmocka_unit_test(ip_literals_are_recognised),
        cmocka_unit_test(ipv4_literal_is_recognised_as_nginx_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
