/*
 * app.c — what belongs to the global options every verb receives (struct app, app.h): the
 * state directory computed from them and the user. No I/O beyond getenv/getpwuid; called
 * by every verb that journals (fix, rollback, history) and by the TUI.
 */
#include "config.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "xmalloc.h"

const char *
app_state_dir(struct app *app)
{
    static char *computed; /* computed once per process; owned here */

    if (app->state_dir != NULL)
        return app->state_dir;
    if (computed == NULL) {
        const char *xdg = getenv("XDG_STATE_HOME");
        const char *home = getenv("HOME");
        if (geteuid() == 0)
            computed = xstrdup("/var/lib/tlstriage");
        else if (xdg != NULL && xdg[0] == '/')
            computed = xasprintf("%s/tlstriage", xdg);
        else if (home != NULL && home[0] == '/')
            computed = xasprintf("%s/.local/state/tlstriage", home);
        else {
            struct passwd *pw = getpwuid(geteuid());
            computed = xasprintf("%s/.local/state/tlstriage", pw != NULL ? pw->pw_dir : "/tmp");
        }
    }
    app->state_dir = computed;
    return computed;
}
