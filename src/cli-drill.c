/*
 * cli-drill.c — the drill verb: options, output and exit codes over the drill layer
 * (drill-scenario, drill-sandbox, drill-traffic, drill-score). --list, NAME [--detach],
 * --check/--solve/--hint/--down D, --scores, and the hidden --traffic D that runs the
 * generator. The interactive screen (briefing, score) belongs to the TUI; without it the
 * verb prints the briefing and the next commands and waits for Ctrl-C.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "drill.h"
#include "settings.h"
#include "ui.h"
#include "xmalloc.h"

enum {
    OPT_LIST = 256,
    OPT_DETACH,
    OPT_CHECK,
    OPT_SOLVE,
    OPT_DOWN,
    OPT_HINT,
    OPT_SCORES,
    OPT_PORT_BASE,
    OPT_DRILLS,
    OPT_TRAFFIC,
    OPT_FIX_COMMAND,
    OPT_HELP,
};

static const struct option drill_options[] = {
    {"list", no_argument, NULL, OPT_LIST},
    {"detach", no_argument, NULL, OPT_DETACH},
    {"check", required_argument, NULL, OPT_CHECK},
    {"solve", required_argument, NULL, OPT_SOLVE},
    {"down", required_argument, NULL, OPT_DOWN},
    {"hint", required_argument, NULL, OPT_HINT},
    {"scores", no_argument, NULL, OPT_SCORES},
    {"port-base", required_argument, NULL, OPT_PORT_BASE},
    {"drills", required_argument, NULL, OPT_DRILLS},
    {"traffic", required_argument, NULL, OPT_TRAFFIC},
    {"fix-command", required_argument, NULL, OPT_FIX_COMMAND},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char drill_help[] =
    "usage: tlstriage [GLOBAL] drill [NAME] [--detach] [--port-base N] [--drills DIR]\n"
    "       tlstriage [GLOBAL] drill --list | --scores\n"
    "       tlstriage [GLOBAL] drill --check D | --solve D | --hint D | --down D\n"
    "Builds a real broken nginx on 127.0.0.1 (no root needed) for a trainee to fix.\n"
    "  NAME            the scenario (default: classic; see --list)\n"
    "  --detach        build and start the sandbox, print its directory D and return;\n"
    "                  then: tlstriage --config D/tlstriage.yaml diagnose|fix|probe|...\n"
    "  --check D       exit 0 when the drill is solved, 1 saying what is still wrong\n"
    "  --solve D       apply the scenario's reference solution\n"
    "  --hint D        print the next hint (counted in the score)\n"
    "  --down D        stop every process of the sandbox and remove D\n"
    "  --fix-command D the `tlstriage fix` command that fixes D on the nginx side (exit 1:\n"
    "                  this scenario has no nginx-side fix)\n"
    "  --scores        the score history (state directory)\n"
    "  --port-base N   front on N, upstreams on N+1...; default: free ports\n"
    "  --drills DIR    look for scenarios in DIR first\n";

static volatile sig_atomic_t drill_stop; /* set by SIGINT/SIGHUP/SIGTERM */

static void
on_signal(int signo)
{
    (void)signo;
    drill_stop = 1;
}

static void
catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int
fail(const char *what, char *cause)
{
    fprintf(stderr, "tlstriage: drill: %s%s", what != NULL ? what : "", what != NULL ? ": " : "");
    cli_put_sanitized(stderr, cause);
    fputc('\n', stderr);
    free(cause);
    return EXIT_USAGE;
}

static int
do_list(char **dirs)
{
    struct drill_scenario *sc;
    char *errors = NULL;
    size_t n = drill_scenario_list(dirs, &sc, &errors);

    for (size_t i = 0; i < n; i++) {
        printf("%-22s %ld  ", sc[i].name, sc[i].difficulty);
        cli_put_sanitized(stdout, sc[i].title);
        fputc('\n', stdout);
        drill_scenario_free(&sc[i]);
    }
    free(sc);
    if (errors != NULL) {
        fputs("tlstriage: drill: skipped:\n", stderr);
        cli_put_lines(stderr, "  ", errors);
        free(errors);
    }
    if (n == 0) {
        fputs("tlstriage: drill: no scenarios found\n", stderr);
        return EXIT_USAGE;
    }
    return EXIT_ALL_WELL;
}

