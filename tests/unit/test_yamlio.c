/* test_yamlio.c — the libyaml helpers: what the emitter writes (block style, NULL values
 * left out, octal, literal blocks, non-UTF-8 bytes as \xNN), that it loads back, lookups by
 * key, and FILE:LINE:COLUMN in parse errors and node locations. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "yamlio.h"

static void
emitter_writes_block_style_and_skips_null_values(void **state)
{
    struct buf b = BUF_INIT;
    struct yamlio_emitter em;

    (void)state;
    assert_int_equal(yamlio_emit_begin(&em, &b), 0);
    yamlio_open(&em, true);
    yamlio_kulong(&em, "version", 1, false);
    yamlio_kv(&em, "name", "pin: a \"quoted\" # name");
    yamlio_kv(&em, "absent", NULL);
    yamlio_kulong(&em, "mode", 0640, true);
    yamlio_str(&em, "list", YAML_PLAIN_SCALAR_STYLE);
    yamlio_open(&em, false);
    yamlio_str(&em, "one", YAML_ANY_SCALAR_STYLE);
    yamlio_str(&em, NULL, YAML_ANY_SCALAR_STYLE);
    yamlio_close(&em, false);
    yamlio_str(&em, "diff", YAML_PLAIN_SCALAR_STYLE);
    yamlio_str(&em, "-a\n+b\n", YAML_LITERAL_SCALAR_STYLE);
    yamlio_close(&em, true);
    assert_int_equal(yamlio_emit_end(&em), 0);
    assert_string_equal(buf_str(&b), "---\n"
                                     "version: 1\n"
                                     "name: 'pin: a \"quoted\" # name'\n"
                                     "mode: 0640\n"
                                     "list:\n"
                                     "- one\n"
                                     "-\n"
                                     "diff: |\n"
                                     "  -a\n"
                                     "  +b\n");
    buf_free(&b);
}

static void
bytes_that_are_not_utf8_become_hex_text_and_load_back(void **state)
{
    struct buf b = BUF_INIT;
    struct yamlio_emitter em;
    struct yamlio_doc d;
    char *cause = NULL, *v;

    (void)state;
    assert_int_equal(yamlio_emit_begin(&em, &b), 0);
    yamlio_open(&em, true);
    yamlio_kv(&em, "user", "al\xe9x \xc3\xa9");
    yamlio_close(&em, true);
    assert_int_equal(yamlio_emit_end(&em), 0);
    assert_non_null(strstr(buf_str(&b), "user: al\\xe9x \xc3\xa9\n"));
    assert_int_equal(yamlio_load(&d, "mem.yaml", b.p, b.len, &cause), 0);
    v = yamlio_dup(&d, d.root, "user");
    assert_string_equal(v, "al\\xe9x \xc3\xa9");
    free(v);
    yamlio_doc_free(&d);
    buf_free(&b);
}

static const char DOC[] = "id: 7\n"
                          "on: true\n"
                          "off: yes\n"
                          "mode: 0640\n"
                          "nested:\n"
                          "  key: value\n"
                          "items:\n"
                          "  - a: 1\n"
                          "  - a: 2\n"
                          "  - scalar\n";

static void
lookups_by_key_in_a_loaded_document(void **state)
{
    struct yamlio_doc d;
    const yaml_node_t *items, *nested;
    char *cause = NULL, *s;

    (void)state;
    assert_int_equal(yamlio_load(&d, "doc.yaml", DOC, strlen(DOC), &cause), 0);
    assert_null(cause);
    assert_int_equal(yamlio_ulong(&d, d.root, "id", 10), 7);
    assert_int_equal(yamlio_ulong(&d, d.root, "mode", 8), 0640);
    assert_int_equal(yamlio_ulong(&d, d.root, "missing", 10), 0);
    assert_true(yamlio_bool(&d, d.root, "on"));
    assert_false(yamlio_bool(&d, d.root, "off")); /* only "true" is true */
    assert_null(yamlio_dup(&d, d.root, "missing"));
    assert_null(yamlio_dup(&d, d.root, "nested")); /* a mapping is not a scalar */
    nested = yamlio_get(&d, d.root, "nested");
    s = yamlio_dup(&d, nested, "key");
    assert_string_equal(s, "value");
    free(s);
    items = yamlio_get(&d, d.root, "items");
    assert_int_equal(yamlio_seq_len(items), 3);
    assert_int_equal(yamlio_ulong(&d, yamlio_seq_at(&d, items, 1), "a", 10), 2);
    assert_null(yamlio_get(&d, yamlio_seq_at(&d, items, 2), "a")); /* not a mapping */
    assert_null(yamlio_seq_at(&d, items, 3));
    assert_int_equal(yamlio_seq_len(nested), 0);
    assert_null(yamlio_get(&d, NULL, "id"));
    s = yamlio_where(&d, yamlio_seq_at(&d, items, 1));
    assert_string_equal(s, "doc.yaml:9:5");
    free(s);
    yamlio_doc_free(&d);
}

static void
parse_error_names_file_line_and_column(void **state)
{
    static const char bad[] = "id: 1\nlist: [a, b\nnext: 2\n";
    struct yamlio_doc d;
    char *cause = NULL;

    (void)state;
    assert_int_equal(yamlio_load(&d, "runbook.yaml", bad, strlen(bad), &cause), -1);
    assert_non_null(cause);
    assert_int_equal(strncmp(cause, "runbook.yaml:3:5: ", 18), 0);
    assert_non_null(strstr(cause, "did not find expected ',' or ']'"));
    assert_int_equal(d.err_line, 3);
    assert_int_equal(d.err_column, 5);
    assert_string_equal(d.err_problem, "did not find expected ',' or ']'");
    free(cause);
    yamlio_doc_free(&d);
}

static void
empty_document_has_no_root(void **state)
{
    struct yamlio_doc d;
    char *cause = NULL;

    (void)state;
    assert_int_equal(yamlio_load(&d, "empty.yaml", "", 0, &cause), 0);
    assert_null(d.root);
    assert_null(yamlio_dup(&d, d.root, "id"));
    yamlio_doc_free(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(emitter_writes_block_style_and_skips_null_values),
        cmocka_unit_test(bytes_that_are_not_utf8_become_hex_text_and_load_back),
        cmocka_unit_test(lookups_by_key_in_a_loaded_document),
        cmocka_unit_test(parse_error_names_file_line_and_column),
        cmocka_unit_test(empty_document_has_no_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
