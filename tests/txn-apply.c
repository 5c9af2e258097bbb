/*
 * txn-apply.c — test-only driver (check_PROGRAMS, never installed): applies "replace file
 * F with the bytes of file G" (pairs F G ...) through the txn API with the real nginx, so
 * the transaction can be tested end to end before the fix verb exists. Prints one line
 * "rc=N state=S id=ID" on stdout, the details on stderr; exits 0 when applied.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli-rollback.h"
#include "fmt-txn.h"
#include "txn.h"
#include "xmalloc.h"

static int
slurp(const char *path, struct buf *b)
{
    FILE *fp = fopen(path, "rb");
    char chunk[8192];
    size_t n;

    if (fp == NULL)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(b, chunk, n);
    buf_add(b, "", 0);
    fclose(fp);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state-dir", required_argument, NULL, 's'},
        {"nginx", required_argument, NULL, 'n'},
        {"conf", required_argument, NULL, 'c'},
        {"prefix", required_argument, NULL, 'p'},
        {"reload-cmd", required_argument, NULL, 'r'},
        {"pid-file", required_argument, NULL, 'P'},
        {"error-log", required_argument, NULL, 'e'},
        {"summary", required_argument, NULL, 'm'},
        {"confirm-ms", required_argument, NULL, 't'},
        {"mode", required_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    struct txn_opts o;
    struct txn_result res;
    struct txn_change *ch;
    struct buf *data;
    size_t n;
    char *cause = NULL;
    mode_t mode = 0;
    int c, rc;

    memset(&o, 0, sizeof(o));
    o.progress = cli_rollback_progress;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.state_dir = optarg;
            break;
        case 'n':
            o.nginx.binary = optarg;
            break;
        case 'c':
            o.nginx.conf = optarg;
            break;
        case 'p':
            o.nginx.prefix = optarg;
            break;
        case 'r':
            o.nginx.reload_cmd = optarg;
            break;
        case 'P':
            o.nginx.pid_file = optarg;
            break;
        case 'e':
            o.nginx.error_log = optarg;
            break;
        case 'm':
            o.summary = optarg;
            break;
        case 't':
            o.nginx.confirm_ms = atoi(optarg);
            break;
        case 'M':
            mode = (mode_t)strtoul(optarg, NULL, 8);
            break;
        default:
            fprintf(stderr, "usage: txn-apply --state-dir D [--nginx B --conf C --prefix P] "
                            "F G [F G ...]\n");
            return 2;
        }
    }
    if (o.state_dir == NULL || optind >= argc || (argc - optind) % 2 != 0) {
        fprintf(stderr, "usage: txn-apply --state-dir D [...] F G [F G ...]\n");
        return 2;
    }
    n = (size_t)(argc - optind) / 2;
    ch = xcalloc(n, sizeof(*ch));
    data = xcalloc(n, sizeof(*data));
    for (size_t i = 0; i < n; i++) {
        if (slurp(argv[optind + 2 * i + 1], &data[i]) == -1) {
            fprintf(stderr, "txn-apply: cannot read %s\n", argv[optind + 2 * i + 1]);
            return 2;
        }
        ch[i].path = argv[optind + 2 * i];
        ch[i].data = data[i].p;
        ch[i].len = data[i].len;
        ch[i].mode = mode;
        ch[i].summary = "replace with a prepared file";
    }
    rc = txn_apply(&o, ch, n, &res, &cause);
    fmt_txn_result_text(stderr, "txn-apply", rc, &res, cause);
    printf("rc=%d state=%s id=%s\n", rc, txn_state_name(res.state), res.id ? res.id : "-");
    txn_result_free(&res);
    free(cause);
    for (size_t i = 0; i < n; i++)
        buf_free(&data[i]);
    free(data);
    free(ch);
    return rc == TXN_OK ? 0 : 1;
}