static int
do_scores(struct app *app)
{
    struct drill_score *s;
    size_t n;
    char *cause = NULL;

    if (drill_score_read(app_state_dir(app), &s, &n, &cause) != 0)
        return fail(NULL, cause);
    if (n == 0)
        printf("no drill scores yet in %s\n", app_state_dir(app));
    for (size_t i = 0; i < n; i++) {
        cli_put_sanitized(stdout, s[i].date);
        fputs("  ", stdout);
        cli_put_sanitized(stdout, s[i].scenario);
        printf("  %ldm %02lds  %ld hint%s", s[i].seconds / 60, s[i].seconds % 60, s[i].hints,
               s[i].hints == 1 ? "" : "s");
        if (s[i].keys >= 0)
            printf("  %ld keystroke%s", s[i].keys, s[i].keys == 1 ? "" : "s");
        printf("  %ld unsafe", s[i].unsafe);
        fputc('\n', stdout);
    }
    drill_scores_free(s, n);
    return EXIT_ALL_WELL;
}

/* Opens D and loads its scenario. */
static int
open_sandbox(const char *dir, struct drill_sandbox *sb, struct drill_scenario *sc, char **cause)
{
    if (drill_sandbox_open(dir, sb, cause) != 0)
        return -1;
    if (drill_scenario_load(sc, sb->scenario, cause) != 0) {
        drill_sandbox_free(sb);
        return -1;
    }
    return 0;
}

/* The success condition of sb, and on the first pass the score (appended to the state
 * dir's drill-scores.yaml); said on stdout. Returns EXIT_ALL_WELL solved, EXIT_FINDINGS not
 * yet, EXIT_USAGE when it could not be checked. */
static int
check_and_score(struct app *app, struct drill_sandbox *sb, const struct drill_scenario *sc,
                long keys)
{
    struct drill_verdict v;
    char *cause = NULL;
    int rc;

    if (drill_sandbox_check(sb, sc, &v, &cause) != 0)
        return fail(sb->dir, cause);
    if (v.verify_off && sb->verify_on_at_start) {
        /* verification turned off to make the 502 go away: never a fix, and it counts */
        sb->unsafe++;
        printf("drill %s: UNSAFE: proxy_ssl_verify is off on a TLS upstream (%ld unsafe "
               "action%s so far): it hands every request to whoever answers there\n",
               sb->name, sb->unsafe, sb->unsafe == 1 ? "" : "s");
        if (drill_sandbox_save(sb, &cause) != 0) {
            free(cause);
            cause = NULL;
        }
    }
    if (v.nproblems > 0) {
        printf("drill %s: not solved yet:\n", sb->name);
        for (size_t i = 0; i < v.nproblems; i++) {
            fputs("  - ", stdout);
            cli_put_sanitized(stdout, v.problems[i]);
            fputc('\n', stdout);
        }
        rc = EXIT_FINDINGS;
    } else {
        if (sb->passed == 0) { /* the first pass is the score */
            struct drill_score s;
            char date[32];
            time_t now = time(NULL);
            struct tm tm;
            sb->passed = now;
            strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
            s.scenario = sb->name;
            s.date = date;
            s.seconds = (long)(now - sb->started);
            s.hints = sb->hints_used;
            s.keys = keys;
            s.unsafe = sb->unsafe;
            if (drill_sandbox_save(sb, &cause) != 0 ||
                drill_score_add(app_state_dir(app), &s, &cause) != 0) {
                fprintf(stderr, "tlstriage: drill: the score was not saved: ");
                cli_put_sanitized(stderr, cause);
                fputc('\n', stderr);
                free(cause);
                cause = NULL;
            }
        }
        long secs = (long)(sb->passed - sb->started);
        printf("drill %s: solved in %ldm %02lds with %ld hint%s and %ld unsafe action%s: every "
               "request answered 200 through the upstream, verification on for every TLS "
               "upstream\n",
               sb->name, secs / 60, secs % 60, sb->hints_used, sb->hints_used == 1 ? "" : "s",
               sb->unsafe, sb->unsafe == 1 ? "" : "s");
        rc = EXIT_ALL_WELL;
    }
    drill_verdict_free(&v);
    return rc;
}

