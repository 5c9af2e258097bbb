/*
 * path.c — file-name helpers with no I/O: the directory of a path (for the fsync of a
 * directory after a rename, and the inotify watch on a log's directory). Called by
 * atomicfile.c and tail.c.
 */
#include "config.h"

#include <string.h>

#include "path.h"
#include "xmalloc.h"

char *
path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}
