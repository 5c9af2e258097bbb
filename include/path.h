/*
 * path.h — small file-name helpers shared across layers (no I/O).
 */
#ifndef TT_PATH_H
#define TT_PATH_H

/* The directory part of path, as the directory to open or watch: "." when path has no
 * '/', "/" for "/x", else everything before the last '/' ("a/b/" gives "a/b"). Caller
 * frees. */
char *path_dirname(const char *path);

#endif
