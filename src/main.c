/*
 * main.c — parses the global options into a struct app and dispatches to a verb through
 * the table in cli.c. No verb opens the interactive screen (watch).
 */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <openssl/crypto.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include "app.h"
#include "cli-rollback.h"
#include "cli.h"
#include "procenv.h"
#include "settings.h"
#include "xmalloc.h"

/* --version: ours, then the libraries' versions as the loaded libraries report them. */
static void
print_version(FILE *fp)
{
    char pcre2[64] = "?";

    if (pcre2_config(PCRE2_CONFIG_VERSION, NULL) <= (int)sizeof(pcre2))
        pcre2_config(PCRE2_CONFIG_VERSION, pcre2);
    fprintf(fp, "tlstriage %s\n", PACKAGE_VERSION);
    fprintf(fp, "  %s\n", OpenSSL_version(OPENSSL_VERSION));
    fprintf(fp, "  %s\n", curses_version());
    fprintf(fp, "  libyaml %s\n", yaml_get_version_string());
    fprintf(fp, "  PCRE2 %s\n", pcre2);
}

enum {
    OPT_CONF = 256,
    OPT_LOG,
    OPT_NGINX,
    OPT_PREFIX,
    OPT_STATE_DIR,
    OPT_CONFIG,
    OPT_NO_COLOR,
    OPT_SHOW_SETTINGS
};

static const struct option global_options[] = {
    {"conf", required_argument, NULL, OPT_CONF},
    {"log", required_argument, NULL, OPT_LOG},
    {"nginx", required_argument, NULL, OPT_NGINX},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"show-settings", no_argument, NULL, OPT_SHOW_SETTINGS},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int
main(int argc, char **argv)
{
    struct app app;
    const struct cli_verb *verb;
    struct settings settings;
    char *cause = NULL;
    bool show_settings = false;
    int c, rc;

    procenv_init(); /* the process-wide state, in one place (procenv.h says what and why) */
    memset(&app, 0, sizeof(app));
    app.conf = "/etc/nginx/nginx.conf"; /* conf, nginx: settings_setup fills them in */
    app.logs = xcalloc(1, sizeof(*app.logs));
    app.no_color = getenv("NO_COLOR") != NULL && getenv("NO_COLOR")[0] != '\0';

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+hV", global_options, NULL)) != -1) {
        switch (c) {
        case OPT_CONF:
            app.conf = optarg;
            app.conf_given = true;
            break;
        case OPT_LOG:
            app.logs = xreallocarray(app.logs, app.nlogs + 2, sizeof(*app.logs));
            app.logs[app.nlogs++] = optarg;
            app.logs[app.nlogs] = NULL;
            break;
        case OPT_NGINX:
            app.nginx = optarg;
            break;
        case OPT_PREFIX:
            app.prefix = optarg;
            break;
        case OPT_STATE_DIR:
            app.state_dir = optarg;
            break;
        case OPT_CONFIG:
            app.config_file = optarg;
            break;
        case OPT_NO_COLOR:
            app.no_color = true;
            break;
        case OPT_SHOW_SETTINGS:
            show_settings = true;
            break;
        case 'V':
            print_version(stdout);
            free(app.logs);
            return EXIT_ALL_WELL;
        case 'h':
            cli_print_usage(stdout);
            free(app.logs);
            return EXIT_ALL_WELL;
        default:
            free(app.logs);
            if (optopt != 0 && optopt < 256)
                return cli_usage_error(NULL, "unknown option '-%c' (see tlstriage --help)", optopt);
            return cli_usage_error(NULL, "unknown or incomplete option '%s' (see tlstriage --help)",
                                   argv[optind - 1]);
        }
    }

    /* Command line over settings file over defaults; nothing applied from a bad file. */
    if (settings_setup(&app, &settings, &cause) != 0) {
        fprintf(stderr, "tlstriage: %s\n", cause);
        free(cause);
        free(app.logs);
        return EXIT_USAGE;
    }
    if (show_settings) {
        char *text = settings_show(&app, &settings);
        cli_put_lines(stdout, "", text);
        free(text);
        rc = EXIT_ALL_WELL;
    } else if (optind >= argc) {
        verb = cli_verb_find("watch");
        char *watch_argv[] = {(char *)"watch", NULL};
        rc = verb->run(&app, 1, watch_argv);
    } else if (strcmp(argv[optind], "complete") == 0) {
        rc = cli_complete(&app, argc - optind, argv + optind); /* hidden: bash completion */
    } else if ((verb = cli_verb_find(argv[optind])) == NULL) {
        rc = cli_usage_error(NULL, "unknown verb '%s' (see tlstriage --help)", argv[optind]);
    } else {
        /* An interrupted fix (dropped SSH session, kill, power loss) is reported at every
         * start, with the commands that complete it or roll it back. */
        cli_rollback_report_pending(&app, stderr);
        rc = verb->run(&app, argc - optind, argv + optind);
    }
    free(app.logs);
    settings_free(&settings);
    return rc;
}
