/*
 * ui-keys.h — the one key table of the interface: every key, the action it means, the
 * screens it applies to, its footer label and its help line. The footer and the help
 * screen are drawn from this table, so they cannot drift apart from what the keys do.
 */
#ifndef TT_UI_KEYS_H
#define TT_UI_KEYS_H

#include <stddef.h>

#include "ui.h"

/* Screen masks for key entries. */
#define UI_KM_INCIDENTS (1u << UI_SCREEN_INCIDENTS)
#define UI_KM_HISTORY (1u << UI_SCREEN_HISTORY)
#define UI_KM_UPSTREAMS (1u << UI_SCREEN_UPSTREAMS)
#define UI_KM_DETAIL (1u << UI_SCREEN_DETAIL)
#define UI_KM_FIX (1u << UI_SCREEN_FIX)
#define UI_KM_HELP (1u << UI_SCREEN_HELP)
#define UI_KM_ALL (~0u)
#define UI_KM_LISTS (UI_KM_INCIDENTS | UI_KM_HISTORY | UI_KM_UPSTREAMS | UI_KM_FIX)

struct ui_key {
    int key; /* a curses key code or a character */
    enum ui_action action;
    unsigned screens;   /* UI_KM_* where it applies */
    const char *label;  /* as shown: "q", "Enter", "PgDn" */
    const char *footer; /* the footer's word, NULL: help screen only */
    const char *help;   /* one line for the help screen */
};

extern const struct ui_key ui_keys[];

/* The action of key on screen id, or UA_NONE. */
enum ui_action ui_keys_action(int key, enum ui_screen_id id);

#endif