static int
do_check(struct app *app, const char *dir)
{
    struct drill_sandbox sb;
    struct drill_scenario sc;
    char *cause = NULL;
    int rc;

    if (open_sandbox(dir, &sb, &sc, &cause) != 0)
        return fail(NULL, cause);
    rc = check_and_score(app, &sb, &sc, -1);
    drill_sandbox_free(&sb);
    drill_scenario_free(&sc);
    return rc;
}

static int
do_solve(const char *dir)
{
    struct drill_sandbox sb;
    struct drill_scenario sc;
    char *cause = NULL;
    int rc = EXIT_ALL_WELL;

    if (open_sandbox(dir, &sb, &sc, &cause) != 0)
        return fail(NULL, cause);
    if (drill_sandbox_solve(&sb, &sc, &cause) != 0)
        rc = fail(sb.dir, cause);
    else
        printf("drill %s: the reference solution is applied (check it with drill --check %s)\n",
               sb.name, sb.dir);
    drill_sandbox_free(&sb);
    drill_scenario_free(&sc);
    return rc;
}

static int
do_hint(const char *dir)
{
    struct drill_sandbox sb;
    struct drill_scenario sc;
    char *cause = NULL;
    int rc = EXIT_ALL_WELL;

    if (open_sandbox(dir, &sb, &sc, &cause) != 0)
        return fail(NULL, cause);
    if (sb.hints_used >= (long)sc.nhints) {
        printf("no more hints (%zu given)\n", sc.nhints);
    } else {
        char *h = drill_sandbox_expand(&sb, &sc, sc.hints[sb.hints_used]);
        printf("hint %ld of %zu: ", sb.hints_used + 1, sc.nhints);
        cli_put_sanitized(stdout, h);
        free(h);
        fputc('\n', stdout);
        if (sb.passed == 0)
            sb.hints_used++;
        if (drill_sandbox_save(&sb, &cause) != 0)
            rc = fail(sb.dir, cause);
    }
    drill_sandbox_free(&sb);
    drill_scenario_free(&sc);
    return rc;
}

static int
do_down(const char *dir)
{
    struct drill_sandbox sb;
    char *cause = NULL;
    int rc = EXIT_ALL_WELL;

    if (drill_sandbox_open(dir, &sb, &cause) != 0)
        return fail(NULL, cause);
    if (drill_sandbox_down(&sb, &cause) != 0)
        rc = fail(NULL, cause);
    drill_sandbox_free(&sb);
    return rc;
}

static int
do_traffic(const char *dir)
{
    struct drill_sandbox sb;
    struct drill_scenario sc;
    char *cause = NULL;
    int rc;

    if (open_sandbox(dir, &sb, &sc, &cause) != 0)
        return fail(NULL, cause);
    rc = drill_traffic_run(&sb, &sc) == 0 ? EXIT_ALL_WELL : EXIT_FINDINGS;
    drill_sandbox_free(&sb);
    drill_scenario_free(&sc);
    return rc;
}

