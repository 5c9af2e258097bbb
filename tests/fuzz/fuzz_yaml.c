/*
 * fuzz_yaml.c — libFuzzer target for the tool's YAML loaders: the bytes are parsed as a
 * settings file, a drill scenario and a runbook; each must either load or fail with a
 * FILE:LINE:COLUMN message, never crash or leak. Seeds: share/tlstriage/drills and
 * share/tlstriage/runbooks.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "runbook.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *cause = NULL;
    struct settings s;
    struct drill_scenario sc;
    struct runbook rb;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (settings_parse(&s, "fuzz.yaml", text, size, &cause) == 0)
        settings_free(&s);
    else if (cause == NULL || strncmp(cause, "fuzz.yaml", 9) != 0)
        abort();
    free(cause);
    cause = NULL;
    if (drill_scenario_parse(&sc, "fuzz.yaml", text, size, &cause) == 0)
        drill_scenario_free(&sc);
    else if (cause == NULL || strncmp(cause, "fuzz.yaml", 9) != 0)
        abort();
    free(cause);
    cause = NULL;
    if (runbook_parse(&rb, "fuzz.yaml", text, size, &cause) == 0)
        runbook_free(&rb);
    else if (cause == NULL || strncmp(cause, "fuzz.yaml", 9) != 0)
        abort();
    free(cause);
    free(text);
    return 0;
}
