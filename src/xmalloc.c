/*
 * xmalloc.c — allocation wrappers that abort with a message instead of returning NULL,
 * and the single fatal() exit path that restores the terminal (through a hook the UI
 * installs) before printing. Used by every module; it knows nothing of curses itself.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void (*fatal_hook)(void);

void
xmalloc_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

void
fatal(const char *fmt, ...)
{
    va_list ap;

    if (fatal_hook != NULL) {
        void (*hook)(void) = fatal_hook;
        fatal_hook = NULL;
        hook();
    }
    fputs("tlstriage: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

void *
xmalloc(size_t size)
{
    void *p;

    if (size == 0)
        size = 1;
    if ((p = malloc(size)) == NULL)
        fatal("out of memory allocating %zu bytes", size);
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p;

    if (nmemb == 0 || size == 0)
        nmemb = size = 1;
    if ((p = calloc(nmemb, size)) == NULL)
        fatal("out of memory allocating %zu x %zu bytes", nmemb, size);
    return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
    void *p;

    if (size != 0 && nmemb > SIZE_MAX / size)
        fatal("allocation overflow: %zu x %zu bytes", nmemb, size);
    if (nmemb * size == 0)
        nmemb = size = 1;
    if ((p = realloc(ptr, nmemb * size)) == NULL)
        fatal("out of memory allocating %zu x %zu bytes", nmemb, size);
    return p;
}

void *
xrealloc(void *ptr, size_t size)
{
    return xreallocarray(ptr, 1, size);
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p;
    size_t len = strnlen(s, n);

    p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    char *p;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        fatal("xvasprintf: bad format \"%s\"", fmt);
    p = xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}
