/*
 * fuzz_logscan.c — libFuzzer target for the event parser: any bytes as one line must parse
 * without reading outside them, give spans inside them, and render to valid output.
 * Built only with ./configure CC=clang --enable-fuzzing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "incident.h"
#include "logscan.h"
#include "scanout.h"

static void
check_span(struct span s, const uint8_t *data, size_t size)
{
    if (s.p == NULL)
        return;
    if ((const uint8_t *)s.p < data || (const uint8_t *)s.p + s.len > data + size)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct incident_store st;
    static int init;
    struct ls_event ev;
    struct buf b = BUF_INIT;
    char *copy;

    if (!init) {
        incident_store_init(&st, 64);
        init = 1;
    }
    /* An exact-size heap copy: ASan reports any read past the line. */
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (logscan_parse_line(copy, size, 1, &ev)) {
        const uint8_t *d = (const uint8_t *)copy;
        if (ev.kind <= EV_NONE || ev.kind >= EV__COUNT)
            abort();
        check_span(ev.time, d, size);
        check_span(ev.reason, d, size);
        check_span(ev.ssl_error, d, size);
        check_span(ev.name, d, size);
        check_span(ev.client, d, size);
        check_span(ev.server, d, size);
        check_span(ev.request, d, size);
        check_span(ev.upstream, d, size);
        check_span(ev.scheme, d, size);
        check_span(ev.uri, d, size);
        check_span(ev.host, d, size);
        check_span(ev.message, d, size);
        scanout_event_jsonl(&b, &ev, NULL);
        if (b.len == 0 || b.p[0] != '{' || b.p[b.len - 1] != '\n')
            abort();
        (void)incident_store_add(&st, &ev, "fuzz");
        if (st.events % 1024 == 0) {
            buf_reset(&b);
            scanout_incidents_text(&b, &st, st.events, st.newest, false);
            if (memchr(b.p, 0x1b, b.len) != NULL)
                abort();
        }
    } else if (ev.kind != EV_NONE) {
        abort();
    }
    buf_free(&b);
    free(copy);
    return 0;
}
