/* test_sslconf.c — the proxy_ssl_* file paths made absolute as nginx reads them: relative
 * ones against the directory of the main config, absolute ones and defaults left alone. */
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relative_paths_are_taken_against_the_config_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
