/*
 * fuzz_redact.c — libFuzzer target for the report's redactor: any bytes as free text and as
 * a diff must redact without reading outside them, give a NUL-terminated result, hide a
 * private-key block's body, and be stable (the same input twice gives the same output).
 * Built only with ./configure CC=clang --enable-fuzzing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct redact *r = redact_new(true);
    char *copy, *nul, *a, *b, *d;

    /* An exact-size heap copy: ASan reports any read past the text. */
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    redact_keep(r, "10.0.2.88:8443");
    redact_learn_host(r, "billing.corp");
    redact_learn_secret_file(r, "/etc/nginx/keys.pass");
    a = redact_text(r, copy, size);
    b = redact_text(r, copy, size);
    if (a == NULL || b == NULL || strcmp(a, b) != 0) /* placeholders are stable */
        abort();
    /* the diff form needs a string */
    nul = malloc(size + 1);
    if (nul == NULL)
        abort();
    memcpy(nul, data, size);
    nul[size] = '\0';
    d = redact_diff(r, nul);
    if (d == NULL)
        abort();
    /* a key block that starts a line of the diff never survives it */
    if (strstr(d, "-----BEGIN PRIVATE KEY-----\nMIG") != NULL)
        abort();
    free(a);
    free(b);
    free(d);
    free(nul);
    free(copy);
    redact_free(r);
    return 0;
}
