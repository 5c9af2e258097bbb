/*
 * atomicfile.c — files on disk for the transaction: whole-file reads, the atomic write
 * (O_EXCL temp in the same directory, fsync, mode/owner/ACL/SELinux xattrs kept, rename,
 * directory fsync, symlinks followed and kept, read back), temp-file sweeping, mkdir -p
 * and SHA-256. Knows nothing of journals or nginx. Called by txn.c, journal.c, ngxctl.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "atomicfile.h"
#include "buf.h"
#include "path.h"
#include "xmalloc.h"

/* The xattrs that carry a POSIX ACL and an SELinux label; copied when present. */
static const char *const kept_xattrs[] = {"system.posix_acl_access", "security.selinux"};

void
atomicfile_sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        fatal("SHA-256 failed");
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[64] = '\0';
}

/* Reads the whole file. *exists = false (and 0 returned) when it is absent. */
int
atomicfile_read(const char *path, struct buf *out, bool *exists, char **cause)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    buf_reset(out);
    buf_add(out, "", 0);
    if (fd == -1) {
        if (errno == ENOENT && exists != NULL) {
            *exists = false;
            return 0;
        }
        *cause = xasprintf("%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    if (exists != NULL)
        *exists = true;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1) {
            *cause = xasprintf("%s: read: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        buf_add(out, chunk, (size_t)r);
    }
    close(fd);
    return 0;
}

static int
write_full(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int
atomicfile_dir_fsync(const char *path, char **cause)
{
    char *dir = path_dirname(path);
    int fd, rc = -1;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || fsync(fd) == -1) {
        *cause = xasprintf("%s: fsync of the directory: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd != -1)
        close(fd);
    free(dir);
    return rc;
}

/* The file that is really written for path: its symlink target (links are kept), or
 * path itself when it does not exist yet. */
int
atomicfile_target(const char *path, char **target, char **cause)
{
    char *r = realpath(path, NULL);
    struct stat st;

    if (r != NULL) {
        *target = r;
        return 0;
    }
    if (errno == ENOENT && lstat(path, &st) == -1 && errno == ENOENT) {
        *target = xstrdup(path);
        return 0;
    }
    *cause = xasprintf("%s: cannot resolve (dangling symlink?): %s", path, strerror(errno));
    return -1;
}

/*
 * Replaces target with data atomically: a temp file next to it (created with O_EXCL),
 * the full bytes, the mode, owner, ACL and SELinux label of the current file (or
 * new_mode and our own ids for a new file), fsync, rename, fsync of the directory, then
 * the bytes are read back and compared. On failure the target is untouched.
 */
int
atomicfile_write(const char *target, const char *data, size_t len, mode_t new_mode, char **cause)
{
    const char *base = strrchr(target, '/');
    size_t dirlen = base != NULL ? (size_t)(base - target) + 1 : 0;
    char *tmp = xasprintf("%.*s.%s.tlstriage-XXXXXX", (int)dirlen, target,
                          base != NULL ? base + 1 : target);
    struct stat st;
    bool have_old = stat(target, &st) == 0;
    struct buf back = BUF_INIT;
    int fd = -1, rc = -1;

    if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) { /* O_CREAT | O_EXCL, mode 0600 */
        *cause = xasprintf("%s: cannot create a temp file next to it: %s", target, strerror(errno));
        free(tmp);
        return -1;
    }
    if (write_full(fd, data, len) == -1) {
        *cause = xasprintf("%s: write: %s", tmp, strerror(errno));
        goto out;
    }
    if (have_old) {
        if (fchown(fd, st.st_uid, st.st_gid) == -1) {
            *cause = xasprintf("%s: cannot keep owner %lu:%lu: %s", target,
                               (unsigned long)st.st_uid, (unsigned long)st.st_gid, strerror(errno));
            goto out;
        }
        if (fchmod(fd, st.st_mode & 07777) == -1) {
            *cause = xasprintf("%s: chmod: %s", tmp, strerror(errno));
            goto out;
        }
        for (size_t i = 0; i < sizeof(kept_xattrs) / sizeof(kept_xattrs[0]); i++) {
            char val[4096];
            ssize_t vl = getxattr(target, kept_xattrs[i], val, sizeof(val));
            if (vl < 0)
                continue; /* absent or not supported: nothing to keep */
            if (fsetxattr(fd, kept_xattrs[i], val, (size_t)vl, 0) == -1) {
                *cause =
                    xasprintf("%s: cannot keep %s: %s", target, kept_xattrs[i], strerror(errno));
                goto out;
            }
        }
    } else if (fchmod(fd, new_mode != 0 ? new_mode : 0644) == -1) {
        *cause = xasprintf("%s: chmod: %s", tmp, strerror(errno));
        goto out;
    }
    if (fsync(fd) == -1) {
        *cause = xasprintf("%s: fsync: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) == -1) {
        fd = -1;
        *cause = xasprintf("%s: close: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, target) == -1) {
        *cause = xasprintf("%s: rename to %s: %s", tmp, target, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
    if (atomicfile_dir_fsync(target, cause) == -1)
        goto out;
    if (atomicfile_read(target, &back, NULL, cause) == -1)
        goto out;
    if (back.len != len || memcmp(back.p, data, len) != 0) {
        *cause = xasprintf("%s: read back differs from what was written", target);
        goto out;
    }
    rc = 0;
out:
    if (fd != -1)
        close(fd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    buf_free(&back);
    return rc;
}

/* Removes temp files a killed run may have left next to target. */
void
atomicfile_sweep_temps(const char *target)
{
    const char *base = strrchr(target, '/');
    char *dir = base != NULL ? xstrndup(target, (size_t)(base - target) + 1) : xstrdup("./");
    char *prefix = xasprintf(".%s.tlstriage-", base != NULL ? base + 1 : target);
    DIR *d = opendir(dir);
    struct dirent *de;

    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
            strlen(de->d_name) == strlen(prefix) + 6) {
            char *p = xasprintf("%s%s", dir, de->d_name);
            unlink(p);
            free(p);
        }
    }
    if (d != NULL)
        closedir(d);
    free(dir);
    free(prefix);
}

int
atomicfile_mkdir_p(const char *path, char **cause)
{
    char *p = xstrdup(path);
    int rc = 0;

    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0700) == -1 && errno != EEXIST) {
                *cause = xasprintf("%s: cannot create: %s", p, strerror(errno));
                rc = -1;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return rc;
}
