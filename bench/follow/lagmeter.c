/* lagmeter.c — reads `scan --follow --format jsonl` output on stdin and compares the write time
 * the bench writer embedded in each request (/bench/SEQ/NS) with the time the line arrives here.
 * Prints events, the largest lag, the 99th percentile (1 ms buckets) and the mean, in ms. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
main(void)
{
    static unsigned long long hist[10001]; /* ms; last bucket = 10 s or more */
    char *line = NULL;
    size_t cap = 0;
    unsigned long long n = 0;
    double sum = 0, max = 0;

    while (getline(&line, &cap, stdin) > 0) {
        char *p = strstr(line, "/bench/");
        struct timespec ts;
        long long sent, now;
        double ms;
        if (p == NULL || (p = strchr(p + 7, '/')) == NULL)
            continue;
        sent = atoll(p + 1);
        clock_gettime(CLOCK_REALTIME, &ts);
        now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        ms = (now - sent) / 1e6;
        if (ms < 0)
            ms = 0;
        hist[ms > 10000 ? 10000 : (int)ms]++;
        sum += ms;
        if (ms > max)
            max = ms;
        n++;
    }
    unsigned long long acc = 0;
    int p99 = 0;
    for (int i = 0; i <= 10000; i++) {
        acc += hist[i];
        if (acc * 100 >= n * 99) {
            p99 = i + 1;
            break;
        }
    }
    printf("events %llu max_lag_ms %.1f p99_lag_ms %d mean_lag_ms %.2f\n", n, max, p99,
           n ? sum / n : 0.0);
    return 0;
}
