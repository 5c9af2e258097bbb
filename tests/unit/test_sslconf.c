/* test_sslconf.c — the spellings of each family (proxy, grpc, uwsgi), and the file paths made
 * absolute as nginx reads them: relative ones against the directory of the main config,
 * absolute ones and defaults left alone. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ngxconf.h"
#include "sslconf.h"
#include "xmalloc.h"

static void
relative_paths_are_taken_against_the_config_directory(void **state)
{
    char dir[] = "/tmp/tt-sslconf-XXXXXX", *path, *cause = NULL, *owned[SSLCONF_NPATHS];
    struct ngxconf *conf = NULL;
    struct proxy_ssl_settings s;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    path = xasprintf("%s/nginx.conf", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("events {}\nhttp {}\n", fp);
    fclose(fp);
    assert_int_equal(ngxconf_load(path, NULL, &conf, &cause), 0);

    memset(&s, 0, sizeof(s));
    s.v[PSS_TRUSTED_CERTIFICATE] = (struct pss_value){.value = "certs/ca.pem", .origin = PSS_SET};
    s.v[PSS_CERTIFICATE] = (struct pss_value){.value = "/etc/c.pem", .origin = PSS_INHERITED};
    s.v[PSS_CERTIFICATE_KEY] = (struct pss_value){.value = "k.pem", .origin = PSS_DEFAULT};
    s.v[PSS_NAME] = (struct pss_value){.value = "relative-looking", .origin = PSS_SET};
    sslconf_full_paths(conf, &s, owned);

    char *want = xasprintf("%s/certs/ca.pem", dir);
    assert_string_equal(s.v[PSS_TRUSTED_CERTIFICATE].value, want);
    assert_ptr_equal(s.v[PSS_TRUSTED_CERTIFICATE].value, owned[0]);
    assert_string_equal(s.v[PSS_CERTIFICATE].value, "/etc/c.pem");
    assert_string_equal(s.v[PSS_CERTIFICATE_KEY].value, "k.pem"); /* a default: untouched */
    assert_null(owned[2]);
    assert_string_equal(s.v[PSS_NAME].value, "relative-looking"); /* not a file setting */
    for (int k = 0; k < SSLCONF_NPATHS; k++)
        free(owned[k]);
    free(want);
    ngxconf_free(conf);
    unlink(path);
    rmdir(dir);
    free(path);
}

static void
each_family_spells_each_setting_its_own_way(void **state)
{
    (void)state;
    assert_string_equal(sslconf_directive(PSS_FAM_GRPC, PSS_VERIFY), "grpc_ssl_verify");
    assert_string_equal(sslconf_directive(PSS_FAM_UWSGI, PSS_PASSWORD_FILE),
                        "uwsgi_ssl_password_file");
    assert_string_equal(sslconf_directive(PSS_FAM_GRPC, PSS_CRL), "grpc_ssl_crl");
    for (int k = 0; k < PSS__COUNT; k++) {
        /* the proxy spelling is pss_defs' (other code reads it there) */
        assert_string_equal(sslconf_directive(PSS_FAM_PROXY, (enum pss)k), pss_defs[k].directive);
        for (int f = 0; f < PSS_FAM__COUNT; f++) {
            enum pss_family got;
            assert_int_equal(
                sslconf_key_of(sslconf_directive((enum pss_family)f, (enum pss)k), &got), k);
            assert_int_equal(got, f);
        }
    }
    assert_int_equal(sslconf_key_of("proxy_ssl", NULL), -1); /* stream's on/off */
    assert_int_equal(sslconf_key_of("grpc_ssl_conf_command", NULL), -1);
    assert_string_equal(sslconf_pass_directive(PSS_FAM_UWSGI), "uwsgi_pass");
    assert_string_equal(sslconf_tls_scheme(PSS_FAM_GRPC), "grpcs://");
    assert_string_equal(sslconf_tls_scheme(PSS_FAM_UWSGI), "suwsgi://");
    assert_int_equal(sslconf_family_of_pass("grpc_pass"), PSS_FAM_GRPC);
    assert_int_equal(sslconf_family_of_pass("fastcgi_pass"), -1);
    assert_int_equal(sslconf_family_of_scheme("grpcs"), PSS_FAM_GRPC);
    assert_int_equal(sslconf_family_of_scheme("suwsgi"), PSS_FAM_UWSGI);
    assert_int_equal(sslconf_family_of_scheme("https"), PSS_FAM_PROXY);
    assert_int_equal(sslconf_family_of_scheme(NULL), PSS_FAM_PROXY);
    assert_string_equal(sslconf_since(PSS_FAM_GRPC, PSS_VERIFY), "1.13.10");
    assert_null(sslconf_since(PSS_FAM_PROXY, PSS_VERIFY));

    char *r = sslconf_respell(PSS_FAM_GRPC, "set proxy_ssl_name and proxy_pass https://x");
    assert_string_equal(r, "set grpc_ssl_name and grpc_pass grpcs://x");
    free(r);
    r = sslconf_respell(PSS_FAM_UWSGI, "within proxy_connect_timeout");
    assert_string_equal(r, "within uwsgi_connect_timeout");
    free(r);
    r = sslconf_respell(PSS_FAM_PROXY, "proxy_ssl_verify");
    assert_string_equal(r, "proxy_ssl_verify");
    free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_paths_are_taken_against_the_config_directory),
        cmocka_unit_test(each_family_spells_each_setting_its_own_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
