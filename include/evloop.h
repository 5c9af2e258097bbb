/*
 * evloop.h — the one poll()-based event loop of the tool: file descriptors with callbacks,
 * one-shot and periodic timers on the monotonic clock, and signals delivered as callbacks
 * (through a self-pipe). Idle means blocked in poll(). No terminal I/O.
 */
#ifndef TT_EVLOOP_H
#define TT_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;

/* revents is poll()'s (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL). */
typedef void (*evloop_fd_cb)(struct evloop *loop, int fd, short revents, void *arg);
typedef void (*evloop_timer_cb)(struct evloop *loop, int id, void *arg);
typedef void (*evloop_signal_cb)(struct evloop *loop, int signo, void *arg);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t evloop_now_ms(void);

struct evloop *evloop_new(void);
/* Closes nothing it was given; restores the signal dispositions it changed. */
void evloop_free(struct evloop *loop);

/* Watches fd for events (POLLIN / POLLOUT). One registration per fd: adding an fd already
 * registered replaces its callback and events. Returns 0, or -1 if fd < 0. */
int evloop_fd_add(struct evloop *loop, int fd, short events, evloop_fd_cb cb, void *arg);
/* Changes the events of a registered fd (0 = keep registered but ignore). -1 if unknown. */
int evloop_fd_events(struct evloop *loop, int fd, short events);
/* Stops watching fd (safe from inside any callback). -1 if unknown. */
int evloop_fd_del(struct evloop *loop, int fd);

/* Calls cb after delay_ms, then every period_ms if period_ms > 0 (else once, and the timer
 * is gone after its call). Returns the timer id (> 0). */
int evloop_timer_add(struct evloop *loop, uint64_t delay_ms, uint64_t period_ms, evloop_timer_cb cb,
                     void *arg);
/* Cancels a timer (safe from inside any callback, including its own). -1 if unknown. */
int evloop_timer_del(struct evloop *loop, int id);

/* Routes signo (e.g. SIGINT, SIGTERM, SIGHUP) to cb, called from the loop, never from the
 * signal handler. Only one loop per process may own signals. Returns 0 or -1 (errno). */
int evloop_signal_add(struct evloop *loop, int signo, evloop_signal_cb cb, void *arg);

/* One pass: waits at most max_wait_ms (-1: until the next timer or fd event), dispatches
 * what is ready. Returns the number of callbacks run, or -1 on a poll() failure. */
int evloop_run_once(struct evloop *loop, int max_wait_ms);
/* Runs passes until evloop_stop(). Returns 0, or -1 on a poll() failure. */
int evloop_run(struct evloop *loop);
void evloop_stop(struct evloop *loop);
bool evloop_stopped(const struct evloop *loop);

#endif
