/*
 * The output relay: the sandbox writes its stdout and stderr into pipes of corral-spawn's, and
 * corral-spawn moves what they hold to the worker's sockets with splice(2).
 *
 * Why: the worker's ends are the unix sockets Node gives a child, where every write of the
 * sandbox is a packet of its own that the reader's kernel takes apart one by one (a job writing
 * a byte at a time cost the worker about 2 µs of CPU per byte). A pipe merges small writes into
 * its pages; a stream that moved little is then left alone for RELAY_QUIET_MS, so the worker
 * sees at most a few hundred chunks a second per stream, whatever the job's pattern of writes.
 * A full pipe blocks the job's writes: output never piles up anywhere but in the job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "relay.h"

#define RELAY_SMALL_BYTES (16 * 1024)
#define RELAY_QUIET_MS 2
#define RELAY_CHUNK (1 << 20)

long long relay_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int relay_open(struct relay *r, int out, int pipe_bytes) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  fcntl(fds[1], F_SETPIPE_SZ, pipe_bytes);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK);
  r->in = fds[0];
  r->sandbox_end = fds[1];
  r->out = out;
  r->quiet_until_ms = 0;
  r->blocked = 0;
  return 0;
}

static int pending(const struct relay *r) {
  int bytes = 0;
  return r->in >= 0 && ioctl(r->in, FIONREAD, &bytes) == 0 ? bytes : 0;
}

/* One move: >0 bytes moved, 0 when the pipe has ended (closed here), -1 when nothing can move now. */
static ssize_t move(struct relay *r) {
  ssize_t n = splice(r->in, NULL, r->out, NULL, RELAY_CHUNK, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
  if (n > 0) {
    r->blocked = 0;
    return n;
  }
  if (n == 0) {
    close(r->in);
    r->in = -1;
    return 0;
  }
  if (errno == EAGAIN) r->blocked = pending(r) > 0; /* the worker's socket is full, not the pipe empty */
  else if (errno != EINTR) {
    close(r->in); /* the worker's end is gone: nobody reads any more */
    r->in = -1;
  }
  return -1;
}

void relay_poll_fd(const struct relay *r, struct pollfd *p, long long now, int *timeout) {
  p->fd = -1;
  p->events = 0;
  if (r->in < 0) return;
  if (r->blocked) {
    p->fd = r->out;
    p->events = POLLOUT;
  } else if (now < r->quiet_until_ms) {
    int wait = (int)(r->quiet_until_ms - now);
    if (*timeout < 0 || wait < *timeout) *timeout = wait;
  } else {
    p->fd = r->in;
    p->events = POLLIN;
  }
}

void relay_step(struct relay *r, const struct pollfd *p) {
  if (r->in < 0 || p->fd < 0 || !p->revents) return;
  if (p->fd == r->out && (p->revents & (POLLERR | POLLHUP))) {
    close(r->in);
    r->in = -1;
    return;
  }
  ssize_t n = move(r);
  if (n > 0 && n < RELAY_SMALL_BYTES) r->quiet_until_ms = relay_now_ms() + RELAY_QUIET_MS;
}

void relay_flush(struct relay *r, int until_end, int wait_ms) {
  long long deadline = relay_now_ms() + wait_ms;
  while (r->in >= 0 && relay_now_ms() < deadline) {
    if (!until_end && pending(r) == 0) return;
    ssize_t n = move(r);
    if (n >= 0) continue;
    struct pollfd p = { r->blocked ? r->out : r->in, r->blocked ? POLLOUT : POLLIN, 0 };
    int left = (int)(deadline - relay_now_ms());
    if (poll(&p, 1, left > 0 ? left : 0) < 0 && errno != EINTR) return;
  }
}