/* One argument per line after the first (the arguments never go through a shell). */
static int
do_fix_command(const char *dir)
{
    struct drill_sandbox sb;
    struct drill_scenario sc;
    char *cause = NULL;
    int rc = EXIT_FINDINGS;

    if (open_sandbox(dir, &sb, &sc, &cause) != 0)
        return fail(NULL, cause);
    if (sc.tool_fix) {
        printf("tlstriage\n--config\n%s/tlstriage.yaml\nfix\n--apply\n--yes\n", sb.dir);
        for (size_t i = 0; sc.tool_fix_args[i] != NULL; i++) {
            char *a = drill_sandbox_expand(&sb, &sc, sc.tool_fix_args[i]);
            cli_put_sanitized(stdout, a);
            fputc('\n', stdout);
            free(a);
        }
        rc = EXIT_ALL_WELL;
    } else {
        printf("drill %s: no nginx-side fix: the cause is on the upstream or needs a choice "
               "the tool does not make\n",
               sb.name);
    }
    drill_sandbox_free(&sb);
    drill_scenario_free(&sc);
    return rc;
}

static void
print_briefing(FILE *fp, const struct drill_scenario *sc, const struct drill_sandbox *sb)
{
    fprintf(fp, "drill %s: ", sc->name);
    cli_put_sanitized(fp, sc->title);
    fprintf(fp, " (difficulty %ld)\n\n", sc->difficulty);
    char *b = drill_sandbox_expand(sb, sc, sc->briefing);
    cli_put_lines(fp, "  ", b);
    free(b);
    fprintf(fp,
            "\nThe sandbox is %s (front nginx on 127.0.0.1:%u, traffic running).\n"
            "Next:\n"
            "  tlstriage --config %s/tlstriage.yaml diagnose\n"
            "  tlstriage --config %s/tlstriage.yaml fix --plan\n"
            "  tlstriage drill --hint %s\n"
            "  tlstriage drill --check %s\n",
            sb->dir, sb->front_port, sb->dir, sb->dir, sb->dir, sb->dir);
}

/* On a terminal: the on-call screen on the sandbox, with the briefing on top; when the
 * trainee quits, the check and the score, then everything is stopped and removed. */
static int
drill_attached(struct app *app, const struct drill_scenario *sc, struct drill_sandbox *sb)
{
    struct app dapp;
    struct settings st;
    struct ui_opts uo;
    unsigned long keys = 0;
    char *yaml = xasprintf("%s/tlstriage.yaml", sb->dir), *cause = NULL;
    char *brief = drill_sandbox_expand(sb, sc, sc->briefing);
    int rc;

    memset(&dapp, 0, sizeof(dapp));
    memset(&st, 0, sizeof(st));
    dapp.conf = "/etc/nginx/nginx.conf";
    dapp.logs = xcalloc(1, sizeof(*dapp.logs));
    dapp.config_file = yaml;
    dapp.no_color = app->no_color;
    if (settings_setup(&dapp, &st, &cause) != 0) {
        rc = fail(sb->dir, cause);
        goto out;
    }
    memset(&uo, 0, sizeof(uo));
    uo.keystrokes = &keys;
    uo.since_given = true;
    uo.since = sb->started - 60;
    /* the first paragraph of the briefing, on one line */
    for (char *p = brief; p != NULL && *p != '\0'; p++) {
        if (*p == '\n' && p[1] == '\n') {
            *p = '\0';
            break;
        }
        if (*p == '\n')
            *p = ' ';
    }
    uo.banner = xasprintf("DRILL %s: %s. Make the front answer 200 with verification on, then q. "
                          "%s",
                          sc->name, sc->title, brief != NULL ? brief : "");
    rc = ui_run(&dapp, &uo, &cause);
    free((char *)uo.banner);
    if (cause != NULL) {
        fprintf(stderr, "tlstriage: drill: ");
        cli_put_sanitized(stderr, cause);
        fputc('\n', stderr);
        free(cause);
        cause = NULL;
    }
    rc = check_and_score(app, sb, sc, (long)keys);
    printf("drill %s: %lu keystroke%s in the screen\n", sc->name, keys, keys == 1 ? "" : "s");
out:
    if (drill_sandbox_down(sb, &cause) != 0) {
        fail(NULL, cause);
        cause = NULL;
    } else
        printf("drill %s: stopped, %s removed\n", sc->name, sb->dir);
    settings_free(&st);
    free(dapp.logs);
    free(yaml);
    free(brief);
    return rc;
}

