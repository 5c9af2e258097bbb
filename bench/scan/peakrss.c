/*
 * peakrss.c — runs a command with stdout to a file and prints its peak resident set size in
 * KiB (the kernel's ru_maxrss of the child). A tiny parent, so the figure is the command's
 * own (a Python or shell parent would lend it its own pages across fork). bench/scan/run.sh.
 * Usage: peakrss OUTFILE COMMAND [ARG...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    struct rusage ru;
    int status, fd;
    pid_t pid;

    if (argc < 3) {
        fprintf(stderr, "usage: peakrss OUTFILE COMMAND [ARG...]\n");
        return 2;
    }
    if ((pid = fork()) < 0)
        return 2;
    if (pid == 0) {
        if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 || dup2(fd, 1) < 0)
            _exit(127);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0)
        return 2;
    printf("%ld\n", ru.ru_maxrss);
    return 0;
}
