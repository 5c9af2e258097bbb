/*
 * ui-keys.c — the key table (include/ui-keys.h): keys to actions per screen, with the
 * labels the footer and the help screen show. No drawing, no handling: ui.c dispatches
 * the actions, the screens answer them.
 */
#include "config.h"

#include <curses.h>

#include "ui-keys.h"

#define CTRL(c) ((c)&0x1f)

/* Order matters twice: the first entry of an action that has a footer word gives the footer,
 * and the help screen lists the entries in this order. */
const struct ui_key ui_keys[] = {
    {KEY_UP, UA_UP, UI_KM_ALL, "Up/k", NULL, "move the selection up"},
    {'k', UA_UP, UI_KM_ALL, "k", NULL, NULL},
    {KEY_DOWN, UA_DOWN, UI_KM_ALL, "Down/j", NULL, "move the selection down"},
    {'j', UA_DOWN, UI_KM_ALL, "j", NULL, NULL},
    {KEY_PPAGE, UA_PGUP, UI_KM_ALL, "PgUp", NULL, "one page up"},
    {KEY_NPAGE, UA_PGDN, UI_KM_ALL, "PgDn", NULL, "one page down"},
    {KEY_HOME, UA_HOME, UI_KM_ALL, "Home/g", NULL, "first row"},
    {'g', UA_HOME, UI_KM_ALL, "g", NULL, NULL},
    {KEY_END, UA_END, UI_KM_ALL, "End/G", NULL, "last row"},
    {'G', UA_END, UI_KM_ALL, "G", NULL, NULL},
    {'\n', UA_OPEN, UI_KM_LISTS, "Enter", "open", "open the selected row"},
    {'\r', UA_OPEN, UI_KM_LISTS, "Enter", NULL, NULL},
    {KEY_ENTER, UA_OPEN, UI_KM_LISTS, "Enter", NULL, NULL},
    {'\t', UA_NEXT, UI_KM_ALL, "Tab", "next", "next screen (Incidents, Upstreams, History)"},
    {'u', UA_UPSTREAMS, UI_KM_ALL, "u", "upstr", "every TLS upstream of the config"},
    {'H', UA_HISTORY, UI_KM_ALL, "H", "hist", "the journal of fixes, newest first"},
    {'p', UA_PROBE, UI_KM_INCIDENTS | UI_KM_DETAIL | UI_KM_UPSTREAMS, "p", "probe",
     "probe the selected upstream again (in the background)"},
    {'f', UA_FIX, UI_KM_INCIDENTS | UI_KM_DETAIL | UI_KM_UPSTREAMS, "f", "fix",
     "the fix wizard for the selected incident"},
    {'y', UA_YES, UI_KM_FIX | UI_KM_HISTORY | UI_KM_INCIDENTS, "y", NULL,
     "confirm: apply the plan, roll back, complete"},
    {'n', UA_NO, UI_KM_FIX | UI_KM_HISTORY | UI_KM_INCIDENTS, "n", NULL, "cancel"},
    {'r', UA_ROLLBACK, UI_KM_HISTORY | UI_KM_FIX, "r", "rollback",
     "roll back the selected transaction (History) or the fix just applied"},
    {'r', UA_ROLLBACK, UI_KM_INCIDENTS, "r", NULL,
     "at start: roll back the unfinished transaction offered (y completes it)"},
    {'c', UA_CA_FILE, UI_KM_FIX, "c", NULL,
     "fix wizard: a CA or intermediate file (Tab completes) for the ca and chain fixes"},
    {'m', UA_CLIENT_CERT, UI_KM_FIX, "m", NULL,
     "fix wizard: a client certificate and key (Tab completes) for the mtls fix"},
    {'R', UA_REPORT, UI_KM_ALL, "R", NULL,
     "write the postmortem report (Markdown, redacted) under the state dir"},
    {'/', UA_FILTER, UI_KM_INCIDENTS, "/", "filter", "show only rows containing a text"},
    {'?', UA_HELP, UI_KM_ALL, "?", "help", "this help"},
    {CTRL('l'), UA_REDRAW, UI_KM_ALL, "Ctrl-L", NULL, "redraw the screen"},
    {CTRL('z'), UA_SUSPEND, UI_KM_ALL, "Ctrl-Z", NULL,
     "suspend (the terminal is restored; fg resumes)"},
    {'q', UA_BACK, UI_KM_ALL, "q", "quit",
     "back; on the home screen: quit (asks while a fix runs)"},
    {27, UA_BACK, UI_KM_ALL, "Esc", NULL, "back, as q"},
    {0, UA_NONE, 0, NULL, NULL, NULL},
};

enum ui_action
ui_keys_action(int key, enum ui_screen_id id)
{
    for (const struct ui_key *k = ui_keys; k->label != NULL; k++) {
        if (k->key == key && (k->screens & (1u << id)) != 0)
            return k->action;
    }
    return UA_NONE;
}