int
cli_drill(struct app *app, int argc, char **argv)
{
    const char *verb = argv[0], *target = NULL, *drills = NULL;
    int c, mode = 0, rc;
    bool detach = false;
    unsigned port_base = 0;
    char **dirs = NULL, *cause = NULL;
    struct drill_scenario sc;
    struct drill_sandbox sb;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", drill_options, NULL)) != -1) {
        switch (c) {
        case OPT_LIST:
        case OPT_SCORES:
        case OPT_CHECK:
        case OPT_SOLVE:
        case OPT_DOWN:
        case OPT_HINT:
        case OPT_TRAFFIC:
        case OPT_FIX_COMMAND:
            if (mode != 0)
                return cli_usage_error(verb, "give one of --list, --scores, --check, --solve, "
                                             "--hint, --down");
            mode = c;
            target = optarg;
            break;
        case OPT_DETACH:
            detach = true;
            break;
        case OPT_PORT_BASE: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1024 || v > 65000)
                return cli_usage_error(verb, "--port-base wants a port 1024..65000, not '%s'",
                                       optarg);
            port_base = (unsigned)v;
            break;
        }
        case OPT_DRILLS:
            drills = optarg;
            break;
        case OPT_HELP:
        case 'h':
            fputs(drill_help, stdout);
            return EXIT_ALL_WELL;
        default:
            return cli_usage_error(verb, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (mode != 0 && optind < argc)
        return cli_usage_error(verb, "unexpected argument '%s'", argv[optind]);
    if (optind + 1 < argc)
        return cli_usage_error(verb, "unexpected argument '%s'", argv[optind + 1]);
    switch (mode) {
    case OPT_SCORES:
        return do_scores(app);
    case OPT_CHECK:
        return do_check(app, target);
    case OPT_SOLVE:
        return do_solve(target);
    case OPT_HINT:
        return do_hint(target);
    case OPT_DOWN:
        return do_down(target);
    case OPT_TRAFFIC:
        return do_traffic(target);
    case OPT_FIX_COMMAND:
        return do_fix_command(target);
    }
    dirs = drill_dirs(app, drills);
    if (mode == OPT_LIST) {
        rc = do_list(dirs);
        drill_dirs_free(dirs);
        return rc;
    }
    rc = drill_scenario_find(dirs, optind < argc ? argv[optind] : "classic", &sc, &cause);
    drill_dirs_free(dirs);
    if (rc != 0)
        return fail(NULL, cause);

    catch_signals();
    if (drill_sandbox_up(app, &sc, port_base, (volatile int *)&drill_stop, &sb, &cause) != 0) {
        rc = fail(sc.name, cause);
        drill_scenario_free(&sc);
        return drill_stop ? EXIT_FINDINGS : rc;
    }
    if (detach) {
        printf("%s\n", sb.dir);
        rc = EXIT_ALL_WELL;
    } else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        rc = drill_attached(app, &sc, &sb);
    } else {
        /* The TUI with the briefing comes with the interactive screen; until then the
         * briefing and the next commands, and the sandbox lives until Ctrl-C. */
        sigset_t block, old;
        print_briefing(stdout, &sc, &sb);
        fputs("\nPress Ctrl-C to stop the drill and remove the sandbox.\n", stdout);
        fflush(stdout);
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGHUP);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, &old);
        while (!drill_stop)
            sigsuspend(&old);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (drill_sandbox_down(&sb, &cause) != 0)
            rc = fail(NULL, cause);
        else {
            printf("\ndrill %s: stopped, %s removed\n", sc.name, sb.dir);
            rc = EXIT_ALL_WELL;
        }
    }
    drill_sandbox_free(&sb);
    drill_scenario_free(&sc);
    return rc;
}
