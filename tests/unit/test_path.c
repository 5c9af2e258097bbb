/* test_path.c — path_dirname: the directory to fsync after a rename or to watch for a
 * log's rotation, for a bare name, a file in /, nested and relative paths. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "path.h"

static void
check(const char *path, const char *want)
{
    char *d = path_dirname(path);
    assert_string_equal(d, want);
    free(d);
}

static void
dirname_of_names_root_files_and_nested_paths(void **state)
{
    (void)state;
    check("nginx.conf", ".");
    check("", ".");
    check("/nginx.conf", "/");
    check("/", "/");
    check("/etc/nginx/nginx.conf", "/etc/nginx");
    check("sites/a.conf", "sites");
    check("./a.conf", ".");
    check("/var/log/nginx/", "/var/log/nginx");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dirname_of_names_root_files_and_nested_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
