/*
 * cli.c — the verb table (name, handler, usage, help) that drives dispatch, --help and
 * the man page's order, plus the small helpers all verbs share. The verbs themselves
 * live in cli-VERB.c; this file does no work of its own beyond parsing.
 */
#include "config.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "sanitize.h"
#include "xmalloc.h"

const struct cli_verb cli_verbs[] = {
    {"scan", cli_scan, "scan [--format text|json|jsonl] [--since TIME] [--follow] FILE...",
     "read nginx error logs and report upstream TLS failures, grouped into incidents"},

    {"check", cli_check, "check [--format text|json|sarif] [--conf PATH] [--from-nginx-T FILE|-]",
     "lint the nginx config for unsafe or broken proxy_ssl_* settings"},

    {"probe", cli_probe,
     "probe HOST:PORT... [--trusted FILE] [--depth N] [--name NAME] [--sni] ...",
     "handshake with an upstream exactly as nginx would and print nginx's verdict"},

    {"diagnose", cli_diagnose, "diagnose [--format text|json]",
     "explain each incident and propose fixes, each proven by a probe"},

    {"fix", cli_fix, "fix [--upstream HOST:PORT] [--strategy S] [--plan | --apply] [--yes]",
     "apply a verified fix: diff, backup, write, nginx -t, reload, confirm"},

    {"rollback", cli_rollback, "rollback [--last | ID | --complete ID] [--yes]",
     "restore the files of a fix byte for byte, test and reload"},

    {"history", cli_history, "history [--format text|json] [--diff]",
     "list the journal of fixes, newest first"},

    {"drill", cli_drill,
     "drill [NAME] [--detach] | --list | --check D | --solve D | --hint D | --down D | --scores",
     "run a training drill: a real broken nginx on loopback"},

    {"explain", cli_explain, "explain CODE|KIND | --list",
     "print the runbook of a cause (verify code, name-mismatch, wrong-version, ...)"},

    {"report", cli_report,
     "report [--format md|json] [--since TIME] [--no-redact] [--redact-map FILE] [-o FILE] "
     "[--probe]",
     "write a postmortem: timeline, time to detect and fix, redacted on this host"},

    {"watch", cli_watch, "watch [--since TIME] [--ascii] [--debug FILE]",
     "the interactive terminal screen (default without a verb)"},

    {NULL, NULL, NULL, NULL},
};

const struct cli_verb *
cli_verb_find(const char *name)
{
    for (const struct cli_verb *v = cli_verbs; v->name != NULL; v++) {
        if (strcmp(v->name, name) == 0)
            return v;
    }
    return NULL;
}

void
cli_print_usage(FILE *fp)
{
    fputs("usage: tlstriage [GLOBAL] [VERB] [ARGS]\n\n"
          "Global options:\n"
          "  --conf PATH        nginx config (default /etc/nginx/nginx.conf)\n"
          "  --log PATH         error log to read (repeatable; default: the config's error_log)\n"
          "  --nginx PATH       nginx binary\n"
          "  --prefix DIR       nginx prefix (as nginx -p)\n"
          "  --state-dir DIR    backups and journal\n"
          "  --config FILE      tool settings (YAML; default " TT_SYSCONFDIR "/config.yaml)\n"
          "  --show-settings    print the effective settings and where each comes from\n"
          "  --no-color         no colours\n"
          "  --version, --help\n\n"
          "Verbs:\n",
          fp);
    for (const struct cli_verb *v = cli_verbs; v->name != NULL; v++)
        fprintf(fp, "  %-9s %s\n", v->name, v->help);
    fputs("\nExit status: 0 all well, 1 findings or failures, 2 usage or input error.\n"
          "Run 'tlstriage VERB --help' for a verb's options; see tlstriage(1).\n",
          fp);
}

int
cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "tlstriage: %s%s", verb != NULL ? verb : "", verb != NULL ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static const struct {
    const char *name;
    enum cli_format fmt;
} format_names[] = {
    {"text", FMT_TEXT},
    {"json", FMT_JSON},
    {"jsonl", FMT_JSONL},
    {"sarif", FMT_SARIF},
    {"prometheus", FMT_PROMETHEUS},
};

int
cli_parse_format(const char *verb, const char *name, unsigned allowed, enum cli_format *out)
{
    size_t n = sizeof(format_names) / sizeof(format_names[0]);
    char expected[128] = "";

    for (size_t i = 0; i < n; i++) {
        if ((allowed & format_names[i].fmt) && strcmp(name, format_names[i].name) == 0) {
            *out = format_names[i].fmt;
            return 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (allowed & format_names[i].fmt) {
            if (expected[0] != '\0')
                strncat(expected, "|", sizeof(expected) - strlen(expected) - 1);
            strncat(expected, format_names[i].name, sizeof(expected) - strlen(expected) - 1);
        }
    }
    cli_usage_error(verb, "unknown --format '%s' (expected %s)", name, expected);
    return -1;
}

void
cli_put_sanitized(FILE *fp, const char *s)
{
    char *c;

    if (s == NULL)
        return;
    c = sanitize_str(s);
    fputs(c, fp);
    free(c);
}

void
cli_put_lines(FILE *fp, const char *indent, const char *s)
{
    while (s != NULL && *s != '\0') {
        const char *e = strchr(s, '\n');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        char *c = sanitize_mem(s, len);
        fprintf(fp, "%s%s\n", indent, c);
        free(c);
        s += len + (e != NULL);
    }
}

void
cli_put_diff(FILE *fp, const char *indent, const char *s)
{
    while (s != NULL && *s != '\0') {
        const char *e = strchr(s, '\n');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        bool cr = len > 0 && s[len - 1] == '\r';
        size_t body = len - cr;

        fputs(indent, fp);
        for (size_t i = 0; i < body;) {
            size_t j = i;
            while (j < body && ((s[j] >= 0x20 && s[j] < 0x7f) || s[j] == '\t'))
                j++;
            fwrite(s + i, 1, j - i, fp); /* printable ASCII, tabs and backslashes as is */
            i = j;
            while (j < body && !((s[j] >= 0x20 && s[j] < 0x7f) || s[j] == '\t'))
                j++;
            if (j > i) {
                char *c = sanitize_mem(s + i, j - i);
                fputs(c, fp);
                free(c);
                i = j;
            }
        }
        fputs(cr ? "\r\n" : "\n", fp);
        s += len + (e != NULL);
    }
}

int
cli_not_yet(struct app *app, int argc, char **argv)
{
    (void)app;
    (void)argc;
    return cli_usage_error(argv[0], "this verb is not in this build yet (see tlstriage --help)");
}
